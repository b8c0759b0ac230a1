"""do_pyrust_ptest in real BitBake builds (PYRUST_PTEST = "1", tests/build/README.md):
the recipe's own pytest suite, installed by oe-core's ptest-python-pytest into
${D}${PTEST_PATH}, run with the target python3 under qemu-user after do_install, its test
dependencies (python3-pytest and its runtime closure, oe-core's recipes) built for the
target and staged.

One build dir, qemuppc (32-bit big-endian): oe-core's python3-rpds-py, whose tests pass;
the test bed's python3-pyrust-ptest-endian, whose module reads words in the machine's byte
order (its test fails on big-endian only); python3-pyrust-ptest-hang, one of whose tests
never returns. What is expected comes from BitBake's own output, the task's buildstats,
oe-core's resulttool and byte arithmetic done here, not from the library.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import build_testbed as tb
import pytest
import recipe_matrix as rm
from test_build import Build, errors

pytestmark = pytest.mark.build

PTEST_ON = ('PYRUST_PTEST = "1"', 'TESTBED_PTEST = "1"', 'DISTRO_FEATURES:append = " ptest"')
#: python3-pyrust-ptest-hang's PYRUST_PTEST_TIMEOUT (its recipe)
HANG_LIMIT = 40.0


@pytest.fixture(scope="module")
def ppc(site_conf: Path) -> Build:
    build = Build("build-qemuppc-ptest", "qemuppc")
    build.configure(*PTEST_ON)
    return build


def results(build: Build, recipe: str) -> dict:
    (entry,) = json.loads((Path(build.var(recipe, "T")) / "pyrust-ptest.json").read_text()).values()
    return entry


def elapsed(build: Build, recipe: str, task: str) -> float:
    stats = sorted(Path(build.var(recipe, "BUILDSTATS_BASE")).glob(f"*/{recipe}-*/{task}"), key=lambda p: p.stat().st_mtime)
    assert stats, f"no buildstats for {recipe}:{task}"
    return float(re.search(r"Elapsed time: ([0-9.]+) seconds", stats[-1].read_text()).group(1))


def test_rpds_py_own_tests_pass_on_big_endian(ppc: Build, tmp_path: Path) -> None:
    recipe = "python3-rpds-py"
    # do_install, then ptest.bbclass's do_install_ptest_base: ${D} as do_pyrust_ptest finds it
    proc = ppc.bitbake("-c", "install_ptest_base", recipe)
    assert proc.returncode == 0, proc.stdout[-4000:]
    d = Path(ppc.var(recipe, "D"))
    before = rm.file_digests(d)
    proc = ppc.bitbake("-c", "pyrust_ptest", recipe)
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert rm.file_digests(d) == before, "do_pyrust_ptest changed ${D}"
    log = ppc.task_log(recipe, "do_pyrust_ptest")
    line = re.search(r"pyrust: python3-rpds-py under qemu-ppc with /usr/bin/python3: (\d+) passed, 0 failed", log)
    assert line, log[-3000:]
    entry = results(ppc, recipe)
    statuses = {k: v["status"] for k, v in entry["result"].items() if k.startswith("ptestresult.python3-rpds-py.")}
    assert len(statuses) == int(line.group(1)) > 50 and set(statuses.values()) == {"PASSED"}
    # the tests ran from the recipe's ptest directory, the one oe-core's ptest class installed
    installed = {p.name for p in (d / ppc.var(recipe, "PTEST_PATH").lstrip("/") / "tests").glob("test_*.py")}
    assert {k.split(".", 2)[2].split("::")[0].removeprefix("tests/") for k in statuses} <= installed
    # oe-core's resulttool reads the file as ptest results of the machine
    series = tmp_path / "series"
    series.mkdir()
    (series / "testresults.json").write_text(json.dumps({"id": entry}))
    report = subprocess.run([sys.executable, str(Path(tb.oe_paths()["OECORE"]) / "scripts" / "resulttool"), "report", str(tmp_path)],
                            capture_output=True, text=True, timeout=120)
    assert report.returncode == 0, report.stderr
    assert re.search(rf"python3-rpds-py\s*\|\s*{len(statuses)}\s*\|\s*0\s*\|\s*0", report.stdout), report.stdout
    assert "qemuppc PTest Result Summary" in report.stdout, report.stdout


def test_a_big_endian_slip_fails_naming_the_test(ppc: Build) -> None:
    recipe = "python3-pyrust-ptest-endian"
    proc = ppc.bitbake("-c", "pyrust_ptest", recipe)
    assert proc.returncode != 0
    lines = [line for line in errors(proc.stdout) if "[pyrust-ptest]" in line]
    # the words 01 00 00 00 and 02 00 00 00 read big-endian, as the module does on qemuppc
    wrong = int.from_bytes(b"\x01\x00\x00\x00", "big") + int.from_bytes(b"\x02\x00\x00\x00", "big")
    assert len(lines) == 1, errors(proc.stdout)
    assert "tests-endian/test_checksum.py::test_checksum_reads_little_endian_words failed on the target" in lines[0]
    assert f"assert {wrong} == 3" in lines[0], lines[0]
    result = results(ppc, recipe)["result"]
    assert result[f"ptestresult.{recipe}.tests-endian/test_checksum.py::test_checksum_of_nothing"] == {"status": "PASSED"}
    assert result[f"ptestresult.{recipe}.tests-endian/test_checksum.py::test_checksum_reads_little_endian_words"] == {"status": "FAILED"}


def test_a_hanging_test_is_killed_at_the_limit(ppc: Build) -> None:
    recipe = "python3-pyrust-ptest-hang"
    proc = ppc.bitbake("-c", "pyrust_ptest", recipe)
    assert proc.returncode != 0
    lines = [line for line in errors(proc.stdout) if "[pyrust-ptest]" in line]
    assert lines and f"did not finish within {HANG_LIMIT:g} s" in lines[0], errors(proc.stdout)
    assert "running: tests-hang/test_forever.py::test_never_returns" in lines[0], lines[0]
    assert HANG_LIMIT <= elapsed(ppc, recipe, "do_pyrust_ptest") < 2 * HANG_LIMIT
    result = results(ppc, recipe)["result"]
    assert result["ptestresult.sections"][recipe]["timeout"] == "1"
    # the test that finished before the hang is in the results, though pytest was killed
    assert result[f"ptestresult.{recipe}.tests-hang/test_forever.py::test_checksum_of_nothing"] == {"status": "PASSED"}
    ps = subprocess.run(["ps", "-eo", "args"], text=True, capture_output=True).stdout.splitlines()
    assert not [p for p in ps if "qemu-ppc" in p], ps
