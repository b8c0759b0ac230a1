"""The embedded oe-core facts cannot drift from real BitBake + openembedded-core.

``lib/pyrust/data/machines[-<release>].json`` and ``tests/data/oe_tunes[-<release>].json``
are written by ``tests/tools/gen-oe-facts --release <release>``; here, for each release, a
few entries are extracted again through that release's real BitBake (tinfoil, the
generator's own method) and one through a plain ``bitbake -e -b`` of the recipe file
(that one recipe parsed, appends applied), and must be equal to the stored ones; so
must the release block (python3 version, PLATFORM_TRIPLET preset, ...).
"""

from __future__ import annotations

import glob
import json
import os
from pathlib import Path

import pytest

from pyrust.machines import data_file

pytestmark = pytest.mark.bitbake

REPO = Path(__file__).resolve().parents[2]


def machines_json(release: str) -> Path:
    return data_file(release)


def tunes_json(release: str) -> Path:
    name = "oe_tunes.json" if release == "master" else f"oe_tunes-{release}.json"
    return REPO / "tests" / "data" / name

# a few machines x libcs covering arm hard/soft float, 64-bit big endian, x86, ppc, riscv
MACHINE_KEYS = (
    "qemuarm/glibc",
    "qemuarm/musl",
    "qemuarmv5/glibc",
    "qemumips64/musl",
    "qemuppc/glibc",
    "qemux86/glibc",
    "qemuriscv32/musl",
    "qemuloongarch64/glibc",
)
# tunes of interest (ABI corners); looked up in oe_tunes.json whatever machine holds them
TUNE_NAMES = (
    ("x86-64-x32", "glibc"),
    ("mips64-n32", "musl"),
    ("aarch64_be", "glibc"),
    ("armv7athf-neon", "glibc"),
    ("ppce500v2", "glibc"),
)
# the independent check: a real `bitbake -e`, one configuration (a full parse once,
# then cached in the test bed's build dir)
BITBAKE_E_KEY = "qemuppc/glibc"  # non-empty QEMU_EXTRAOPTIONS, big endian


def _load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _stored_machine(release: str, key: str) -> dict[str, str]:
    machine, libc = key.split("/")
    return _load(machines_json(release))["machines"][machine][libc]


def _extract(testbed, keys: list[str], name: str) -> dict:
    proc = testbed.gen_oe_facts("--extract", *keys, "--jobs", "1", "--builddir-prefix", testbed.builddir(name))
    assert proc.stdout.strip(), f"gen-oe-facts --extract printed nothing:\n{proc.stderr[-3000:]}"
    result = json.loads(proc.stdout)
    assert not result["failed"], f"variants failed to parse: {result['failed']}"
    return result["values"]


@pytest.fixture(scope="module")
def machine_values(oe_testbed) -> dict[str, dict[str, str]]:
    return _extract(oe_testbed, list(MACHINE_KEYS), "machines")


def test_machines_json_comes_from_this_oe_core(oe_testbed):
    provenance = _load(machines_json(oe_testbed.release))["generated_from"]
    assert provenance["release"] == oe_testbed.release
    assert provenance["oe-core commit"] == oe_testbed.paths["OECORE_COMMIT"], (
        "machines.json was generated from another openembedded-core: run tests/tools/gen-oe-facts"
    )
    assert provenance["bitbake commit"] == oe_testbed.paths["BITBAKE_COMMIT"]


def test_tunes_json_comes_from_this_oe_core(oe_testbed):
    provenance = _load(tunes_json(oe_testbed.release))["generated_from"]
    assert provenance["oe-core commit"] == oe_testbed.paths["OECORE_COMMIT"], (
        "oe_tunes.json was generated from another openembedded-core: run tests/tools/gen-oe-facts"
    )


def test_machines_json_covers_every_machine_and_libc(oe_testbed):
    machines = _load(machines_json(oe_testbed.release))["machines"]
    assert len(machines) == 12
    for name, per_libc in machines.items():
        assert sorted(per_libc) == ["glibc", "musl"], name
        for libc, values in per_libc.items():
            assert values["MACHINE"] == name
            assert values["TCLIBC"] == libc


@pytest.mark.parametrize("key", MACHINE_KEYS)
def test_machine_matches_bitbake(oe_testbed, machine_values, key):
    assert machine_values[key] == _stored_machine(oe_testbed.release, key)


def test_tunes_match_bitbake(oe_testbed):
    stored = _load(tunes_json(oe_testbed.release))["tunes"]
    keys = []
    for tune, libc in TUNE_NAMES:
        found = [k for k in stored if k.split("/")[1:] == [tune, libc]]
        assert len(found) == 1, f"{tune}/{libc} not (uniquely) in oe_tunes.json: {found}"
        keys += found
    values = _extract(oe_testbed, keys, "tunes")
    for key in keys:
        assert values[key] == stored[key], key


def test_bitbake_e_matches_machines_json(oe_testbed):
    from pyrust.bbenv import parse_bitbake_env

    machine, libc = BITBAKE_E_KEY.split("/")
    recipe = sorted(glob.glob(os.path.join(oe_testbed.paths["OECORE"], "meta", "recipes-*", "*", "python3-rpds-py_*.bb")))[-1]
    proc = oe_testbed.run(
        oe_testbed.builddir("bitbake-e"),
        "bitbake", "-e", "-b", recipe,
        env={"MACHINE": machine, "TCLIBC": libc},
        timeout=3600,
    )
    env = parse_bitbake_env(proc.stdout)
    stored = _stored_machine(oe_testbed.release, BITBAKE_E_KEY)
    got = {}
    for var in stored:
        if var == "QEMU_EXTRAOPTIONS":
            got[var] = env.get(f"QEMU_EXTRAOPTIONS:tune-{env['TUNE_PKGARCH']}", "")
        else:
            got[var] = env.get(var, "")
    assert got == stored


def test_release_facts_match_bitbake(oe_testbed):
    """The release block: LAYERSERIES_CORENAMES and the recipes' versions as a plain
    ``bitbake -e -b`` of each recipe prints them, and python3's PLATFORM_TRIPLET preset."""
    from pyrust.bbenv import parse_bitbake_env

    stored = _load(machines_json(oe_testbed.release))["release"]
    meta = os.path.join(oe_testbed.paths["OECORE"], "meta")
    got = {}
    for name, key in (("python3", "python3"), ("python3-maturin", "maturin"),
                      ("python3-setuptools-rust", "setuptools-rust"), ("python3-rpds-py", "rpds-py")):
        recipe = sorted(glob.glob(os.path.join(meta, "recipes-*", "*", f"{name}_*.bb")))[-1]
        env = parse_bitbake_env(oe_testbed.run(oe_testbed.builddir("bitbake-e"), "bitbake", "-e", "-b", recipe,
                                               env={"MACHINE": "qemuarm"}, timeout=1200).stdout)
        got[key] = env["PV"]
        got["LAYERSERIES_CORENAMES"] = env["LAYERSERIES_CORENAMES"]
        if name == "python3":
            preset = [arg for arg in env["EXTRA_OECONF"].split() if arg.startswith("PLATFORM_TRIPLET=")]
            got["platform_triplet_preset"] = bool(preset)
            got["platform_triplet_preset_qemuarm"] = preset[-1].split("=", 1)[1] if preset else ""
    assert got == stored
