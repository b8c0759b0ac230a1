"""scripts/run-tests cannot go green by selecting nothing, and reads "under CI" with
tests/testbed.py's rule.

The runner is run for real with a stand-in $PYTHON: ``-m pytest`` exits with a chosen
status (no test runs), anything else goes to this interpreter (the CI rule, the
summary). The unit tier has no set-up, so nothing is installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from testbed import REPO, under_ci

pytestmark = pytest.mark.unit

RUN_TESTS = REPO / "scripts" / "run-tests"


def _run(tmp_path: Path, pytest_exit: int, ci: str | None) -> subprocess.CompletedProcess:
    fake = tmp_path / "python"
    fake.write_text(
        "#!/bin/sh\n"
        f'if [ "$1 $2" = "-m pytest" ]; then echo "pytest $*" >> "{tmp_path}/calls"; exit {pytest_exit}; fi\n'
        f'exec "{sys.executable}" "$@"\n'
    )
    fake.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "CI"}
    env["PYTHON"] = str(fake)
    if ci is not None:
        env["CI"] = ci
    return subprocess.run([str(RUN_TESTS), "unit"], capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize(("pytest_exit", "status"), [(0, 0), (1, 1), (5, 1)])
def test_exit_5_is_a_failure(tmp_path, pytest_exit, status):
    proc = _run(tmp_path, pytest_exit, None)
    assert (tmp_path / "calls").read_text().startswith("pytest -m pytest -m unit ")
    assert "tier unit: " in proc.stdout and f"(exit {pytest_exit})" in proc.stdout, proc.stdout
    assert proc.returncode == status, proc.stdout + proc.stderr


@pytest.mark.parametrize("ci", [None, "", "0", "false", "no", "1", "true", "TRUE", "yes", "Yes", " true "])
def test_ci_rule_is_testbeds(tmp_path, ci):
    proc = _run(tmp_path, 0, ci)
    expected = under_ci({} if ci is None else {"CI": ci})
    assert expected == ((ci or "").strip().lower() in ("1", "true", "yes"))
    assert f"=== under CI: {'yes' if expected else 'no'} " in proc.stdout, proc.stdout


def test_each_opt_in_tier_stays_out_of_the_unit_tier():
    """A tier marker missing from conftest's tier list made its tests unit tests as well: the
    whole recipe matrix (marker ``matrix``) ran under ``pytest -m unit``. tests/build holds only
    build-bed tiers, so ``-m unit`` must select none of its tests (pytest exits 5)."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-m", "unit", "tests/build"],
                          cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 5, proc.stdout[-2000:]
    matrix = subprocess.run([sys.executable, "-m", "pytest", "--co", "-q", "-m", "matrix", "tests/build"],
                            cwd=REPO, capture_output=True, text=True, timeout=120)
    assert matrix.returncode == 0 and "test_the_whole_matrix_agrees_with_the_table" in matrix.stdout, matrix.stdout[-2000:]
