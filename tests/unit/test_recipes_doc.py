"""docs/recipes.md: generated from the committed cell records, and accounting for every
PyO3 recipe of the pinned oe-core and meta-openembedded master archives.

The records themselves are checked against new builds by tests/build/test_recipe_matrix.py.
"""

from __future__ import annotations

import re
import sys
import tarfile
from pathlib import Path

import pytest

from testbed import REPO, missing

sys.path.insert(0, str(REPO / "tests" / "build"))
import build_testbed as tb  # noqa: E402
import recipe_matrix as rm  # noqa: E402

pytestmark = pytest.mark.unit

UPSTREAM = tb.upstream_dir()
#: the classes through which a recipe builds a Rust part for Python (oe-core's classes-recipe)
RUST_PYTHON_CLASSES = re.compile(r"^inherit\b.*\b(python_maturin|python_setuptools3_rust|python_pyo3)\b", re.M)


def test_doc_is_generated_from_the_records():
    assert rm.DOC.read_text() == rm.render(rm.load_records()), "run tests/build/recipe_matrix.py doc"


def test_records_are_cells_of_the_matrix():
    for record in rm.load_records():
        assert record["machine"] in rm.MACHINES, record["machine"]
        assert record["recipe"] in {r.name for r in rm.cell_recipes(record["machine"])}, record["recipe"]
        assert rm.record_path(record).is_file()


def archive_recipes(name: str, top: str) -> dict[str, str]:
    """{recipe name: its .bb text} of the recipes in ``name`` that inherit a Rust-for-Python class."""
    path = UPSTREAM / name
    if not path.is_file():
        missing(f"{path} (set PYRUST_UPSTREAM)")
    found = {}
    with tarfile.open(path) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(".bb") and f"/{top}/" in f"/{member.name}":
                f = tar.extractfile(member)
                assert f is not None
                text = f.read().decode(errors="replace")
                if RUST_PYTHON_CLASSES.search(text):
                    found[Path(member.name).name.split("_")[0].removesuffix(".bb")] = text
    return found


@pytest.mark.parametrize(("archive", "top", "layer"), [("openembedded-core.tar.xz", "meta", "oe-core"),
                                                       ("meta-openembedded-master.tar.xz", "meta-python", "meta-python")])
def test_every_rust_python_recipe_is_built_or_says_why_not(archive, top, layer):
    """A new PyO3 recipe upstream must get a row: built in the matrix, or a reason."""
    recipes = archive_recipes(archive, top)
    assert recipes, f"no Rust-for-Python recipe found in {archive}"
    covered = {r.name for r in tb.RECIPES if r.layer == layer and not r.dependency} | {name for name, lay in rm.NOT_BUILT if lay == layer}
    assert set(recipes) <= covered, sorted(set(recipes) - covered)
    assert covered <= set(recipes), f"rows for recipes {archive} no longer has: {sorted(covered - set(recipes))}"


def test_git_reasons_are_the_recipes_own_sources():
    """A recipe said to need a git repository really fetches from it (a reason it is not
    built, or why its download is stood in for)."""
    texts = archive_recipes("openembedded-core.tar.xz", "meta") | archive_recipes("meta-openembedded-master.tar.xz", "meta-python")
    reasons = [(recipe, why) for (recipe, _), why in rm.NOT_BUILT.items()]
    reasons += [(r.name, r.source_standin) for r in tb.RECIPES if r.source_standin]
    checked = 0
    for recipe, why in reasons:
        url = re.search(r"git://\S+?(?=[ ,(]|$)", why)
        if url:
            assert url.group(0) in texts[recipe], (recipe, url.group(0))
            checked += 1
    assert checked >= 3


def test_source_standins_are_bbappends_of_the_test_bed():
    """Every recipe built from a stood-in download has the bbappend that does it, and no
    other recipe has one."""
    appends = {p.name.split("_")[0] for p in (tb.HERE / "meta-pyrust-testbed/recipes-testbed/fetch-standins").glob("*.bbappend")}
    assert appends == {r.name for r in tb.RECIPES if r.source_standin}


def archive_file(name: str, suffix: str) -> str:
    with tarfile.open(UPSTREAM / name) as tar:
        for member in tar:
            if member.isfile() and member.name.endswith(suffix):
                f = tar.extractfile(member)
                assert f is not None
                return f.read().decode(errors="replace")
    raise AssertionError(f"{suffix} not in {name}")


def test_recipe_failures_are_what_the_recipe_says():
    """A cell said to fail for a reason of the recipe fails with and without the layer, and
    the reason holds: python3-pyruvate's st_dev patch is appended for the `mips` override
    only, and it is the fix for the very compiler error the cell's record shows."""
    if not (UPSTREAM / "meta-openembedded-master.tar.xz").is_file():
        missing(f"{UPSTREAM / 'meta-openembedded-master.tar.xz'} (set PYRUST_UPSTREAM)")
    records = {(r["recipe"], r["machine"], r["fix"]): r for r in rm.load_records()}
    for (recipe, machine), why in rm.RECIPE_FAILURES.items():
        with_fix, without = records[(recipe, machine, True)], records[(recipe, machine, False)]
        assert with_fix["failed_tasks"] and without["failed_tasks"], (recipe, machine)
        said = with_fix.get("failure") or " ".join(with_fix["findings"])
        assert said and said == (without.get("failure") or " ".join(without["findings"])), (recipe, machine)
        if "_PyUnicode_Ready" in why:  # removed in CPython 3.12: the cell's Python is newer, the symbol is named
            assert "undefined symbol: _PyUnicode_Ready" in said and tuple(map(int, with_fix["python"].split("."))) >= (3, 12)
            assert "crate://crates.io/python3-sys/0.7.1" in archive_file("meta-openembedded-master.tar.xz", "/python3-pyruvate-crates.inc")
        crate = re.search(r"crate (\S+) (\d+\.\d+\.\d+)", why)
        if crate:  # the failing crate is the recipe's own, at that version, and the error is in it
            inc = archive_file("meta-openembedded-master.tar.xz", f"/{recipe}-crates.inc")
            assert f"crate://crates.io/{crate.group(1)}/{crate.group(2)}" in inc, crate.group(0)
            assert f"{crate.group(1)}-{crate.group(2)}/" in said, said
        patch = re.search(r"([\w.-]+\.patch)", why)
        if patch and recipe == "python3-pyruvate":
            bb = archive_file("meta-openembedded-master.tar.xz", "/python3-pyruvate_1.2.1.bb")
            appends = re.findall(r'^SRC_URI:append:(\w+) = ".*' + re.escape(patch.group(1)), bb, re.M)
            assert appends == ["mips"], appends
            patch_text = archive_file("meta-openembedded-master.tar.xz", "/" + patch.group(1))
            error = re.search(r"expected `\w+`, found `\w+`", with_fix["failure"])
            assert error and error.group(0) in patch_text, with_fix["failure"]
