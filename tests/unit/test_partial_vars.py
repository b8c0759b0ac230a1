"""Partial variable sets: what a user copies out of `bitbake -e`, with and without MACHINEOVERRIDES.

oe-core's CPU tunes (tune-cortexa15.inc, tune-arm926ejs.inc) name the ARM architecture
level only in MACHINEOVERRIDES; the level is also in TUNE_FEATURES (generic tunes),
TUNE_CCARGS (-march= or -mcpu=), TUNE_PKGARCH (armv7at2hf-neon, cortexa15t2hf-neon) and
RUST_TARGET_SYS (armv7-... exactly for the v7 levels). For every 32-bit ARM tune in
tests/data/oe_tunes.json (real `bitbake -e` output), the library must give the same
answer from the variable set the README lists as from the full set, with or without
MACHINEOVERRIDES, or refuse naming what is missing. The Rust target derived without
RUST_TARGET_SYS is checked against the one BitBake computed (rust_base_triple()).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pyrust.errors import InputError
from pyrust.tables import ARM_CPUS, ARM_LEVELS
from pyrust.target import target_from_vars
from testbed import REPO

pytestmark = pytest.mark.unit

TUNES = json.loads((REPO / "tests" / "data" / "oe_tunes.json").read_text())["tunes"]
ARM_TUNES = sorted(key for key, values in TUNES.items() if values["TARGET_ARCH"] in ("arm", "armeb"))

# The variables the README and pyrust.target's docs tell a user to copy from `bitbake -e`
# (issue 12's reproduction), without MACHINEOVERRIDES.
USER_SET = ("TARGET_ARCH", "TARGET_OS", "TARGET_SYS", "HOST_ARCH", "HOST_OS", "TUNE_FEATURES", "TUNE_CCARGS",
            "TUNE_PKGARCH", "TARGET_FPU", "ABIEXTENSION", "TCLIBC", "SITEINFO_BITS", "SITEINFO_ENDIANNESS",
            "RUST_TARGET_SYS", "RUST_HOST_SYS", "PYTHON_BASEVERSION")
LEVEL_SOURCES = ("MACHINEOVERRIDES", "TUNE_CCARGS", "TUNE_PKGARCH", "RUST_TARGET_SYS", "RUST_HOST_SYS")


# OLDEST_KERNEL (not in the user set) only feeds qemu's "-r" option.
NOT_FROM_USER_SET = ("qemu_options",)


def answer(values: dict[str, str]) -> dict[str, object]:
    """target_from_vars(values) as a dict, without the fields the user set cannot give."""
    return {k: v for k, v in target_from_vars(values).as_dict().items() if k not in NOT_FROM_USER_SET}


def only(values: dict[str, str], names) -> dict[str, str]:
    return {k: v for k, v in values.items() if k in names}


def without(values: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in values.items() if k not in names}


def test_every_arm_tune_is_here():
    assert len(ARM_TUNES) > 150
    assert {"qemuarm/cortexa15thf-neon/glibc", "qemuarmv5/arm926ejs/glibc", "qemuarm/armv7vehf-neon/glibc",
            "qemuarm/armv4t/glibc"} <= set(ARM_TUNES)


@pytest.mark.parametrize("key", ARM_TUNES)
def test_user_set_gives_the_full_answer_with_and_without_machineoverrides(key):
    values = TUNES[key]
    full = answer(values)
    assert answer(only(values, (*USER_SET, "MACHINEOVERRIDES"))) == full
    assert answer(only(values, USER_SET)) == full


@pytest.mark.parametrize("key", ARM_TUNES)
def test_rust_target_without_machineoverrides_is_bitbakes(key):
    """rust_base_triple() picks "armv7" from the level (target_is_armv7()); derived from the
    remaining variables it must equal what BitBake printed as RUST_HOST_SYS."""
    values = TUNES[key]
    target = target_from_vars(without(values, "MACHINEOVERRIDES", "RUST_TARGET_SYS", "RUST_HOST_SYS"))
    assert target.rust_target == values["RUST_HOST_SYS"]


def strip_level(values: dict[str, str], source: str) -> dict[str, str]:
    """``values`` with the level taken out of ``source``: TUNE_FEATURES keeps its other
    features (callconvention-hard decides the Rust target's "hf"), the others go."""
    if source != "TUNE_FEATURES":
        return without(values, source)
    words = [w for w in values["TUNE_FEATURES"].split() if w not in ARM_LEVELS and w not in ARM_CPUS]
    return dict(values, TUNE_FEATURES=" ".join(words))


@pytest.mark.parametrize("source", ["TUNE_FEATURES", "TUNE_CCARGS", "TUNE_PKGARCH"])
@pytest.mark.parametrize("key", ARM_TUNES)
def test_each_source_alone_tells_the_level(key, source):
    """With MACHINEOVERRIDES and the Rust targets gone and only one of the other level
    sources left, the whole answer is the same, and the Rust target is BitBake's."""
    values = TUNES[key]
    kept = without(values, "MACHINEOVERRIDES", "RUST_TARGET_SYS", "RUST_HOST_SYS")
    for other in ("TUNE_FEATURES", "TUNE_CCARGS", "TUNE_PKGARCH"):
        if other != source:
            kept = strip_level(kept, other)
    got = answer(kept)
    assert {k: v for k, v in got.items() if k not in ("tune_features", "tune_ccargs")} == {
        k: v for k, v in answer(values).items() if k not in ("tune_features", "tune_ccargs")}
    assert got["rust_target"] == values["RUST_HOST_SYS"]


@pytest.mark.parametrize("key", [k for k in ARM_TUNES if TUNES[k]["RUST_HOST_SYS"].startswith("armv7-")])
def test_an_armv7_rust_target_alone_tells_armv7(key):
    values = without(TUNES[key], "MACHINEOVERRIDES", "TUNE_CCARGS", "TUNE_PKGARCH")
    values = strip_level(values, "TUNE_FEATURES")
    target = target_from_vars(values)
    assert (target.uname_machine, target.rust_target) == ("armv7l", values["RUST_TARGET_SYS"])


@pytest.mark.parametrize("key", ARM_TUNES)
def test_nothing_to_tell_the_level_is_refused_naming_what_is_missing(key):
    values = strip_level(without(TUNES[key], *LEVEL_SOURCES), "TUNE_FEATURES")
    if not TUNES[key]["RUST_HOST_SYS"].startswith("armv7-"):
        # An "arm-..." Rust target says "not v7" but not which older level: still refused.
        values["RUST_TARGET_SYS"] = TUNES[key]["RUST_TARGET_SYS"]
    with pytest.raises(InputError) as err:
        target_from_vars(values)
    message = str(err.value)
    assert err.value.variable == "MACHINEOVERRIDES"
    for name in ("MACHINEOVERRIDES", "TUNE_FEATURES", "TUNE_CCARGS", "TUNE_PKGARCH", "RUST_TARGET_SYS"):
        assert name in message


@pytest.mark.parametrize(("change", "variable"), [
    ({"TUNE_PKGARCH": "armv5e"}, "TUNE_PKGARCH"),
    ({"TUNE_CCARGS": "-march=armv6 -mfpu=neon -mfloat-abi=hard"}, "TUNE_CCARGS"),
    ({"TUNE_FEATURES": "arm vfp arm926ejs neon thumb callconvention-hard"}, "TUNE_FEATURES"),
    ({"RUST_TARGET_SYS": "arm-oe-linux-gnueabihf", "RUST_HOST_SYS": "arm-oe-linux-gnueabihf"}, "RUST_TARGET_SYS"),
])
@pytest.mark.parametrize("machineoverrides", [True, False])
def test_disagreeing_sources_are_refused_naming_the_variable(change, variable, machineoverrides):
    values = dict(TUNES["qemuarm/cortexa15thf-neon/glibc"], **change)
    if not machineoverrides:
        del values["MACHINEOVERRIDES"]
    with pytest.raises(InputError) as err:
        target_from_vars(values)
    message = str(err.value)
    # One line naming the variable that disagrees and the level the other one names.
    assert variable in message and "armv7ve" in message and "\n" not in message


@pytest.mark.parametrize("key", ["qemuarm/cortexa15thf-neon/glibc", "qemuarm/cortexa15t-neon/glibc",
                                 "qemuarmv5/arm926ejs/glibc"])
def test_cli_abi_from_the_user_env_file(key, tmp_path):
    """`pyrust abi --env-file F` with the README's variable set (issue 12 exits 2 here before)."""
    values = only(TUNES[key], USER_SET)
    env_file = tmp_path / "bitbake-e.txt"
    env_file.write_text("".join(f'{name}="{value}"\n' for name, value in sorted(values.items())))
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "abi", "--env-file", str(env_file), "--format", "json"],
                          capture_output=True, text=True, timeout=60, cwd=Path(REPO))
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout)
    expected = target_from_vars(TUNES[key])
    assert got["platform_tag"] == f"linux_{expected.uname_machine}"
