"""Read what the checks need from an ELF file: with pyelftools, or with the build's own tools.

Outside BitBake (the CLI, the tests) pyelftools reads everything. It is a third-party
package: imported lazily, so BitBake can import this module, and a missing pyelftools
is a clear :class:`InputError`. Inside BitBake nothing beyond the build host's required
packages may be needed, so the class passes :class:`ElfTools`: the header from
oe-core's own ``oe.qa.ELFFile`` (what insane.bbclass reads it with) and the dynamic
section, dynamic symbols and program interpreter from GNU ``readelf`` (in oe-core's
HOSTTOOLS; it reads the ELF files of every architecture, unlike a host ``objdump``).
"""

from __future__ import annotations

import dataclasses
import os
import re
import subprocess
from collections.abc import Callable, Mapping
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
# rows "  Num: Value Size Type Bind Vis Ndx Name" (binutils readelf.c).
_READELF_TYPE = re.compile(r"^\s*Type:\s+(\w+)", re.M)
_READELF_NEEDED = re.compile(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]")
_READELF_INTERP = re.compile(r"\[Requesting program interpreter: ([^\]]+)\]")
_READELF_SYMBOL = re.compile(r"^\s*\d+:\s+[0-9a-fA-F]+\s+\S+\s+\w+\s+(GLOBAL|WEAK|LOCAL|UNIQUE)\s+\w+\s+(\S+)\s+(PyInit_[^\s@]+)", re.M)


def _read_elf_with_tools(path: Path, tools: ElfTools) -> ElfInfo:
    """:func:`read_elf` through ``tools`` (see :class:`ElfTools`)."""
    machine, elfclass, endian, flags = tools.header(str(path))
    env = dict(tools.env) if tools.env is not None else dict(os.environ)
    env["LC_ALL"] = "C"  # readelf's labels, as oe.qa.ELFFile.run_objdump does for objdump
    try:
        proc = subprocess.run([tools.readelf, "--wide", "--file-header", "--program-headers", "--dynamic", "--dyn-syms",
                               str(path)], capture_output=True, text=True, errors="replace", env=env, timeout=120, check=False)
    except OSError as err:
        raise InputError("readelf", tools.readelf, f"GNU readelf on PATH (binutils; oe-core's HOSTTOOLS has it): {err.strerror}") from None
    errors = [line.strip() for line in proc.stderr.splitlines() if "Error:" in line]
    if proc.returncode != 0 or errors:
        said = (errors or proc.stderr.strip().splitlines() or [f"exit status {proc.returncode}"])[-1]
        raise NotElfError(f"damaged or truncated ELF file (readelf: {said})")
    elftype = _READELF_TYPE.search(proc.stdout)
    interpreter = _READELF_INTERP.search(proc.stdout)
    pyinit = {m.group(3)[len("PyInit_"):] for m in _READELF_SYMBOL.finditer(proc.stdout)
              if m.group(1) in ("GLOBAL", "WEAK") and m.group(2) != "UND"}
    return ElfInfo(
        machine=machine,
        elfclass=elfclass,
        endian=endian,
        flags=flags,
        elftype=f"ET_{elftype.group(1)}" if elftype else "ET_NONE",
        pyinit=frozenset(pyinit),
        needed=tuple(_READELF_NEEDED.findall(proc.stdout)),
        interpreter=interpreter.group(1) if interpreter else None,
    )


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


def read_elf(path: str | Path, tools: ElfTools | None = None) -> ElfInfo:
    """Read ``path``'s ELF header, exported ``PyInit_*`` symbols and DT_NEEDED.

    Args:
        path: the file.
        tools: None reads it with pyelftools; an :class:`ElfTools` with its header
            function and GNU readelf (inside BitBake).

    Raises:
        NotElfError: not ELF (no magic) or truncated/damaged (pyelftools or readelf fails).
        InputError: pyelftools is not installed (``tools`` None), or readelf cannot be run.

    Example: ``read_elf("rpds.cpython-312-arm-linux-gnueabihf.so").pyinit`` is
    ``frozenset({"rpds"})``.
    """
    path = Path(path)
    if not is_elf(path):
        raise NotElfError("not an ELF file (no \\x7fELF magic)")
    if tools is not None:
        return _read_elf_with_tools(path, tools)
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
