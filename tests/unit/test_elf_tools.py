"""The no-pyelftools ELF reader (inside BitBake: a header function and GNU readelf)
reads the same facts as pyelftools, and refuses the same broken files.

The header function here unpacks the ELF header with struct (System V ABI layout),
standing in for oe.qa.ELFFile, which exists only inside BitBake (tests/bitbake runs
the class's real one, on a Python without pyelftools).
"""

from __future__ import annotations

import struct
import subprocess
from pathlib import Path

import pytest

from pyrust.elfinfo import ElfTools, NotElfError, read_elf
from testbed import require_tool

pytestmark = pytest.mark.unit

SOURCE = """
void *PyInit_spam(void) { return 0; }
__attribute__((weak)) void *PyInit_weakling(void) { return 0; }
static void *PyInit_hidden(void) { return 0; }
extern void *PyInit_elsewhere(void);
double use(double x) { return (double)(long)PyInit_hidden() + x + (double)(long)&PyInit_elsewhere; }
"""


def struct_header(path: str) -> tuple[int, int, str, int]:
    data = Path(path).read_bytes()
    if len(data) < 0x34 or data[:4] != b"\x7fELF":
        raise NotElfError("too short")
    bits = {1: 32, 2: 64}[data[4]]
    order = "<" if data[5] == 1 else ">"
    (machine,) = struct.unpack_from(order + "H", data, 0x12)
    (flags,) = struct.unpack_from(order + "I", data, 0x24 if bits == 32 else 0x30)
    return machine, bits, "little" if order == "<" else "big", flags


@pytest.fixture(scope="module")
def module(tmp_path_factory) -> Path:
    gcc = require_tool("gcc")
    require_tool("readelf")
    out = tmp_path_factory.mktemp("elf") / "spam.cpython-311-x86_64-linux-gnu.so"
    src = out.with_name("spam.c")
    src.write_text(SOURCE)
    subprocess.run([gcc, "-shared", "-fPIC", "-Wl,--no-as-needed", "-o", str(out), str(src), "-lm"], check=True)
    return out


TOOLS = ElfTools(struct_header)


def test_same_facts_as_pyelftools(module):
    pytest.importorskip("elftools")
    with_tools = read_elf(module, TOOLS)
    assert with_tools == read_elf(module)
    # what the checks rely on, stated independently of pyelftools
    assert with_tools.pyinit == frozenset({"spam", "weakling"})  # not the static or the undefined one
    assert "libm.so.6" in with_tools.needed
    assert with_tools.elftype == "ET_DYN" and with_tools.interpreter is None


def test_interpreter_of_an_executable():
    pytest.importorskip("elftools")
    exe = Path("/bin/sh").resolve()
    assert read_elf(exe, TOOLS) == read_elf(exe)
    assert read_elf(exe, TOOLS).interpreter


@pytest.mark.parametrize("keep", [100, 1000])
def test_truncated_file_is_not_elf(module, tmp_path, keep):
    cut = tmp_path / "cut.so"
    cut.write_bytes(module.read_bytes()[:keep])
    with pytest.raises(NotElfError, match="damaged or truncated"):
        read_elf(cut, TOOLS)


def test_not_elf(tmp_path):
    text = tmp_path / "fake.cpython-311-x86_64-linux-gnu.so"
    text.write_text("not a module")
    with pytest.raises(NotElfError, match="no .x7fELF magic"):
        read_elf(text, TOOLS)


def test_missing_readelf_is_bad_input(module):
    from pyrust.errors import InputError

    with pytest.raises(InputError, match="readelf='/nonexistent/readelf'"):
        read_elf(module, ElfTools(struct_header, "/nonexistent/readelf"))
