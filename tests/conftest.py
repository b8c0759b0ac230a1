"""Every test belongs to one tier, a marker of pyproject.toml's [tool.pytest.ini_options]
markers (unit, oracle, e2e, bitbake, build, selftest, matrix, checklayer, scarthgap_maturin);
unmarked ones are unit."""

from __future__ import annotations

import pytest


def tier_names(config: pytest.Config) -> list[str]:
    """The tiers, read from the registered markers (``"name: description"`` lines), so that a
    new tier is one line in pyproject.toml: a tier missing here made its tests unit tests too
    (the whole recipe matrix ran under ``pytest -m unit``)."""
    return [line.split(":", 1)[0].strip() for line in config.getini("markers")]


def pytest_collection_modifyitems(config, items):
    # Every test belongs to exactly one tier; a test without a tier marker is a unit test.
    tiers = tier_names(config)
    for item in items:
        if not any(item.get_closest_marker(tier) for tier in tiers):
            item.add_marker(pytest.mark.unit)
