"""Read the variables out of ``bitbake -e`` output.

``bitbake -e`` writes each variable as ``[export ]NAME="value"`` (bitbake
lib/bb/data.py emit_var: ``"`` escaped as ``\\"``, ``$`` as ``\\$``, newlines as
`` \\`` + newline), comments starting with ``#``, ``unset NAME`` lines, and functions
as ``name() {`` ... ``}`` or ``python name () {`` ... ``}`` blocks.

Standard library only: BitBake imports this module.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pyrust.errors import InputError

_ASSIGN = re.compile(r'^(?:export\s+)?([A-Za-z0-9_][A-Za-z0-9_+.:/${}~-]*)="(.*)$')
_FUNCTION_START = re.compile(r"^(?:python\s+)?[A-Za-z0-9_.:+${}-]+\s*\(\s*\)\s*\{\s*$")


def _closing_quote(text: str) -> bool:
    """True when ``text`` (the rest of a value) ends with an unescaped double quote."""
    if not text.endswith('"'):
        return False
    backslashes = len(text) - 1 - len(text[:-1].rstrip("\\"))
    return backslashes % 2 == 0


def _unescape(raw: str) -> str:
    # Undo emit_var's escapes: " \<newline>" -> newline, \$ -> $, \" -> ".
    value = raw.replace(" \\\n", "\n")
    return re.sub(r'\\([$"\\])', r"\1", value)


def parse_bitbake_env(text: str, source: str = "bitbake -e output") -> dict[str, str]:
    """Parse ``bitbake -e`` output into a dict of variable name -> value.

    Args:
        text: the whole output of ``bitbake -e`` or ``bitbake -e <recipe>``.
        source: what to call the input in errors (e.g. the file name).

    Returns:
        Every assigned variable, functions left out. Later assignments win.

    Raises:
        InputError: a quoted value never closes (truncated output), or no variable
            at all was found (not ``bitbake -e`` output).

    Example:
        >>> parse_bitbake_env('# comment\\nexport TARGET_ARCH="arm"\\nTUNE_CCARGS=" -mthumb"\\n')
        {'TARGET_ARCH': 'arm', 'TUNE_CCARGS': ' -mthumb'}
    """
    values: dict[str, str] = {}
    lines: Iterator[str] = iter(text.splitlines())
    in_function = False
    for number, line in enumerate(lines, start=1):
        if in_function:
            in_function = line != "}"
            continue
        if not line or line.startswith("#") or line.startswith("unset "):
            continue
        if _FUNCTION_START.match(line):
            in_function = True
            continue
        match = _ASSIGN.match(line)
        if not match:
            continue
        name, rest = match.group(1), match.group(2)
        start = number
        while not _closing_quote(rest):
            try:
                rest += "\n" + next(lines)
            except StopIteration:
                raise InputError(source, f"{name} at line {start}", "a complete `bitbake -e` output (the value never closes)") from None
        values[name] = _unescape(rest[:-1])
    if not values:
        raise InputError(source, text[:40], "`bitbake -e` output with NAME=\"value\" lines")
    return values


def parse_assignment(text: str) -> tuple[str, str]:
    """Parse a ``NAME=VALUE`` override (the ``--var`` option of the CLI).

    Raises:
        InputError: no ``=``, or an invalid variable name.

    Example:
        >>> parse_assignment("TCLIBC=musl")
        ('TCLIBC', 'musl')
    """
    name, sep, value = text.partition("=")
    if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_:+.-]*", name):
        raise InputError("--var", text, "NAME=VALUE with a BitBake variable name, e.g. TCLIBC=musl")
    return name, value
