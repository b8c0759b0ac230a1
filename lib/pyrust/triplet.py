"""The platform triplet oe-core's target python3 is built with.

CPython's configure preprocesses a probe (the inline conftest of configure.ac in 3.10
to 3.12, ``Misc/platform_triplet.c`` from 3.13) with the target compiler and takes the
one triplet line it prints as PLATFORM_TRIPLET. When the probe hits its ``#error``
branch, the preprocessor fails and configure keeps the value it was given: oe-core's
python3 recipe passes ``PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS}``
(meta/recipes-devtools/python/python3_*.bb). This module emulates the probe from the
target's tune (which predefined macros the compiler sets) and applies that fallback, or
none where a release's recipe passes no PLATFORM_TRIPLET (:func:`platform_triplet`).

Standard library only: BitBake imports this module.
"""

from __future__ import annotations

from pyrust.tables import CPYTHON_VERSIONS
from pyrust.target import Target


def _libc_names(target: Target, version: tuple[int, int]) -> dict[str, str] | None:
    """The LIBC, LIBC_X32, LIBC_ARM and LIBC_SPE spellings the probe uses, or None for ``#error``.

    Up to 3.12 the probe writes "gnu" whatever the C library is (configure.ac; the 3.11
    and 3.12 ``case $build_os in linux-musl*`` rewrite looks at the *build* machine,
    which in an OE cross build is glibc). From 3.13 ``Misc/platform_triplet.c`` includes
    <features.h> and picks "gnu" for __GLIBC__, "musl" only when <stdarg.h> defines
    ``__DEFINED_va_list`` (musl's own stdarg.h); an OE musl toolchain uses gcc's
    stdarg.h, so neither matches and the probe stops at ``#error unknown libc``
    (oe-core hit this with 3.13, hence its PLATFORM_TRIPLET preset).
    """
    if target.libc == "glibc" or not CPYTHON_VERSIONS[version].probe_knows_libc:
        return {"LIBC": "gnu", "LIBC_X32": "gnux32", "LIBC_ARM": "gnueabi", "LIBC_SPE": "gnuspe"}
    return None


def _mips_triplet(target: Target, libc: str, version: tuple[int, int]) -> str | None:
    """MIPS: the name picks r6, endianness and 32/64-bit ABI; the libc part the ABI.

    3.10 to 3.12 (configure.ac conftest): only ``__mips_hard_float`` targets have a name;
    soft-float hits ``#error``. 3.13+ (Misc/platform_triplet.c, LIBC_MIPS): soft-float
    gets "sf" appended (gnusf, gnuabin32sf, gnuabi64sf). ``_MIPS_SIM`` gives o32 "gnu",
    n32 "gnuabin32", n64 "gnuabi64"; ``__mips64`` (n32 and n64, not o32 on a 64-bit ISA)
    picks the 64-bit name.
    """
    soft = target.float_abi != "hard"
    if soft and not CPYTHON_VERSIONS[version].mips_soft_float_names:
        return None
    if target.isa_r6:
        base32, base64 = "mipsisa32r6", "mipsisa64r6"
    else:
        base32, base64 = "mips", "mips64"
    el = "el" if target.endian == "little" else ""
    sf = "sf" if soft else ""
    if target.abi_variant == "o32":
        return f"{base32}{el}-linux-{libc}{sf}"
    if target.abi_variant == "n32":
        return f"{base64}{el}-linux-{libc}abin32{sf}"
    return f"{base64}{el}-linux-{libc}abi64{sf}"


def detected_triplet(target: Target, version: tuple[int, int]) -> str | None:
    """The triplet CPython's configure probe prints for ``target``, or None on ``#error``.

    Args:
        target: the target description.
        version: the CPython version as a (major, minor) tuple, e.g. (3, 12).

    Returns:
        e.g. "arm-linux-gnueabihf", "i386-linux-gnu", or None where the probe fails
        (musl from 3.13, MIPS soft-float before 3.13, LoongArch before 3.12).

    Source: the ``conftest.c`` here-document in CPython 3.10 to 3.12 configure.ac and
    ``Misc/platform_triplet.c`` from 3.13 (``# if defined(__linux__)`` block); which
    version has which is :data:`pyrust.tables.CPYTHON_VERSIONS`.
    """
    names = _libc_names(target, version)
    if names is None:
        return None
    libc = names["LIBC"]
    family = target.cpu_family
    if family == "x86_64":
        # __x86_64__ && __LP64__ / __x86_64__ && __ILP32__
        return f"x86_64-linux-{names['LIBC_X32']}" if target.abi_variant == "x32" else f"x86_64-linux-{libc}"
    if family == "x86":
        return f"i386-linux-{libc}"
    if family == "aarch64":
        # __AARCH64EL__ / __AARCH64EB__, then __ILP32__
        base = "aarch64" if target.endian == "little" else "aarch64_be"
        if target.abi_variant == "ilp32":
            base += "_ilp32"
        return f"{base}-linux-{libc}"
    if family == "arm":
        # __ARM_EABI__; __ARM_PCS_VFP (hard-float calling convention) adds "hf";
        # __ARMEL__ picks "arm", otherwise "armeb".
        base = "arm" if target.endian == "little" else "armeb"
        abi = names["LIBC_ARM"] + ("hf" if target.float_abi == "hard" else "")
        return f"{base}-linux-{abi}"
    if family in ("mips", "mips64"):
        return _mips_triplet(target, libc, version)
    if family == "powerpc":
        # __powerpc__ && __SPE__ comes first; 32-bit little-endian has no name of its own.
        if target.float_abi == "spe":
            return f"powerpc-linux-{names['LIBC_SPE']}"
        return f"powerpc-linux-{libc}"
    if family == "powerpc64":
        return f"powerpc64{'le' if target.endian == 'little' else ''}-linux-{libc}"
    if family == "s390x":
        return f"s390x-linux-{libc}"  # __s390x__
    if family in ("riscv32", "riscv64"):
        # __riscv with __riscv_xlen 32 / 64; the float ABI is not part of the name.
        return f"{family}-linux-{libc}"
    if family == "loongarch64":
        if not CPYTHON_VERSIONS[version].probe_knows_loongarch:
            return None  # no __loongarch__ branch before 3.12
        # __loongarch_lp64 with __loongarch_double_float / single / soft.
        suffix = {"hard": "", "single": "f32", "soft": "sf"}[target.float_abi]
        return f"loongarch64-linux-{libc}{suffix}"
    return None


def platform_triplet(target: Target, version: tuple[int, int], preset: bool = True) -> str:
    """PLATFORM_TRIPLET of oe-core's target python3 for ``target``.

    The probe's answer (:func:`detected_triplet`) where it has one, else the value the
    python3 recipe gives configure: oe-core's preset ``${HOST_ARCH}-${HOST_OS}``
    (``EXTRA_OECONF:append:class-target`` in meta/recipes-devtools/python/python3_*.bb),
    e.g. "arm-linux-musleabi" for qemuarm with TCLIBC=musl, or nothing where the
    release's recipe passes none (scarthgap: ``platform_triplet_preset`` of
    :func:`pyrust.machines.release_facts`).

    Args:
        target: the target description.
        version: (major, minor), e.g. (3, 14).
        preset: whether the recipe passes ``PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS}``.

    Returns:
        The triplet string; "" only where the probe fails and ``preset`` is False
        (configure then forms SOABI without a triplet).
    """
    detected = detected_triplet(target, version)
    if detected is not None:
        return detected
    return target.host_sys_triplet if preset else ""
