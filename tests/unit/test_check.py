"""The QA check on real ELF files built here with the host compiler (x86-64).

Each module is compiled from C for the build host, so the dynamic part runs the host
interpreter natively (the same code path that uses qemu-user for foreign targets).
"""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest

from pyrust.check import QA_ELF, QA_EXT_SUFFIX, QA_IMPORT, import_check, static_check
from pyrust.machines import machine_vars
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars
from testbed import require_tool, tree_digest

pytestmark = pytest.mark.unit

HOST_VERSION = f"{sys.version_info[0]}.{sys.version_info[1]}"
HOST_EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")

GOOD_MODULE = r"""
#include <Python.h>
static PyObject *add(PyObject *self, PyObject *args) {
    long a, b; if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL; return PyLong_FromLong(a + b);
}
static PyMethodDef methods[] = {{"add", add, METH_VARARGS, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "NAME", NULL, -1, methods};
PyMODINIT_FUNC PyInit_NAME(void) { return PyModule_Create(&def); }
"""
RAISING_MODULE = r"""
#include <Python.h>
PyMODINIT_FUNC PyInit_NAME(void) { PyErr_SetString(PyExc_RuntimeError, "refusing to load"); return NULL; }
"""
SEGFAULT_MODULE = "void *PyInit_NAME(void) { volatile int *p = 0; *p = 1; return 0; }\n"
HANGING_MODULE = "void *PyInit_NAME(void) { for (;;) {} return 0; }\n"
PLAIN_LIBRARY = "int helper(void) { return 42; }\n"
MISSING_LIB_MODULE = "extern int no_such_function(void);\nvoid *PyInit_NAME(void) { no_such_function(); return 0; }\n"


def compile_so(tmp: Path, source: str, name: str, out: Path, extra: tuple[str, ...] = ()) -> Path:
    gcc = require_tool("gcc")
    src = tmp / f"{name}-{abs(hash(source))}.c"
    src.write_text(source.replace("NAME", name))
    out.parent.mkdir(parents=True, exist_ok=True)
    include = sysconfig.get_paths()["include"]
    subprocess.run([gcc, "-shared", "-fPIC", "-O0", f"-I{include}", "-o", str(out), str(src), *extra], check=True)
    return out


@pytest.fixture
def host_target():
    return target_from_vars(machine_vars("qemux86-64"))


@pytest.fixture
def host_abi(host_target):
    abi = python_abi(host_target, HOST_VERSION)
    assert abi.ext_suffix == HOST_EXT_SUFFIX  # the table agrees with the interpreter running this test
    return abi


def test_static_names_and_headers(tmp_path, host_target, host_abi):
    site = tmp_path / "D/usr/lib/python3/site-packages"
    compile_so(tmp_path, GOOD_MODULE, "good", site / f"pkg/good{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, GOOD_MODULE, "stable", site / "stable.abi3.so")
    compile_so(tmp_path, GOOD_MODULE, "plain", site / "plain.so")
    wrong = compile_so(tmp_path, GOOD_MODULE, "wrong", site / "wrong.cpython-311-armv7l-linux-gnueabihf.so")
    renamed = compile_so(tmp_path, GOOD_MODULE, "other", site / f"renamed{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, PLAIN_LIBRARY, "libhelper", site / "pkg/libhelper.so")
    (site / f"text{HOST_EXT_SUFFIX}").write_text("not a module\n")
    good_bytes = (site / f"pkg/good{HOST_EXT_SUFFIX}").read_bytes()
    (site / f"trunc{HOST_EXT_SUFFIX}").write_bytes(good_bytes[:200])
    before = tree_digest(tmp_path / "D")

    modules, findings = static_check(tmp_path / "D", host_target, host_abi, shown_root="${D}")

    assert sorted(m.name for m in modules if m.accepted_name) == ["pkg.good", "plain", "stable"]
    assert [m.name for m in modules if not m.accepted_name] == ["wrong"]  # still imported, to show the failure
    by_file = {Path(f.path).name: f for f in findings}
    assert set(by_file) == {wrong.name, renamed.name, f"text{HOST_EXT_SUFFIX}", f"trunc{HOST_EXT_SUFFIX}"}
    assert by_file[wrong.name].qa == QA_EXT_SUFFIX
    assert HOST_EXT_SUFFIX in by_file[wrong.name].message  # names the expected suffix
    assert by_file[renamed.name].qa == QA_EXT_SUFFIX and "PyInit_other" in by_file[renamed.name].message
    assert by_file[f"text{HOST_EXT_SUFFIX}"].qa == QA_ELF
    assert by_file[f"trunc{HOST_EXT_SUFFIX}"].qa == QA_ELF
    assert all(f.path.startswith("${D}/usr/lib/python3/site-packages/") for f in findings)
    assert tree_digest(tmp_path / "D") == before


def test_foreign_elf_header_is_found(tmp_path, host_abi):
    arm = target_from_vars(machine_vars("qemuarm"))
    abi = python_abi(arm, HOST_VERSION)
    site = tmp_path / "site-packages"
    compile_so(tmp_path, GOOD_MODULE, "mod", site / f"mod{abi.ext_suffix}")
    _modules, findings = static_check(tmp_path, arm, abi)
    assert [f.qa for f in findings] == [QA_ELF]
    assert "EM_X86_64" in findings[0].message and "EM_ARM" in findings[0].message


def test_import_faults_each_named(tmp_path, host_target, host_abi):
    site = tmp_path / "D/site-packages"
    compile_so(tmp_path, GOOD_MODULE, "fine", site / f"fine{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, RAISING_MODULE, "raises", site / f"raises{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, SEGFAULT_MODULE, "crashes", site / f"crashes{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, HANGING_MODULE, "hangs", site / f"hangs{HOST_EXT_SUFFIX}")
    lib = compile_so(tmp_path, PLAIN_LIBRARY.replace("helper", "no_such_function"), "libgone", tmp_path / "libgone.so")
    compile_so(tmp_path, MISSING_LIB_MODULE, "needslib", site / f"needslib{HOST_EXT_SUFFIX}", ("-L", str(lib.parent), "-lgone"))
    before = tree_digest(tmp_path / "D")
    modules, findings = static_check(tmp_path / "D", host_target, host_abi)
    assert findings == []
    python = Path(sys.executable).resolve()
    outcome = import_check(modules, host_target, Path("/"), str(python), timeout=8)
    messages = {f.path: f.message for f in outcome.findings}
    assert all(f.qa == QA_IMPORT for f in outcome.findings)
    assert set(messages) == {"raises", "crashes", "hangs", "needslib"}, outcome
    assert "refusing to load" in messages["raises"]
    assert "signal 11" in messages["crashes"]
    assert "did not finish within 8 s" in messages["hangs"]
    assert "libgone.so" in messages["needslib"]
    assert outcome.imported == ("fine",)
    assert tree_digest(tmp_path / "D") == before


UNDEFINED_SYMBOL_MODULE = "extern int _PyGone_Ready(void *);\nvoid *PyInit_NAME(void) { _PyGone_Ready(0); return 0; }\n"


def test_loader_error_names_the_checked_file_not_the_scratch_copy(tmp_path, host_target, host_abi):
    """A module that calls a symbol the target's libpython lacks (meta-python's pyruvate 1.2.1:
    rust-cpython calls _PyUnicode_Ready, gone in CPython 3.12): the loader's error names the
    file as the user knows it (``${D}/...``), not the check's scratch copy, which is gone."""
    site = tmp_path / "D/usr/lib/python3/site-packages"
    compile_so(tmp_path, UNDEFINED_SYMBOL_MODULE, "stale", site / f"pkg/stale{HOST_EXT_SUFFIX}")
    modules, findings = static_check(tmp_path / "D", host_target, host_abi, shown_root="${D}")
    assert findings == []
    outcome = import_check(modules, host_target, Path("/"), str(Path(sys.executable).resolve()), timeout=30)
    (finding,) = outcome.findings
    assert finding.qa == QA_IMPORT and "undefined symbol: _PyGone_Ready" in finding.message, finding
    assert f"${{D}}/usr/lib/python3/site-packages/pkg/stale{HOST_EXT_SUFFIX}" in finding.message, finding
    assert "pyrust-import-" not in finding.message, finding


def test_module_for_another_machine_is_one_elf_finding_and_not_imported(tmp_path, host_target, host_abi):
    """A module whose ELF header the static check rejects is not imported as well: the
    loader's refusal ("No such file or directory" about the scratch copy, or "wrong ELF
    class") would be a second, misleading finding for the same fault."""
    site = tmp_path / "D/site-packages"
    compile_so(tmp_path, GOOD_MODULE, "fine", site / f"fine{HOST_EXT_SUFFIX}")
    foreign = compile_so(tmp_path, GOOD_MODULE, "foreign", site / f"foreign{HOST_EXT_SUFFIX}")
    data = bytearray(foreign.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine := EM_AARCH64, the rest stays readable
    foreign.write_bytes(bytes(data))

    modules, findings = static_check(tmp_path / "D", host_target, host_abi)
    assert [(f.qa, Path(f.path).name) for f in findings] == [(QA_ELF, foreign.name)]
    assert {m.name: m.header_ok for m in modules} == {"fine": True, "foreign": False}
    outcome = import_check(modules, host_target, Path("/"), str(Path(sys.executable).resolve()), timeout=60)
    assert outcome.findings == ()
    assert outcome.imported == ("fine",)
    assert any("foreign" in note and QA_ELF in note for note in outcome.notes), outcome.notes


def test_static_check_reads_the_tree_with_few_readelf_runs(tmp_path, host_target, host_abi, monkeypatch):
    """Inside BitBake (ElfTools: a header function and readelf) the tree is read by one
    readelf run per 128 files, halved only around a damaged file; the modules and
    findings are those of one readelf run per file, and name the same files as with
    pyelftools."""
    from test_elf_tools import counting_readelf, runs

    import pyrust.check
    from pyrust.elfinfo import NotElfError, read_elf

    site = tmp_path / "D/usr/lib/python3/site-packages"
    for index in range(12):
        compile_so(tmp_path, GOOD_MODULE, f"m{index}", site / f"pkg/m{index}{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, GOOD_MODULE, "spaced", site / f"with space/spaced{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, GOOD_MODULE, "wrong", site / "wrong.cpython-311-armv7l-linux-gnueabihf.so")
    compile_so(tmp_path, GOOD_MODULE, "other", site / f"renamed{HOST_EXT_SUFFIX}")
    compile_so(tmp_path, PLAIN_LIBRARY, "libhelper", site / "pkg/libhelper.so.1")
    foreign = compile_so(tmp_path, GOOD_MODULE, "foreign", site / f"foreign{HOST_EXT_SUFFIX}")
    data = bytearray(foreign.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine := EM_AARCH64
    foreign.write_bytes(bytes(data))
    (site / f"text{HOST_EXT_SUFFIX}").write_text("not a module\n")
    (site / f"trunc{HOST_EXT_SUFFIX}").write_bytes((site / f"pkg/m0{HOST_EXT_SUFFIX}").read_bytes()[:1000])
    tools, log = counting_readelf(tmp_path)

    batched = static_check(tmp_path / "D", host_target, host_abi, shown_root="${D}", elf_tools=tools)
    batched_runs = runs(log)

    def one_run_per_file(paths, elf_tools):
        answers = []
        for path in paths:
            try:
                answers.append(read_elf(path, elf_tools))
            except NotElfError as err:
                answers.append(err)
        return answers
    with monkeypatch.context() as patch:
        patch.setattr(pyrust.check, "read_elfs", one_run_per_file)
        per_file = static_check(tmp_path / "D", host_target, host_abi, shown_root="${D}", elf_tools=tools)
    assert runs(log) - batched_runs == 18  # one per ELF file (the text file is not)
    assert batched == per_file
    assert 1 < batched_runs <= 11  # one run, then halves around the truncated file: 2 ceil(log2 18) + 1 at most
    modules, findings = batched
    assert len(modules) == 15 and "with space.spaced" in {m.name for m in modules}
    plain_modules, plain_findings = static_check(tmp_path / "D", host_target, host_abi, shown_root="${D}")
    assert plain_modules == modules
    assert [(f.qa, f.path) for f in plain_findings] == [(f.qa, f.path) for f in findings]
    assert {Path(f.path).name for f in findings} == {"wrong.cpython-311-armv7l-linux-gnueabihf.so", f"renamed{HOST_EXT_SUFFIX}",
                                                    f"foreign{HOST_EXT_SUFFIX}", f"text{HOST_EXT_SUFFIX}", f"trunc{HOST_EXT_SUFFIX}"}
