"""The library's derivations against what real BitBake printed for every oe-core tune.

tests/data/oe_tunes.json holds `bitbake -e python3-rpds-py` variables for every tune in
AVAILTUNES of the 12 oe-core qemu machines (tests/tools/gen-oe-facts). Where the library
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
    # configure.ac: EXT_SUFFIX=.${SOABI}${SHLIB_SUFFIX}, SOABI=cpython-<X><Y>${ABIFLAGS}-${PLATFORM_TRIPLET}
    # (ABIFLAGS empty: oe-core builds the default, GIL interpreter)
    version = values["PYTHON_BASEVERSION"].replace(".", "")
    expected = cpython_triplet(values)
    if values["TARGET_OS"] == "linux-gnuspe":
        # Open question: the probe says gnuspe under __SPE__, but oe-core's gcc keeps
        # -mspe only as a no-op (GCC 9 dropped the SPE port; see tests/oracle), and the
        # oracle cannot run this tune (Debian's gcc rejects -mfloat-gprs): either answer.
        assert abi.ext_suffix in {f".cpython-{version}-{t}.so" for t in ("powerpc-linux-gnuspe", "powerpc-linux-gnu")}
        return
    assert abi.ext_suffix == f".cpython-{version}-{expected}.so"


def cpython_triplet(values: dict[str, str]) -> str:
    """PLATFORM_TRIPLET of oe-core's python3 (3.12+) for BitBake's printed variables,
    written from CPython's Misc/platform_triplet.c and oe-core's recipe, not the library.

    musl: the probe fails with oe-core's gcc, so configure keeps the recipe's preset
    PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS} (EXTRA_OECONF, python3_*.bb). glibc: the
    probe's __linux__/__GLIBC__ branches, with the compiler's macros told by TARGET_ARCH
    (CPU, endianness, MIPS ISA), TARGET_OS (gnun32, gnux32, gnuspe: the ABI) and TARGET_FPU
    (soft: __mips_soft_float; hard: __ARM_PCS_VFP).
    """
    arch, target_os, fpu = values["TARGET_ARCH"], values["TARGET_OS"], values.get("TARGET_FPU", "")
    if values["TCLIBC"] == "musl":
        return f"{values['HOST_ARCH']}-{values['HOST_OS']}"
    if arch in ("i386", "i486", "i586", "i686"):
        return "i386-linux-gnu"  # __i386__
    if arch == "x86_64":
        return "x86_64-linux-gnux32" if target_os.endswith("x32") else "x86_64-linux-gnu"  # __ILP32__
    if arch in ("arm", "armeb"):
        return f"{arch}-linux-gnueabi" + ("hf" if fpu == "hard" else "")  # __ARMEB__, __ARM_PCS_VFP
    if arch.startswith("mips"):
        # __mips_isa_rev >= 6 -> mipsisa32r6/mipsisa64r6; __MIPSEL__ -> "el"; _MIPS_SIM:
        # _ABIO32 gnu, _ABIN32 gnuabin32, _ABI64 gnuabi64; __mips_soft_float -> "sf"
        env = "gnuabin32" if target_os.endswith("n32") else ("gnuabi64" if "64" in arch else "gnu")
        return f"{arch}-linux-{env}" + ("sf" if fpu == "soft" else "")
    if arch in ("powerpc", "powerpcle"):
        # __powerpc__ without __powerpc64__: "powerpc-linux-gnu" whatever the endianness
        # and float; __SPE__ -> gnuspe (whether oe-core's gcc defines it: the caller)
        return "powerpc-linux-gnuspe" if target_os.endswith("spe") else "powerpc-linux-gnu"
    if arch in ("powerpc64", "powerpc64le"):
        return f"{arch}-linux-gnu"  # __powerpc64__ and __LITTLE_ENDIAN__
    if arch in ("aarch64", "aarch64_be", "riscv32", "riscv64", "loongarch64"):
        # __AARCH64EB__ -> aarch64_be; riscv __riscv_xlen; loongarch64 double float (lp64d)
        return f"{arch}-linux-gnu"
    raise AssertionError(f"no CPython triplet rule here for TARGET_ARCH={arch!r}: add one")


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
