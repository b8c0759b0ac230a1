"""Read what the checks need from an ELF file, with pyelftools.

pyelftools is a third-party package: it is imported lazily, so BitBake can import
this module and the error for a missing pyelftools is a clear :class:`InputError`.
"""

from __future__ import annotations

import dataclasses
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


def read_elf(path: str | Path) -> ElfInfo:
    """Read ``path``'s ELF header, exported ``PyInit_*`` symbols and DT_NEEDED.

    Raises:
        NotElfError: not ELF (no magic) or truncated/damaged (pyelftools fails).
        InputError: pyelftools is not installed.

    Example: ``read_elf("rpds.cpython-312-arm-linux-gnueabihf.so").pyinit`` is
    ``frozenset({"rpds"})``.
    """
    ELFFile, ELFError, DynamicSection, ENUM_E_MACHINE = _elftools()
    path = Path(path)
    if not is_elf(path):
        raise NotElfError("not an ELF file (no \\x7fELF magic)")
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
