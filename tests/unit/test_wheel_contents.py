"""The wheel holds the product only: build it (from a copy of the sources) and list its files.

The test bed's code (tests/testbed_support: provisioning of sysroots and interpreters,
private apt configurations, CPython cross builds, run_in_session) must not ship; BitBake's
addpylib sees the same lib/pyrust.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile

import pytest

from testbed import REPO

pytestmark = pytest.mark.unit

#: Names of test-bed code: none may appear in a file name of the wheel.
TESTBED_NAMES = ("provision", "private_apt", "build_target_cpython", "testbed", "bench", "maturin_guess",
                 "release_maturin", "gen_oe_facts", "session", "tests/")
#: Test-bed functions: none may be defined in a shipped module.
TESTBED_DEFS = ("def run_in_session", "def provision_debian", "def private_apt_options", "def apt_update", "dpkg --add-architecture")


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> zipfile.ZipFile:
    src = tmp_path_factory.mktemp("src")
    # A copy: an in-tree build would leave build/ and *.egg-info in the clone others use.
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "lib", src / "lib", ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "--disable-pip-version-check", "-q", "-w", str(out), str(src)], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    (whl,) = out.glob("*.whl")
    return zipfile.ZipFile(whl)


def test_wheel_has_no_test_bed_code(wheel):
    names = wheel.namelist()
    assert not [n for n in names if any(t in n for t in TESTBED_NAMES)], names
    for name in names:
        if name.endswith(".py"):
            text = wheel.read(name).decode()
            assert not [d for d in TESTBED_DEFS if d in text], name


def test_wheel_has_the_product(wheel):
    names = set(wheel.namelist())
    shipped = {n for n in names if n.startswith("pyrust/") and n.endswith(".py")}
    expected = {f"pyrust/{p.name}" for p in (REPO / "lib" / "pyrust").glob("*.py")}
    assert shipped == expected
    assert "pyrust/data/machines.json" in names and any(n.startswith("pyrust/templates/") for n in names)
    entry = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
    assert "pyrust = pyrust.cli:main" in wheel.read(entry).decode()
