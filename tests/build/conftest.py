"""The build test bed's set-up, once per session (tests/build/README.md)."""

from __future__ import annotations

from pathlib import Path

import build_testbed as tb
import pytest

import testbed as common

# The test-bed layer's recipes carry their own pytest suites (ptest of
# python3-pyrust-ptest-*), which run on the target inside BitBake, never here.
collect_ignore = ["meta-pyrust-testbed"]


@pytest.fixture(scope="session")
def site_conf() -> Path:
    """The test bed, set up once (tests/build/build_testbed.py setup)."""
    try:
        return tb.setup()
    except tb.TestbedError as err:
        common.missing(f"build test bed: {err}")
        raise
