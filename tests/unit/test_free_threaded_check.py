"""The static check on a free-threaded (ABI flags "t") target: GIL-build stable-ABI modules.

A free-threaded CPython 3.13 lists ``.abi3.so`` in EXTENSION_SUFFIXES, yet the import of
a stable-ABI module built for the GIL build's object layout crashes it (measured on
3.13.5t under qemu-user, tests/e2e/test_free_threaded.py): the name is accepted, so the
check must name the fault itself. Modules are compiled for the build host (x86-64) from
C without Python.h; only their names and PyInit exports matter here.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from pyrust.check import QA_EXT_SUFFIX, static_check
from pyrust.machines import machine_vars
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars
from testbed import require_tool

pytestmark = pytest.mark.unit


def module(directory: Path, filename: str) -> Path:
    """A shared object exporting ``PyInit_<name>`` (name: ``filename`` up to its first dot)."""
    gcc = require_tool("gcc")
    name = filename.split(".", 1)[0]
    src = directory / f"{name}.c"
    src.write_text(f"void *PyInit_{name}(void) {{ return 0; }}\n")
    out = directory / "site" / filename
    out.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([gcc, "-shared", "-fPIC", "-O0", "-o", str(out), str(src)], check=True)
    return out


@pytest.fixture
def host():
    return target_from_vars(machine_vars("qemux86-64"))


def check(tmp_path: Path, host, version: str, abiflags: str):
    abi = python_abi(host, version, abiflags)
    modules, findings = static_check(tmp_path / "site", host, abi)
    return abi, {m.path.name: m for m in modules}, {Path(f.path).name: f for f in findings}


def test_abi3_on_free_threaded_313_is_a_finding_and_still_imported(tmp_path, host):
    abi = python_abi(host, "3.13", "t")
    assert ".abi3.so" in abi.extension_suffixes  # the name alone is accepted ...
    module(tmp_path, "stable.abi3.so")
    module(tmp_path, f"native{abi.ext_suffix}")
    _, modules, findings = check(tmp_path, host, "3.13", "t")
    assert set(findings) == {"stable.abi3.so"}  # ... so the check names the fault
    assert findings["stable.abi3.so"].qa == QA_EXT_SUFFIX
    assert "free-threaded CPython 3.13t" in findings["stable.abi3.so"].message
    assert f"expected '{abi.ext_suffix}'" in findings["stable.abi3.so"].message
    assert modules["stable.abi3.so"].accepted_name  # imported: the crash is shown too
    assert modules[f"native{abi.ext_suffix}"].accepted_name


@pytest.mark.parametrize("version", ["3.13", "3.14", "3.15"])
def test_abi3_on_gil_builds_is_fine(tmp_path, host, version):
    module(tmp_path, "stable.abi3.so")
    _, modules, findings = check(tmp_path, host, version, "")
    assert findings == {} and modules["stable.abi3.so"].accepted_name


def test_abi3_on_free_threaded_315_is_an_unaccepted_name(tmp_path, host):
    """3.15t does not list the GIL stable-ABI names at all: the ordinary suffix finding."""
    abi = python_abi(host, "3.15", "t")
    module(tmp_path, "stable.abi3.so")
    module(tmp_path, f"tagged.abi3-{abi.platform_triplet}.so")
    module(tmp_path, "ft.abi3t.so")
    _, modules, findings = check(tmp_path, host, "3.15", "t")
    assert set(findings) == {"stable.abi3.so", f"tagged.abi3-{abi.platform_triplet}.so"}
    assert all("does not load" in f.message for f in findings.values())
    assert not modules["stable.abi3.so"].accepted_name and modules["ft.abi3t.so"].accepted_name
