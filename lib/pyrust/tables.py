"""Data tables: one table per fact, each citing the file it mirrors.

Nothing here computes; :mod:`pyrust.target` and :mod:`pyrust.pyabi` read these tables.
Paths like ``meta/conf/machine/include/arm/arch-arm.inc`` are in openembedded-core;
``elf.h`` is glibc's ``elf.h`` (identical values in the Linux UAPI headers).
"""

from __future__ import annotations

from typing import NamedTuple


class ArchFacts(NamedTuple):
    """What TARGET_ARCH alone says about the CPU."""

    cpu_family: str
    bits: int  # word size of the ISA; ILP32 ABIs (x32, n32) lower it, see ILP32_ABIS
    endian: str  # "little" or "big"
    isa_r6: bool = False  # MIPS release 6 (mipsisa32r6*, mipsisa64r6*)


# TARGET_ARCH -> facts. Sources: TUNE_ARCH in meta/conf/machine/include/arm/arch-arm.inc
# (arm, armeb), arm/arch-arm64.inc (aarch64, aarch64_be), x86/arch-x86.inc (X86ARCH32 =
# i586/i686, X86ARCH64), mips/arch-mips.inc (mips${32R6}${64R6}${BYTE}${R6}${ENDIAN}),
# powerpc/arch-powerpc.inc and arch-powerpc64.inc (powerpc${ENDIAN_SFX}), riscv/arch-riscv.inc,
# loongarch/tune-loongarch.inc.
TARGET_ARCHES: dict[str, ArchFacts] = {
    "arm": ArchFacts("arm", 32, "little"),
    "armeb": ArchFacts("arm", 32, "big"),
    "aarch64": ArchFacts("aarch64", 64, "little"),
    "aarch64_be": ArchFacts("aarch64", 64, "big"),
    "i486": ArchFacts("x86", 32, "little"),
    "i586": ArchFacts("x86", 32, "little"),
    "i686": ArchFacts("x86", 32, "little"),
    "x86_64": ArchFacts("x86_64", 64, "little"),
    "mips": ArchFacts("mips", 32, "big"),
    "mipsel": ArchFacts("mips", 32, "little"),
    "mips64": ArchFacts("mips64", 64, "big"),
    "mips64el": ArchFacts("mips64", 64, "little"),
    "mipsisa32r6": ArchFacts("mips", 32, "big", isa_r6=True),
    "mipsisa32r6el": ArchFacts("mips", 32, "little", isa_r6=True),
    "mipsisa64r6": ArchFacts("mips64", 64, "big", isa_r6=True),
    "mipsisa64r6el": ArchFacts("mips64", 64, "little", isa_r6=True),
    "powerpc": ArchFacts("powerpc", 32, "big"),
    "powerpcle": ArchFacts("powerpc", 32, "little"),
    "powerpc64": ArchFacts("powerpc64", 64, "big"),
    "powerpc64le": ArchFacts("powerpc64", 64, "little"),
    "riscv32": ArchFacts("riscv32", 32, "little"),
    "riscv64": ArchFacts("riscv64", 64, "little"),
    "loongarch64": ArchFacts("loongarch64", 64, "little"),
    # Not in oe-core; used by out-of-tree BSPs and Debian's s390x port.
    "s390x": ArchFacts("s390x", 64, "big"),
}

# ABIEXTENSION values that make a 64-bit ISA run an ILP32 ABI: x86/arch-x86.inc ("x32"
# with TUNE_FEATURES mx32), mips/arch-mips.inc ("n32" with TUNE_FEATURES n32).
ILP32_ABIS: dict[str, str] = {"x32": "x86_64", "n32": "mips64"}

# SITEINFO_ENDIANNESS spelling -> endian. Source: meta/classes-recipe/siteinfo.bbclass.
SITEINFO_ENDIANNESS: dict[str, str] = {"le": "little", "be": "big"}

# TUNE_CCARGS flags that force an endianness. Sources: arm/arch-arm.inc (-mbig-endian via
# feature bigendian), mips/arch-mips.inc (-EB/-EL), powerpc/arch-powerpc.inc (-mbig-endian,
# -mlittle-endian).
ENDIAN_CCARGS: dict[str, str] = {
    "-mbig-endian": "big",
    "-mlittle-endian": "little",
    "-EB": "big",
    "-EL": "little",
}

# e_machine per CPU family. Source: elf.h (EM_386 3, EM_MIPS 8, EM_PPC 20, EM_PPC64 21,
# EM_ARM 40, EM_X86_64 62, EM_AARCH64 183, EM_RISCV 243, EM_LOONGARCH 258).
ELF_MACHINES: dict[str, int] = {
    "x86": 3,
    "mips": 8,
    "mips64": 8,
    "powerpc": 20,
    "powerpc64": 21,
    "arm": 40,
    "x86_64": 62,
    "aarch64": 183,
    "riscv32": 243,
    "riscv64": 243,
    "loongarch64": 258,
    "s390x": 22,
}

# Names of the e_machine values above, for messages.
ELF_MACHINE_NAMES: dict[int, str] = {
    3: "EM_386",
    8: "EM_MIPS",
    20: "EM_PPC",
    21: "EM_PPC64",
    40: "EM_ARM",
    62: "EM_X86_64",
    183: "EM_AARCH64",
    243: "EM_RISCV",
    258: "EM_LOONGARCH",
    22: "EM_S390",
}


class FlagRule(NamedTuple):
    """``e_flags & mask`` must equal ``value``; ``what`` names the rule in findings."""

    mask: int
    value: int
    what: str


# ARM EABI float ABI bits. Source: elf.h EF_ARM_ABI_FLOAT_SOFT 0x200, EF_ARM_ABI_FLOAT_HARD
# 0x400 (binutils sets one of them on every EABI5 object; softfp uses the soft calling
# convention and so the soft bit).
ARM_FLOAT_FLAGS: dict[str, FlagRule] = {
    "hard": FlagRule(0x600, 0x400, "ARM hard-float ABI (EF_ARM_ABI_FLOAT_HARD)"),
    "softfp": FlagRule(0x600, 0x200, "ARM soft-float ABI (EF_ARM_ABI_FLOAT_SOFT)"),
    "soft": FlagRule(0x600, 0x200, "ARM soft-float ABI (EF_ARM_ABI_FLOAT_SOFT)"),
}

# MIPS ABI bits. Source: elf.h EF_MIPS_ABI2 0x20 (n32), EF_MIPS_ABI 0xf000 with
# EF_MIPS_ABI_O32 0x1000; n64 sets neither (it is told by ELFCLASS64).
MIPS_ABI_FLAGS: dict[str, FlagRule] = {
    "o32": FlagRule(0xF020, 0x1000, "MIPS o32 ABI (EF_MIPS_ABI_O32)"),
    "n32": FlagRule(0xF020, 0x0020, "MIPS n32 ABI (EF_MIPS_ABI2)"),
    "n64": FlagRule(0xF020, 0x0000, "MIPS n64 ABI (no EF_MIPS_ABI bits)"),
}

# MIPS NaN encoding. Source: elf.h EF_MIPS_NAN2008 0x400; release 6 always uses IEEE
# 754-2008 NaNs, older ISAs the legacy encoding (gcc -mnan=legacy default).
MIPS_NAN_FLAGS: dict[bool, FlagRule] = {
    True: FlagRule(0x400, 0x400, "MIPS NaN 2008 (EF_MIPS_NAN2008)"),
    False: FlagRule(0x400, 0x000, "MIPS legacy NaN (no EF_MIPS_NAN2008)"),
}

# RISC-V float ABI. Source: elf.h EF_RISCV_FLOAT_ABI 0x6 (SOFT 0x0, SINGLE 0x2, DOUBLE 0x4).
RISCV_FLOAT_FLAGS: dict[str, FlagRule] = {
    "soft": FlagRule(0x6, 0x0, "RISC-V soft-float ABI"),
    "single": FlagRule(0x6, 0x2, "RISC-V single-float ABI"),
    "hard": FlagRule(0x6, 0x4, "RISC-V double-float ABI (EF_RISCV_FLOAT_ABI_DOUBLE)"),
}

# qemu-user binary per TARGET_ARCH where it differs from "qemu-${TARGET_ARCH}".
# Source: qemu_target_binary() in meta/lib/oe/qemu.py.
QEMU_ARCH_RENAMES: dict[str, str] = {
    "i486": "i386",
    "i586": "i386",
    "i686": "i386",
    "powerpc": "ppc",
    "powerpc64": "ppc64",
    "powerpc64le": "ppc64le",
}

# TUNE_FEATURES that put qemu-usermode in MACHINE_FEATURES_OPTED_OUT. Sources:
# mips/arch-mips.inc (n32), x86/arch-x86.inc (mx32), powerpc/tune-power5.inc,
# tune-power6.inc, tune-power7.inc, tune-ppce5500.inc, tune-ppce6500.inc.
QEMU_USERMODE_OPT_OUT_FEATURES: frozenset[str] = frozenset(
    {"n32", "mx32", "power5", "power6", "power7", "e5500", "e6500"}
)

# Kernel `uname -m` (what sysconfig.get_platform() and so the wheel platform tag follow)
# per TARGET_ARCH, where it does not depend on the tune. Sources: Linux
# arch/*/Makefile UTS_MACHINE and arch/*/kernel/setup.c; i686 assumes a 686-class CPU.
# Uncertain rows: mips/mips64 report "mips"/"mips64" for both endiannesses (UTS_MACHINE
# in arch/mips/Makefile), x32 reports the 64-bit kernel's "x86_64".
UNAME_MACHINE: dict[str, str] = {
    "aarch64": "aarch64",
    "aarch64_be": "aarch64_be",
    "i486": "i486",
    "i586": "i586",
    "i686": "i686",
    "x86_64": "x86_64",
    "mips": "mips",
    "mipsel": "mips",
    "mipsisa32r6": "mips",
    "mipsisa32r6el": "mips",
    "mips64": "mips64",
    "mips64el": "mips64",
    "mipsisa64r6": "mips64",
    "mipsisa64r6el": "mips64",
    "powerpc": "ppc",
    "powerpcle": "ppcle",
    "powerpc64": "ppc64",
    "powerpc64le": "ppc64le",
    "riscv32": "riscv32",
    "riscv64": "riscv64",
    "loongarch64": "loongarch64",
    "s390x": "s390x",
}

# 32-bit ARM architecture levels as oe-core names them: the override each
# meta/conf/machine/include/arm/arch-armv*.inc adds to MACHINEOVERRIDES (and the
# TUNE_FEATURES entry of the generic tunes), newest first.
ARM_LEVELS: tuple[str, ...] = ("armv8a", "armv7ve", "armv7a", "armv7r", "armv7m", "armv6", "armv5", "armv4")

# The levels rust_base_triple() names "armv7" (target_is_armv7() in
# meta/classes-recipe/rust-common.bbclass); every other 32-bit ARM level is "arm".
ARM_V7_LEVELS: frozenset[str] = frozenset({"armv7a", "armv7r", "armv7m", "armv7ve"})

# gcc -march= value (without +extensions) -> level. Sources: TUNE_CCARGS_MARCH in
# arm/arch-armv4.inc (armv4; armv4t with thumb), arch-armv5.inc (armv5t; armv5te with
# dsp), arch-armv6.inc, arch-armv7a.inc (armv7-a), arch-armv7ve.inc, arch-armv7r.inc
# (armv7-r), arch-armv8a.inc (armv8-a).
ARM_MARCH_LEVELS: dict[str, str] = {
    "armv4": "armv4", "armv4t": "armv4",
    "armv5t": "armv5", "armv5te": "armv5", "armv5tej": "armv5",
    "armv6": "armv6", "armv6j": "armv6", "armv6k": "armv6", "armv6z": "armv6", "armv6kz": "armv6", "armv6zk": "armv6",
    "armv7-a": "armv7a", "armv7ve": "armv7ve", "armv7-r": "armv7r", "armv7-m": "armv7m",
    "armv8-a": "armv8a",
}


class ArmCpu(NamedTuple):
    """A CPU tune: its gcc -mcpu= value and the architecture level its tune file requires."""

    mcpu: str
    level: str


# CPU TUNE_FEATURES entry (also ARMPKGARCH, the start of TUNE_PKGARCH) -> CPU. These
# tunes pass -mcpu= instead of -march= and name the level only in MACHINEOVERRIDES.
# Sources: meta/conf/machine/include/arm/armv*/tune-*.inc (TUNEVALID, TUNE_CCARGS -mcpu=,
# `require .../arch-armv*.inc`) of the Linux-capable profiles (A, R and classic cores).
ARM_CPUS: dict[str, ArmCpu] = {
    "arm920t": ArmCpu("arm920t", "armv4"),
    "arm9tdmi": ArmCpu("arm9tdmi", "armv4"),
    "ep9312": ArmCpu("ep9312", "armv4"),
    "strongarm": ArmCpu("strongarm1100", "armv4"),
    "arm926ejs": ArmCpu("arm926ej-s", "armv5"),
    "iwmmxt": ArmCpu("iwmmxt", "armv5"),
    "xscale": ArmCpu("xscale", "armv5"),
    "arm1136jfs": ArmCpu("arm1136jf-s", "armv6"),
    "arm1176jzs": ArmCpu("arm1176jz-s", "armv6"),
    "cortexa5": ArmCpu("cortex-a5", "armv7a"),
    "cortexa8": ArmCpu("cortex-a8", "armv7a"),
    "cortexa9": ArmCpu("cortex-a9", "armv7a"),
    "cortexa7": ArmCpu("cortex-a7", "armv7ve"),
    "cortexa15": ArmCpu("cortex-a15", "armv7ve"),
    "cortexa17": ArmCpu("cortex-a17", "armv7ve"),
    "cortexr4": ArmCpu("cortex-r4", "armv7r"),
    "cortexr4f": ArmCpu("cortex-r4f", "armv7r"),
    "cortexr5": ArmCpu("cortex-r5", "armv7r"),
    "cortexr7": ArmCpu("cortex-r7", "armv7r"),
    "cortexr8": ArmCpu("cortex-r8", "armv7r"),
}

# 32-bit ARM: the kernel's uname -m is the CPU's architecture name from
# arch/arm/mm/proc-*.S (cpu_arch_name) plus "l" or "b" for the endianness
# (arch/arm/kernel/setup.c). First TUNE_FEATURES entry found wins, newest first.
# Uncertain: an ARMv8 CPU running a 32-bit kernel reports "armv7l"; under a 64-bit
# kernel (compat) it reports "armv8l" (packaging.tags then also accepts armv7l).
ARM_UNAME_BY_FEATURE: tuple[tuple[str, str], ...] = (
    ("armv8a", "armv7"),
    ("armv7ve", "armv7"),
    ("armv7a", "armv7"),
    ("armv7r", "armv7"),
    ("armv7m", "armv7"),
    ("armv6", "armv6"),
    ("armv5", "armv5tej"),  # qemuarmv5's arm926ej-s: "armv5tej" (proc-arm926.S)
    ("armv4t", "armv4t"),
    ("armv4", "armv4"),
)

# Upstream rustc target per (cpu family, libc, abi variant) for standalone builds where
# OE's own RUST_TARGET_SYS (a generated target spec named ${arch}-oe-linux-...) does not
# exist. Source: `rustc --print target-list`; OE's arch naming from rust_base_triple()
# in meta/classes-recipe/rust-common.bbclass.
RUST_UPSTREAM_ARCH: dict[str, str] = {
    "riscv32": "riscv32gc",
    "riscv64": "riscv64gc",
}


class CPythonVersion(NamedTuple):
    """What one CPython minor version's own build rules give a Linux target."""

    probe: str  # where configure's PLATFORM_TRIPLET probe lives
    probe_knows_libc: bool  # the probe tells glibc from musl (<features.h>), else it says "gnu"
    probe_knows_loongarch: bool  # the probe has a __loongarch__ branch
    mips_soft_float_names: bool  # the probe names MIPS soft-float (gnusf...), else #error
    free_threading: bool  # --disable-gil exists (ABIFLAGS "t")
    stable_abi: tuple[str, ...]  # importlib's stable-ABI suffixes after SOABI (and ALT_SOABI)
    stable_abi_free_threaded: tuple[str, ...]  # the same for a --disable-gil build
    source: str


# CPython version -> its rules; one row per supported version (the list of supported
# versions is this table's keys). Suffix templates: "{platform}" is SOABI_PLATFORM,
# which configure.ac cuts from PLATFORM_TRIPLET (on Linux the triplet itself, as in SOABI).
# Sources: configure.ac (PLATFORM_TRIPLET conftest up to 3.12, Misc/platform_triplet.c from
# 3.13; --disable-gil from 3.13) and Python/dynload_shlib.c's _PyImport_DynLoadFiletab:
# up to 3.14 "." SOABI ".so", "." ALT_SOABI ".so" (debug builds), ".abi3.so", ".so";
# 3.15 adds ".abi3-" SOABI_PLATFORM ".so" before ".abi3.so" and ".abi3t-" SOABI_PLATFORM
# ".so", ".abi3t.so" after it (PEP 803's abi3t; python/cpython gh-122931, PR 152461,
# merged before 3.15.0rc1), and a free-threaded 3.15 keeps only the abi3t pair. Debian's
# 3.13 and 3.14 append ".abi3-<multiarch>.so" after ".abi3.so" by a Debian-only patch
# (python3.13 3.13.0-1 changelog); upstream and oe-core's 3.13/3.14 do not
# (tests/e2e/test_sid_interpreters.py names that deviation).
CPYTHON_VERSIONS: dict[tuple[int, int], CPythonVersion] = {
    (3, 10): CPythonVersion("configure.ac", False, False, False, False, (".abi3.so",), (), "CPython 3.10 configure.ac"),
    (3, 11): CPythonVersion("configure.ac", False, False, False, False, (".abi3.so",), (), "CPython 3.11 configure.ac"),
    (3, 12): CPythonVersion("configure.ac", False, True, False, False, (".abi3.so",), (), "CPython 3.12 configure.ac"),
    (3, 13): CPythonVersion("Misc/platform_triplet.c", True, True, True, True, (".abi3.so",), (".abi3.so",),
                            "CPython 3.13 Misc/platform_triplet.c, Python/dynload_shlib.c"),
    (3, 14): CPythonVersion("Misc/platform_triplet.c", True, True, True, True, (".abi3.so",), (".abi3.so",),
                            "CPython 3.14 Misc/platform_triplet.c, Python/dynload_shlib.c"),
    (3, 15): CPythonVersion("Misc/platform_triplet.c", True, True, True, True,
                            (".abi3-{platform}.so", ".abi3.so", ".abi3t-{platform}.so", ".abi3t.so"),
                            (".abi3t-{platform}.so", ".abi3t.so"),
                            "CPython 3.15 dynload_shlib.c (gh-122931, PEP 803); Misc/platform_triplet.c"),
}

# The GIL build's stable-ABI suffixes (abi3, PEP 384; "{platform}" as above): a module
# named so is compiled for the GIL build's object layout. A free-threaded 3.13 (and 3.14,
# as its row above has it) still lists ".abi3.so" in EXTENSION_SUFFIXES (dynload_shlib.c
# has no Py_GIL_DISABLED case there; read in 3.13.5) but has no stable ABI (Include/Python.h: "The limited API
# is not currently supported in the free-threaded build", gh-111506): the import finds the
# file and runs it against the wrong layout. Measured: CPython 3.13.5 built with
# --disable-gil for armv7 and big-endian powerpc, under qemu-user, dies with SIGSEGV
# importing a working .abi3.so that Debian's GIL 3.13 imports and runs
# (tests/e2e/test_free_threaded.py). A free-threaded 3.15 lists only the abi3t names.
GIL_STABLE_ABI_SUFFIXES: tuple[str, ...] = (".abi3.so", ".abi3-{platform}.so")
