"""``pyrust test`` on a real PyPI package: rpds-py's own manylinux wheels for aarch64 and
big-endian s390x, with the tests of its sdist, run by Debian's python3.14 of each
architecture (``--fetch-python``) under qemu-user: pytest and its dependencies installed
for the target from PyPI by the host's pip. One extra test, added to the sdist's, asserts
it runs on the target's machine and byte order, so a run on the host cannot pass.

CI part: a subset of rpds-py's suite (test_list.py, test_stack.py) per architecture, and a
requirement without a pure-Python wheel (PyYAML) refused by name before anything runs.
``PYRUST_TEST_FULL_SUITE=1`` runs the whole suite (132 tests) instead.

Needs network (PyPI; Debian's archive on a cold cache), qemu-aarch64 and qemu-s390x.
Missing tools skip (fail under CI=true). Downloads are cached in ``<cache>/wheels`` and
``<cache>/sdists``; the emulated interpreters' bytecode in ``<cache>/pycache`` (the first
run of an architecture compiles the standard library under emulation, about a minute).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from pyrust import testcmd
from testbed import REPO, cache_dir, missing, require_tool

pytestmark = pytest.mark.e2e

RPDS_VERSION = "2026.9.1"
PYTHON = "3.14"
S390X_VARS = ["--var=TARGET_ARCH=s390x", "--var=TARGET_OS=linux", "--var=TCLIBC=glibc", "--var=SITEINFO_BITS=64",
              "--var=SITEINFO_ENDIANNESS=be", f"--python={PYTHON}"]
# (target options, manylinux platform of PyPI's wheel, qemu binary, platform.machine(), byte order)
ROWS = {
    "aarch64": (["--machine=qemuarm64"], "manylinux_2_17_aarch64", "qemu-aarch64", "aarch64", "little"),
    "s390x": (S390X_VARS, "manylinux_2_17_s390x", "qemu-s390x", "s390x", "big"),
}
FULL = os.environ.get("PYRUST_TEST_FULL_SUITE", "") == "1"
SUBSET = "test_list.py test_stack.py test_on_target.py"

ON_TARGET = """\
import platform, sys

def test_runs_on_the_target():
    assert (platform.machine(), sys.byteorder) == ({machine!r}, {byteorder!r})
"""


def pyrust(*args: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ, PYTHONPATH=str(REPO / "lib"))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "test", *args], capture_output=True, text=True, env=env, timeout=timeout)
    return proc, time.monotonic() - start


def rpds_wheel(platform: str) -> Path:
    """PyPI's rpds-py wheel for CPython 3.14 on ``platform``, downloaded once into the cache."""
    wheels = cache_dir() / "wheels"
    name = f"rpds_py-{RPDS_VERSION}-cp314-cp314-{platform}.{platform.replace('manylinux_2_17', 'manylinux2014')}.whl"
    if not (wheels / name).is_file():
        wheels.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "--implementation", "cp",
                               "--python-version", PYTHON, "--abi", "cp314", "--platform", platform, f"rpds-py=={RPDS_VERSION}",
                               "-d", str(wheels)], capture_output=True, text=True, timeout=300)
        if not (wheels / name).is_file():
            missing(f"pip download of {name} failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    return wheels / name


def rpds_sdist() -> Path:
    """rpds-py's sdist from PyPI's simple index (PEP 691 JSON), once into the cache; not
    built (pip download would prepare its metadata with maturin)."""
    sdist = cache_dir() / "sdists" / f"rpds_py-{RPDS_VERSION}.tar.gz"
    if not sdist.is_file():
        request = urllib.request.Request("https://pypi.org/simple/rpds-py/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                files = json.load(response)["files"]
            url = next(f["url"] for f in files if f["filename"] == sdist.name)
            sdist.parent.mkdir(parents=True, exist_ok=True)
            with urllib.request.urlopen(url, timeout=120) as response:
                data = response.read()
        except (OSError, StopIteration, KeyError, ValueError) as err:
            missing(f"download of {sdist.name} from PyPI failed: {err}")
        sdist.write_bytes(data)
    return sdist


@pytest.fixture(scope="module")
def sdist_tests(tmp_path_factory) -> Path:
    return testcmd.tests_from_sdist(rpds_sdist(), tmp_path_factory.mktemp("rpds-sdist"))


@pytest.mark.parametrize("arch", list(ROWS))
def test_rpds_py_suite_passes_on_the_target(arch, sdist_tests, tmp_path, record_property):
    options, platform, qemu, machine, byteorder = ROWS[arch]
    require_tool(qemu)
    tests = tmp_path / "tests"
    subprocess.run(["cp", "-r", str(sdist_tests), str(tests)], check=True)
    (tests / "test_on_target.py").write_text(ON_TARGET.format(machine=machine, byteorder=byteorder))
    subset = [] if FULL else [f"--pytest-args={SUBSET}"]
    proc, seconds = pyrust(*options, "--fetch-python", f"--tests={tests}", *subset, str(rpds_wheel(platform)))
    record_property("seconds", round(seconds, 1))
    print(proc.stdout[-3000:], proc.stderr[-2000:])
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    assert f"under {qemu}" in proc.stdout and f"platform linux -- Python {PYTHON}" in proc.stdout
    assert "test_on_target.py::test_runs_on_the_target PASSED" in proc.stdout
    # pyrust's count (from the JUnit XML) is pytest's own (its console's last line), and not a handful
    summary = proc.stdout.strip().splitlines()[-1]
    passed = int(summary.split("pyrust test: ")[1].split()[0])
    console = re.search(r"=+ (\d+) passed in [\d.]+s", proc.stdout)
    assert console and int(console.group(1)) == passed and passed > 30 and ", 0 failed" in summary, summary


def test_a_requirement_without_a_pure_wheel_is_refused_by_name(sdist_tests):
    options, platform, qemu, *_ = ROWS["s390x"]
    require_tool(qemu)
    proc, _ = pyrust(*options, "--fetch-python", f"--tests={sdist_tests}", "--with=pyyaml", str(rpds_wheel(platform)), timeout=300)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    error = proc.stderr.strip().splitlines()[-1]
    assert error.startswith("pyrust: error: requirement='pyyaml (--with)'") and "no pure-Python wheel of pyyaml" in error, proc.stderr
    assert "test session starts" not in proc.stdout


def test_the_exit_status_is_pytests(tmp_path):
    """A failing test on the target: pytest's 1, the failing test named; no tests: pytest's 5."""
    options, platform, qemu, *_ = ROWS["s390x"]
    require_tool(qemu)
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_order.py").write_text("import sys\n\ndef test_little():\n    assert sys.byteorder == 'little'\n\n"
                                         "def test_import():\n    import rpds\n")
    proc, _ = pyrust(*options, "--fetch-python", f"--tests={tests}", str(rpds_wheel(platform)), timeout=300)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr
    assert "test_order.py::test_little FAILED" in proc.stdout and "test_order.py::test_import PASSED" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1].startswith("pyrust test: 1 passed, 1 failed"), proc.stdout[-500:]
    (tests / "test_order.py").unlink()
    proc, _ = pyrust(*options, "--fetch-python", f"--tests={tests}", str(rpds_wheel(platform)), timeout=300)
    assert proc.returncode == 5, proc.stdout[-2000:] + proc.stderr
