"""Debian sid's CPython 3.13, 3.14 and 3.15 (and -dbg builds) as real target interpreters.

One table, :data:`SID_INTERPRETERS`, lists each interpreter the e2e tier runs: the Debian
port and CPython version, its ABI flags, and the oe-core configuration the library is
asked about for the same target. :func:`sid_sysroot` finds the cached sysroot (provisioned
by ``tests/tools/provision-sid``, the e2e tier's set-up, with :mod:`testbed_support.provision`), and
:func:`qemu_for` the qemu-user binary that runs it: bookworm's qemu-user 7.2 for all but
loong64, whose sid binaries use LSX instructions qemu 7.2 stops with SIGILL; those run on
sid's own static qemu-user (:func:`testbed_support.provision.provision_debian_tool`, unpacked
into the cache, never installed).

Debian deviates from upstream CPython where :data:`DEBIAN_DEVIATIONS` says; the tests
remove exactly those entries (after checking they are there) before comparing.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from pyrust.machines import machine_vars
from pyrust.resolve import Resolution, resolve_abi
from pyrust.sysconfigdata import SysrootABI, abi_from_sysroot
from pyrust.target import Target, target_from_vars
from testbed import cache_dir, missing, require_tool
from testbed_support.provision import DEBIAN_ARCHES, find_sysroot, interpreter_name, provision_debian_packages

# s390x has no oe-core machine; the minimal variables a BSP layer would give.
S390X_VARS = {"TARGET_ARCH": "s390x", "TARGET_OS": "linux", "TCLIBC": "glibc", "SITEINFO_BITS": "64", "SITEINFO_ENDIANNESS": "be"}


@dataclasses.dataclass(frozen=True)
class SidInterpreter:
    """One Debian sid interpreter and the oe-core configuration of the same target."""

    debian_arch: str
    version: str  # "3.14"
    abiflags: str = ""  # "" or "d" (python3.X-dbg)
    machine: str = ""  # an oe-core machine of pyrust's table, or
    variables: Mapping[str, str] = dataclasses.field(default_factory=dict)  # explicit BitBake variables
    qemu_from_sid: bool = False  # needs sid's qemu-user (see the module docstring)

    def cli_target(self) -> list[str]:
        """How ``pyrust abi`` / ``build-env`` learn the target."""
        if self.machine:
            return ["--machine", self.machine]
        return [arg for name, value in sorted(self.variables.items()) for arg in ("--var", f"{name}={value}")]

    @property
    def interpreter(self) -> str:
        """``/usr/bin/python3.14d`` as the target sees it."""
        return f"/usr/bin/{interpreter_name(self.version, self.abiflags)}"


# label -> interpreter. armv7 carries every version and the debug builds; the other ports
# the version oe-core master and wrynose ship (3.14). qemuriscv64 and qemuloongarch64 are
# oe-core machines that had no real-interpreter check before; s390x is big-endian.
SID_INTERPRETERS: dict[str, SidInterpreter] = {
    "armv7-3.13": SidInterpreter("armhf", "3.13", machine="qemuarm"),
    "armv7-3.13d": SidInterpreter("armhf", "3.13", "d", machine="qemuarm"),
    "armv7-3.14": SidInterpreter("armhf", "3.14", machine="qemuarm"),
    "armv7-3.14d": SidInterpreter("armhf", "3.14", "d", machine="qemuarm"),
    "armv7-3.15": SidInterpreter("armhf", "3.15", machine="qemuarm"),
    "armv7-3.15d": SidInterpreter("armhf", "3.15", "d", machine="qemuarm"),
    "aarch64-3.14": SidInterpreter("arm64", "3.14", machine="qemuarm64"),
    "riscv64-3.14": SidInterpreter("riscv64", "3.14", machine="qemuriscv64"),
    "loongarch64-3.14": SidInterpreter("loong64", "3.14", machine="qemuloongarch64", qemu_from_sid=True),
    "s390x-3.14": SidInterpreter("s390x", "3.14", variables=S390X_VARS),
}

# Debian's CPython against upstream's of the same version: (versions, what, where).
# Debian 3.13 and 3.14 list ".abi3-<multiarch>.so" right after ".abi3.so" (Debian patch
# "Allow stable API extensions to include a multiarch tuple in the filename", python3.13
# 3.13.0-1 changelog); upstream has it only from 3.15 (gh-122931), before ".abi3.so".
DEBIAN_DEVIATIONS = {
    "abi3-multiarch": (("3.13", "3.14"), "EXTENSION_SUFFIXES has .abi3-<multiarch>.so after .abi3.so (Debian patch)"),
    "build-details-name": (("3.14", "3.15"), "build-details.json is installed as build-details.<abiflags>.<multiarch>.json "
                                             "(Debian patch: multiarch co-installability)"),
}

# The script run in the target interpreter: one JSON object. ``packaging`` (pure Python,
# copied from the host into a scratch directory) gives the wheel tags the device's pip
# would compute.
PROBE = r"""
import importlib.machinery, json, os, platform, struct, sys, sysconfig
from packaging import tags
print(json.dumps({
    "EXT_SUFFIX": sysconfig.get_config_var("EXT_SUFFIX"),
    "SOABI": sysconfig.get_config_var("SOABI"),
    "MULTIARCH": sysconfig.get_config_var("MULTIARCH"),
    "ABIFLAGS": sys.abiflags,
    "EXTENSION_SUFFIXES": importlib.machinery.EXTENSION_SUFFIXES,
    "sysconfigdata_name": sysconfig._get_sysconfigdata_name(),
    "sysconfigdata_file": sys.modules[sysconfig._get_sysconfigdata_name()].__file__
        if sysconfig._get_sysconfigdata_name() in sys.modules else "",
    "platform": sysconfig.get_platform(),
    "linux_platform_tags": [t for t in tags.platform_tags() if t.startswith("linux_")],
    "sys_tags": [str(t) for t in tags.sys_tags()],
    "byteorder": sys.byteorder,
    "pointer_bits": struct.calcsize("P") * 8,
    "version": platform.python_version(),
}))
"""


def sid_sysroot(entry: SidInterpreter) -> Path:
    """The cached sysroot of ``entry``; else skip (fail under CI)."""
    found = find_sysroot(entry.debian_arch, cache_dir(), entry.version, entry.abiflags)
    if found is None:
        missing(f"no Debian sid {interpreter_name(entry.version, entry.abiflags)} sysroot for {entry.debian_arch} in "
                f"{cache_dir()}/sysroots (tests/tools/provision-sid provisions it)")
    assert found is not None
    return found


def oe_target(entry: SidInterpreter) -> Target:
    """The library's Target for the oe-core configuration of ``entry`` (machine table or variables)."""
    return target_from_vars(machine_vars(entry.machine) if entry.machine else dict(entry.variables))


def sid_qemu_dir() -> Path | None:
    """``usr/bin`` of sid's qemu-user in the cache, or None."""
    found = sorted((cache_dir() / "tools").glob("qemu-user-*_amd64/usr/bin"))
    return found[-1] if found else None


def qemu_for(entry: SidInterpreter) -> str:
    """The qemu-user binary (name on PATH or path) that runs ``entry``; else skip (fail under CI)."""
    name = DEBIAN_ARCHES[entry.debian_arch].qemu_binary
    if not entry.qemu_from_sid:
        return require_tool(name)
    tools = sid_qemu_dir()
    if tools is None or not (tools / name).is_file():
        missing(f"no sid qemu-user in {cache_dir()}/tools ({name} 7.2 cannot run sid's {entry.debian_arch}; "
                "tests/tools/provision-sid unpacks sid's)")
    assert tools is not None
    return str(tools / name)


def packaging_dir(work: Path) -> Path:
    """A directory holding a copy of the host's pure-Python ``packaging`` (for the target's sys.path)."""
    import packaging

    dest = work / "pure"
    if not (dest / "packaging").is_dir():
        shutil.copytree(Path(packaging.__file__).parent, dest / "packaging",
                        ignore=shutil.ignore_patterns("__pycache__"))
    return dest


def probe_prelude(work: Path) -> str:
    """Code that puts :func:`packaging_dir` on the target's sys.path."""
    return f"import sys; sys.path.insert(0, {str(packaging_dir(work))!r})\n"


def parse_probe(stdout: str) -> dict:
    """The JSON object :data:`PROBE` printed (its last line)."""
    return json.loads(stdout.strip().splitlines()[-1])


def assert_abi_equals_probe(abi: dict, got: dict, version: str, abiflags: str, extension_suffixes: list[str]) -> None:
    """``pyrust abi --format json``'s answer ``abi`` against an interpreter's :data:`PROBE`
    report ``got``: EXT_SUFFIX, SOABI, MULTIARCH, ``extension_suffixes`` (the interpreter's
    EXTENSION_SUFFIXES, less what its distribution adds; in order), the _sysconfigdata
    name, _PYTHON_HOST_PLATFORM and the wheel tags (``version`` "3.13", ``abiflags`` "t")."""
    assert abi["ext_suffix"] == got["EXT_SUFFIX"]
    assert abi["soabi"] == got["SOABI"]
    assert abi["platform_triplet"] == got["MULTIARCH"]
    assert abi["extension_suffixes"] == extension_suffixes
    assert abi["sysconfigdata_name"] == got["sysconfigdata_name"]
    assert Path(got["sysconfigdata_file"]).name == got["sysconfigdata_name"] + ".py"
    assert abi["host_platform"] == got["platform"]
    assert abi["environment"]["_PYTHON_HOST_PLATFORM"] == got["platform"]
    assert got["linux_platform_tags"] == [abi["platform_tag"]]
    nodots = version.replace(".", "")
    assert f"cp{nodots}-cp{nodots}{abiflags}-{abi['platform_tag']}" in got["sys_tags"]


def assert_sysroot_states_probe(sysroot: Path, target: Target, version: str, abiflags: str,
                                got: dict) -> tuple[Resolution, SysrootABI]:
    """The files alone: ``abi_from_sysroot()`` reads the interpreter's answer (report ``got``)
    from the sysroot's files (_sysconfigdata, or PEP 739 build-details.json from 3.14 on), and ``resolve_abi()`` takes it (source "sysroot"), with
    the interpreter's EXT_SUFFIX. Returns the resolution and the record read, for further checks."""
    data = abi_from_sysroot(sysroot, version, abiflags)
    assert data is not None, f"no _sysconfigdata*.py below {sysroot}"
    assert (data.version, data.abiflags, data.multiarch, data.soabi, data.ext_suffix) == (
        version, abiflags, got["MULTIARCH"], got["SOABI"], got["EXT_SUFFIX"])
    resolution = resolve_abi(target, version, abiflags, sysroot)
    assert resolution.abi.source == "sysroot"
    assert resolution.abi.ext_suffix == got["EXT_SUFFIX"]
    return resolution, data


# loongarch64: bookworm has no cross gcc. clang-19 with lld-19 (tests/tools/setup-testbed
# --cross loongarch) links against sid's loong64 C library and libgcc, unpacked into the
# cache; a wrapper named like Debian's cross gcc (what build-env's default linker is)
# runs clang with that sysroot.
LOONG64_DEV_PACKAGES = ("libc6-dev", "libgcc-16-dev", "linux-libc-dev", "libc6", "libgcc-s1")
LOONG64_CC = "loongarch64-linux-gnu-gcc"


def loong64_cc_dir(provision: bool = False) -> Path | None:
    """The directory holding the ``loongarch64-linux-gnu-gcc`` wrapper, or None (``provision``:
    unpack sid's loong64 C development files and write the wrapper first)."""
    found = sorted((cache_dir() / "tools").glob("libc6-dev-*_loong64"))
    if not found:
        if not provision:
            return None
        found = [provision_debian_packages(LOONG64_DEV_PACKAGES, "loong64", cache_dir=cache_dir(),
                                           progress=lambda line: None)]
    dev = found[-1]
    bindir = dev / "cc-bin"
    wrapper = bindir / LOONG64_CC
    text = f'#!/bin/sh\nexec clang-19 --target=loongarch64-linux-gnu --sysroot="{dev}" -fuse-ld=lld "$@"\n'
    if provision and (not wrapper.is_file() or wrapper.read_text() != text):
        bindir.mkdir(exist_ok=True)
        wrapper.write_text(text)
        wrapper.chmod(0o755)
    return bindir if wrapper.is_file() else None
