"""Per-release tables and rules: scarthgap, wrynose, master.

Each release's table (lib/pyrust/data/machines[-<release>].json) comes from that
release's own BitBake (tests/tools/gen-oe-facts --release; tests/bitbake checks it against
BitBake again). Here: the tables are complete and consistent with their release block,
the library picks the release from LAYERSERIES_CORENAMES, and where CPython's probe
finds no triplet and the release's python3 presets none (scarthgap), the ABI has no
triplet and says so (CPython configure.ac: ``SOABI='cpython-'...${PLATFORM_TRIPLET:+-$PLATFORM_TRIPLET}``).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyrust.errors import InputError
from pyrust.machines import RELEASES, machine_names, machine_vars, provenance, release_facts, release_from_corenames
from pyrust.release import release_abi
from pyrust.resolve import resolve_abi
from pyrust.target import target_from_vars
from testbed import OE_INCONSISTENT_TUNES

pytestmark = pytest.mark.unit

DATA = Path(__file__).resolve().parents[1] / "data"


def tunes(release: str) -> dict[str, dict[str, str]]:
    name = "oe_tunes.json" if release == "master" else f"oe_tunes-{release}.json"
    return json.loads((DATA / name).read_text())["tunes"]


@pytest.mark.parametrize("release", RELEASES)
def test_table_is_complete_and_from_its_release(release):
    assert len(machine_names(release)) == 12
    assert provenance(release)["release"] == release
    facts = release_facts(release)
    python = ".".join(str(facts["python3"]).split(".")[:2])
    for machine in machine_names(release):
        for libc in ("glibc", "musl"):
            values = machine_vars(machine, libc, release)
            assert values["PYTHON_BASEVERSION"] == python
            assert values["LAYERSERIES_CORENAMES"] == facts["LAYERSERIES_CORENAMES"]
            assert release_from_corenames(values["LAYERSERIES_CORENAMES"]) == release


def test_release_facts_as_the_releases_ship_them():
    # ../shared/README.md: what each pinned oe-core ships
    assert release_facts("scarthgap")["python3"] == "3.12.13"
    assert release_facts("scarthgap")["maturin"] == "1.4.0"
    assert release_facts("scarthgap")["platform_triplet_preset"] is False
    assert release_facts("wrynose")["python3"] == "3.14.6"
    assert release_facts("wrynose")["maturin"] == "1.12.4"
    assert release_facts("wrynose")["platform_triplet_preset"] is True
    assert release_facts("master")["python3"] == "3.14.7"
    assert release_facts("master")["platform_triplet_preset"] is True


@pytest.mark.parametrize("corenames", [None, "", "styhead", "wrynose blacksail extra"])
def test_unknown_release_is_named(corenames):
    with pytest.raises(InputError) as err:
        release_from_corenames(corenames)
    assert err.value.variable == "LAYERSERIES_CORENAMES"
    assert "scarthgap" in str(err.value) and "\n" not in str(err.value)


def test_bad_release_argument():
    with pytest.raises(InputError, match="--release='kirkstone': expected one of master, wrynose, scarthgap"):
        machine_vars("qemuarm", release="kirkstone")


def _soft_float_mips(release: str) -> dict[str, str]:
    found = [v for k, v in tunes(release).items() if k.startswith("qemumips/mips-nf/glibc")]
    assert len(found) == 1
    return found[0]


def test_scarthgap_mips_soft_float_has_no_triplet():
    """CPython 3.12's conftest: MIPS names need __mips_hard_float (#error otherwise), and
    scarthgap's python3 passes no PLATFORM_TRIPLET: SOABI 'cpython-312'."""
    target = target_from_vars(_soft_float_mips("scarthgap"))
    abi, notes = release_abi(target, release="scarthgap")
    assert (abi.platform_triplet, abi.soabi, abi.ext_suffix) == ("", "cpython-312", ".cpython-312.so")
    assert abi.extension_suffixes == (".cpython-312.so", ".abi3.so", ".so")
    assert len(notes) == 1 and "no platform triplet" in notes[0] and "scarthgap" in notes[0]
    # the same rule reaches the class and the CLI through resolve_abi
    resolution = resolve_abi(target, release="scarthgap")
    assert resolution.abi.ext_suffix == ".cpython-312.so" and resolution.warnings == notes


def test_preset_where_the_release_has_one():
    """3.12 with wrynose's preset (a hypothetical: the rule, not the table) keeps
    ${HOST_ARCH}-${HOST_OS}; master's 3.14 probe names MIPS soft float itself."""
    target = target_from_vars(_soft_float_mips("scarthgap"))
    abi, notes = release_abi(target, release="wrynose")
    assert abi.platform_triplet == "mips-linux" and notes == ()
    master = target_from_vars(_soft_float_mips("master"))
    assert release_abi(master, release="master")[0].platform_triplet == "mips-linux-gnusf"


@pytest.mark.parametrize("release", RELEASES)
def test_every_tune_of_every_release_resolves(release):
    """Every tune the release's BitBake printed gives an ABI (or the known oe-core
    inconsistency), with the release's Python version."""
    python = ".".join(str(release_facts(release)["python3"]).split(".")[:2])
    for key, values in tunes(release).items():
        try:
            target = target_from_vars(values)
        except InputError as err:
            assert key in OE_INCONSISTENT_TUNES, (key, err)
            continue
        abi, notes = release_abi(target, release=release)
        assert abi.version == python
        assert abi.ext_suffix == f".{abi.soabi}.so"
        assert bool(notes) == (abi.platform_triplet == ""), key


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyrust.cli", *args], capture_output=True, text=True, timeout=60)


def test_cli_release_option():
    proc = run_cli("abi", "--machine", "qemuarm", "--release", "scarthgap", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ext_suffix"] == ".cpython-312-arm-linux-gnueabihf.so"
    proc = run_cli("abi", "--machine", "qemuarm", "--format", "json")
    assert json.loads(proc.stdout)["ext_suffix"] == ".cpython-314-arm-linux-gnueabihf.so"


def test_cli_env_file_carries_the_release(tmp_path):
    values = _soft_float_mips("scarthgap")
    env = tmp_path / "bitbake-e.txt"
    env.write_text("".join(f'{k}="{v}"\n' for k, v in values.items()) + 'LAYERSERIES_CORENAMES="scarthgap"\n')
    proc = run_cli("abi", "--env-file", str(env), "--format", "json")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["ext_suffix"] == ".cpython-312.so"
    assert "no platform triplet" in proc.stderr
    env.write_text(env.read_text().replace('LAYERSERIES_CORENAMES="scarthgap"', 'LAYERSERIES_CORENAMES="kirkstone"'))
    proc = run_cli("abi", "--env-file", str(env))
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "LAYERSERIES_CORENAMES='kirkstone'" in proc.stderr
