"""The no-pyelftools ELF reader (inside BitBake: a header function and GNU readelf)
reads the same facts as pyelftools, and refuses the same broken files; one readelf run
over many files gives each file the answer a run on it alone gives. Without tools, the
struct reader gives pyelftools' facts for well-formed files and leaves the rest to
pyelftools.

The header function here unpacks the ELF header with struct (System V ABI layout),
standing in for oe.qa.ELFFile, which exists only inside BitBake (tests/bitbake runs
the class's real one, on a Python without pyelftools).
"""

from __future__ import annotations

import mmap
import os
import shutil
import stat
import struct
import subprocess
from pathlib import Path

import elftools  # noqa: F401  (a declared dependency: missing, the suite fails here, never skips)
import pytest

from pyrust import elfinfo
from pyrust.elfinfo import ElfTools, NotElfError, read_elf, read_elfs
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
    # pyelftools is a declared dependency (pyproject.toml): read_elf(path) without tools uses it
    with_tools = read_elf(module, TOOLS)
    assert with_tools == read_elf(module)
    # what the checks rely on, stated independently of pyelftools
    assert with_tools.pyinit == frozenset({"spam", "weakling"})  # not the static or the undefined one
    assert "libm.so.6" in with_tools.needed
    assert with_tools.elftype == "ET_DYN" and with_tools.interpreter is None


def test_interpreter_of_an_executable():
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



def test_symbol_with_other_st_other_bits(module, tmp_path):
    """readelf writes "DEFAULT [<localentry>: 8]" (every ELFv2 powerpc64 function),
    "DEFAULT [VARIANT_PCS]" (aarch64) or "DEFAULT [<other>: 80]" in the Vis column when
    st_other has bits beyond the visibility; the PyInit symbol is still found (it was
    not: ppc64le modules looked like plain libraries to the BitBake path)."""
    data = bytearray(module.read_bytes())
    with open(module, "rb") as f:
        from elftools.elf.elffile import ELFFile

        dynsym = ELFFile(f).get_section_by_name(".dynsym")
        index = next(i for i, symbol in enumerate(dynsym.iter_symbols()) if symbol.name == "PyInit_spam")
        offset = dynsym["sh_offset"] + index * dynsym["sh_entsize"] + 5  # Elf64_Sym.st_other
    data[offset] |= 0x80
    other = tmp_path / module.name
    other.write_bytes(bytes(data))
    shown = subprocess.run(["readelf", "-W", "--dyn-syms", str(other)], capture_output=True, text=True, check=True).stdout
    assert "DEFAULT [<other>: 80]" in shown
    assert read_elf(other, TOOLS) == read_elf(other) == read_elf(module)
    text = "    36: 0000000000001a70    64 FUNC    GLOBAL DEFAULT [<localentry>: 8]     8 PyInit_xxlimited\n"
    assert elfinfo._info_from_readelf((21, 64, "little", 2), text).pyinit == frozenset({"xxlimited"})

# --- many files, one readelf run ---------------------------------------------------


def counting_readelf(tmp_path: Path) -> tuple[ElfTools, Path]:
    """ElfTools whose readelf is a wrapper logging one line per run, and the log."""
    real = require_tool("readelf")
    log = tmp_path / "runs.log"
    wrapper = tmp_path / "readelf-counting"
    wrapper.write_text(f'#!/bin/sh\necho run >> "{log}"\nexec "{real}" "$@"\n')
    wrapper.chmod(wrapper.stat().st_mode | stat.S_IXUSR)
    return ElfTools(struct_header, str(wrapper)), log


def runs(log: Path) -> int:
    return len(log.read_text().splitlines()) if log.exists() else 0


def one_by_one(paths, tools) -> list:
    """read_elf on each file alone: the ElfInfo or the NotElfError's message."""
    answers = []
    for path in paths:
        try:
            answers.append(read_elf(path, tools))
        except NotElfError as err:
            answers.append(str(err))
    return answers


def as_compared(results) -> list:
    return [str(r) if isinstance(r, NotElfError) else r for r in results]


@pytest.fixture(scope="module")
def variety(tmp_path_factory, module) -> list[Path]:
    """Modules with different PyInit names and DT_NEEDED, an executable, a name with spaces."""
    gcc = require_tool("gcc")
    out = tmp_path_factory.mktemp("variety")
    files = []
    for index, name in enumerate(["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]):
        src = out / f"{name}.c"
        src.write_text(f"void *PyInit_{name}(void) {{ return 0; }}\n")
        so = out / (f"{name} with spaces.so" if index == 2 else f"{name}.cpython-311-x86_64-linux-gnu.so")
        libs = ["-Wl,--no-as-needed", "-lm"] if index % 2 else []
        subprocess.run([gcc, "-shared", "-fPIC", "-o", str(so), str(src), *libs], check=True)
        files.append(so)
    shutil.copy(module, out / module.name)
    files.append(out / module.name)
    files.append(Path("/bin/sh").resolve())
    return files


def test_batch_is_one_readelf_run_with_each_file_s_own_answer(variety, tmp_path):
    tools, log = counting_readelf(tmp_path)
    together = read_elfs(variety, tools)
    assert runs(log) == 1
    alone = one_by_one(variety, tools)
    assert runs(log) == 1 + len(variety)
    assert as_compared(together) == alone
    # each file's own facts, not its neighbour's
    assert [info.pyinit for info in together[:6]] == [frozenset({n}) for n in ["alpha", "beta", "gamma", "delta", "epsilon", "zeta"]]
    assert ["libm.so.6" in info.needed for info in together[:6]] == [False, True, False, True, False, True]
    assert together[-1].interpreter and not any(info.interpreter for info in together[:-1])


def test_name_with_spaces(variety, tmp_path):
    spaced = [path for path in variety if " " in path.name]
    assert spaced
    tools, log = counting_readelf(tmp_path)
    (info,) = read_elfs([*spaced, variety[0]], tools)[:1]
    assert info.pyinit == frozenset({"gamma"}) and runs(log) == 1


def test_non_elf_and_damaged_files_in_a_batch(variety, module, tmp_path):
    text = tmp_path / "fake.cpython-311-x86_64-linux-gnu.so"
    text.write_text("not a module")
    short = tmp_path / "short.so"  # ELF magic, but too short for the header function
    short.write_bytes(module.read_bytes()[:40])
    cut = tmp_path / "cut module.so"  # the header function reads it, readelf rejects it
    cut.write_bytes(module.read_bytes()[:1000])
    paths = [variety[0], text, variety[1], cut, short, variety[3], cut, *variety[4:]]
    tools, log = counting_readelf(tmp_path)
    together = read_elfs(paths, tools)
    batch_runs = runs(log)
    alone = one_by_one(paths, tools)
    assert as_compared(together) == alone
    assert "no \\x7fELF magic" in alone[1] and "too short" in alone[4]
    assert alone[3].startswith("damaged or truncated ELF file (readelf: ") and alone[3] == alone[6]
    assert all(isinstance(info, elfinfo.ElfInfo) for i, info in enumerate(together) if i not in (1, 3, 4, 6))
    assert batch_runs > 1  # the failing run was split


def test_one_damaged_file_among_many_costs_a_few_runs(variety, module, tmp_path):
    """A run that reports an error is halved until the damaged file is alone: about
    2 log2(n) runs for one damaged file among n, not n."""
    cut = tmp_path / "cut.so"
    cut.write_bytes(module.read_bytes()[:1000])
    paths = [*(variety * 8)[:40], cut, *(variety * 8)[40:63]]
    tools, log = counting_readelf(tmp_path)
    together = read_elfs(paths, tools)
    assert 1 < runs(log) <= 13
    assert [i for i, info in enumerate(together) if isinstance(info, NotElfError)] == [40]
    assert as_compared(together) == as_compared(read_elfs(variety, tools) * 8)[:40] + one_by_one([cut], tools) + \
        as_compared(read_elfs(variety, tools) * 8)[40:63]


def test_readelf_output_is_cut_at_each_file_s_header():
    output = "\nFile: a\nELF Header:\n  Type: DYN\n\nFile: b c\nELF Header:\n  Type: EXEC\n"
    assert elfinfo._split_readelf_output(output, ["a", "b c"]) == [
        "\nFile: a\nELF Header:\n  Type: DYN\n", "\nFile: b c\nELF Header:\n  Type: EXEC\n"]
    assert elfinfo._split_readelf_output(output, ["b c", "a"]) is None  # not in the order given


def test_batches_are_bounded(monkeypatch):
    names = [f"/d/{i:04d}.so" for i in range(300)]
    batches = elfinfo._batches(names)
    assert [len(b) for b in batches] == [128, 128, 44] and sum(batches, []) == names
    monkeypatch.setattr(elfinfo, "_READELF_BATCH_BYTES", 100)
    assert all(sum(len(n) + 1 for n in b) <= 100 for b in elfinfo._batches(names))


def test_missing_readelf_in_a_batch_is_bad_input(variety):
    from pyrust.errors import InputError

    with pytest.raises(InputError, match="readelf='/nonexistent/readelf'"):
        read_elfs(variety, ElfTools(struct_header, "/nonexistent/readelf"))


# --- without tools: struct reader, pyelftools for the rest -------------------------


def struct_read(path: Path) -> elfinfo.ElfInfo:
    with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return elfinfo._read_elf_struct(data)


def host_elf_files(limit: int) -> list[Path]:
    """Up to ``limit`` of the host's executables and libraries (under 256 KiB: pyelftools
    takes tens of milliseconds on a large one)."""
    found: list[Path] = []
    for directory in ("/usr/bin", "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"):
        if not os.path.isdir(directory):
            continue
        for entry in sorted(os.scandir(directory), key=lambda e: e.name):
            if len(found) >= limit:
                return found
            if entry.is_file(follow_symlinks=False) and entry.stat().st_size < 256 * 1024 and elfinfo.is_elf(Path(entry.path)):
                found.append(Path(entry.path))
    return found


def test_struct_reader_reads_what_pyelftools_reads(variety):
    files = [*variety, *host_elf_files(40)]
    assert len(files) > 20
    for path in files:
        assert struct_read(path) == elfinfo._read_elf_pyelftools(path), path
    assert read_elfs(files) == [elfinfo._read_elf_pyelftools(path) for path in files]


@pytest.mark.parametrize("keep", [40, 52, 100, 200, 1000, -1, -100])
def test_damaged_file_gets_pyelftools_verdict(module, tmp_path, keep):
    """The struct reader does not vouch for a truncated file: pyelftools reads it, and its
    message is the finding's, as before."""
    cut = tmp_path / "cut.so"
    cut.write_bytes(module.read_bytes()[:keep])
    with pytest.raises(elfinfo._NotPlain):
        struct_read(cut)
    with pytest.raises(NotElfError) as reference:
        elfinfo._read_elf_pyelftools(cut)
    (result,) = read_elfs([cut])
    assert isinstance(result, NotElfError) and str(result) == str(reference.value)


def test_pyelftools_still_required(module, monkeypatch):
    from pyrust.errors import InputError

    def absent():
        raise InputError("pyelftools", None, "the 'pyelftools' package installed")
    monkeypatch.setattr(elfinfo, "_elftools", absent)
    with pytest.raises(InputError, match="pyelftools"):
        read_elf(module)
