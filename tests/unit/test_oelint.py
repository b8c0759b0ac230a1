"""oelint-adv (PyPI) reports no errors on the layer's recipes, bbappends and classes.

Rules silenced on purpose, with the reason:
- oelint.vars.noncoreoverride on recipes-devtools/python/python3_%.bbappend: the rule
  wants appends to core recipes behind a MACHINE/DISTRO override; ours is behind an
  opt-in variable (PYRUST_STAGE_TARGET_PYTHON) read by an anonymous function that leaves
  the datastore untouched when unset, which keeps python3's signatures unchanged (the
  bitbake tier checks that).
"""

from __future__ import annotations

import subprocess

import pytest

from testbed import REPO, require_tool

pytestmark = pytest.mark.unit

SILENCED = {"oelint.vars.noncoreoverride"}


def test_oelint_adv_reports_no_errors():
    oelint = require_tool("oelint-adv")
    files = sorted(str(p) for pattern in ("recipes-*/*/*.bb", "recipes-*/*/*.bbappend", "classes/*.bbclass")
                   for p in REPO.glob(pattern))
    assert len(files) >= 4
    result = subprocess.run([oelint, "--quiet", *(f"--suppress={rule}" for rule in SILENCED), *files],
                            capture_output=True, text=True, timeout=300)
    errors = [line for line in (result.stdout + result.stderr).splitlines() if ":error:" in line]
    assert errors == []
