"""Which PyO3 a crate builds with, read from its Cargo.lock.

Standard library only: BitBake imports this module. ``tomllib`` is used where the
Python has it (3.11+); older BitBake hosts get a line scanner for the
``[[package]]`` tables Cargo writes (name and version on their own lines).
"""

from __future__ import annotations

import re
from pathlib import Path

from pyrust.errors import InputError


def _packages(text: str, path: Path) -> list[dict]:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        packages: list[dict] = []
        for line in text.splitlines():
            if line.strip() == "[[package]]":
                packages.append({})
            match = re.fullmatch(r'\s*(name|version)\s*=\s*"([^"]*)"\s*', line)
            if match and packages:
                packages[-1][match.group(1)] = match.group(2)
        return packages
    try:
        return list(tomllib.loads(text).get("package", []))
    except tomllib.TOMLDecodeError as err:
        raise InputError("Cargo.lock", str(path), f"valid TOML ({err})") from None


def parse_version_triple(text: str) -> tuple[int, int, int]:
    """"0.22.6" -> (0, 22, 6); pre-release and build tags are dropped."""
    match = re.match(r"([0-9]+)\.([0-9]+)\.([0-9]+)", text)
    if not match:
        raise InputError("pyo3 version", text, "a semantic version like 0.22.6")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def pyo3_version(lock_path: str | Path) -> tuple[int, int, int] | None:
    """The version of the ``pyo3`` package locked in ``lock_path``, or None if absent.

    Args:
        lock_path: a Cargo.lock file.

    Raises:
        InputError: the file cannot be read or parsed, or it locks several PyO3
            versions (the build would then be ambiguous).

    Example: a lock with ``name = "pyo3"`` / ``version = "0.22.6"`` gives (0, 22, 6).
    """
    path = Path(lock_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError("Cargo.lock", str(path), f"a readable file ({err.strerror})") from None
    versions = {p.get("version", "") for p in _packages(text, path) if p.get("name") == "pyo3"}
    if not versions:
        return None
    if len(versions) > 1:
        raise InputError("Cargo.lock", str(path), "one pyo3 version, found " + ", ".join(sorted(versions)))
    return parse_version_triple(versions.pop())
