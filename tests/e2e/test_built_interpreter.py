"""A cross-built CPython 3.11 of each big-endian target against the library's answer.

Debian ships no python3.11 for powerpc (32-bit) or mips64 (n64, big-endian), so
tests/tools/build-target-cpython cross-builds upstream CPython 3.11 for them, letting
CPython's own configure choose the platform triplet (no PLATFORM_TRIPLET preset): an
oracle independent of pyrust's tables. For oe-core's qemuppc and qemumips64 the
interpreter, run under qemu-user with the library's own qemu binary and options, must
report what ``pyrust.pyabi.python_abi(target_from_vars(machine_vars(M)), "3.11")``
computes, and ``pyrust.sysconfigdata`` must read the same from the installed
``_sysconfigdata`` file (what PYO3_CROSS_LIB_DIR points PyO3 at).

Needs qemu-user and the sysroots (tests/tools/build-target-cpython powerpc-linux-gnu
mips64-linux-gnuabi64); skipped without them, failed under CI=true.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pyrust.elfinfo import read_elf
from pyrust.machines import machine_vars
from pyrust.pyabi import python_abi
from pyrust.resolve import resolve_abi
from pyrust.sysconfigdata import abi_from_sysroot
from pyrust.target import Target, target_from_vars

pytestmark = pytest.mark.e2e

# oe-core machine -> the GNU triplet of the Debian cross compiler its CPython is built with.
BUILT: dict[str, str] = {
    "qemuppc": "powerpc-linux-gnu",
    "qemumips64": "mips64-linux-gnuabi64",
}


def machine_target(machine: str) -> Target:
    """The library's Target for an oe-core machine (embedded `bitbake -e` facts, glibc)."""
    return target_from_vars(machine_vars(machine))


@pytest.fixture(scope="session")
def built_report(cpython_sysroot, sysroot_probe, tmp_path_factory):
    """``built_report(machine)`` -> what the cross-built python3.11 reports (conftest's PROBE; once per session).

    Run with the target's own qemu binary and QEMU options (``-cpu 7400``, ``-cpu
    MIPS64R2-generic``), from an empty directory.
    """
    seen: dict[str, dict] = {}

    def report(machine: str) -> dict:
        if machine not in seen:
            target = machine_target(machine)
            seen[machine] = sysroot_probe(cpython_sysroot(BUILT[machine]), target.qemu_binary, target.qemu_options,
                                          tmp_path_factory.mktemp(f"probe-{machine}"), label=f"{machine} ({BUILT[machine]})")
        return seen[machine]

    return report


@pytest.mark.parametrize("machine", BUILT)
def test_interpreter_reports_the_library_abi(machine, built_report):
    """EXT_SUFFIX, SOABI, MULTIARCH, EXTENSION_SUFFIXES, byte order and pointer size agree."""
    target = machine_target(machine)
    abi = python_abi(target, "3.11")
    got = built_report(machine)
    assert got["version"].startswith("3.11.")
    assert (got["MULTIARCH"], got["SOABI"], got["EXT_SUFFIX"], got["EXTENSION_SUFFIXES"]) == (
        abi.platform_triplet, abi.soabi, abi.ext_suffix, list(abi.extension_suffixes)
    )
    assert got["byteorder"] == target.endian == "big"
    assert got["pointer_bits"] == target.bits


@pytest.mark.parametrize("machine", BUILT)
def test_sysconfigdata_states_the_same_abi(machine, cpython_sysroot, built_report):
    """pyrust.sysconfigdata reads the interpreter's answer from the sysroot's own file;
    resolve_abi then takes it from there with no disagreement to warn about."""
    triplet = BUILT[machine]
    sysroot = cpython_sysroot(triplet)
    got = built_report(machine)
    data = abi_from_sysroot(sysroot, "3.11")
    assert data is not None, f"no _sysconfigdata*.py below {sysroot}"
    assert Path(data.path).relative_to(sysroot) == Path("usr/lib/python3.11") / f"_sysconfigdata__linux_{got['MULTIARCH']}.py"
    assert (data.version, data.abiflags, data.multiarch, data.soabi, data.ext_suffix) == (
        "3.11", "", got["MULTIARCH"], got["SOABI"], got["EXT_SUFFIX"]
    )
    resolution = resolve_abi(machine_target(machine), "3.11", "", sysroot)
    assert resolution.abi.source == "sysroot"
    assert resolution.abi.ext_suffix == got["EXT_SUFFIX"]
    assert resolution.warnings == ()


@pytest.mark.parametrize("machine", BUILT)
def test_build_is_of_the_target_elf_kind(machine, cpython_sysroot):
    """The interpreter and the stdlib modules it built (named with its EXT_SUFFIX) are ELF
    files of the kind the library expects for the target (e_machine, class, byte order)."""
    target = machine_target(machine)
    sysroot = cpython_sysroot(BUILT[machine])
    modules = sorted((sysroot / "usr/lib/python3.11/lib-dynload").glob(f"*{python_abi(target, '3.11').ext_suffix}"))
    assert modules, f"no stdlib extension module named *{python_abi(target, '3.11').ext_suffix} in {sysroot}"
    for path in (sysroot / "usr/bin/python3.11", modules[0]):
        info = read_elf(path)
        assert (info.machine, info.elfclass, info.endian) == (target.elf.machine, target.elf.elfclass, target.elf.endian), path
