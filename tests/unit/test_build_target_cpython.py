"""tests/tools/build-target-cpython (testbed_support.build_target_cpython) without building: arguments, names, the configure line.

The builds themselves run in the e2e tier's set-up (tests/e2e/test_built_interpreter.py,
tests/e2e/test_free_threaded.py check what they produce).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from testbed import REPO

pytestmark = pytest.mark.unit

SCRIPT = REPO / "tests" / "tools" / "build-target-cpython"
SHIM_ENV = dict(os.environ, PYTHON=sys.executable)  # the shim runs this interpreter


@pytest.fixture(scope="module")
def btc():
    return importlib.import_module("testbed_support.build_target_cpython")


@pytest.mark.parametrize("args, message", [
    (["--python", "3.12", "powerpc-linux-gnu"], "--python 3.12: expected one of 3.11, 3.13"),
    (["--python", "three", "powerpc-linux-gnu"], "--python three: expected one of"),
    (["--disable-gil", "powerpc-linux-gnu"], "--disable-gil: CPython 3.11 has no free-threaded build"),
    (["--python", "3.13", "sparc-linux-gnu"], "unknown triplet sparc-linux-gnu"),
    (["--jobs", "0", "powerpc-linux-gnu"], "--jobs 0: expected a positive number"),
])
def test_bad_arguments_exit_2_with_one_line(args, message, tmp_path):
    proc = subprocess.run([str(SCRIPT), "--cache", str(tmp_path), *args], capture_output=True, text=True, env=SHIM_ENV)
    assert proc.returncode == 2
    assert message in proc.stderr and "Traceback" not in proc.stderr
    assert proc.stdout == ""


def test_find_of_a_missing_sysroot_says_how_to_build_it(tmp_path):
    proc = subprocess.run([str(SCRIPT), "--cache", str(tmp_path), "--find", "--python", "3.13",
                           "--disable-gil", "arm-linux-gnueabihf"], capture_output=True, text=True, env=SHIM_ENV)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "build-target-cpython --python 3.13 --disable-gil arm-linux-gnueabihf" in proc.stderr


def test_names_keep_the_3_11_layout(btc):
    assert btc.sysroot_name("powerpc-linux-gnu", "3.11.2") == "cpython-powerpc-linux-gnu-python3.11-3.11.2"
    assert btc.log_name("powerpc-linux-gnu", btc.DEFAULT) == "powerpc-linux-gnu.log"
    ft = btc.Spec("3.13", "t")
    assert btc.sysroot_name("arm-linux-gnueabihf", "3.13.5", ft) == "cpython-arm-linux-gnueabihf-python3.13t-3.13.5"
    assert (ft.tag, ft.libdir) == ("python3.13t", "python3.13t")
    assert btc.Spec("3.13", "").tag == "python3.13"


def test_configure_line_leaves_the_triplet_to_configure(btc):
    gil = btc.configure_args("powerpc-linux-gnu", "x86_64-linux-gnu", Path("/usr/bin/python3.11"))
    ft = btc.configure_args("arm-linux-gnueabihf", "x86_64-linux-gnu", Path("/c/python3.13"), btc.Spec("3.13", "t"))
    assert "--disable-gil" not in gil and "--disable-gil" in ft
    for line in (gil, ft):
        assert not any("PLATFORM_TRIPLET" in arg or "MULTIARCH" in arg for arg in line)
        assert line[1:3] in (["--host=powerpc-linux-gnu", "--build=x86_64-linux-gnu"],
                             ["--host=arm-linux-gnueabihf", "--build=x86_64-linux-gnu"])


# The qemu-user command oe-core runs for each CROSS row's machine, written from oe-core:
# the binary from qemu_target_binary() in meta/lib/oe/qemu.py (TARGET_ARCH powerpc ->
# "qemu-ppc", other architectures "qemu-${TARGET_ARCH}"); the options from QEMU_OPTIONS
# in meta/classes-recipe/qemu.bbclass, "-r ${OLDEST_KERNEL} ${QEMU_EXTRAOPTIONS}", with
# OLDEST_KERNEL ??= "5.15" (meta/conf/bitbake.conf) and QEMU_EXTRAOPTIONS:tune-ppc7400 =
# " -cpu 7400" (meta/conf/machine/qemuppc.conf), QEMU_EXTRAOPTIONS:tune-mips64r2 =
# " -cpu MIPS64R2-generic" (meta/conf/machine/qemumips64.conf); qemuarm sets none.
OE_QEMU_COMMANDS = {
    "powerpc-linux-gnu": ("qemu-ppc", "-r", "5.15", "-cpu", "7400"),
    "mips64-linux-gnuabi64": ("qemu-mips64", "-r", "5.15", "-cpu", "MIPS64R2-generic"),
    "arm-linux-gnueabihf": ("qemu-arm", "-r", "5.15"),
}


def test_qemu_command_is_oe_cores(btc):
    assert set(btc.CROSS) == set(OE_QEMU_COMMANDS)
    for triplet, command in OE_QEMU_COMMANDS.items():
        assert btc.qemu_command(triplet) == command, triplet


def test_qemu_commands_agree_with_what_bitbake_printed():
    """The literals above against the machine table's BitBake values (no library code)."""
    machines = json.loads((REPO / "lib" / "pyrust" / "data" / "machines.json").read_text())["machines"]
    for machine, command in (("qemuppc", OE_QEMU_COMMANDS["powerpc-linux-gnu"]),
                             ("qemumips64", OE_QEMU_COMMANDS["mips64-linux-gnuabi64"]),
                             ("qemuarm", OE_QEMU_COMMANDS["arm-linux-gnueabihf"])):
        printed = machines[machine]["glibc"]
        assert command[1:] == ("-r", printed["OLDEST_KERNEL"], *printed["QEMU_EXTRAOPTIONS"].split()), machine


def test_every_source_row_is_a_supported_version(btc):
    from pyrust.pyabi import SUPPORTED_VERSIONS

    assert set(btc.SOURCES) <= {f"{major}.{minor}" for major, minor in SUPPORTED_VERSIONS}
    assert btc.SOURCES[btc.PYTHON_VERSION].build_python == "host"
