"""BitBake variables -> an immutable description of the target.

The input is a mapping of BitBake variable names to values exactly as ``bitbake -e``
prints them (see :func:`pyrust.bbenv.parse_bitbake_env`). The output, :class:`Target`,
is what the rest of the library needs to know about the CPU, the ABI, the C library,
the Rust target, qemu-user and the ELF header of a correct module. Contradictory or
unknown input raises :class:`pyrust.errors.InputError`; nothing is guessed.

Standard library only: BitBake imports this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from pyrust import tables
from pyrust.errors import InputError

# Every BitBake variable target_from_vars() reads; the bbclass and the fact generator
# read exactly these from the datastore.
BITBAKE_VARIABLES: tuple[str, ...] = (
    "TARGET_ARCH", "TARGET_OS", "TARGET_SYS", "TARGET_VENDOR", "HOST_ARCH", "HOST_OS",
    "TUNE_FEATURES", "TUNE_CCARGS", "TUNE_PKGARCH", "TARGET_FPU", "ABIEXTENSION", "TCLIBC",
    "SITEINFO_BITS", "SITEINFO_ENDIANNESS", "RUST_TARGET_SYS", "RUST_HOST_SYS",
    "PYTHON_BASEVERSION", "MACHINEOVERRIDES", "MACHINE_FEATURES", "OLDEST_KERNEL",
    "QEMU_OPTIONS", "QEMU_EXTRAOPTIONS",
)


@dataclasses.dataclass(frozen=True)
class ElfExpectation:
    """The ELF header a module built for the target carries.

    ``machine`` is e_machine (elf.h EM_*), ``elfclass`` 32 or 64 (EI_CLASS), ``endian``
    "little" or "big" (EI_DATA), ``flag_rules`` the ABI bits of e_flags that must match.
    """

    machine: int
    elfclass: int
    endian: str
    flag_rules: tuple[tables.FlagRule, ...]


@dataclasses.dataclass(frozen=True)
class Target:
    """What the target is, derived from BitBake variables by :func:`target_from_vars`.

    Fields: ``target_arch`` (TARGET_ARCH, e.g. "arm"), ``target_os`` (TARGET_OS, e.g.
    "linux-gnueabi"), ``cpu_family`` ("arm", "aarch64", "x86", "x86_64", "mips", "mips64",
    "powerpc", "powerpc64", "riscv32", "riscv64", "loongarch64"), ``bits`` (32/64, the
    ABI's pointer width), ``endian`` ("little"/"big"), ``float_abi`` ("hard", "softfp",
    "soft", "single", "spe"), ``libc`` ("glibc"/"musl"), ``abi_variant`` ("eabi", "lp64",
    "x32", "o32", "n32", "n64", "ilp32", "spe", "" for the only ABI), ``isa_r6`` (MIPS r6),
    ``tune_features`` and ``tune_ccargs`` (as given), ``host_sys_triplet``
    (``${HOST_ARCH}-${HOST_OS}``, oe-core python3's PLATFORM_TRIPLET preset),
    ``rust_target`` (RUST_HOST_SYS as oe-core computes it, e.g. "armv7-oe-linux-gnueabihf"),
    ``rust_target_upstream`` (the rustc built-in target for standalone builds),
    ``qemu_binary`` ("qemu-arm"), ``qemu_options`` (tuple of arguments),
    ``qemu_usermode`` (False where oe-core opts the machine out), ``uname_machine`` (the
    device kernel's ``uname -m``), ``python_version`` (PYTHON_BASEVERSION or None) and
    ``elf`` (:class:`ElfExpectation`).
    """

    target_arch: str
    target_os: str
    cpu_family: str
    bits: int
    endian: str
    float_abi: str
    libc: str
    abi_variant: str
    isa_r6: bool
    tune_features: frozenset[str]
    tune_ccargs: tuple[str, ...]
    host_sys_triplet: str
    rust_target: str
    rust_target_upstream: str
    qemu_binary: str
    qemu_options: tuple[str, ...]
    qemu_usermode: bool
    uname_machine: str
    python_version: str | None
    elf: ElfExpectation

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict of every field (sets and tuples become sorted lists)."""
        out = dataclasses.asdict(self)
        out["tune_features"] = sorted(self.tune_features)
        out["tune_ccargs"] = list(self.tune_ccargs)
        out["qemu_options"] = list(self.qemu_options)
        out["elf"]["flag_rules"] = [rule._asdict() for rule in self.elf.flag_rules]
        return out


def _get(vars: Mapping[str, str], name: str) -> str | None:
    value = vars.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise InputError(name, value, "a string, as `bitbake -e` prints it")
    return value.strip()


def _require(vars: Mapping[str, str], name: str, expected: str) -> str:
    value = _get(vars, name)
    if not value:
        raise InputError(name, value, expected)
    return value


def _libc(target_os: str, tclibc: str | None) -> str:
    # TARGET_OS = "linux${LIBCEXTENSION}${ABIEXTENSION}" (meta/conf/bitbake.conf) with
    # LIBCEXTENSION "-musl" (tclibc-musl.inc) or "" / "-gnu" (tclibc-glibc.inc).
    if not target_os.startswith("linux"):
        raise InputError("TARGET_OS", target_os, "a Linux OS such as linux, linux-gnueabi or linux-musl")
    from_os = "musl" if target_os.startswith("linux-musl") else "glibc"
    if tclibc is not None and tclibc != "":
        if tclibc not in ("glibc", "musl"):
            raise InputError("TCLIBC", tclibc, "glibc or musl (the C libraries CPython supports on Linux)")
        if tclibc != from_os:
            raise InputError(
                "TCLIBC", tclibc, f"{from_os} to agree with TARGET_OS={target_os!r}"
            )
    return from_os


def _abi_extension(target_os: str, libc: str, abiextension: str | None) -> str:
    # Strip LIBCEXTENSION from TARGET_OS to recover ABIEXTENSION (bitbake.conf).
    rest = target_os[len("linux"):]
    for prefix in ("-musl", "-gnu"):
        if rest.startswith(prefix):
            rest = rest[len(prefix):]
            break
    if abiextension is not None and abiextension != rest:
        raise InputError(
            "ABIEXTENSION", abiextension, f"{rest!r}, the ABI suffix of TARGET_OS={target_os!r}"
        )
    return rest


def _endian(arch: str, facts: tables.ArchFacts, vars: Mapping[str, str],
            ccargs: tuple[str, ...], features: frozenset[str]) -> str:
    endian = facts.endian
    siteinfo = _get(vars, "SITEINFO_ENDIANNESS")
    if siteinfo:
        if siteinfo not in tables.SITEINFO_ENDIANNESS:
            raise InputError("SITEINFO_ENDIANNESS", siteinfo, "le or be")
        if tables.SITEINFO_ENDIANNESS[siteinfo] != endian:
            raise InputError(
                "SITEINFO_ENDIANNESS", siteinfo,
                f"{'le' if endian == 'little' else 'be'} for TARGET_ARCH={arch!r}",
            )
    for arg in ccargs:
        forced = tables.ENDIAN_CCARGS.get(arg)
        if forced and forced != endian:
            raise InputError(
                "TUNE_CCARGS", arg, f"no {forced}-endian flag for the {endian}-endian TARGET_ARCH={arch!r}"
            )
    if "bigendian" in features and endian != "big":
        raise InputError(
            "TUNE_FEATURES", "bigendian", f"a big-endian TARGET_ARCH (armeb, mips, powerpc...), not {arch!r}"
        )
    return endian


def _ccarg_value(ccargs: tuple[str, ...], option: str) -> str | None:
    """The value of the last ``-option=value`` in TUNE_CCARGS, as gcc reads it."""
    found = None
    for arg in ccargs:
        if arg.startswith(option + "="):
            found = arg.split("=", 1)[1]
    return found


def _has_float_evidence(vars: Mapping[str, str]) -> bool:
    return any(name in vars for name in ("TUNE_CCARGS", "TUNE_FEATURES", "TARGET_FPU"))


def _float_abi(family: str, vars: Mapping[str, str], ccargs: tuple[str, ...],
               features: frozenset[str], abiext: str) -> str:
    fpu = _get(vars, "TARGET_FPU")
    if family in ("x86", "x86_64", "aarch64", "loongarch64", "s390x"):
        return "hard"
    if not _has_float_evidence(vars):
        raise InputError(
            "TARGET_FPU", None,
            "TARGET_FPU, TUNE_FEATURES or TUNE_CCARGS to tell the float ABI (bitbake -e prints all three)",
        )
    if family == "arm":
        # arm/arch-arm.inc: TARGET_FPU = TUNE_CCARGS_MFLOAT or "soft";
        # arm/feature-arm-vfp.inc: -mfloat-abi=hard iff callconvention-hard.
        mfloat = _ccarg_value(ccargs, "-mfloat-abi")
        derived = mfloat or ("hard" if "callconvention-hard" in features else None)
        if derived is None:
            derived = fpu or "soft"
        if derived not in ("hard", "softfp", "soft"):
            raise InputError("TUNE_CCARGS", f"-mfloat-abi={derived}", "-mfloat-abi=hard, softfp or soft")
        if fpu and fpu != derived:
            raise InputError("TARGET_FPU", fpu, f"{derived!r} to agree with TUNE_CCARGS/TUNE_FEATURES")
        return derived
    if family in ("mips", "mips64"):
        # mips/arch-mips.inc: fpu-hard -> -mhard-float and TARGET_FPU "", else -msoft-float, "soft".
        soft = "-msoft-float" in ccargs or fpu == "soft"
        hard = "-mhard-float" in ccargs or "fpu-hard" in features or (fpu == "" and "TARGET_FPU" in vars)
        if soft and hard:
            raise InputError("TARGET_FPU", fpu, "one float ABI: TUNE_CCARGS/TUNE_FEATURES say hard, TARGET_FPU soft")
        if not soft and not hard:
            raise InputError("TUNE_CCARGS", " ".join(ccargs), "-mhard-float or -msoft-float (or TARGET_FPU)")
        return "hard" if hard else "soft"
    if family in ("powerpc", "powerpc64"):
        # powerpc/arch-powerpc.inc (fpu-soft -> soft), tune-ppce500*.inc (spe -> ppc-ef*).
        if "spe" in features or "spe" in abiext or "-mspe" in ccargs:
            return "spe"
        if "-msoft-float" in ccargs or "fpu-soft" in features or fpu == "soft":
            return "soft"
        return "hard"
    if family in ("riscv32", "riscv64"):
        # riscv/arch-riscv.inc: -mabi=ilp32/ilp32f/ilp32d, lp64/lp64f/lp64d. scarthgap's
        # sets -mabi only for the soft-float tunes (riscv32nf, riscv64nf): without one,
        # oe-core's gcc (configured with no --with-abi) uses GCC's riscv default for the
        # rv32gc/rv64gc it is built for, ilp32d/lp64d (gcc/config.gcc): hard float.
        mabi = _ccarg_value(ccargs, "-mabi")
        if mabi is None:
            return "hard"
        return {"d": "hard", "f": "single"}.get(mabi[-1], "soft")
    raise AssertionError(family)  # every family in tables.TARGET_ARCHES is handled above


def _abi_variant(arch: str, facts: tables.ArchFacts, abiext: str, features: frozenset[str]) -> str:
    family = facts.cpu_family
    if family == "x86_64":
        if ("mx32" in features) != (abiext == "x32") and features:
            raise InputError("ABIEXTENSION", abiext, "'x32' exactly when TUNE_FEATURES has mx32")
        return "x32" if abiext == "x32" else "lp64"
    if family in ("mips", "mips64"):
        if abiext not in ("", "n32"):
            raise InputError("ABIEXTENSION", abiext, "'' or 'n32' for MIPS")
        if abiext == "n32":
            if family != "mips64":
                raise InputError("ABIEXTENSION", abiext, f"no n32 for the 32-bit TARGET_ARCH={arch!r}")
            return "n32"
        if features and "n32" in features:
            raise InputError("ABIEXTENSION", abiext, "'n32' because TUNE_FEATURES has n32")
        return "n64" if family == "mips64" else "o32"
    if family == "arm":
        if abiext != "eabi":
            raise InputError("ABIEXTENSION", abiext, "'eabi' for ARM (arm/arch-arm.inc)")
        return "eabi"
    if family == "aarch64":
        if abiext == "ilp32":
            return "ilp32"
        if abiext:
            raise InputError("ABIEXTENSION", abiext, "'' (or 'ilp32') for AArch64")
        return "lp64"
    if family == "powerpc":
        if abiext not in ("", "spe"):
            raise InputError("ABIEXTENSION", abiext, "'' or 'spe' for 32-bit PowerPC")
        return abiext
    if abiext:
        raise InputError("ABIEXTENSION", abiext, f"'' for TARGET_ARCH={arch!r}")
    return ""


def _bits(arch: str, facts: tables.ArchFacts, variant: str, vars: Mapping[str, str]) -> int:
    bits = 32 if variant in tables.ILP32_ABIS or variant == "ilp32" else facts.bits
    siteinfo = _get(vars, "SITEINFO_BITS")
    if siteinfo:
        if siteinfo != str(bits):
            raise InputError("SITEINFO_BITS", siteinfo, f"{bits} for TARGET_ARCH={arch!r} with the {variant or 'default'} ABI")
    return bits


# Where the ARM architecture level can be read, in the order they are consulted.
_ARM_LEVEL_SOURCES = ("MACHINEOVERRIDES", "TUNE_FEATURES", "TUNE_CCARGS", "TUNE_PKGARCH")


def _level_of_ccargs(ccargs: tuple[str, ...]) -> str | None:
    march = _ccarg_value(ccargs, "-march")
    if march is not None:
        return tables.ARM_MARCH_LEVELS.get(march.split("+", 1)[0])
    mcpu = _ccarg_value(ccargs, "-mcpu")
    if mcpu is not None:
        base = mcpu.split("+", 1)[0]
        return next((cpu.level for cpu in tables.ARM_CPUS.values() if cpu.mcpu == base), None)
    return None


def _level_of_pkgarch(pkgarch: str) -> str | None:
    # TUNE_PKGARCH = ${ARMPKGARCH}${ARMPKGSFX_THUMB}${ARMPKGSFX_DSP}... (arm/arch-arm.inc):
    # it starts with the generic tune's level (armv7at2hf-neon) or the CPU (cortexa15t2hf-neon).
    names = sorted([*tables.ARM_LEVELS, *tables.ARM_CPUS], key=len, reverse=True)
    name = next((n for n in names if pkgarch.startswith(n)), None)
    if name is None:
        return None
    return tables.ARM_CPUS[name].level if name in tables.ARM_CPUS else name


def _level_of_words(words: set[str]) -> str | None:
    found = [level for level in tables.ARM_LEVELS if level in words]
    found += [tables.ARM_CPUS[w].level for w in sorted(words) if w in tables.ARM_CPUS]
    return found[0] if found else None


def arm_level(vars: Mapping[str, str], features: frozenset[str], ccargs: tuple[str, ...]) -> str:
    """The 32-bit ARM architecture level of a tune, from whichever variables tell it.

    oe-core's CPU tunes (tune-cortexa15.inc, tune-arm926ejs.inc) put the level only into
    MACHINEOVERRIDES ("armv7ve", "armv5"); TUNE_FEATURES then names the CPU, TUNE_CCARGS
    has ``-mcpu=`` instead of ``-march=``, TUNE_PKGARCH starts with the CPU or level, and
    RUST_TARGET_SYS starts with "armv7" exactly for the v7 levels. Every source that is
    given and names a level must name the same one.

    Args:
        vars: the BitBake variables (MACHINEOVERRIDES, TUNE_PKGARCH, RUST_TARGET_SYS and
            RUST_HOST_SYS are read here).
        features: TUNE_FEATURES as a set; ccargs: TUNE_CCARGS split.

    Returns:
        One of :data:`pyrust.tables.ARM_LEVELS` ("armv7ve"), or "armv7" when only the
        Rust target tells it (enough for ``uname -m`` and the Rust target).

    Raises:
        InputError: two sources disagree (naming both), or none tells the level (naming
            the variables that would).

    Example:
        >>> arm_level({"TUNE_PKGARCH": "cortexa15t2hf-neon"}, frozenset({"arm", "cortexa15"}),
        ...           ("-mcpu=cortex-a15",))
        'armv7ve'

    Sources: :data:`pyrust.tables.ARM_LEVELS`, :data:`~pyrust.tables.ARM_CPUS`,
    :data:`~pyrust.tables.ARM_MARCH_LEVELS`; target_is_armv7() in rust-common.bbclass.
    """
    overrides = set((_get(vars, "MACHINEOVERRIDES") or "").split(":"))
    pkgarch = _get(vars, "TUNE_PKGARCH") or ""
    found: list[tuple[str, str, str]] = []  # (variable, value, level)
    for name, value, level in (
        ("MACHINEOVERRIDES", _get(vars, "MACHINEOVERRIDES") or "", _level_of_words(overrides)),
        ("TUNE_FEATURES", " ".join(sorted(features)), _level_of_words(set(features))),
        ("TUNE_CCARGS", " ".join(ccargs), _level_of_ccargs(ccargs)),
        ("TUNE_PKGARCH", pkgarch, _level_of_pkgarch(pkgarch) if pkgarch else None),
    ):
        if level is not None:
            found.append((name, value, level))
    for name, value, level in found[1:]:
        if level != found[0][2]:
            first = found[0]
            raise InputError(name, value, f"the ARM level {first[2]} that {first[0]}={first[1]!r} names, not {level}")
    rust = ""
    for name in ("RUST_TARGET_SYS", "RUST_HOST_SYS"):
        value = _get(vars, name) or ""
        if value.startswith(("armv7-", "arm-")):
            rust = name
            rust_v7 = value.startswith("armv7-")
            if found and (found[0][2] in tables.ARM_V7_LEVELS) != rust_v7:
                kind = "armv7-..." if found[0][2] in tables.ARM_V7_LEVELS else "arm-..."
                raise InputError(name, value, f"{kind} for the ARM level {found[0][2]} that {found[0][0]}={found[0][1]!r} names")
            break
    if found:
        return found[0][2]
    if rust and rust_v7:
        return "armv7"
    given = [n for n in (*_ARM_LEVEL_SOURCES, "RUST_TARGET_SYS") if _get(vars, n)]
    raise InputError(
        "MACHINEOVERRIDES", None,
        "an ARM architecture level (armv5, armv6, armv7a, armv7ve, armv8a...) in MACHINEOVERRIDES, TUNE_FEATURES, "
        "TUNE_CCARGS (-march=/-mcpu=) or TUNE_PKGARCH, or an armv7 RUST_TARGET_SYS; "
        + (f"{', '.join(given)} {'names' if len(given) == 1 else 'name'} none" if given else "none of them is set")
        + " (copy them from `bitbake -e`)",
    )


def _oe_rust_target(arch: str, vendor: str, target_os: str, features: frozenset[str], level: str) -> str:
    """RUST_HOST_SYS as rust_base_triple() in meta/classes-recipe/rust-common.bbclass."""
    rust_arch = "armv7" if arch == "arm" and (level in tables.ARM_V7_LEVELS or level == "armv7") else arch
    os_ = target_os
    libc = "-gnu"
    if os_ in ("linux-gnueabi", "linux-musleabi"):
        libc = "hf" if "callconvention-hard" in features else ""
    elif os_ in ("linux-gnux32", "linux-muslx32"):
        libc = ""
    elif "musl" in os_:
        libc = "-musl"
        os_ = "linux"
    return f"{rust_arch}{vendor or '-unknown'}-{os_}{libc}"


def _rust_arch_matches(target_arch: str, rust_arch: str) -> bool:
    if rust_arch == target_arch:
        return True
    allowed = {
        "arm": ("arm", "armv4t", "armv5te", "armv6", "armv7", "thumbv7neon"),
        "riscv32": ("riscv32gc", "riscv32imac"),
        "riscv64": ("riscv64gc",),
    }
    return rust_arch in allowed.get(target_arch, ())


def _check_rust_target(name: str, rust: str, arch: str, libc: str, float_abi: str) -> None:
    rust_arch = rust.split("-", 1)[0]
    if not _rust_arch_matches(arch, rust_arch):
        raise InputError(name, rust, f"a Rust target for TARGET_ARCH={arch!r} (e.g. {arch}-oe-linux-...)")
    is_musl = "musl" in rust
    if is_musl != (libc == "musl"):
        raise InputError(name, rust, f"a {libc} Rust target to agree with TARGET_OS/TCLIBC")
    if arch in ("arm", "armeb"):
        rust_hard = rust.endswith("hf")
        if rust_hard != (float_abi == "hard"):
            kind, ending = ("hard", "…eabihf") if float_abi == "hard" else ("soft", "…eabi")
            raise InputError(name, rust, f"a {kind}-float ARM Rust target ({ending}) for TARGET_FPU={float_abi!r}")


def _upstream_rust_target(facts: tables.ArchFacts, arch: str, oe_rust: str, libc: str,
                          variant: str, float_abi: str, level: str) -> str:
    """The rustc built-in target closest to OE's generated one (for standalone builds)."""
    rust_arch = oe_rust.split("-", 1)[0]
    family = facts.cpu_family
    if family == "arm":
        if rust_arch == "arm" and level == "armv5":
            rust_arch = "armv5te"
        abi = "eabihf" if float_abi == "hard" else "eabi"
        return f"{rust_arch}-unknown-linux-{'musl' if libc == 'musl' else 'gnu'}{abi}"
    rust_arch = tables.RUST_UPSTREAM_ARCH.get(arch, rust_arch)
    lib = "musl" if libc == "musl" else "gnu"
    if variant == "x32":
        return f"x86_64-unknown-linux-{lib}x32"
    if family == "mips64":
        # rustc spells the 64-bit MIPS ABIs out: gnuabi64 / muslabi64 (n32 has no target).
        suffix = "abin32" if variant == "n32" else "abi64"
        return f"{rust_arch}-unknown-linux-{lib}{suffix}"
    if variant == "spe":
        return f"{rust_arch}-unknown-linux-{lib}spe"
    return f"{rust_arch}-unknown-linux-{lib}"


def _uname_machine(arch: str, facts: tables.ArchFacts, level: str) -> str:
    if facts.cpu_family == "arm":
        suffix = "b" if facts.endian == "big" else "l"
        for feature, name in tables.ARM_UNAME_BY_FEATURE:
            if level == feature or level.startswith(feature):
                return name + suffix
        return "armv7" + suffix  # level "armv7": only RUST_TARGET_SYS told it
    return tables.UNAME_MACHINE[arch]


def _qemu(arch: str, vars: Mapping[str, str], features: frozenset[str]) -> tuple[str, tuple[str, ...], bool]:
    # meta/lib/oe/qemu.py qemu_target_binary(); QEMU_OPTIONS from meta/classes-recipe/qemu.bbclass.
    binary = "qemu-" + tables.QEMU_ARCH_RENAMES.get(arch, arch)
    options_text = _get(vars, "QEMU_OPTIONS")
    if options_text is None:
        parts = []
        oldest = _get(vars, "OLDEST_KERNEL")
        if oldest:
            parts += ["-r", oldest]
        parts += (_get(vars, "QEMU_EXTRAOPTIONS") or "").split()
        options = tuple(parts)
    else:
        options = tuple(options_text.split())
    machine_features = _get(vars, "MACHINE_FEATURES")
    if machine_features is not None:
        usermode = "qemu-usermode" in machine_features.split()
    else:
        usermode = not (features & tables.QEMU_USERMODE_OPT_OUT_FEATURES)
    return binary, options, usermode


def _elf(facts: tables.ArchFacts, bits: int, endian: str, float_abi: str, variant: str) -> ElfExpectation:
    family = facts.cpu_family
    rules: list[tables.FlagRule] = []
    if family == "arm":
        rules.append(tables.ARM_FLOAT_FLAGS[float_abi])
    elif family in ("mips", "mips64"):
        rules.append(tables.MIPS_ABI_FLAGS[variant])
        rules.append(tables.MIPS_NAN_FLAGS[facts.isa_r6])
    elif family in ("riscv32", "riscv64"):
        rules.append(tables.RISCV_FLOAT_FLAGS[float_abi])
    return ElfExpectation(tables.ELF_MACHINES[family], bits, endian, tuple(rules))


def target_from_vars(vars: Mapping[str, str]) -> Target:
    """Describe the target from BitBake variables.

    Args:
        vars: BitBake variable name -> value, as ``bitbake -e <recipe>`` prints them.
            Required: TARGET_ARCH, TARGET_OS. Read when present (and checked against each
            other): TARGET_SYS, TARGET_VENDOR, HOST_ARCH, HOST_OS, TUNE_FEATURES,
            TUNE_CCARGS, TUNE_PKGARCH, TARGET_FPU, ABIEXTENSION, TCLIBC, SITEINFO_BITS,
            SITEINFO_ENDIANNESS, RUST_TARGET_SYS, RUST_HOST_SYS, PYTHON_BASEVERSION,
            MACHINEOVERRIDES, MACHINE_FEATURES, OLDEST_KERNEL, QEMU_OPTIONS,
            QEMU_EXTRAOPTIONS. Float-ABI evidence (TARGET_FPU, TUNE_FEATURES or
            TUNE_CCARGS) is required for arm, mips, powerpc and riscv; 32-bit ARM also
            needs its architecture level from MACHINEOVERRIDES or, without it, from
            TUNE_FEATURES, TUNE_CCARGS, TUNE_PKGARCH or RUST_TARGET_SYS (:func:`arm_level`).

    Returns:
        A frozen :class:`Target`.

    Raises:
        InputError: a variable is missing, unknown (e.g. TARGET_ARCH="sparc"), or
            contradicts another (TARGET_ARCH=arm with RUST_TARGET_SYS=mips-..., a
            big-endian flag with a little-endian TARGET_ARCH, TCLIBC=musl with a glibc
            TARGET_OS).

    Example:
        >>> t = target_from_vars({"TARGET_ARCH": "arm", "TARGET_OS": "linux-gnueabi",
        ...     "TUNE_FEATURES": "arm armv7ve vfp thumb neon callconvention-hard",
        ...     "TUNE_CCARGS": "-march=armv7ve -mfpu=neon -mfloat-abi=hard"})
        >>> (t.cpu_family, t.float_abi, t.rust_target, t.qemu_binary)
        ('arm', 'hard', 'armv7-unknown-linux-gnueabihf', 'qemu-arm')

    Rules mirror meta/conf/bitbake.conf, meta/conf/machine/include/*/arch-*.inc,
    rust_base_triple() in meta/classes-recipe/rust-common.bbclass and
    meta/lib/oe/qemu.py; the tables they use are in :mod:`pyrust.tables`.
    """
    if not isinstance(vars, Mapping):
        raise InputError("variables", type(vars).__name__, "a mapping of BitBake variable names to values")
    arch = _require(vars, "TARGET_ARCH", "a TARGET_ARCH such as arm, aarch64 or x86_64")
    facts = tables.TARGET_ARCHES.get(arch)
    if facts is None:
        raise InputError("TARGET_ARCH", arch, "one of " + ", ".join(tables.TARGET_ARCHES))
    target_os = _require(vars, "TARGET_OS", "a TARGET_OS such as linux, linux-gnueabi or linux-musl")
    features = frozenset((_get(vars, "TUNE_FEATURES") or "").split())
    ccargs = tuple((_get(vars, "TUNE_CCARGS") or "").split())

    host_arch = _get(vars, "HOST_ARCH") or arch
    host_os = _get(vars, "HOST_OS") or target_os
    if (host_arch, host_os) != (arch, target_os):
        raise InputError(
            "HOST_ARCH", f"{host_arch}-{host_os}",
            f"{arch}-{target_os} (TARGET_ARCH-TARGET_OS): the variables of a target recipe, not a -native or cross one",
        )
    vendor = _get(vars, "TARGET_VENDOR") or ""
    target_sys = _get(vars, "TARGET_SYS")
    if target_sys and target_sys != f"{arch}{vendor}-{target_os}":
        if not (target_sys.startswith(arch + "-") and target_sys.endswith("-" + target_os)):
            raise InputError("TARGET_SYS", target_sys, f"{arch}<vendor>-{target_os} (TARGET_ARCH, TARGET_VENDOR, TARGET_OS)")
        vendor = target_sys[len(arch):-len(target_os) - 1]

    libc = _libc(target_os, _get(vars, "TCLIBC"))
    abiext = _abi_extension(target_os, libc, _get(vars, "ABIEXTENSION"))
    endian = _endian(arch, facts, vars, ccargs, features)
    variant = _abi_variant(arch, facts, abiext, features)
    bits = _bits(arch, facts, variant, vars)
    float_abi = _float_abi(facts.cpu_family, vars, ccargs, features, abiext)

    level = arm_level(vars, features, ccargs) if facts.cpu_family == "arm" else ""
    computed_rust = _oe_rust_target(arch, vendor, target_os, features, level)
    rust_host = _get(vars, "RUST_HOST_SYS")
    rust_target = _get(vars, "RUST_TARGET_SYS")
    if rust_host and rust_target and rust_host != rust_target:
        raise InputError("RUST_HOST_SYS", rust_host, f"{rust_target!r} (RUST_TARGET_SYS) for a target recipe")
    rust = rust_host or rust_target or computed_rust
    _check_rust_target("RUST_HOST_SYS" if rust_host else "RUST_TARGET_SYS", rust, arch, libc, float_abi)

    qemu_binary, qemu_options, usermode = _qemu(arch, vars, features)
    python_version = _get(vars, "PYTHON_BASEVERSION") or None

    return Target(
        target_arch=arch,
        target_os=target_os,
        cpu_family=facts.cpu_family,
        bits=bits,
        endian=endian,
        float_abi=float_abi,
        libc=libc,
        abi_variant=variant,
        isa_r6=facts.isa_r6,
        tune_features=features,
        tune_ccargs=ccargs,
        host_sys_triplet=f"{host_arch}-{host_os}",
        rust_target=rust,
        rust_target_upstream=_upstream_rust_target(facts, arch, rust, libc, variant, float_abi, level),
        qemu_binary=qemu_binary,
        qemu_options=qemu_options,
        qemu_usermode=usermode,
        uname_machine=_uname_machine(arch, facts, level),
        python_version=python_version,
        elf=_elf(facts, bits, endian, float_abi, variant),
    )
