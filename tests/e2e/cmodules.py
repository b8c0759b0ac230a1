"""Tiny C extension modules for Debian's CPython 3.11, cross-compiled without Python.h.

Shared by the e2e fault matrix (tests/e2e/test_fault_matrix.py) and the benchmark
(tests/tools/bench-check); standard library only, no pytest, so the script can import it.

The modules declare the few CPython symbols they use themselves, with the layouts of
CPython 3.11's Include/object.h and Include/moduleobject.h; the symbols are resolved
from the interpreter when the module is loaded, so no libpython is linked. Each one is
linked with ``-nostdlib`` (no target libc needed at build time)::

    from cmodules import ARMHF, build_module
    build_module("working", "spam", site / "spam.cpython-311-arm-linux-gnueabihf.so", ARMHF)

Kinds (:data:`SOURCES`): ``working`` (``answer()`` returns 42), ``raising`` (RuntimeError
:data:`RAISED_TEXT`), ``segfault``, ``hanging`` (infinite loop in PyInit),
``needs_library`` (DT_NEEDED :data:`MISSING_LIBRARY`, which is not shipped) and
``library`` (a plain shared object, no PyInit).
"""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

# CPython 3.11's declarations, written out. Py_ssize_t is ssize_t, which has the width
# of ptrdiff_t on every Linux ABI; PyObject_HEAD is {ob_refcnt, ob_type} in a release
# build; PyModuleDef_HEAD_INIT is {{1, NULL}, NULL, 0, NULL}.
PRELUDE = r"""
typedef __PTRDIFF_TYPE__ Py_ssize_t;
typedef struct { Py_ssize_t ob_refcnt; void *ob_type; } PyObject;
typedef PyObject *(*PyCFunction)(PyObject *, PyObject *);
typedef struct { const char *ml_name; PyCFunction ml_meth; int ml_flags; const char *ml_doc; } PyMethodDef;
typedef struct { PyObject ob_base; PyObject *(*m_init)(void); Py_ssize_t m_index; PyObject *m_copy; } PyModuleDef_Base;
typedef struct {
    PyModuleDef_Base m_base;
    const char *m_name;
    const char *m_doc;
    Py_ssize_t m_size;
    PyMethodDef *m_methods;
    void *m_slots, *m_traverse, *m_clear, *m_free;
} PyModuleDef;
extern PyObject *PyModuleDef_Init(PyModuleDef *);
extern PyObject *PyLong_FromLong(long);
extern void PyErr_SetString(PyObject *, const char *);
extern PyObject *PyExc_RuntimeError;
#define METH_NOARGS 0x0004
#define PyMODINIT_FUNC __attribute__((visibility("default"))) PyObject *
"""

RAISED_TEXT = "PyInit refuses to load: fault injected by the pyrust test"
MISSING_LIBRARY = "libpyrust_test_gone.so"

# Multi-phase initialisation (PyModuleDef_Init) with no slots: the smallest definition
# CPython 3.11 accepts (m_size must not be negative then).
WORKING = r"""
static PyObject *answer(PyObject *self, PyObject *unused) { (void)self; (void)unused; return PyLong_FromLong(42); }
static PyMethodDef methods[] = {{"answer", answer, METH_NOARGS, "42"}, {0, 0, 0, 0}};
static PyModuleDef def = {{{1, 0}, 0, 0, 0}, "NAME", 0, 0, methods, 0, 0, 0, 0};
PyMODINIT_FUNC PyInit_NAME(void) { return PyModuleDef_Init(&def); }
"""
RAISING = r"""
PyMODINIT_FUNC PyInit_NAME(void) { PyErr_SetString(PyExc_RuntimeError, "RAISED_TEXT"); return 0; }
""".replace("RAISED_TEXT", RAISED_TEXT)
SEGFAULT = r"""
PyMODINIT_FUNC PyInit_NAME(void) { volatile int *p = 0; *p = 1; return 0; }
"""
# A loop with a constant condition may not be assumed to end (C11 6.8.5p6); -O0 anyway.
HANGING = r"""
PyMODINIT_FUNC PyInit_NAME(void) { for (;;) {} return 0; }
"""
NEEDS_LIBRARY = r"""
extern int pyrust_test_gone(void);
PyMODINIT_FUNC PyInit_NAME(void) { return PyLong_FromLong(pyrust_test_gone()); }
"""
# PyInit imports a module first, as PyO3 modules do that import what they wrap
# (python3-cryptography's _rust imports cffi's _cffi_backend).
RUNTIME_DEPENDENCY = "pyrust_test_runtime_dependency"
IMPORTING = r"""
extern PyObject *PyImport_ImportModule(const char *);
static PyModuleDef def = {{{1, 0}, 0, 0, 0}, "NAME", 0, 0, 0, 0, 0, 0, 0};
PyMODINIT_FUNC PyInit_NAME(void) { return PyImport_ImportModule("RUNTIME_DEPENDENCY") ? PyModuleDef_Init(&def) : 0; }
""".replace("RUNTIME_DEPENDENCY", RUNTIME_DEPENDENCY)
LIBRARY = r"""
__attribute__((visibility("default"))) int pyrust_test_gone(void) { return 42; }
int NAME_helper(void) { return 7; }
"""

SOURCES = {
    "working": WORKING,
    "raising": RAISING,
    "segfault": SEGFAULT,
    "hanging": HANGING,
    "needs_library": NEEDS_LIBRARY,
    "importing": IMPORTING,
    "library": LIBRARY,
}


@dataclasses.dataclass(frozen=True)
class Compiler:
    """A cross gcc (``gcc``: name on PATH) and the ``flags`` selecting its ABI variant."""

    gcc: str
    flags: tuple[str, ...] = ()

    def path(self) -> str:
        """The compiler's path; raises FileNotFoundError naming the Debian package when absent."""
        found = shutil.which(self.gcc)
        if found is None:
            raise FileNotFoundError(f"{self.gcc} is not installed (apt-get install gcc-{self.gcc.removesuffix('-gcc')})")
        return found


# The qemuarm target (armv7 hard-float, little-endian) and compilers that miss it in one way each.
ARMHF = Compiler("arm-linux-gnueabihf-gcc")
ARM_BIG_ENDIAN = Compiler("arm-linux-gnueabihf-gcc", ("-mbig-endian",))  # BE8, hard-float: only the byte order differs
ARMEL_SOFT_FLOAT = Compiler("arm-linux-gnueabi-gcc")
X86_64 = Compiler("x86_64-linux-gnu-gcc")


def _compile(compiler: Compiler, source: str, out: Path, work: Path, link: Sequence[str] = ()) -> None:
    """Compile C ``source`` (without the prelude) into the shared object ``out``; ``work`` holds the .c file."""
    src = work / (out.name.split(".", 1)[0] + ".c")
    src.write_text(PRELUDE + source)
    out.parent.mkdir(parents=True, exist_ok=True)
    cmd = [compiler.path(), *compiler.flags, "-shared", "-fPIC", "-nostdlib", "-O0", "-o", str(out), str(src), *link]
    subprocess.run(cmd, check=True, capture_output=True, text=True)


def build_module(kind: str, name: str, dest: Path, compiler: Compiler = ARMHF) -> Path:
    """Build a module of ``kind`` (a key of :data:`SOURCES`) exporting ``PyInit_<name>`` at ``dest``.

    Args:
        kind: "working", "raising", "segfault", "hanging", "needs_library", "importing" or "library".
        name: the C identifier in ``PyInit_<name>`` (for "library": a prefix of its symbols).
        dest: the file to write (parents are created); nothing else is written beside it.
        compiler: which cross gcc and ABI flags.

    Returns:
        ``dest``. Raises FileNotFoundError (no compiler) or CalledProcessError (gcc failed).
    """
    source = SOURCES[kind].replace("NAME", name)
    with tempfile.TemporaryDirectory(prefix="pyrust-cmodule-") as tmp:
        work = Path(tmp)
        link: list[str] = []
        if kind == "needs_library":
            # Linked against a stub that is then thrown away: the module's DT_NEEDED
            # names a library the target does not have.
            stub = work / MISSING_LIBRARY
            _compile(compiler, LIBRARY.replace("NAME", "stub"), stub, work)
            link = ["-L", str(work), "-l" + MISSING_LIBRARY[len("lib"):-len(".so")]]
        _compile(compiler, source, dest, work, link)
    return dest


def write_truncated(module: Path, dest: Path, keep: float = 0.5) -> Path:
    """Write the first ``keep`` fraction (0..1) of ``module``'s bytes to ``dest``: a damaged .so."""
    data = module.read_bytes()
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data[: int(len(data) * keep)])
    return dest


def write_not_elf(dest: Path) -> Path:
    """Write a text file (no ELF magic) at ``dest``, e.g. a module name given to a linker script."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text("INPUT(-lfoo)\n")
    return dest
