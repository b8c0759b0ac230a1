"""pyrust.ptest: a package's own pytest suite run with "the target's" interpreter.

The interpreter here is the host's own (x86-64 runs natively, the code path the build
takes for a host-runnable interpreter, scrubbed environment and process-group kill
included); the suites are small real pytest suites written here, and what the run must
report is what pytest itself reports for them (its exit status, its JUnit XML), never
our own output.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from pyrust import ptest
from pyrust.machines import machine_vars
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit

SUITE = {
    "tests/test_a.py": """
        import pytest

        def test_pass():
            assert 1 + 1 == 2

        def test_fail():
            assert int.from_bytes(b"\\x01\\x00", "big") == 1, "read big-endian"

        @pytest.mark.skip(reason="not here")
        def test_skip():
            pass

        @pytest.fixture
        def broken():
            raise RuntimeError("set-up broke")

        def test_error(broken):
            pass

        class TestGroup:
            @pytest.mark.parametrize("n", [1, 2])
            def test_param(self, n):
                assert n
        """,
}


def write_suite(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text))
    return root


def host_target():
    return target_from_vars(machine_vars("qemux86-64"))


#: where this interpreter's pytest lives, given as the "sysroot's site-packages" (the host's
#: python run through its loader as a target's may not find its own site-packages: a pyenv
#: build started by ld.so takes its prefix from the loader's directory)
PYTEST_SITE = [str(Path(pytest.__file__).resolve().parent.parent)]


def snapshot(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(root.rglob("*"))}


def test_junit_of_real_pytest_is_read_test_by_test(tmp_path):
    suite = write_suite(tmp_path / "suite", SUITE)
    junit = tmp_path / "junit.xml"
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", f"--junitxml={junit}", "-q",
                           "-o", "junit_family=xunit1"], cwd=suite, capture_output=True, text=True)
    assert proc.returncode == 1, proc.stdout
    # the node ids pytest itself prints with -rA
    listed = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--co", "-q"], cwd=suite,
                            capture_output=True, text=True).stdout.split()
    cases = {case.name: case for case in ptest.parse_junit(junit)}
    assert sorted(cases) == sorted(n for n in listed if "::" in n)
    assert cases["tests/test_a.py::test_pass"].status == ptest.PASSED
    assert cases["tests/test_a.py::test_fail"].status == ptest.FAILED
    assert "read big-endian" in cases["tests/test_a.py::test_fail"].message
    assert cases["tests/test_a.py::test_skip"].status == ptest.SKIPPED
    assert cases["tests/test_a.py::test_error"].status == ptest.ERROR
    assert cases["tests/test_a.py::TestGroup::test_param[2]"].status == ptest.PASSED


def test_a_file_that_is_not_junit_is_named(tmp_path):
    bad = tmp_path / "junit.xml"
    bad.write_text("not xml <")
    with pytest.raises(ValueError, match="junit.xml: not a JUnit XML file"):
        ptest.parse_junit(bad)


@pytest.mark.parametrize(("script", "args"), [
    ("#!/bin/sh\npytest --automake\n", []),                       # ptest-python-pytest.bbclass's default
    ("#!/bin/sh\n\n# run them\npytest --automake -k 'not slow' tests\n", ["-k", "not slow", "tests"]),
    ("#!/bin/sh\npython3 -m pytest -x\n", ["-x"]),
    ("#!/bin/sh\n./run-tests.sh\n", None),
    ("#!/bin/sh\ncd tests\npytest\n", None),
    ("#!/bin/sh\npytest 'unclosed\n", None),
])
def test_run_ptest_scripts(script, args):
    assert ptest.pytest_args_of_run_ptest(script) == args


def test_a_run_reports_what_pytest_reports_and_writes_nothing(tmp_path):
    suite = write_suite(tmp_path / "ptest", SUITE)
    modules = tmp_path / "site"
    (modules / "mymod").mkdir(parents=True)
    (modules / "mymod" / "__init__.py").write_text("VALUE = 7\n")
    (suite / "tests" / "test_b.py").write_text("import mymod\n\ndef test_module_from_d():\n    assert mymod.VALUE == 7\n")
    before = snapshot(tmp_path)
    run = ptest.run_pytest(host_target(), Path("/"), sys.executable, suite, module_dirs=[modules], extra_paths=PYTEST_SITE,
                           timeout=120)
    assert snapshot(tmp_path) == before
    assert run.returncode == 1 and not run.timed_out and not run.ok
    assert run.names(ptest.FAILED) == ["tests/test_a.py::test_fail"]
    assert run.names(ptest.ERROR) == ["tests/test_a.py::test_error"]
    assert "tests/test_b.py::test_module_from_d" in run.names(ptest.PASSED)
    problems = ptest.problems(run, 120)
    assert len(problems) == 2 and problems[0].startswith("tests/test_a.py::test_fail failed on the target: ")
    assert ptest.summary(run).startswith("4 passed, 2 failed, 1 skipped in ")


def test_a_hanging_test_is_killed_with_its_children(tmp_path):
    marker = f"pyrust-ptest-hang-{os.getpid()}"
    suite = write_suite(tmp_path / "ptest", {"tests/test_h.py": f"""
        import subprocess, time

        def test_first():
            pass

        def test_hangs():
            subprocess.Popen(["sleep", "300", "{marker}"])
            time.sleep(300)
        """})
    started = time.monotonic()
    run = ptest.run_pytest(host_target(), Path("/"), sys.executable, suite, extra_paths=PYTEST_SITE, timeout=8)
    assert time.monotonic() - started < 30
    assert run.timed_out and run.running == "tests/test_h.py::test_hangs"
    # no JUnit XML from a killed run: the test that finished is still reported
    assert run.names(ptest.PASSED) == ["tests/test_h.py::test_first"] and len(run.cases) == 1
    assert "did not finish within 8 s" in ptest.problems(run, 8)[-1] and "test_hangs" in ptest.problems(run, 8)[-1]
    time.sleep(0.5)
    left = subprocess.run(["pgrep", "-f", marker], capture_output=True, text=True)
    assert left.stdout == "", "a child of the killed suite is still running"


def test_no_pytest_in_the_target_root_is_named(tmp_path):
    suite = write_suite(tmp_path / "ptest", {"tests/test_x.py": "def test_x():\n    pass\n"})
    # a root whose python3 has no pytest: a venv without packages, as a recipe sysroot
    # without python3-pytest staged
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], check=True)
    run = ptest.run_pytest(host_target(), Path("/"), str(tmp_path / "venv" / "bin" / "python"), suite, timeout=60)
    assert not run.ok and run.cases == ()
    assert "pytest cannot be imported by the target interpreter (No module named 'pytest')" in run.problem
    assert ptest.problems(run, 60) == [run.problem]


def test_results_in_resulttools_shape(tmp_path):
    suite = write_suite(tmp_path / "ptest", SUITE)
    run = ptest.run_pytest(host_target(), Path("/"), sys.executable, suite, extra_paths=PYTEST_SITE, timeout=120)
    data = ptest.testresults("python3-x", run, {"MACHINE": "qemux86-64", "DISTRO": "nodistro", "TCLIBC": "glibc"}, "id1")
    entry = data["id1"]
    assert entry["configuration"]["TEST_TYPE"] == "runtime" and entry["configuration"]["MACHINE"] == "qemux86-64"
    result = entry["result"]
    assert result["ptestresult.python3-x.tests/test_a.py::test_fail"] == {"status": "FAILED"}
    assert result["ptestresult.python3-x.tests/test_a.py::test_error"] == {"status": "FAILED"}
    assert result["ptestresult.python3-x.tests/test_a.py::test_skip"] == {"status": "SKIPPED"}
    assert result["ptestresult.sections"]["python3-x"]["log"] == run.output
    assert "timeout" not in result["ptestresult.sections"]["python3-x"]
