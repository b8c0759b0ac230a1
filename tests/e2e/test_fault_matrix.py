"""Fault matrix on real cross-compiled objects: each fault gives its named QA finding,
the checked tree is unchanged, and the import run leaves no process behind.

The whole matrix runs on one qemuarm ${D} (armv7 hard-float) with Debian's armhf
python3.11 under qemu-user (:func:`test_whole_matrix_on_qemuarm`); the single-fault
tests further down cover the ELF ABI faults of other targets statically.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from cmodules import (
    ARM_BIG_ENDIAN,
    ARMEL_SOFT_FLOAT,
    ARMHF,
    MISSING_LIBRARY,
    RAISED_TEXT,
    RUNTIME_DEPENDENCY,
    X86_64,
    Compiler,
    build_module,
    write_not_elf,
    write_truncated,
)
from pyrust.check import QA_ELF, QA_EXT_SUFFIX, QA_IMPORT, Finding, import_check, static_check
from pyrust.machines import machine_vars
from pyrust.pyabi import PythonABI, python_abi
from pyrust.qemurun import run_target_python
from pyrust.resolve import resolve_abi
from pyrust.target import Target, target_from_vars
from testbed import REPO, require_tool, tree_digest

pytestmark = pytest.mark.e2e

TUNES = json.loads((REPO / "tests" / "data" / "oe_tunes.json").read_text())["tunes"]


def cross_so(gcc: str, flags: list[str], dest: Path, name: str) -> Path:
    """A working extension module ``PyInit_<name>`` built by cross ``gcc`` with ``flags`` at ``dest``."""
    require_tool(gcc)
    return build_module("working", name, dest, Compiler(gcc, tuple(flags)))


# (target variables, compiler, flags, what the finding must say)
FAULTS = {
    "soft-float module on a hard-float target": (
        machine_vars("qemuarm"), "arm-linux-gnueabi-gcc", [], "ARM hard-float ABI"),
    "big-endian module on a little-endian target": (
        TUNES["qemumips/mips32r2el/glibc"], "mips-linux-gnu-gcc", ["-mabi=32"], "big-endian, expected little-endian"),
    "n32 module on an n64 target": (
        TUNES["qemumips64/mips64r2el/glibc"], "mips64el-linux-gnuabi64-gcc", ["-mabi=n32"], "ELFCLASS32, expected ELFCLASS64"),
    "aarch64 module in an armhf package": (
        machine_vars("qemuarm"), "aarch64-linux-gnu-gcc", [], "EM_AARCH64, expected EM_ARM"),
    "little-endian ppc64 module on big-endian powerpc": (
        machine_vars("qemuppc"), "powerpc64le-linux-gnu-gcc", [], "EM_PPC64, expected EM_PPC"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_elf_fault_is_named(fault, tmp_path):
    values, gcc, flags, expected = FAULTS[fault]
    target = target_from_vars(values)
    abi = python_abi(target, "3.14")
    tree = tmp_path / "D"
    cross_so(gcc, flags, tree / "usr/lib/python3.14/site-packages" / f"mod{abi.ext_suffix}", "mod")
    before = tree_digest(tree)
    _modules, findings = static_check(tree, target, abi, shown_root="${D}")
    assert [f.qa for f in findings] == [QA_ELF]
    assert expected in findings[0].message
    assert tree_digest(tree) == before


def test_right_module_gives_no_finding(tmp_path):
    target = target_from_vars(machine_vars("qemuarm"))
    abi = python_abi(target, "3.14")
    cross_so("arm-linux-gnueabihf-gcc", [], tmp_path / "site-packages" / f"ok{abi.ext_suffix}", "ok")
    modules, findings = static_check(tmp_path, target, abi)
    assert findings == [] and [m.name for m in modules] == ["ok"]


@pytest.mark.parametrize(("qemu", "expected"), [("qemu-nonexistent", "not found"), ("qemu-aarch64", "Invalid ELF image")])
def test_missing_or_wrong_qemu_is_a_finding(qemu, expected, tmp_path, sysroot_of):
    require_tool("qemu-aarch64")
    sysroot = sysroot_of("armhf")
    target = dataclasses.replace(target_from_vars(machine_vars("qemuarm")), qemu_binary=qemu)
    abi = python_abi(target, "3.11")
    cross_so("arm-linux-gnueabihf-gcc", [], tmp_path / "site-packages" / f"mod{abi.ext_suffix}", "mod")
    modules, _ = static_check(tmp_path, target, abi)
    outcome = import_check(modules, target, sysroot, "/usr/bin/python3.11", timeout=60)
    assert [f.qa for f in outcome.findings] == [QA_IMPORT]
    assert "could not import 'mod' on the target" in outcome.findings[0].message
    assert expected in outcome.findings[0].message
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == []


def test_runtime_dependency_missing_at_build_time_is_a_note_not_a_finding(tmp_path, sysroot_of):
    """A module whose initialisation imports a module the target root lacks (a runtime
    dependency, RDEPENDS, not staged at do_install): loaded, with a note naming what it
    imports, no finding; the same module with that dependency present imports. In an
    image (check_rootfs), where runtime dependencies belong, the lack is a finding."""
    sysroot = sysroot_of("armhf")
    target = target_from_vars(machine_vars("qemuarm"))
    abi = python_abi(target, "3.11")
    site = tmp_path / "D" / "site-packages"
    build_module("importing", "needsrt", site / f"needsrt{abi.ext_suffix}")
    modules, findings = static_check(tmp_path / "D", target, abi)
    assert findings == []
    outcome = import_check(modules, target, sysroot, PYTHON, timeout=MATRIX_TIMEOUT)
    assert outcome.findings == () and outcome.imported == ()
    assert outcome.needs == (("needsrt", RUNTIME_DEPENDENCY),)
    assert any(RUNTIME_DEPENDENCY in note and "needsrt" in note for note in outcome.notes), outcome.notes
    (site / f"{RUNTIME_DEPENDENCY}.py").write_text("")
    outcome = import_check(modules, target, sysroot, PYTHON, timeout=MATRIX_TIMEOUT)
    assert outcome.findings == () and outcome.imported == ("needsrt",) and outcome.needs == ()


# ---- the whole matrix on one qemuarm ${D}, under qemu-user ---------------------------

# Seconds per interpreter run. Generous: python3.11 starts in 0.3 to 1.5 s under
# qemu-arm when idle, several seconds on a loaded 2-core machine; the hanging module
# costs exactly this once.
MATRIX_TIMEOUT = 30.0
PYTHON = "/usr/bin/python3.11"
SITE = "usr/lib/python3.11/site-packages"  # oe-core's layout; the check finds it by name


@dataclasses.dataclass(frozen=True)
class Case:
    """One entry of the matrix: ``file`` below site-packages, how to ``make`` it
    (``make(path, abi)`` writes the file), the findings it must give, as
    ``(QA name, text in the message)`` pairs (none for a clean case), whether the import
    check tries it (``tried``: an extension module whose header fits the target), and
    whether it ends the interpreter (a crash or hang: a fresh one takes the modules after it).
    """

    file: str
    make: Callable[[Path, PythonABI], object]
    expected: tuple[tuple[str, str], ...] = ()
    tried: bool = False
    ends_interpreter: bool = False

    def module(self, abi: PythonABI) -> str:
        """The dotted module name the import check gives it ("pkg.z")."""
        return self.path(abi).split(".", 1)[0].replace("/", ".")

    def path(self, abi: PythonABI) -> str:
        """``file`` with ``{EXT}`` replaced by the target's EXT_SUFFIX."""
        return self.file.replace("{EXT}", abi.ext_suffix)


def _c(kind: str, name: str, compiler: Compiler = ARMHF) -> Callable[[Path, PythonABI], object]:
    return lambda path, _abi: build_module(kind, name, path, compiler)


def _truncated(path: Path, _abi: PythonABI) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        write_truncated(build_module("working", "truncated", Path(tmp) / "whole.so"), path)


def _pure_python(path: Path, _abi: PythonABI) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("ANSWER = 42\n")
    (path.parent / "__init__.py").write_text("from .util import ANSWER\n")


def _package_needing_runtime_dependency(path: Path, abi: PythonABI) -> None:
    """A module in a package whose __init__.py imports a runtime dependency that is not
    there, as at do_install (python3-hypothesis: its __init__ imports sortedcontainers,
    an RDEPENDS that no recipe sysroot holds)."""
    build_module("working", "w", path)
    (path.parent / "__init__.py").write_text("import not_staged_at_build_time  # an RDEPENDS\n")


MATRIX = {
    # faults (the list, then the suffix faults the layer exists for)
    "segfaults on import": Case("fault_segv{EXT}", _c("segfault", "fault_segv"), ((QA_IMPORT, "signal 11"),),
                                tried=True, ends_interpreter=True),
    "hangs on import": Case("fault_hang{EXT}", _c("hanging", "fault_hang"),
                            ((QA_IMPORT, f"did not finish within {MATRIX_TIMEOUT:g} s"),), tried=True, ends_interpreter=True),
    "truncated .so": Case("fault_trunc{EXT}", _truncated, ((QA_ELF, "damaged or truncated ELF file"),)),
    "non-ELF file named like a module": Case("fault_text{EXT}", lambda p, _a: write_not_elf(p), ((QA_ELF, "not an ELF file"),)),
    "x86-64 .so in an arm package": Case("fault_x86{EXT}", _c("working", "fault_x86", X86_64), ((QA_ELF, "EM_X86_64, expected EM_ARM"),)),
    "soft-float .so on a hard-float target": Case("fault_softfp{EXT}", _c("working", "fault_softfp", ARMEL_SOFT_FLOAT),
                                                  ((QA_ELF, "lacks ARM hard-float ABI"),)),
    "big-endian .so on a little-endian target": Case("fault_be{EXT}", _c("working", "fault_be", ARM_BIG_ENDIAN),
                                                     ((QA_ELF, "big-endian, expected little-endian"),)),
    "missing shared library": Case("fault_needs{EXT}", _c("needs_library", "fault_needs"), ((QA_IMPORT, MISSING_LIBRARY),), tried=True),
    "import raises": Case("fault_raise{EXT}", _c("raising", "fault_raise"), ((QA_IMPORT, f"RuntimeError: {RAISED_TEXT}"),), tried=True),
    # maturin's guess from the Rust triple (README): named statically, and imported on
    # purpose to show the ModuleNotFoundError the device gives (check.Module.accepted_name).
    "suffix from the Rust triple": Case("fault_triple.cpython-311-armv7l-linux-gnueabihf.so", _c("working", "fault_triple"),
                                        ((QA_EXT_SUFFIX, "expected '.cpython-311-arm-linux-gnueabihf.so'"),
                                         (QA_IMPORT, "ModuleNotFoundError")), tried=True),
    "file renamed, PyInit of another name": Case("fault_renamed{EXT}", _c("working", "other"), ((QA_EXT_SUFFIX, "PyInit_other"),)),
    # clean cases
    "abi3 module": Case("x.abi3.so", _c("working", "x"), tried=True),
    "plain .so module": Case("y.so", _c("working", "y"), tried=True),
    "full EXT_SUFFIX module in a package": Case("pkg/z{EXT}", _c("working", "z"), tried=True),
    "module in a package whose __init__ needs a runtime dependency": Case("needsdep/w{EXT}", _package_needing_runtime_dependency,
                                                                          tried=True),
    "pure-Python package": Case("pkg/util.py", _pure_python),
    "shared library without PyInit": Case("pkg/libfoo.so", _c("library", "foo")),
}
# The extension modules that must import (the clean .so cases).
CLEAN = tuple(name for name, case in MATRIX.items() if case.tried and not case.expected)


@dataclasses.dataclass(frozen=True)
class Matrix:
    """The built tree: ``d`` (${D}), its target, the ABI read from ``sysroot``, Debian's armhf sysroot."""

    d: Path
    target: Target
    abi: PythonABI
    sysroot: Path


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, sysroot_of) -> Matrix:
    """One ${D} holding every case of :data:`MATRIX`, built once per module."""
    for compiler in {ARMHF, ARMEL_SOFT_FLOAT, X86_64}:
        require_tool(compiler.gcc)
    require_tool("qemu-arm")
    sysroot = sysroot_of("armhf")
    target = target_from_vars(machine_vars("qemuarm"))
    # As `pyrust check --sysroot` does: the interpreter's own _sysconfigdata decides (3.11).
    abi = resolve_abi(target, None, None, sysroot, require_sysroot_abi=True).abi
    d = tmp_path_factory.mktemp("matrix") / "D"
    for case in MATRIX.values():
        case.make(d / SITE / case.path(abi), abi)
    return Matrix(d, target, abi, sysroot)


def findings_by_case(findings: tuple[Finding, ...] | list[Finding], abi: PythonABI) -> dict[str, list[tuple[str, str]]]:
    """Each finding as (qa, message) under the name of the case it is about.

    Static findings show the file ("${D}/usr/.../fault_be....so"), import findings the
    module ("fault_be") or, from ``pyrust check``, "<path>:<module>".
    """
    by_file = {f"/{SITE}/{case.path(abi)}": name for name, case in MATRIX.items()}
    by_module = {case.module(abi): name for name, case in MATRIX.items() if not case.file.endswith(".py")}
    grouped: dict[str, list[tuple[str, str]]] = {}
    for f in findings:
        where = next((name for tail, name in by_file.items() if f.path.endswith(tail)), None)
        where = where or by_module.get(f.path.rsplit(":", 1)[-1], f"unexpected path {f.path}")
        grouped.setdefault(where, []).append((f.qa, f.message))
    return grouped


def assert_matrix_findings(grouped: dict[str, list[tuple[str, str]]]) -> None:
    """Every fault gives exactly its expected findings, in order of QA name; clean cases none."""
    for name, case in MATRIX.items():
        got = sorted(grouped.pop(name, []))
        assert [qa for qa, _ in got] == sorted(qa for qa, _ in case.expected), f"{name}: {got}"
        for (_qa, message), (_, text) in zip(got, sorted(case.expected)):
            assert text in message, f"{name}: {text!r} not in {message!r}"
    assert grouped == {}, f"findings about nothing in the matrix: {grouped}"


def leftover_processes(*paths: Path) -> list[str]:
    """Processes (``pgrep -a`` lines) whose command line names one of ``paths``, and
    children of this process (qemu runs in a session of its own, so a group kill that
    missed would leave it here)."""
    found = []
    for path in paths:
        found += subprocess.run(["pgrep", "-a", "-f", str(path)], capture_output=True, text=True).stdout.splitlines()
    found += subprocess.run(["pgrep", "-a", "-P", str(os.getpid())], capture_output=True, text=True).stdout.splitlines()
    return [line for line in found if line.split(" ", 1)[0] != str(os.getpid())]


@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The import check's scratch copy goes below ``tmp_path``, so leftovers (files or
    processes naming it) are ours, not those of checks others run on this machine."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    return scratch


def run_like_bbclass(m: Matrix, target: Target) -> tuple[list[Finding], tuple[str, ...], float]:
    """classes/pyrust.bbclass's pyrust_qa_check: static_check on ${D}, then one import_check.

    Returns (findings, modules imported, wall time in seconds).
    """
    t0 = time.monotonic()
    modules, findings = static_check(m.d, target, m.abi, shown_root="${D}")
    outcome = import_check(modules, target, m.sysroot, PYTHON, timeout=MATRIX_TIMEOUT)
    return findings + list(outcome.findings), outcome.imported, time.monotonic() - t0


def test_whole_matrix_on_qemuarm(matrix, private_tmp, tmp_path):
    require_tool("pgrep")
    before = tree_digest(matrix.d)

    findings, imported, elapsed = run_like_bbclass(matrix, matrix.target)

    assert_matrix_findings(findings_by_case(findings, matrix.abi))
    assert sorted(imported) == sorted(MATRIX[name].module(matrix.abi) for name in CLEAN)
    # Each interpreter run is bounded by the timeout; a crash or a hang costs one run and
    # the check starts a fresh interpreter for the modules after it. The slack covers the
    # static check, the scratch copy and killing the group.
    runs = 1 + sum(case.ends_interpreter for case in MATRIX.values())
    assert MATRIX_TIMEOUT <= elapsed < runs * MATRIX_TIMEOUT + 10, f"{elapsed:.1f} s for {runs} runs"
    assert tree_digest(matrix.d) == before
    assert list(private_tmp.iterdir()) == []  # the scratch copy is gone
    assert leftover_processes(matrix.d, tmp_path) == []


@pytest.mark.parametrize(("qemu", "cause"), [("qemu-nonexistent", "qemu-nonexistent not found on PATH"),
                                             ("qemu-aarch64", "Invalid ELF image")])
def test_whole_matrix_without_the_right_qemu(qemu, cause, matrix, private_tmp, tmp_path):
    """No qemu, or the wrong one: nothing can be imported, and nothing passes. Every module
    the import check would try gets one finding naming the cause, at once (the hanging
    module never runs); the static findings are the same."""
    require_tool("qemu-aarch64")
    before = tree_digest(matrix.d)

    findings, imported, elapsed = run_like_bbclass(matrix, dataclasses.replace(matrix.target, qemu_binary=qemu))

    assert imported == ()
    grouped = findings_by_case(findings, matrix.abi)
    for name, case in MATRIX.items():
        static = [qa for qa, _ in case.expected if qa != QA_IMPORT]
        got = sorted(grouped.pop(name, []))
        assert [qa for qa, _ in got] == sorted(static + ([QA_IMPORT] if case.tried else [])), f"{name}: {got}"
        for qa, message in got:
            if qa == QA_IMPORT:
                assert "could not import" in message and cause in message, f"{name}: {message}"
    assert grouped == {}
    assert elapsed < MATRIX_TIMEOUT, f"{elapsed:.1f} s: the check waited for something"
    assert tree_digest(matrix.d) == before
    assert list(private_tmp.iterdir()) == []
    assert leftover_processes(matrix.d, tmp_path) == []


def test_pyrust_check_command_gives_the_same_findings(matrix, tmp_path):
    """`pyrust check` (the standalone command) on the same ${D}: the same findings, exit 1."""
    require_tool("pgrep")
    before = tree_digest(matrix.d)
    env = {**os.environ, "TMPDIR": str(tmp_path)}  # its scratch copies go below tmp_path
    cmd = [sys.executable, "-m", "pyrust.cli", "check", "--machine", "qemuarm", "--python", matrix.abi.version, "--sysroot", str(matrix.sysroot),
           "--python-path", PYTHON, "--timeout", f"{MATRIX_TIMEOUT:g}", str(matrix.d)]
    runs = 1 + sum(case.ends_interpreter for case in MATRIX.values())
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=runs * MATRIX_TIMEOUT + 60)

    assert result.returncode == 1, result.stdout + result.stderr
    findings = [parse_finding_line(line) for line in result.stdout.splitlines() if line.startswith("FINDING ")]
    assert_matrix_findings(findings_by_case(findings, matrix.abi))
    for name in CLEAN:
        assert f"ok (imported)  {MATRIX[name].module(matrix.abi)}" in result.stdout
    assert tree_digest(matrix.d) == before
    assert list(tmp_path.iterdir()) == []
    assert leftover_processes(matrix.d, tmp_path) == []


def parse_finding_line(line: str) -> Finding:
    """``FINDING <path>: <message> [<qa>]`` as printed by `pyrust check`, back into a Finding."""
    body, _, qa = line[len("FINDING "):].rpartition(" [")
    path, _, message = body.partition(": ")
    return Finding(qa.rstrip("]"), path, message)


def test_clean_modules_work_on_the_target(matrix, tmp_path):
    """The hand-written module definitions are real: call into the clean modules (from a copy)."""
    site = tmp_path / "site"
    shutil.copytree(matrix.d / SITE, site, ignore=shutil.ignore_patterns("fault_*"))
    code = "import x, y, pkg.z, pkg; print(x.answer() + y.answer() + pkg.z.answer(), pkg.ANSWER)"
    result = run_target_python("qemu-arm", matrix.target.qemu_options, matrix.sysroot, PYTHON, code,
                               cwd=tmp_path, timeout=120, extra_env={"PYTHONPATH": str(site)})
    assert result.ok, result.stderr
    assert result.stdout.split() == ["126", "42"]
