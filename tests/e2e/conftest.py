"""Fixtures for end-to-end tests that run Debian's python3.11 under qemu-user.

The sysroots come from ``scripts/setup-testbed`` (``python3 -m pyrust.provision``) and
live in the cache (``$PYRUST_CACHE`` or ``~/.cache/meta-pyrust``). A missing qemu or
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

from pyrust.provision import DEBIAN_ARCHES, find_sysroot
from pyrust.qemurun import run_target_python
from testbed import cache_dir, missing, require_tool

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
        missing(f"no Debian python3.11 sysroot for {arch} in {cache_dir()}/sysroots (scripts/setup-testbed provisions it)")
    assert found is not None
    return found


def run_probe(arch: str, qemu_binary: str, qemu_options: tuple[str, ...], tmp_path: Path) -> dict:
    """Run :data:`PROBE` in Debian ``arch``'s python3.11; the parsed JSON it printed."""
    require_tool(qemu_binary)
    sysroot = debian_sysroot(arch)
    result = run_target_python(qemu_binary, qemu_options, sysroot, "/usr/bin/python3.11", PROBE, cwd=tmp_path, timeout=TIMEOUT)
    assert not result.timed_out, f"{arch}: timed out after {TIMEOUT} s: {' '.join(result.argv[:-2])}"
    assert result.returncode == 0, f"{arch}: exit {result.returncode}\n{result.stderr}"
    return json.loads(result.stdout)


@pytest.fixture(scope="session")
def probe():
    """``probe(arch, qemu_binary, qemu_options, cwd)`` -> dict: :func:`run_probe` for tests."""
    return run_probe


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
