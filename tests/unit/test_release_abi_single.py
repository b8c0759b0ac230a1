"""One computation per fact: a release's PLATFORM_TRIPLET preset is an input of the one
triplet rule (pyrust.triplet.platform_triplet), so release_abi runs CPython's probe rule
once and returns python_abi's own result, never a patched copy of it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import pyrust.pyabi
import pyrust.release
import pyrust.triplet
from pyrust.machines import RELEASES, release_facts
from pyrust.pyabi import python_abi
from pyrust.release import release_abi
from pyrust.target import target_from_vars
from pyrust.triplet import platform_triplet

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data"


def _soft_float_mips() -> dict[str, str]:
    tunes = json.loads((DATA / "oe_tunes-scarthgap.json").read_text())["tunes"]
    found = [v for k, v in tunes.items() if k.startswith("qemumips/mips-nf/glibc")]
    assert len(found) == 1
    return found[0]


def test_preset_is_an_input_of_the_rule():
    """3.12's probe has no name for MIPS soft float: the preset decides, and only it."""
    target = target_from_vars(_soft_float_mips())
    assert platform_triplet(target, (3, 12)) == target.host_sys_triplet == "mips-linux"
    assert platform_triplet(target, (3, 12), preset=False) == ""
    # where the probe answers, the preset does not matter
    assert platform_triplet(target, (3, 13), preset=False) == platform_triplet(target, (3, 13)) == "mips-linux-gnusf"


@pytest.mark.parametrize("release", RELEASES)
@pytest.mark.parametrize("version", ["3.12", "3.14"])
def test_release_abi_runs_the_probe_rule_once(monkeypatch, release, version):
    calls: list[tuple[int, int]] = []
    real = pyrust.triplet.detected_triplet

    def counting(target, vt):
        calls.append(vt)
        return real(target, vt)

    monkeypatch.setattr(pyrust.triplet, "detected_triplet", counting)
    # a module that imported the probe rule by name would call it past the patch above
    for module in (pyrust.release, pyrust.pyabi):
        monkeypatch.setattr(module, "detected_triplet", counting, raising=False)
    target = target_from_vars(_soft_float_mips())
    abi, notes = release_abi(target, version, release=release)
    assert len(calls) == 1, calls
    # the release's result is python_abi's with the release's preset, field for field
    preset = bool(release_facts(release)["platform_triplet_preset"])
    assert abi == python_abi(target, version, triplet_preset=preset)
    assert bool(notes) == (abi.platform_triplet == "")


def test_no_preset_no_triplet_suffixes():
    abi = python_abi(target_from_vars(_soft_float_mips()), "3.12", triplet_preset=False)
    assert (abi.platform_triplet, abi.soabi, abi.ext_suffix) == ("", "cpython-312", ".cpython-312.so")
    assert abi.extension_suffixes == (".cpython-312.so", ".abi3.so", ".so")
