"""oe-selftest over the build test bed (opt-in tier: scripts/run-tests selftest).

It rebuilds the recipes for three machines in a copy of the build dir (oe-selftest's
own), so it is kept out of the default run; tests/build/README.md has its measured time.
"""

from __future__ import annotations

import re
from pathlib import Path

import build_testbed as tb
import pytest

pytestmark = pytest.mark.selftest


def test_oe_selftest(site_conf: Path) -> None:
    """``oe-selftest -r meta_pyrust`` runs the layer's cases unchanged (lib/oeqa/selftest/cases/
    meta_pyrust.py) in this test bed: site.conf is the only test-bed input, as a site's own
    configuration is; the cases set MACHINE, INHERIT and PYRUST_STAGE_TARGET_PYTHON."""
    name = "build-selftest"
    bdir = tb.init(name, "qemuarm", "", ())  # no class settings: the cases write their own
    # oe-selftest copies the build dir to <builddir>-st and refuses an existing one
    tb.oe_run(name, "rm", "-rf", f"{bdir}-st", timeout=600)
    proc = tb.oe_run(name, "oe-selftest", "-r", "meta_pyrust", check=False, timeout=5400)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-8000:]
    ran = re.search(r"Ran (\d+) tests?", output)
    assert ran and int(ran.group(1)) == 3, output[-4000:]
    assert re.search(r"^OK\b|RESULTS - .*PASSED", output, re.M), output[-4000:]
