"""Run a package's own pytest suite with the target interpreter under qemu-user.

The step after "it imports": the tests a recipe ships for ptest (oe-core's
``ptest-python-pytest`` class installs ``${S}/tests`` into ``${D}${PTEST_PATH}`` with a
``run-ptest`` of ``pytest --automake``) run at build time on the target ISA, with the
target's own python3 and the modules from ``${D}``; a big-endian or 32-bit fault shows
here instead of on a booted image. ``pyrust test`` (standalone) and pyrust.bbclass's
``do_pyrust_ptest`` call the same :func:`run_pytest`.

Results come from pytest's own JUnit XML (``--junitxml``), one :class:`TestCase` per
test, and are written in oe-core's ``testresults.json`` shape (``ptestresult.<section>.<test>``
keys, as meta/lib/oeqa/runtime/cases/ptest.py writes them), so ``resulttool report``
reads them. Failures carry the QA name ``pyrust-ptest`` (ERROR_QA / WARN_QA / INSANE_SKIP).

Standard library only (BitBake imports it); the interpreter runs through
:func:`pyrust.qemurun.run_target_python`, which kills the whole process group at the
time limit. Limits of qemu-user without binfmt_misc (TESTBED.md): an emulated Python
cannot start another process of itself, so tests that run ``sys.executable`` in a
subprocess fail here as they would not on the device.
"""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from pathlib import Path

from pyrust.elfinfo import ElfTools
from pyrust.target import Target

QA_PTEST = "pyrust-ptest"

# Statuses as oe-core's ptest results spell them (oeqa/utils/logparser.py: PASSED,
# FAILED, SKIPPED); ERROR is pytest's "error in set-up or tear-down", a failure too.
PASSED, FAILED, SKIPPED, ERROR = "PASSED", "FAILED", "SKIPPED", "ERROR"

# Options run-ptest scripts pass that only shape the console output for ptest-runner
# (python3-unittest-automake-output's pytest plugin); results come from --junitxml here.
_OUTPUT_ONLY_OPTIONS = ("--automake",)

_RUNNER = """\
import sys
sys.path[:0] = {paths!r}
sys.argv[:] = ["pytest"]
try:
    import pytest
except ImportError as err:
    print("PYRUST-NO-PYTEST", err, flush=True)
    sys.exit(97)
sys.exit(int(pytest.main({args!r})))
"""
_NO_PYTEST_EXIT = 97


@dataclasses.dataclass(frozen=True)
class TestCase:
    """One test: ``name`` (pytest's node id, ``"tests/test_bcrypt.py::test_checkpw"``),
    ``status`` (PASSED, FAILED, SKIPPED or ERROR), ``message`` (the failure's first line
    or the skip reason, "" when passed) and ``seconds`` (pytest's own measure)."""

    name: str
    status: str
    message: str = ""
    seconds: float = 0.0


@dataclasses.dataclass(frozen=True)
class TestRun:
    """One run of a test suite on the target.

    ``cases``: from the JUnit XML, or, when the run was killed before pytest wrote it, from
    the tests pytest's verbose output reported as done (:func:`cases_from_output`);
    ``returncode``: pytest's exit status (0 all passed, 1 some failed, 2 interrupted,
    3 internal error, 4 usage error, 5 no tests; negative: killed by a signal);
    ``timed_out``: killed at the time limit, ``running``: the test that was running then
    (from pytest's verbose output) or "" ; ``seconds``: wall time; ``output``: pytest's
    console output (stdout then stderr); ``problem``: why the suite could not run at all
    (no pytest on the target, no interpreter), "" otherwise.
    """

    cases: tuple[TestCase, ...]
    returncode: int
    timed_out: bool
    seconds: float
    output: str
    running: str = ""
    problem: str = ""

    def names(self, *statuses: str) -> list[str]:
        """Node ids of the cases with one of ``statuses``, in run order."""
        return [case.name for case in self.cases if case.status in statuses]

    @property
    def ok(self) -> bool:
        """True when pytest ran to the end and nothing failed (pytest's 0, or 5: no tests)."""
        return not self.problem and not self.timed_out and self.returncode in (0, 5) and not self.names(FAILED, ERROR)


def pytest_args_of_run_ptest(text: str) -> list[str] | None:
    """The pytest arguments a ``run-ptest`` script runs, or None when it runs anything else.

    Args:
        text: the script, e.g. ``"#!/bin/sh\\npytest --automake\\n"`` (what oe-core's
            ptest-python-pytest.bbclass writes when the recipe ships none).

    Returns:
        The arguments after ``pytest`` (or ``python3 -m pytest``) without the output-only
        ``--automake``: ``[]`` for the default script. None for a script of more than one
        command or another command: it cannot be run without the target's shell here.

    Example:
        >>> pytest_args_of_run_ptest("#!/bin/sh\\npytest --automake -k 'not slow'\\n")
        ['-k', 'not slow']
        >>> pytest_args_of_run_ptest("#!/bin/sh\\n./test-suite\\n") is None
        True
    """
    commands = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if len(commands) != 1:
        return None
    try:
        words = shlex.split(commands[0])
    except ValueError:
        return None
    if words[:1] == ["pytest"]:
        args = words[1:]
    elif len(words) >= 3 and re.fullmatch(r"python3(\.\d+)?", words[0]) and words[1:3] == ["-m", "pytest"]:
        args = words[3:]
    else:
        return None
    return [arg for arg in args if arg not in _OUTPUT_ONLY_OPTIONS]


def parse_junit(path: Path) -> tuple[TestCase, ...]:
    """The test cases of a pytest JUnit XML file (``--junitxml``, xunit1 or xunit2).

    Node ids are rebuilt from ``classname`` (``"tests.test_bcrypt"`` or
    ``"tests.test_x.TestClass"``) and ``name``, as pytest's junitxml plugin splits them.

    Raises:
        ValueError: the file is not JUnit XML (names the file).
    """
    try:
        root = ET.parse(path).getroot()
    except ET.ParseError as err:
        raise ValueError(f"{path}: not a JUnit XML file ({err})") from None
    cases = []
    for case in root.iter("testcase"):
        name = _node_id(case.get("classname", ""), case.get("name", ""), case.get("file"))
        status, message = PASSED, ""
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                status = {"failure": FAILED, "error": ERROR, "skipped": SKIPPED}[child.tag]
                lines = (child.get("message") or (child.text or "")).strip().splitlines()
                message = lines[0] if lines else ""
                break
        cases.append(TestCase(name, status, message, float(case.get("time") or 0.0)))
    return tuple(cases)


def _node_id(classname: str, name: str, file: str | None) -> str:
    """``tests.test_x.TestY`` + ``test_z`` -> ``tests/test_x.py::TestY::test_z``: xunit1's
    ``file`` attribute names the module; without it the module is the dotted prefix up to
    the last part named ``test*`` (pytest's default ``python_files``)."""
    parts = classname.split(".") if classname else []
    if file and file.endswith(".py"):
        dotted = file[:-3].replace("/", ".")
        classes = classname[len(dotted) + 1:].split(".") if classname.startswith(dotted + ".") else []
        return "::".join([file, *classes, name])
    split = max((i + 1 for i, part in enumerate(parts) if part.startswith("test")), default=len(parts))
    module = "/".join(parts[:split]) + ".py" if parts else ""
    return "::".join([module, *parts[split:], name]) if module else name


def cases_from_output(output: str) -> tuple[TestCase, ...]:
    """The tests ``pytest -v`` reported as done, from its console lines
    (``"tests/test_x.py::test_y PASSED   [ 50%]"``): what a run killed before pytest wrote its
    JUnit XML still tells. XFAIL counts as SKIPPED and XPASS as PASSED, as in the JUnit XML."""
    status = {"PASSED": PASSED, "FAILED": FAILED, "SKIPPED": SKIPPED, "ERROR": ERROR, "XFAIL": SKIPPED, "XPASS": PASSED}
    cases: dict[str, TestCase] = {}
    for line in output.splitlines():
        match = re.match(r"^(\S+::\S+) (PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)\b", line)
        if match:
            cases[match.group(1)] = TestCase(match.group(1), status[match.group(2)])
    return tuple(cases.values())


def _running_test(output: str) -> str:
    """The node id of the last test pytest -v started but did not report."""
    running = ""
    for line in output.splitlines():
        match = re.match(r"^(\S+::\S+)(?:\s+(PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)\b)?", line)
        if match:
            running = "" if match.group(2) else match.group(1)
    return running


def run_pytest(target: Target, sysroot: Path, python: str, test_dir: Path, *, args: Sequence[str] = (),
               module_dirs: Iterable[Path] = (), extra_paths: Iterable[str] = (), timeout: float = 900.0,
               elf_tools: ElfTools | None = None, extra_env: dict[str, str] | None = None) -> TestRun:
    """Run pytest in ``test_dir`` with the target interpreter under qemu-user.

    Args:
        target: gives qemu_binary and qemu_options (:class:`pyrust.target.Target`).
        sysroot: the target root holding the interpreter and pytest (a recipe sysroot with
            the ptest RDEPENDS staged, or ``pyrust test``'s scratch root).
        python: the interpreter as the target sees it, e.g. ``"/usr/bin/python3"``.
        test_dir: the tests (``${D}${PTEST_PATH}``); copied to a scratch directory, run from there.
        args: pytest arguments (from :func:`pytest_args_of_run_ptest`), e.g. ``["-k", "not slow"]``.
        module_dirs: directories with the modules under test (``${D}${PYTHON_SITEPACKAGES_DIR}``),
            copied to the scratch directory and put first on sys.path.
        extra_paths: further sys.path entries, used in place (the sysroot's site-packages).
        timeout: seconds for the whole suite; at the limit the interpreter's whole process
            group is killed and :attr:`TestRun.timed_out` is set.
        elf_tools: how to read the interpreter's ELF header (None: pyelftools).
        extra_env: more environment for the interpreter (``pyrust test`` passes
            ``PYTHONPYCACHEPREFIX`` into its cache: an emulated Python compiling the
            standard library from source costs most of a run's start-up).

    Returns:
        :class:`TestRun`. Never writes into ``test_dir``, ``module_dirs`` or the sysroot
        (scratch copies, PYTHONDONTWRITEBYTECODE, ``-p no:cacheprovider``).

    Raises:
        pyrust.qemurun.TargetRunError: no qemu, the wrong qemu or no loader (set-up problems).
        FileNotFoundError: sysroot, interpreter or ``test_dir`` missing.
    """
    from pyrust import qemurun

    if not Path(test_dir).is_dir():
        raise FileNotFoundError(f"test directory {test_dir} does not exist")
    with tempfile.TemporaryDirectory(prefix="pyrust-ptest-") as tmp:
        scratch = Path(tmp)
        tests = scratch / "ptest"
        shutil.copytree(test_dir, tests, symlinks=True)
        paths = []
        for index, directory in enumerate(module_dirs):
            copy = scratch / f"modules{index}"
            shutil.copytree(directory, copy, symlinks=True)
            paths.append(str(copy))
        junit = scratch / "junit.xml"
        pytest_args = [*args, "-v", "-p", "no:cacheprovider", f"--junitxml={junit}", "-o", "junit_family=xunit1"]
        code = _RUNNER.format(paths=[*paths, *extra_paths], args=pytest_args)
        result = qemurun.run_target_python(target.qemu_binary, target.qemu_options, sysroot, python, code, cwd=tests,
                                           timeout=timeout, extra_env={"PYTHONUNBUFFERED": "1", **(extra_env or {})},
                                           elf_tools=elf_tools)
        output = result.stdout + (("\n" + result.stderr) if result.stderr.strip() else "")
        problem = ""
        if result.returncode == _NO_PYTEST_EXIT and "PYRUST-NO-PYTEST" in result.stdout:
            missing = result.stdout.split("PYRUST-NO-PYTEST", 1)[1].strip().splitlines()[0]
            problem = f"pytest cannot be imported by the target interpreter ({missing}): stage the test dependencies"
        # killed before the JUnit XML was written: what -v printed as done
        cases = parse_junit(junit) if junit.is_file() else cases_from_output(result.stdout)
    return TestRun(cases, result.returncode, result.timed_out, result.elapsed, output,
                   _running_test(result.stdout) if result.timed_out or result.signal else "", problem)


def summary(run: TestRun) -> str:
    """One line: ``"12 passed, 1 failed, 2 skipped in 8.1 s"`` (plus why it stopped)."""
    counts = [(len(run.names(PASSED)), "passed"), (len(run.names(FAILED, ERROR)), "failed"), (len(run.names(SKIPPED)), "skipped")]
    text = ", ".join(f"{n} {word}" for n, word in counts) + f" in {run.seconds:.1f} s"
    if run.problem:
        return f"{text}: {run.problem}"
    if run.timed_out:
        return f"{text}; killed at the time limit" + (f" while running {run.running}" if run.running else "")
    if run.returncode < 0:
        return f"{text}; the interpreter was killed by signal {-run.returncode}" + (f" while running {run.running}" if run.running else "")
    if run.returncode not in (0, 1, 5):
        return f"{text}; pytest exit status {run.returncode}"
    return text


def problems(run: TestRun, timeout: float) -> list[str]:
    """The messages a failed run reports under :data:`QA_PTEST`, one per failing test
    (``"tests/test_x.py::test_y failed on the target: assert 1 == 16777216"``), plus one
    for a run that did not finish (killed at ``timeout`` seconds, crashed, usage error,
    no pytest). Empty when :attr:`TestRun.ok`."""
    found = [f"{case.name} {'failed' if case.status == FAILED else 'errored'} on the target"
             + (f": {case.message}" if case.message else "") for case in run.cases if case.status in (FAILED, ERROR)]
    if run.problem:
        found.append(run.problem)
    elif run.timed_out:
        found.append(f"the test suite did not finish within {timeout:g} s (process group killed)"
                     + (f"; running: {run.running}" if run.running else ""))
    elif run.returncode < 0:
        found.append(f"the interpreter was killed by signal {-run.returncode}" + (f" while running {run.running}" if run.running else ""))
    elif run.returncode not in (0, 1, 5):
        tail = " | ".join(run.output.strip().splitlines()[-3:])
        found.append(f"pytest stopped with exit status {run.returncode}: {tail}")
    return found


def testresults(section: str, run: TestRun, configuration: dict[str, str], result_id: str) -> dict[str, object]:
    """``run`` in oe-core's testresults.json shape, readable by ``resulttool report``.

    Args:
        section: the ptest section, the recipe's name (``"python3-bcrypt"``).
        configuration: at least MACHINE, DISTRO, TCLIBC; TEST_TYPE is "runtime" (the type
            whose ptest results resulttool reports) and IMAGE_BASENAME/IMAGE_PKGTYPE name
            this build-time run, which has no image.
        result_id: the top-level key, e.g. ``"pyrust-ptest_python3-bcrypt_qemuarm_20261203..."``.

    The test names follow meta/lib/oeqa/runtime/cases/ptest.py: ``ptestresult.<section>.<test>``
    with "(" and ")" replaced by "_" and blanks joined by "_"; the section entry carries
    ``duration`` (seconds, as a string), ``log`` and, as there, ``timeout``/``exitcode`` when
    the suite did not end normally.
    """
    trans = str.maketrans("()", "__")
    result: dict[str, object] = {}
    info: dict[str, str] = {"duration": str(round(run.seconds)), "log": run.output}
    if run.timed_out:
        info["timeout"] = "1"
    elif not run.ok and run.returncode not in (0, 1):
        info["exitcode"] = str(run.returncode)
    result["ptestresult.sections"] = {section: info}
    for case in run.cases:
        result[f"ptestresult.{section}." + "_".join(case.name.translate(trans).split())] = {
            "status": FAILED if case.status == ERROR else case.status}
    config = {"TEST_TYPE": "runtime", "IMAGE_BASENAME": "pyrust-ptest", "IMAGE_PKGTYPE": "none", **configuration}
    return {result_id: {"configuration": config, "result": result}}
