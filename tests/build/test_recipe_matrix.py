"""Upstream PyO3 recipes in the build test bed: the CI subset of the recipe matrix
(tests/build/recipe_matrix.py; the full matrix is the opt-in tier ``matrix``).

Three small real recipes, unmodified from their release archives, on the machine where
maturin names modules wrongly (qemumips, DEFAULTTUNE mips32r2el): oe-core's python3-bcrypt
(setuptools-rust, PyO3 0.26, CARGO_SRC_DIR below the sdist root) and meta-python's
python3-cbor2 (setuptools-rust, PyO3 0.29) and python3-orjson (maturin, PyO3's FFI crate
without PyO3; its download stood in for by the release's PyPI sdist): python3-bcrypt and
python3-orjson with the layer's fix, python3-cbor2 with ``PYRUST_FIX = "0"`` (three
compiles: the CI budget). Each cell must show
its real outcome (what the assertions below require of the build's own outputs) and agree
with its committed record in docs/recipes/results/, from which docs/recipes.md is
generated: a drift fails here.
"""

from __future__ import annotations

from pathlib import Path

import build_testbed as tb
import pytest
import recipe_matrix as rm

pytestmark = pytest.mark.build

MACHINE = "qemumips-mips32r2el"
#: the emulator the import check must have used: the test bed's own row for mipsel
QEMU = tb.ARCHES["mipsel"].qemu


def recipes(*names: str) -> list[tb.Recipe]:
    return [r for r in tb.RECIPES if r.name in names]


def test_bcrypt_with_the_fix(site_conf: Path) -> None:
    (record,) = rm.run_cells(MACHINE, True, recipes("python3-bcrypt"))
    assert record["failed_tasks"] == [] and record["findings"] == [], record
    assert record["modules"], "python3-bcrypt installed no extension module"
    # the target CPython's own EXT_SUFFIX (its _sysconfigdata in the recipe sysroot)
    assert all(m.endswith(record["ext_suffix"]) for m in record["modules"]), record
    # the QA check imported exactly these modules, under the mipsel emulator
    assert record["imported"] == {"qemu": QEMU, "modules": sorted(rm.dotted(m) for m in record["modules"])}, record
    assert rm.drift(record) == []


def test_cbor2_without_the_fix(site_conf: Path) -> None:
    """PYRUST_FIX = "0": setuptools-rust names the module from the target's sysconfigdata,
    which python3targetconfig puts in front of the native Python: right without the layer,
    and the class's check (still on) imports it."""
    (record,) = rm.run_cells(MACHINE, False, recipes("python3-cbor2"))
    assert record["failed_tasks"] == [] and record["findings"] == [], record
    assert record["modules"] and record["accepted"], record
    assert all(m.endswith(record["ext_suffix"]) for m in record["modules"]), record
    assert record["imported"] == {"qemu": QEMU, "modules": sorted(rm.dotted(m) for m in record["modules"])}, record
    assert rm.drift(record) == []


def test_orjson_with_the_fix(site_conf: Path) -> None:
    """pyo3-ffi without pyo3 (no PyO3 in Cargo.lock): maturin names the module for "mips"
    without the layer (docs/recipes.md); with it, the module carries the target's
    EXT_SUFFIX, the class reads the binding from pyo3-ffi, and the module imports."""
    (record,) = rm.run_cells(MACHINE, True, recipes("python3-orjson"))
    assert record["failed_tasks"] == [] and record["findings"] == [], record
    assert record["binding"] is not None and record["binding"].startswith("pyo3-ffi "), record
    assert record["modules"] and all(m.endswith(record["ext_suffix"]) for m in record["modules"]), record
    assert record["imported"] == {"qemu": QEMU, "modules": sorted(rm.dotted(m) for m in record["modules"])}, record
    assert rm.drift(record) == []
