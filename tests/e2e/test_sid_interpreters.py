"""Debian sid's real CPython 3.13, 3.14, 3.15 and -dbg builds under qemu-user against the library.

For each row of tests/e2e/sid.py's SID_INTERPRETERS (armv7 x {3.13, 3.14, 3.15} x {release,
debug}, aarch64, riscv64, loongarch64 and big-endian s390x x 3.14), the interpreter,
run under qemu-user from an empty directory, reports EXT_SUFFIX, SOABI, MULTIARCH,
importlib.machinery.EXTENSION_SUFFIXES (in order), the _sysconfigdata module it
imports, sysconfig.get_platform() (what _PYTHON_HOST_PLATFORM stands for) and the wheel
platform tags packaging computes on it; ``pyrust abi --python X.Y --abiflags F`` for the
matching oe-core configuration must give the same. Debian's deviations from upstream
CPython (sid.DEBIAN_DEVIATIONS) are removed by name, after checking they are there.
The sysroot reader must state the same ABI from the files alone (``_sysconfigdata*.py``;
Debian's renamed PEP 739 build-details file read directly).

Needs qemu-user and the sysroots (tests/tools/provision-sid); skipped without them, failed
under CI=true.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from pyrust.pyabi import python_abi
from pyrust.qemurun import run_target_python
from pyrust.sysconfigdata import read_build_details
from sid import (
    DEBIAN_DEVIATIONS,
    PROBE,
    SID_INTERPRETERS,
    SidInterpreter,
    assert_abi_equals_probe,
    assert_sysroot_states_probe,
    oe_target,
    parse_probe,
    probe_prelude,
    qemu_for,
    sid_sysroot,
)

pytestmark = pytest.mark.e2e

TIMEOUT = 180.0


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    """``report(label)`` -> what that interpreter printed for sid.PROBE (once per module)."""
    seen: dict[str, dict] = {}

    def report(label: str) -> dict:
        if label not in seen:
            entry = SID_INTERPRETERS[label]
            sysroot = sid_sysroot(entry)
            work = tmp_path_factory.mktemp(f"sid-{label}")
            cwd = work / "cwd"
            cwd.mkdir()
            result = run_target_python(qemu_for(entry), (), sysroot, entry.interpreter, probe_prelude(work) + PROBE,
                                       cwd=cwd, timeout=TIMEOUT)
            assert not result.timed_out, f"{label}: timed out"
            assert result.returncode == 0, f"{label}: exit {result.returncode}\n{result.stderr}"
            seen[label] = parse_probe(result.stdout)
        return seen[label]

    return report


def pyrust_abi(entry: SidInterpreter) -> dict:
    """``pyrust abi <target> --python X.Y --abiflags F --format json``, parsed."""
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "abi", *entry.cli_target(), "--python", entry.version,
                           "--abiflags", entry.abiflags, "--format", "json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def upstream_suffixes(entry: SidInterpreter, got: dict) -> list[str]:
    """The interpreter's EXTENSION_SUFFIXES with Debian's own additions taken out (each one
    checked to be where Debian puts it, so a change on Debian's side shows up here)."""
    suffixes = list(got["EXTENSION_SUFFIXES"])
    versions, _ = DEBIAN_DEVIATIONS["abi3-multiarch"]
    if entry.version in versions:
        tagged = f".abi3-{got['MULTIARCH']}.so"
        at = suffixes.index(".abi3.so") + 1
        assert suffixes[at] == tagged, f"Debian's {tagged} is no longer right after .abi3.so: {suffixes}"
        del suffixes[at]
    return suffixes


@pytest.mark.parametrize("label", SID_INTERPRETERS)
def test_interpreter_is_the_one_asked_for(label, reports):
    entry = SID_INTERPRETERS[label]
    got = reports(label)
    target = oe_target(entry)
    assert got["version"].startswith(entry.version + ".")
    assert got["ABIFLAGS"] == entry.abiflags
    assert (got["byteorder"], got["pointer_bits"]) == (target.endian, target.bits)


@pytest.mark.parametrize("label", SID_INTERPRETERS)
def test_pyrust_abi_equals_the_interpreter(label, reports):
    """EXT_SUFFIX, SOABI, MULTIARCH, EXTENSION_SUFFIXES (in order, less Debian's own),
    the _sysconfigdata name, _PYTHON_HOST_PLATFORM and the wheel platform tag."""
    entry = SID_INTERPRETERS[label]
    got = reports(label)
    assert_abi_equals_probe(pyrust_abi(entry), got, entry.version, entry.abiflags, upstream_suffixes(entry, got))


@pytest.mark.parametrize("label", SID_INTERPRETERS)
def test_sysroot_reader_states_the_same_abi(label, reports):
    """The files alone: abi_from_sysroot() reads the interpreter's answer from its
    _sysconfigdata (picked by version and ABI flags: a -dbg sysroot has both builds'), and
    resolve_abi() takes it with no disagreement with the rules to warn about."""
    entry = SID_INTERPRETERS[label]
    got = reports(label)
    resolution, _ = assert_sysroot_states_probe(sid_sysroot(entry), oe_target(entry), entry.version, entry.abiflags, got)
    assert list(resolution.abi.extension_suffixes) == upstream_suffixes(entry, got)
    assert resolution.warnings == ()


@pytest.mark.parametrize("label", [k for k, e in SID_INTERPRETERS.items() if e.version in DEBIAN_DEVIATIONS["build-details-name"][0]])
def test_build_details_states_the_same_abi(label, reports):
    """PEP 739 (3.14+): Debian installs it as build-details.<abiflags>.<multiarch>.json (its
    own rename), written by a static build without abi.extension_suffix: the reader takes
    the first suffixes.extensions entry, which must be the interpreter's EXT_SUFFIX, and
    the list, which must be the interpreter's own (Debian's entries included)."""
    entry = SID_INTERPRETERS[label]
    got = reports(label)
    path = sid_sysroot(entry) / "usr" / "lib" / f"python{entry.version}" / f"build-details.{entry.abiflags}.{got['MULTIARCH']}.json"
    assert path.is_file(), f"Debian's renamed build-details file is not at {path}"
    data = read_build_details(path)
    assert (data.version, data.abiflags, data.ext_suffix, data.multiarch) == (
        entry.version, entry.abiflags, got["EXT_SUFFIX"], got["MULTIARCH"])
    assert list(data.extension_suffixes) == got["EXTENSION_SUFFIXES"]


def test_the_table_rules_know_every_version_here():
    """Every version in the table is one the library supports (no silent fallback)."""
    for entry in SID_INTERPRETERS.values():
        assert python_abi(oe_target(entry), entry.version, entry.abiflags).version == entry.version
