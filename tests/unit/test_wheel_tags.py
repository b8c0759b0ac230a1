"""The wheel platform tag is the one packaging.tags computes on the device."""

from __future__ import annotations

import os

import pytest
from packaging import tags

from pyrust.machines import machine_names, machine_vars
from pyrust.pyabi import python_abi, wheel_tags
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit

# `uname -m` of each machine's kernel, from Linux: arch/arm/kernel/setup.c writes the
# processor's arch_name plus "l" (little endian): "armv7" in arch/arm/mm/proc-v7.S
# (qemuarm: cortex-a15), "armv5tej" in proc-arm926.S (qemuarmv5: arm926ej-s); 32-bit x86
# gets "i686" from the CPU family (arch/x86/kernel/cpu: machine[1] = '0' + min(family, 6));
# the others are UTS_MACHINE of arch/<arch>/Makefile (powerpc: "ppc", "ppc64" + "le";
# mips: "mips"/"mips64"; riscv: "riscv32"/"riscv64"; arm64 "aarch64"; loongarch64, x86_64).
DEVICE_UNAME_M = {
    "qemuarm": "armv7l",
    "qemuarm64": "aarch64",
    "qemuarmv5": "armv5tejl",
    "qemuloongarch64": "loongarch64",
    "qemumips": "mips",
    "qemumips64": "mips64",
    "qemuppc": "ppc",
    "qemuppc64": "ppc64le",
    "qemuriscv32": "riscv32",
    "qemuriscv64": "riscv64",
    "qemux86": "i686",
    "qemux86-64": "x86_64",
}


def test_every_machine_has_a_device_uname():
    assert set(DEVICE_UNAME_M) == set(machine_names())


@pytest.mark.parametrize("machine", machine_names())
def test_platform_tag_is_what_packaging_derives_on_the_device(machine, monkeypatch):
    abi = python_abi(target_from_vars(machine_vars(machine)), "3.14")
    # On the device no _PYTHON_HOST_PLATFORM is set: sysconfig.get_platform() (which
    # packaging.tags asks) is "linux-" + os.uname().machine; the device's uname is the
    # kernel's, above -- nothing of the library.
    monkeypatch.delenv("_PYTHON_HOST_PLATFORM", raising=False)
    real = os.uname()
    device = os.uname_result(("Linux", "device", real.release, real.version, DEVICE_UNAME_M[machine]))
    monkeypatch.setattr(os, "uname", lambda: device)
    platforms = list(tags.platform_tags())
    assert f"linux_{DEVICE_UNAME_M[machine]}" in platforms
    assert abi.platform_tag in platforms
    assert abi.host_platform == f"linux-{DEVICE_UNAME_M[machine]}"
    assert wheel_tags(abi)[0] == f"cp314-cp314-linux_{DEVICE_UNAME_M[machine]}"
