"""INHERIT += "pyrust" changes the task signatures of the PyO3 recipes only (master).

One build dir ("sigs", the layer added), so nothing but the INHERIT differs (two build
dirs differ in TOPDIR, which meta-ide-support's do_populate_ide_support hashes). In it,
``bitbake -S lockedsigs world`` with the OEBasicHash signature handler (as
yocto-check-layer's own signature test runs it) writes the signature data of every task
of world and its dependencies (native ones included) under tmp/stamps, first without,
then with ``INHERIT += "pyrust"`` in conf/auto.conf. Compared is each task's *basehash*
(its own code and variables; a taskhash also folds in its dependencies' hashes, so every
recipe depending on a PyO3 one changes there too). Which recipes inherit python_pyo3 is
BitBake's own answer (tinfoil's recipe info, ``inherits()``), not a list of ours: the
recipes with changed basehashes must be exactly oe-core's target ones among them.

About 15 min on 2 cores (two signature runs of world): the opt-in ``checklayer`` tier.
Measured on master (2026-12-01, 19558 tasks): basehash changes in exactly
python3-bcrypt, python3-cryptography, python3-hypothesis, python3-maturin,
python3-rpds-py and python3-uv-build (this layer's python3-pyrust-example, which inherits
pyrust itself, does not change).
"""

from __future__ import annotations

import json
import time

import pytest

pytestmark = pytest.mark.checklayer

BASEHASHES = r"""
import glob, json, os, sys
import bb.compress.zstd
from bb.siggen import SetDecoder
newest = {}
for path in glob.glob("tmp/stamps/*/*/*.sigdata.*"):
    arch, pn, name = path.split("/")[-3:]
    task = name.split(".sigdata.")[0].rsplit(".", 1)[1]
    m = os.path.getmtime(path)
    if (arch, pn, task) not in newest or m > newest[(arch, pn, task)][0]:
        newest[(arch, pn, task)] = (m, path)
out = {}
for (arch, pn, task), (m, path) in newest.items():
    with bb.compress.zstd.open(path, "rt", encoding="utf-8", num_threads=1) as f:
        out[f"{arch}/{pn}/{task}"] = json.load(f, object_hook=SetDecoder)["basehash"]
print(json.dumps(out))
"""

PYO3_RECIPES = """
import sys, json
import bb.tinfoil
with bb.tinfoil.Tinfoil(output=sys.stderr) as tinfoil:
    tinfoil.prepare(config_only=False, quiet=2)
    found = sorted({(r.pn, r.fn) for r in tinfoil.all_recipes(mc="") if "python_pyo3" in r.inherits()})
print(json.dumps(found))
"""

# BitBake's lib on PYTHONPATH for the two scripts (oe-init-build-env puts bitbake/bin on PATH)
WITH_BB = 'PYTHONPATH="$(dirname "$(dirname "$(command -v bitbake)")")/lib" python3 -c "$1"'


def _basehashes(testbed, builddir: str) -> dict[str, str]:
    """{"arch/pn/task": basehash} after ``bitbake -S lockedsigs world`` in ``builddir``."""
    t0 = time.monotonic()
    testbed.run(builddir, "bitbake", "-S", "lockedsigs", "world", with_layer=True, timeout=3600,
                env={"BB_SIGNATURE_HANDLER": "OEBasicHash", "BB_ENV_PASSTHROUGH_ADDITIONS": "BB_SIGNATURE_HANDLER"})
    print(f"bitbake -S lockedsigs world in {builddir}: {time.monotonic() - t0:.1f} s")
    proc = testbed.run(builddir, "sh", "-c", WITH_BB, "sh", BASEHASHES, with_layer=True, timeout=1800)
    hashes = json.loads(proc.stdout.strip().splitlines()[-1])
    assert len(hashes) > 1000, len(hashes)
    return hashes


def test_inherit_changes_only_pyo3_signatures(signature_release, testbed_for):
    """(Parametrized by conftest: master, when $PYRUST_RELEASES has it.)"""
    testbed = testbed_for(signature_release)
    builddir = testbed.builddir("sigs")
    testbed.init(builddir, with_layer=True)
    testbed.write_file(builddir, "conf/auto.conf", "", with_layer=True)
    before = _basehashes(testbed, builddir)
    testbed.write_file(builddir, "conf/auto.conf", 'INHERIT += "pyrust"\n', with_layer=True)
    after = _basehashes(testbed, builddir)
    assert set(before) <= set(after), sorted(set(before) - set(after))[:20]
    changed = sorted({key.split("/")[1] for key in before if before[key] != after[key]})

    proc = testbed.run(builddir, "sh", "-c", WITH_BB, "sh", PYO3_RECIPES, with_layer=True, timeout=3600)
    pyo3 = json.loads(proc.stdout.strip().splitlines()[-1])
    # oe-core's recipes (this layer's example inherits pyrust itself, so INHERIT adds
    # nothing to it); the class acts on target recipes only (not -native, nativesdk-, -cross)
    oecore = testbed.paths["OECORE"].rstrip("/") + "/"
    target = [pn for pn, fn in pyo3 if fn.startswith(oecore) and not pn.endswith("-native")
              and not pn.startswith("nativesdk-") and "-cross" not in pn]
    covered = sorted(pn for pn in target if any(key.split("/")[1] == pn for key in before))
    print(f"{len(before)} tasks; recipes whose basehash INHERIT += pyrust changes: {changed}; "
          f"target recipes inheriting python_pyo3 in world: {covered}")
    assert covered, "no recipe of world inherits python_pyo3: the comparison would show nothing"
    assert changed == covered
