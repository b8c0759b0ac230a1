"""The opt-in tier ``matrix`` (``scripts/run-tests matrix``): every cell of docs/recipes.md
built again and compared with its committed record. Its own module, so that the build tier's
marker never selects it (a module's pytestmark applies to every test in it)."""

from __future__ import annotations

from pathlib import Path

import pytest
import recipe_matrix as rm

pytestmark = pytest.mark.matrix


def test_the_whole_matrix_agrees_with_the_table(site_conf: Path) -> None:
    """Opt-in tier ``matrix``: every cell of docs/recipes.md built again (every recipe of
    recipe_matrix.cell_recipes(machine) x recipe_matrix.MACHINES x fix on/off); each new record must
    equal the committed one in everything but its times."""
    problems = []
    for machine in rm.MACHINES:
        for fix in (True, False):
            problems += [p for record in rm.run_cells(machine, fix, rm.cell_recipes(machine)) for p in rm.drift(record)]
    assert problems == []
