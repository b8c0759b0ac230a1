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
    """A recipe said to need a git repository really fetches from it."""
    texts = archive_recipes("openembedded-core.tar.xz", "meta") | archive_recipes("meta-openembedded-master.tar.xz", "meta-python")
    for (recipe, _), why in rm.NOT_BUILT.items():
        url = re.search(r"git://\S+?(?=[ ,(])", why)
        if url:
            assert url.group(0) in texts[recipe], (recipe, url.group(0))
