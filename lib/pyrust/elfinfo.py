"""Read what the checks need from an ELF file: with pyelftools, or with the build's own tools.

Outside BitBake (the CLI, the tests) pyelftools is the reader. It is a third-party
package: imported lazily, so BitBake can import this module, and a missing pyelftools
is a clear :class:`InputError`. Building pyelftools' parser costs about a millisecond a
file, so a well-formed file is read with :mod:`struct` (only the header, program
headers, section headers, ``.dynamic``, ``.dynsym`` and their string tables), giving the
facts pyelftools gives; any file that is not well-formed in those parts (truncated, an
unusual layout, an undecodable interpreter name) is read by pyelftools as before, and
pyelftools' verdict and message stand. Inside BitBake nothing beyond the build host's
required packages may be needed, so the class passes :class:`ElfTools`: the header from
oe-core's own ``oe.qa.ELFFile`` (what insane.bbclass reads it with) and the dynamic
section, dynamic symbols and program interpreter from GNU ``readelf`` (in oe-core's
HOSTTOOLS; it reads the ELF files of every architecture, unlike a host ``objdump``),
one readelf process for many files (:func:`read_elfs`).
"""

from __future__ import annotations

import dataclasses
import mmap
import os
import re
import struct
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from pyrust.errors import InputError

ELF_MAGIC = b"\x7fELF"


@dataclasses.dataclass(frozen=True)
class ElfInfo:
    """ELF header facts and the dynamic symbols that matter to Python.

    ``machine`` (e_machine), ``elfclass`` (32/64), ``endian`` ("little"/"big"),
    ``flags`` (e_flags), ``elftype`` ("ET_DYN", ...), ``pyinit`` (names X of exported
    ``PyInit_X`` symbols), ``needed`` (DT_NEEDED libraries), ``interpreter`` (PT_INTERP
    or None).
    """

    machine: int
    elfclass: int
    endian: str
    flags: int
    elftype: str
    pyinit: frozenset[str]
    needed: tuple[str, ...]
    interpreter: str | None


class NotElfError(Exception):
    """The file is not an ELF file, or a damaged one; the message says which."""


@dataclasses.dataclass(frozen=True)
class ElfTools:
    """How to read ELF files without pyelftools.

    ``header``: path -> (e_machine, ELF class 32/64, "little"/"big", e_flags), raising
    :class:`NotElfError` for a file that is not ELF or is damaged (the class builds it on
    ``oe.qa.ELFFile``). ``readelf``: the GNU readelf command (a name on ``env``'s PATH or
    a path). ``env``: its environment (None: this process's).
    """

    header: Callable[[str], tuple[int, int, str, int]]
    readelf: str = "readelf"
    env: Mapping[str, str] | None = None


def is_elf(path: Path) -> bool:
    """True when the file starts with the ELF magic (cheap: reads 4 bytes)."""
    try:
        with open(path, "rb") as f:
            return f.read(4) == ELF_MAGIC
    except OSError:
        return False


def _elftools():
    try:
        from elftools.common.exceptions import ELFError
        from elftools.elf.dynamic import DynamicSection
        from elftools.elf.elffile import ELFFile
        from elftools.elf.enums import ENUM_E_MACHINE
    except ImportError:
        raise InputError("pyelftools", None,
                         "the 'pyelftools' package installed (pip install pyelftools, or apt install python3-pyelftools)") from None
    return ELFFile, ELFError, DynamicSection, ENUM_E_MACHINE


# readelf --wide output: "  Type:  DYN (Position-Independent Executable file)",
# " 0x00000001 (NEEDED)  Shared library: [libc.so.6]",
# "      [Requesting program interpreter: /lib/ld-linux-armhf.so.3]" and dynamic symbol
# rows "  Num: Value Size Type Bind Vis Ndx Name" (binutils readelf.c), where Vis is
# followed by "[...]" when st_other has bits beyond the visibility: "DEFAULT
# [<localentry>: 8]" on every ELFv2 powerpc64 function, "[VARIANT_PCS]" on aarch64.
_READELF_TYPE = re.compile(r"^\s*Type:\s+(\w+)", re.M)
_READELF_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_READELF_INTERP = re.compile(r"\[Requesting program interpreter: ([^\]]+)\]")
_READELF_SYMBOL = re.compile(
    r"^\s*\d+:\s+[0-9a-fA-F]+\s+\S+\s+\w+\s+(GLOBAL|WEAK|LOCAL|UNIQUE)\s+\w+(?:\s+\[[^\]\n]*\])?\s+(\S+)\s+(PyInit_[^\s@]+)", re.M)


_READELF_OPTIONS = ("--wide", "--file-header", "--program-headers", "--dynamic", "--dyn-syms")
# Files per readelf process, and bytes of file names: one process costs a few
# milliseconds, reading one small module well under one; the limits keep the command
# line far below ARG_MAX and one process's output (all dynamic symbols) in memory small.
_READELF_BATCH_FILES = 128
_READELF_BATCH_BYTES = 64 * 1024


def _readelf_env(tools: ElfTools) -> dict[str, str]:
    env = dict(tools.env) if tools.env is not None else dict(os.environ)
    env["LC_ALL"] = "C"  # readelf's labels, as oe.qa.ELFFile.run_objdump does for objdump
    return env


def _run_readelf(paths: Sequence[str], tools: ElfTools, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run([tools.readelf, *_READELF_OPTIONS, *paths], capture_output=True, text=True,
                              errors="replace", env=env, timeout=120, check=False)
    except OSError as err:
        raise InputError("readelf", tools.readelf, f"GNU readelf on PATH (binutils; oe-core's HOSTTOOLS has it): {err.strerror}") from None


def _readelf_failure(proc: subprocess.CompletedProcess[str]) -> NotElfError | None:
    """The NotElfError a run's exit status and "Error:" lines mean, or None (warnings are not errors)."""
    errors = [line.strip() for line in proc.stderr.splitlines() if "Error:" in line]
    if proc.returncode != 0 or errors:
        said = (errors or proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        return NotElfError(f"damaged or truncated ELF file (readelf: {said})")
    return None


def _split_readelf_output(stdout: str, paths: Sequence[str]) -> list[str] | None:
    """One run's output over several files, cut at the "File: <name>" line readelf
    prints before each (binutils readelf.c, when given more than one file), in the
    order given; None when the headers are not all there in that order."""
    starts = []
    at = 0
    for path in paths:
        found = stdout.find(f"\nFile: {path}\n", at)
        if found < 0:
            return None
        starts.append(found)
        at = found + len(path) + 8
    return [stdout[begin:end] for begin, end in zip(starts, [*starts[1:], len(stdout)])]


def _readelf_outputs(paths: Sequence[str], tools: ElfTools, env: Mapping[str, str]) -> list[str | NotElfError]:
    """readelf's output for each of ``paths`` (or the NotElfError for that file), from as
    few runs as possible. A run over several files that reports any error is split in
    halves and each half run again, down to one file per run: a damaged file's error is
    then that file's own, with exactly the message and verdict one run per file gives
    (readelf writes some errors before a file's "File:" line, so the output of a failed
    run cannot be cut up reliably)."""
    proc = _run_readelf(paths, tools, env)
    failure = _readelf_failure(proc)
    if len(paths) == 1:
        return [failure or proc.stdout]
    if failure is None:
        parts = _split_readelf_output(proc.stdout, paths)
        if parts is not None:
            return list(parts)
    half = len(paths) // 2
    return [*_readelf_outputs(paths[:half], tools, env), *_readelf_outputs(paths[half:], tools, env)]


def _batches(paths: Sequence[str]) -> list[list[str]]:
    batches: list[list[str]] = []
    size = 0
    for path in paths:
        if not batches or len(batches[-1]) >= _READELF_BATCH_FILES or size + len(path) + 1 > _READELF_BATCH_BYTES:
            batches.append([])
            size = 0
        batches[-1].append(path)
        size += len(path) + 1
    return batches


def _info_from_readelf(header: tuple[int, int, str, int], text: str) -> ElfInfo:
    machine, elfclass, endian, flags = header
    elftype = _READELF_TYPE.search(text)
    interpreter = _READELF_INTERP.search(text)
    pyinit = {m.group(3)[len("PyInit_"):] for m in _READELF_SYMBOL.finditer(text)
              if m.group(1) in ("GLOBAL", "WEAK") and m.group(2) != "UND"}
    return ElfInfo(
        machine=machine,
        elfclass=elfclass,
        endian=endian,
        flags=flags,
        elftype=f"ET_{elftype.group(1)}" if elftype else "ET_NONE",
        pyinit=frozenset(pyinit),
        needed=tuple(_READELF_NEEDED.findall(text)),
        interpreter=interpreter.group(1) if interpreter else None,
    )


def _read_elfs_with_tools(paths: Sequence[Path], tools: ElfTools) -> list[ElfInfo | NotElfError]:
    """:func:`read_elfs` through ``tools`` (see :class:`ElfTools`): the header function
    for each file, then readelf over all files whose header it read."""
    results: dict[int, ElfInfo | NotElfError] = {}
    headers: dict[int, tuple[int, int, str, int]] = {}
    for index, path in enumerate(paths):
        try:
            headers[index] = tools.header(str(path))
        except NotElfError as err:
            results[index] = err
    env = _readelf_env(tools)
    outputs: list[str | NotElfError] = []
    for batch in _batches([str(paths[index]) for index in headers]):
        outputs += _readelf_outputs(batch, tools, env)
    for (index, header), output in zip(headers.items(), outputs):
        results[index] = output if isinstance(output, NotElfError) else _info_from_readelf(header, output)
    return [results[index] for index in range(len(paths))]


def oe_qa_header(path: str) -> tuple[int, int, str, int]:
    """(e_machine, ELF class, endianness, e_flags) of ``path`` read with oe-core's
    ``oe.qa.ELFFile`` (meta/lib/oe/qa.py, what insane.bbclass uses): for
    :class:`ElfTools` inside BitBake, where ``oe`` is importable.

    e_flags sits after e_version, e_entry, e_phoff and e_shoff: at 0x24 in ELF32, 0x30
    in ELF64 (System V ABI, "ELF Header").

    Raises:
        NotElfError: not ELF, empty, or too short for its header.
    """
    import struct

    import oe.qa  # noqa: PLC0415 (BitBake's oe-core library; only inside BitBake)

    elf = oe.qa.ELFFile(path)
    try:
        elf.open()
        flags = elf.getWord(0x24 if elf.abiSize() == 32 else 0x30) & 0xFFFFFFFF
        return elf.machine(), elf.abiSize(), "little" if elf.isLittleEndian() else "big", flags
    except (oe.qa.NotELFFileError, struct.error) as err:
        raise NotElfError(f"damaged or truncated ELF file ({err})") from None
    finally:
        elf.close()


# The parts of the System V ABI's ELF structures the checks read, by ELF class:
# header (from e_type on), program header, section header, symbol, dynamic entry.
_LAYOUTS = {
    32: ("HHIIIIIHHHHHH", "IIIIIIII", "IIIIIIIIII", "IIIBBH", "iI"),
    64: ("HHIQQQIHHHHHH", "IIQQQQQQ", "IIQQQQIIQQ", "IBBHQQ", "qQ"),
}
_SHT_STRTAB, _SHT_DYNAMIC, _SHT_NOBITS, _SHT_SYMTAB, _SHT_DYNSYM = 3, 6, 8, 2, 11
_PT_INTERP = 3
_DT_NULL, _DT_NEEDED = 0, 1
_E_TYPES = ("ET_NONE", "ET_REL", "ET_EXEC", "ET_DYN", "ET_CORE")


class _NotPlain(Exception):
    """The struct reader cannot vouch for the file: pyelftools reads it."""


def _cstring(data: mmap.mmap, start: int, end: int) -> bytes:
    """The NUL-terminated string at ``start``, which must end before ``end``."""
    if not 0 <= start < end:
        raise _NotPlain
    stop = data.find(b"\0", start, end)
    if stop < 0:
        raise _NotPlain
    return data[start:stop]


def _read_elf_struct(data: mmap.mmap) -> ElfInfo:
    """The facts :func:`_read_elf_pyelftools` reads, with :mod:`struct`, for a file that
    is well formed in every part read: all program and section headers and every
    section's contents inside the file, section header string table, ``.dynsym`` and
    ``.dynamic`` linked to string tables, ``DT_NULL`` inside ``.dynamic``, names inside
    their string tables. Anything else raises :class:`_NotPlain`."""
    size = len(data)
    if size < 52 or data[4] not in (1, 2) or data[5] not in (1, 2):
        raise _NotPlain
    elfclass = 32 if data[4] == 1 else 64
    order = "<" if data[5] == 1 else ">"
    ehdr, phdr, shdr, sym, dyn = (struct.Struct(order + layout) for layout in _LAYOUTS[elfclass])
    if 16 + ehdr.size > size:
        raise _NotPlain
    (e_type, e_machine, _version, _entry, e_phoff, e_shoff, e_flags, _ehsize, e_phentsize, e_phnum,
     e_shentsize, e_shnum, e_shstrndx) = ehdr.unpack_from(data, 16)
    if e_type >= len(_E_TYPES) or e_phnum >= 0xFFFF or (e_shoff and not e_shnum):
        raise _NotPlain
    if e_phnum and (e_phentsize != phdr.size or e_phoff + e_phnum * phdr.size > size):
        raise _NotPlain
    interpreter = None
    for n in range(e_phnum):
        fields = phdr.unpack_from(data, e_phoff + n * phdr.size)
        p_type, p_offset = fields[0], fields[1] if elfclass == 32 else fields[2]
        if p_type == _PT_INTERP:
            try:
                interpreter = _cstring(data, p_offset, size).decode("utf-8")
            except UnicodeDecodeError:
                raise _NotPlain from None
    sections = []
    if e_shoff:
        if e_shentsize != shdr.size or e_shoff + e_shnum * shdr.size > size or not 0 < e_shstrndx < e_shnum:
            raise _NotPlain
        # (sh_type, sh_offset, sh_size, sh_link, sh_entsize)
        for n in range(e_shnum):
            _name, sh_type, _flags, _addr, sh_offset, sh_size, sh_link, _info, _align, sh_entsize = \
                shdr.unpack_from(data, e_shoff + n * shdr.size)
            if sh_type != _SHT_NOBITS and sh_offset + sh_size > size:
                raise _NotPlain
            sections.append((sh_type, sh_offset, sh_size, sh_link, sh_entsize))
        if sections[e_shstrndx][0] != _SHT_STRTAB:
            raise _NotPlain
    pyinit: set[str] = set()
    needed: list[str] = []
    for sh_type, sh_offset, sh_size, sh_link, sh_entsize in sections:
        if sh_type not in (_SHT_SYMTAB, _SHT_DYNSYM, _SHT_DYNAMIC):
            continue
        if sh_link >= len(sections) or sections[sh_link][0] != _SHT_STRTAB:
            raise _NotPlain
        strtab = sections[sh_link][1]
        strtab_end = strtab + sections[sh_link][2]
        if sh_type == _SHT_DYNAMIC:
            for offset in range(sh_offset, sh_offset + sh_size - dyn.size + 1, dyn.size):
                d_tag, d_val = dyn.unpack_from(data, offset)
                if d_tag == _DT_NEEDED:
                    needed.append(_cstring(data, strtab + d_val, strtab_end).decode("utf-8", errors="replace"))
                elif d_tag == _DT_NULL:
                    break
            else:
                raise _NotPlain  # pyelftools reads on past the section for its DT_NULL
            continue
        if sh_entsize == 0 or sh_size % sh_entsize or sh_entsize < sym.size:
            raise _NotPlain
        if sh_type != _SHT_DYNSYM:
            continue
        for offset in range(sh_offset, sh_offset + sh_size, sh_entsize):
            fields = sym.unpack_from(data, offset)
            st_name = fields[0]
            st_info, st_shndx = (fields[3], fields[5]) if elfclass == 32 else (fields[1], fields[3])
            if data[strtab + st_name:strtab + st_name + 7] == b"PyInit_" and st_shndx != 0 and st_info >> 4 in (1, 2):
                name = _cstring(data, strtab + st_name, strtab_end).decode("utf-8", errors="replace")
                pyinit.add(name[len("PyInit_"):])
    return ElfInfo(
        machine=e_machine,
        elfclass=elfclass,
        endian="little" if order == "<" else "big",
        flags=e_flags,
        elftype=_E_TYPES[e_type],
        pyinit=frozenset(pyinit),
        needed=tuple(needed),
        interpreter=interpreter,
    )


def _read_elf_plain(path: Path) -> ElfInfo:
    """:func:`read_elf` without ``tools``: the struct reader, else pyelftools."""
    try:
        with open(path, "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as data:
            return _read_elf_struct(data)
    except (_NotPlain, OSError, ValueError):
        return _read_elf_pyelftools(path)


def _read_elf_pyelftools(path: Path) -> ElfInfo:
    """Everything pyelftools makes of the file (all sections and segments): the reader
    of files :func:`_read_elf_struct` does not vouch for, and its reference."""
    ELFFile, ELFError, DynamicSection, ENUM_E_MACHINE = _elftools()
    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            header = elf.header
            machine = header["e_machine"]
            machine_number = machine if isinstance(machine, int) else ENUM_E_MACHINE.get(machine, -1)
            pyinit: set[str] = set()
            needed: list[str] = []
            interpreter = None
            for segment in elf.iter_segments():
                if segment["p_type"] == "PT_INTERP":
                    interpreter = segment.get_interp_name()
            for section in elf.iter_sections():
                if isinstance(section, DynamicSection):
                    needed += [tag.needed for tag in section.iter_tags() if tag.entry.d_tag == "DT_NEEDED"]
                if section["sh_type"] == "SHT_DYNSYM":
                    for symbol in section.iter_symbols():
                        if (symbol.name.startswith("PyInit_") and symbol["st_shndx"] != "SHN_UNDEF"
                                and symbol["st_info"]["bind"] in ("STB_GLOBAL", "STB_WEAK")):
                            pyinit.add(symbol.name[len("PyInit_"):])
            return ElfInfo(
                machine=machine_number,
                elfclass=elf.elfclass,
                endian="little" if elf.little_endian else "big",
                flags=header["e_flags"],
                elftype=str(header["e_type"]),
                pyinit=frozenset(pyinit),
                needed=tuple(needed),
                interpreter=interpreter,
            )
    except (ELFError, ValueError, KeyError, OSError, AssertionError, EOFError) as err:
        # pyelftools reports truncation as ELFError or struct errors from construct.
        raise NotElfError(f"damaged or truncated ELF file ({type(err).__name__}: {err})") from None
    except Exception as err:  # construct's StreamError and friends on truncated files
        raise NotElfError(f"damaged or truncated ELF file ({type(err).__name__}: {err})") from None


def read_elfs(paths: Sequence[str | Path], tools: ElfTools | None = None) -> list[ElfInfo | NotElfError]:
    """:func:`read_elf` of each of ``paths``: its :class:`ElfInfo`, or the
    :class:`NotElfError` :func:`read_elf` would raise for it, in the order given.

    With ``tools`` the header function reads each file, then one readelf process reads up
    to 128 files (a run that reports an error is re-run in halves, so each damaged file
    gets its own message, the one a run on it alone gives).

    Raises:
        InputError: pyelftools is not installed (``tools`` None), or readelf cannot be run.
    """
    files = [Path(path) for path in paths]
    elf = [index for index, path in enumerate(files) if is_elf(path)]
    results: dict[int, ElfInfo | NotElfError] = {
        index: NotElfError("not an ELF file (no \\x7fELF magic)") for index in range(len(files))}
    if tools is not None:
        results.update(zip(elf, _read_elfs_with_tools([files[index] for index in elf], tools)))
    elif elf:
        _elftools()  # pyelftools is required, whether or not the struct reader vouches for every file
        for index in elf:
            try:
                results[index] = _read_elf_plain(files[index])
            except NotElfError as err:
                results[index] = err
    return [results[index] for index in range(len(files))]


def read_elf(path: str | Path, tools: ElfTools | None = None) -> ElfInfo:
    """Read ``path``'s ELF header, exported ``PyInit_*`` symbols and DT_NEEDED.

    Args:
        path: the file.
        tools: None reads it with pyelftools (a well-formed file with :mod:`struct`,
            the same facts); an :class:`ElfTools` with its header function and GNU
            readelf (inside BitBake). For many files, :func:`read_elfs` is faster.

    Raises:
        NotElfError: not ELF (no magic) or truncated/damaged (pyelftools or readelf fails).
        InputError: pyelftools is not installed (``tools`` None), or readelf cannot be run.

    Example: ``read_elf("rpds.cpython-312-arm-linux-gnueabihf.so").pyinit`` is
    ``frozenset({"rpds"})``.
    """
    (result,) = read_elfs([path], tools)
    if isinstance(result, NotElfError):
        raise result
    return result
