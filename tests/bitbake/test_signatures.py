"""INHERIT += "pyrust" changes the task signatures of the PyO3 recipes only (master).

Both build dirs of test_layer.py's INHERIT and layer-only parses are reused: "layer"
(the layer added, nothing enabled) and "inherit" (the layer plus ``INHERIT += "pyrust"``
in conf/auto.conf). In each, ``bitbake -S lockedsigs world`` with the OEBasicHash
signature handler (as yocto-check-layer's own signature test runs it: no hash
equivalence server) writes every task's hash of world and its dependencies (native
ones included) to locked-sigs.inc in the build dir; a recipe
"changed" when any of its task hashes differ. Which recipes inherit python_pyo3 is
BitBake's own answer (tinfoil's recipe info, ``inherits()``), not a list of ours: the
changed recipes must be exactly the target ones among them (the class leaves native,
nativesdk and cross recipes alone).
"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = pytest.mark.bitbake


def _locked_sigs(testbed, builddir: str, with_layer: bool = True) -> dict[str, str]:
    """{"pn:task": hash} from ``bitbake -S lockedsigs world`` in ``builddir``."""
    testbed.run(builddir, "sh", "-c", "rm -f locked-sigs.inc", with_layer=with_layer)
    t0 = time.monotonic()
    testbed.run(builddir, "bitbake", "-S", "lockedsigs", "world", with_layer=with_layer, timeout=3600,
                env={"BB_SIGNATURE_HANDLER": "OEBasicHash", "BB_ENV_PASSTHROUGH_ADDITIONS": "BB_SIGNATURE_HANDLER"})
    print(f"bitbake -S lockedsigs world in {builddir}: {time.monotonic() - t0:.1f} s")
    text = testbed.run(builddir, "cat", "locked-sigs.inc", with_layer=with_layer).stdout
    sigs = {}
    for pn, task, sighash in re.findall(r"^\s+(\S+):(do_\w+):([0-9a-f]{64})\s*\\?$", text, re.M):
        sigs[f"{pn}:{task}"] = sighash
    assert len(sigs) > 1000, text[:2000]
    return sigs


PYO3_RECIPES = """
import sys, json
import bb.tinfoil
with bb.tinfoil.Tinfoil(output=sys.stderr) as tinfoil:
    tinfoil.prepare(config_only=False, quiet=2)
    found = sorted({r.pn for r in tinfoil.all_recipes(mc="")
                    if any(path.endswith("/python_pyo3.bbclass") for path in r.inherits())})
print(json.dumps(found))
"""


def test_inherit_changes_only_pyo3_signatures(signature_release, testbed_for):
    """(Parametrized by conftest: master, when $PYRUST_RELEASES has it.)"""
    import json

    testbed = testbed_for(signature_release)
    plain = testbed.builddir("layer")
    inherit = testbed.builddir("inherit")
    testbed.init(plain, with_layer=True)
    testbed.init(inherit, with_layer=True)
    testbed.write_file(inherit, "conf/auto.conf", 'INHERIT += "pyrust"\n', with_layer=True)
    before = _locked_sigs(testbed, plain)
    after = _locked_sigs(testbed, inherit)
    assert set(before) == set(after), sorted(set(before) ^ set(after))[:20]
    changed = sorted({key.split(":")[0] for key in before if before[key] != after[key]})

    proc = testbed.run(inherit, "sh", "-c", 'PYTHONPATH="$(dirname "$(dirname "$(command -v bitbake)")")/lib" python3 -c "$1"',
                       "sh", PYO3_RECIPES, with_layer=True, timeout=3600)
    pyo3 = json.loads(proc.stdout.strip().splitlines()[-1])
    covered = sorted(pn for pn in pyo3 if not pn.endswith("-native") and not pn.startswith("nativesdk-")
                     and "-cross" not in pn and any(key.startswith(pn + ":") for key in before))
    print(f"{len(before)} task signatures; recipes changed by INHERIT += pyrust: {changed}; "
          f"target recipes inheriting python_pyo3 in world: {covered}")
    assert covered, "no recipe of world inherits python_pyo3: the comparison would show nothing"
    assert changed == covered
