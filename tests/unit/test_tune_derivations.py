"""The library's derivations against what real BitBake printed for every oe-core tune.

tests/data/oe_tunes.json holds `bitbake -e python3-rpds-py` variables for every tune in
AVAILTUNES of the 12 oe-core qemu machines (scripts/gen-oe-facts). Where the library
derives a value that BitBake also printed, the derivation is checked against BitBake's.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pyrust.errors import InputError
from pyrust.machines import machine_names, machine_vars
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars
from testbed import OE_INCONSISTENT_TUNES

pytestmark = pytest.mark.unit

TUNES = json.loads((Path(__file__).resolve().parent.parent / "data" / "oe_tunes.json").read_text())["tunes"]

INCONSISTENT = OE_INCONSISTENT_TUNES
CONSISTENT = sorted(set(TUNES) - set(INCONSISTENT))


def without(values: dict[str, str], *names: str) -> dict[str, str]:
    return {k: v for k, v in values.items() if k not in names}


def test_every_tune_is_covered():
    assert len(TUNES) > 250
    assert {key.split("/")[1] for key in TUNES} >= {"armv5te", "armv7athf-neon", "armv7vethf", "x86-64-x32", "mips64-n32", "ppc7400"}


@pytest.mark.parametrize("key", sorted(INCONSISTENT))
def test_inconsistent_oe_configurations_are_refused(key):
    with pytest.raises(InputError) as err:
        target_from_vars(TUNES[key])
    assert err.value.variable == INCONSISTENT[key]


@pytest.mark.parametrize("key", CONSISTENT)
def test_rust_target_and_qemu_usermode_match_bitbake(key):
    values = TUNES[key]
    # Derived without the variables BitBake computed them into:
    target = target_from_vars(without(values, "RUST_TARGET_SYS", "RUST_HOST_SYS", "MACHINE_FEATURES"))
    assert target.rust_target == values["RUST_HOST_SYS"]  # rust_base_triple() in rust-common.bbclass
    assert target.qemu_usermode == ("qemu-usermode" in values["MACHINE_FEATURES"].split())
    abi = python_abi(target_from_vars(values))
    assert abi.ext_suffix.startswith(f".cpython-{values['PYTHON_BASEVERSION'].replace('.', '')}-")


@pytest.mark.parametrize("machine", machine_names())
@pytest.mark.parametrize("tclibc", ["glibc", "musl"])
def test_machine_table_musl_follows_oe_fallback(machine, tclibc):
    """musl: CPython 3.12+'s probe fails with OE's gcc, so oe-core's PLATFORM_TRIPLET preset
    ${HOST_ARCH}-${HOST_OS} is used (meta/recipes-devtools/python/python3_*.bb)."""
    values = machine_vars(machine, tclibc)
    abi = python_abi(target_from_vars(values))
    if tclibc == "musl":
        assert abi.platform_triplet == f"{values['HOST_ARCH']}-{values['HOST_OS']}"
    else:
        assert "-linux-gnu" in abi.platform_triplet
