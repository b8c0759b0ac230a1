"""pyrust_image judges a rootfs with the rules of its build's release, as pyrust.bbclass
does: the image's own ABI (its sysconfigdata) is compared with that release's python3
rules, not master's, so a scarthgap image gets no warning for what scarthgap's recipe
really does (no PLATFORM_TRIPLET preset)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pyrust.check import check_rootfs
from pyrust.target import target_from_vars
from testbed import REPO

pytestmark = pytest.mark.unit


def _scarthgap_soft_float_mips():
    tunes = json.loads((REPO / "tests/data/oe_tunes-scarthgap.json").read_text())["tunes"]
    found = [v for k, v in tunes.items() if k.startswith("qemumips/mips-nf/glibc")]
    assert len(found) == 1
    return target_from_vars(found[0])


def _rootfs(tmp_path: Path) -> Path:
    """A scarthgap soft-float MIPS image's python3: CPython 3.12, no platform triplet."""
    data = tmp_path / "usr/lib/python3.12/_sysconfigdata__linux_.py"
    data.parent.mkdir(parents=True)
    data.write_text("build_time_vars = {'ABIFLAGS': '', 'EXT_SUFFIX': '.cpython-312.so', 'MULTIARCH': '',\n"
                    " 'SOABI': 'cpython-312', 'VERSION': '3.12'}\n")
    return tmp_path


def test_the_release_decides_the_rules(tmp_path):
    rootfs, target = _rootfs(tmp_path), _scarthgap_soft_float_mips()
    report = check_rootfs(rootfs, target, release="scarthgap")
    assert report.abi.ext_suffix == ".cpython-312.so"
    assert report.warnings == ()
    # master's rules (the default) preset ${HOST_ARCH}-${HOST_OS}: a disagreement to warn about
    master = check_rootfs(rootfs, target)
    assert master.abi.ext_suffix == ".cpython-312.so"
    assert any(w.startswith("PLATFORM_TRIPLET:") and "'mips-linux'" in w for w in master.warnings), master.warnings


def test_the_image_class_passes_its_builds_release():
    text = (REPO / "classes/pyrust_image.bbclass").read_text()
    call = re.search(r"pyrust\.check\.check_rootfs\((.*?)\)\n", text, re.S)
    assert call and "release=pyrust.datastore.release(d)" in call.group(1), "pyrust_image must pass the build's release"
    # pyrust.bbclass reads the release the same way
    assert "release=pyrust.datastore.release(d)" in (REPO / "classes/pyrust.bbclass").read_text()
