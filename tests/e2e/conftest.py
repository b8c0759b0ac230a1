"""Fixtures for end-to-end tests that run Debian's python3.11 under qemu-user.

The sysroots come from ``tests/tools/setup-testbed`` (``python3 -m testbed_support.provision``) and
live in the cache (``$PYRUST_CACHE`` or ``~/.cache/meta-pyrust``), beside the CPython 3.11
sysroots ``tests/tools/build-target-cpython`` cross-builds for the big-endian targets Debian
has no Python for (powerpc, mips64 n64: :func:`cpython_sysroot`). A missing qemu or
sysroot skips the test with the reason, or fails it under ``CI=true``
(:func:`testbed.missing`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

try:
    import pyrust  # noqa: F401
except ImportError:  # not pip-installed: use the clone's lib/
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "lib"))

from pyrust.qemurun import run_target_python
from testbed import cache_dir, missing, require_tool
from testbed_support.provision import DEBIAN_ARCHES, MANIFEST, find_sysroot

# One interpreter start per check (an emulated Python cannot start itself again);
# everything is printed as one JSON object.
PROBE = r"""
import importlib.machinery, json, platform, struct, sys, sysconfig
print(json.dumps({
    "EXT_SUFFIX": sysconfig.get_config_var("EXT_SUFFIX"),
    "SOABI": sysconfig.get_config_var("SOABI"),
    "MULTIARCH": sysconfig.get_config_var("MULTIARCH"),
    "EXTENSION_SUFFIXES": importlib.machinery.EXTENSION_SUFFIXES,
    "platform": sysconfig.get_platform(),
    "machine": platform.machine(),
    "byteorder": sys.byteorder,
    "pointer_bits": struct.calcsize("P") * 8,
    "version": platform.python_version(),
}))
"""

# Generous: qemu-user start of python3.11 is 0.3 to 1.5 s idle, several seconds on a
# loaded 2-core machine.
TIMEOUT = 120.0


def debian_sysroot(arch: str) -> Path:
    """The cached sysroot of Debian ``arch``; else skip (fail under CI)."""
    found = find_sysroot(arch, cache_dir())
    if found is None:
        missing(f"no Debian python3.11 sysroot for {arch} in {cache_dir()}/sysroots (tests/tools/setup-testbed provisions it)")
    assert found is not None
    return found


def run_probe(arch: str, qemu_binary: str, qemu_options: tuple[str, ...], tmp_path: Path) -> dict:
    """Run :data:`PROBE` in Debian ``arch``'s python3.11; the parsed JSON it printed."""
    return probe_sysroot(debian_sysroot(arch), qemu_binary, qemu_options, tmp_path, label=arch)


def probe_sysroot(sysroot: Path, qemu_binary: str, qemu_options: tuple[str, ...], cwd: Path, label: str = "") -> dict:
    """Run :data:`PROBE` in the python3.11 of any target ``sysroot``; the parsed JSON it printed.

    Args:
        sysroot: a Debian (:func:`debian_sysroot`) or cross-built (:func:`cpython_sysroot`) sysroot.
        qemu_binary, qemu_options: ``"qemu-ppc"``, ``("-cpu", "7400")`` (``Target.qemu_binary``/``qemu_options``).
        cwd: an empty directory to run in.
        label: names the sysroot in assertion messages (default: its directory name).
    """
    label = label or sysroot.name
    require_tool(qemu_binary)
    result = run_target_python(qemu_binary, qemu_options, sysroot, "/usr/bin/python3.11", PROBE, cwd=cwd, timeout=TIMEOUT)
    assert not result.timed_out, f"{label}: timed out after {TIMEOUT} s: {' '.join(result.argv[:-2])}"
    assert result.returncode == 0, f"{label}: exit {result.returncode}\n{result.stderr}"
    return json.loads(result.stdout)


# Directory names tests/tools/build-target-cpython gives its sysroots (its sysroot_name()):
# python3.11, or with --python 3.13 [--disable-gil] python3.13 / python3.13t.
CPYTHON_SYSROOT_GLOB = "cpython-{triplet}-python{python}{abiflags}-*"


def cpython_sysroot(triplet: str, python: str = "3.11", abiflags: str = "") -> Path:
    """The CPython that tests/tools/build-target-cpython cross-built for GNU ``triplet``; else skip (fail under CI).

    Args:
        triplet: ``"powerpc-linux-gnu"`` or ``"mips64-linux-gnuabi64"`` (the big-endian
            targets Debian ships no python3.11 for), or for 3.13 also ``"arm-linux-gnueabihf"``.
        python: the CPython version built (``--python``).
        abiflags: ``""`` or ``"t"`` (``--disable-gil``, free-threaded).

    Returns:
        ``<cache>/sysroots/cpython-<triplet>-python<X.Y><abiflags>-<version>``:
        ``usr/bin/python<X.Y><abiflags>``, ``usr/lib/python<X.Y>[t]/_sysconfigdata_<abiflags>_linux_<multiarch>.py``
        (for PYO3_CROSS_LIB_DIR), the cross libc and the loader; run it like a Debian
        sysroot (:func:`probe_sysroot` for 3.11). Only complete builds count (the manifest
        is written last); the newest wins.
    """
    pattern = CPYTHON_SYSROOT_GLOB.format(triplet=triplet, python=python, abiflags=abiflags)
    found = [p for p in (cache_dir() / "sysroots").glob(pattern) if (p / MANIFEST).is_file()]
    if not found:
        options = "" if (python, abiflags) == ("3.11", "") else f"--python {python} " + ("--disable-gil " if abiflags else "")
        missing(f"no cross-built CPython {python}{abiflags} for {triplet} in {cache_dir()}/sysroots "
                f"(tests/tools/build-target-cpython {options}{triplet} builds it, about 5 min)")
    return max(found, key=lambda p: (p / MANIFEST).stat().st_mtime)


@pytest.fixture(scope="session")
def probe():
    """``probe(arch, qemu_binary, qemu_options, cwd)`` -> dict: :func:`run_probe` for tests."""
    return run_probe


@pytest.fixture(scope="session")
def sysroot_probe():
    """``sysroot_probe(sysroot, qemu_binary, qemu_options, cwd, label="")`` -> dict: :func:`probe_sysroot` for tests."""
    return probe_sysroot


@pytest.fixture(name="cpython_sysroot", scope="session")
def cpython_sysroot_fixture():
    """``cpython_sysroot(triplet, python="3.11", abiflags="")`` -> the cross-built CPython sysroot, or skip/fail
    (:func:`cpython_sysroot`)."""
    return cpython_sysroot


@pytest.fixture(scope="session")
def sysroot_of():
    """``sysroot_of(arch)`` -> the cached Debian sysroot, or skip/fail (:func:`debian_sysroot`)."""
    return debian_sysroot


@pytest.fixture(scope="session")
def interpreter_report(tmp_path_factory):
    """``interpreter_report(arch)`` -> what Debian's python3.11 of ``arch`` reports (cached per session).

    Runs with the plain qemu-user binary of the Debian port (no -cpu), from an empty directory.
    """
    seen: dict[str, dict] = {}

    def report(arch: str) -> dict:
        if arch not in seen:
            seen[arch] = run_probe(arch, DEBIAN_ARCHES[arch].qemu_binary, (), tmp_path_factory.mktemp(f"probe-{arch}"))
        return seen[arch]

    return report
