"""yocto-check-layer on this layer, per release.

openembedded-core's own yocto-check-layer takes 15 to 45 minutes per release on 2 cores
(it computes the signatures of ``world`` with and without the layer; measured: master 901 s,
scarthgap 2232 s, wrynose 2585 s, the last two under load 6 to 9). master's runs in the
bitbake tier; wrynose's and scarthgap's are the opt-in ``checklayer`` tier
(``pytest -m checklayer``), kept out of the default run for CI's time budget.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_yocto_check_layer(check_layer_release, testbed_for):
    """openembedded-core's yocto-check-layer on this layer, from a build dir that does
    not list it (oe-testbed run without --with-layer takes it out of bblayers.conf)."""
    oe_testbed = testbed_for(check_layer_release)
    builddir = oe_testbed.builddir("layer")
    # an interrupted earlier run leaves its bblayers.conf (with the layer) behind
    oe_testbed.run(builddir, "sh", "-c", "[ ! -f conf/bblayers.conf.backup ] || mv conf/bblayers.conf.backup conf/bblayers.conf")
    t0 = time.monotonic()
    # --no-auto: this layer only, not every conf/layer.conf below the repository (the
    # build tier's test-only layer in tests/build/ is not a layer users add)
    proc = oe_testbed.run(builddir, "yocto-check-layer", "--no-auto", str(REPO), timeout=3600, check=False)
    print(f"yocto-check-layer: {time.monotonic() - t0:.1f} s")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    name = re.search(r"INFO: (\S+): LayerType\.SOFTWARE, " + re.escape(str(REPO)) + r"$", output, re.M)
    assert name, output[-3000:]
    assert re.search(rf"^INFO: {re.escape(name.group(1))} \.\.\. PASS$", output, re.M), output[-6000:]
    # unittest's verbose lines, as yocto-check-layer logs them: "INFO: test_x (...)" then "INFO:  ... ok"
    results = dict(re.findall(r"^INFO: (test_\w+) \(.*\)\nINFO:  \.\.\. (.*)$", output, re.M))
    for test in ("test_signatures", "test_readme", "test_security", "test_parse", "test_show_environment",
                 "test_world", "test_world_inherit_class", "test_layerseries_compat", "test_patches_upstream_status"):
        assert results.get(test) == "ok", f"{test}: {results.get(test)}\n{output[-6000:]}"
