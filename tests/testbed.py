"""Shared test helpers: the rule for missing tools and the cache location.

Outside CI a test whose tool is missing is skipped with the reason; under CI
(``CI`` set to 1, true or yes, any case: :func:`under_ci`, the rule scripts/run-tests
calls too) the same absence is a failure, so CI cannot go green by skipping.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
#: The values of ``$CI`` (any case) that mean "under CI".
CI_VALUES: tuple[str, ...] = ("1", "true", "yes")


def under_ci(environ: Mapping[str, str] = os.environ) -> bool:
    """Whether ``environ`` says CI: ``CI`` is one of :data:`CI_VALUES`, any case, spaces
    around ignored (as tests/bitbake/conftest.py reads it).

    scripts/run-tests asks this function too, so the tests and the runner agree.
    """
    return environ.get("CI", "").strip().lower() in CI_VALUES


UNDER_CI = under_ci()


def cache_dir() -> Path:
    """The test bed cache: ``$PYRUST_CACHE`` or ``~/.cache/meta-pyrust`` (outside the clone),
    by the one rule of :func:`pyrust.cache.cache_dir`."""
    from pyrust.cache import cache_dir as rule

    return rule()


def tree_digest(root: Path) -> str:
    """SHA-256 over every path below ``root`` (relative), its mode, and its bytes or link
    target: equal before and after a check means the check left the tree as it was."""
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        st = p.lstat()
        h.update(f"{p.relative_to(root)}\0{st.st_mode:o}\0".encode())
        h.update(os.readlink(p).encode() if p.is_symlink() else p.read_bytes() if p.is_file() else b"")
    return h.hexdigest()


def missing(reason: str) -> None:
    """Skip (developer machine) or fail (CI) because something the test needs is absent."""
    if UNDER_CI:
        pytest.fail(f"required under CI: {reason} (the tier's set-up in scripts/run-tests provides it)", pytrace=False)
    pytest.skip(reason)


def require_tool(name: str) -> str:
    """The path of executable ``name``; else :func:`missing`."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed")
    assert path is not None
    return path


# oe-core configurations (keys of tests/data/oe_tunes.json) that contradict themselves;
# the library must refuse them, naming the variable. musl n32 has no entry in
# meta/classes-recipe/siteinfo.bbclass (only linux-gnun32), so SITEINFO_BITS is 64 for
# an ABI whose pointers are 32 bits.
OE_INCONSISTENT_TUNES: dict[str, str] = {
    "qemumips/mips64-n32/musl": "SITEINFO_BITS",
    "qemumips/mips64el-n32/musl": "SITEINFO_BITS",
    "qemumips64/mips64r2el-n32/musl": "SITEINFO_BITS",
    "qemumips64/mipsisa64r6-n32/musl": "SITEINFO_BITS",
}
