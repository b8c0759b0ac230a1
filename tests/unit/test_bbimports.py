"""BBIMPORTS names exactly the library modules the layer's classes and recipes import."""

from __future__ import annotations

import re

import pytest

import pyrust
from testbed import REPO

pytestmark = pytest.mark.unit


def test_bbimports_are_the_modules_the_classes_use():
    texts = [p.read_text() for pattern in ("classes/*.bbclass", "recipes-*/**/*.bb", "recipes-*/**/*.bbappend")
             for p in REPO.glob(pattern)]
    used = {m for text in texts for m in re.findall(r"^\s*import pyrust\.(\w+)", text, re.M)}
    assert used, "no class imports the library"
    assert sorted(pyrust.BBIMPORTS) == sorted(used)
