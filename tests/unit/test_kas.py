"""The kas file is valid for kas's own schema and pins the oe-core/BitBake revisions the
embedded machine table was generated from."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyrust.machines import provenance
from testbed import REPO, require_tool

pytestmark = pytest.mark.unit


def test_kas_file_is_valid_and_pinned():
    require_tool("kas")
    import jsonschema
    import kas
    import yaml

    schema = json.loads((Path(kas.__file__).parent / "schema-kas.json").read_text())
    doc = yaml.safe_load((REPO / "kas" / "pyrust-qemuarm.yml").read_text())
    jsonschema.validate(doc, schema)
    assert doc["repos"]["openembedded-core"]["commit"] == provenance()["oe-core commit"]
    assert doc["repos"]["bitbake"]["commit"] == provenance()["bitbake commit"]
    assert "pyrust" in doc["local_conf_header"]["pyrust"]
