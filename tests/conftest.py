"""Every test belongs to one tier (unit, oracle, e2e, bitbake, build, checklayer, selftest, scarthgap_maturin); unmarked ones are unit."""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(config, items):
    # Every test belongs to exactly one tier; a test without a marker is a unit test.
    tiers = ("unit", "oracle", "e2e", "bitbake", "build", "checklayer", "selftest", "scarthgap_maturin")
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in tiers):
            item.add_marker(pytest.mark.unit)
