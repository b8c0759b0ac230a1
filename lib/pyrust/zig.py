"""Cross linking with zig (PyPI's ``ziglang``) instead of a cross gcc: ``pyrust build-env --zig``.

``maturin build --zig`` (and ``cargo zigbuild``) link with ``zig cc`` through cargo-zigbuild,
so a standalone user needs no Debian cross gcc. This module finds the tools (lazily, only
when ``--zig`` is asked for), refuses targets zig cannot link for, and handles one known
failure: cargo-zigbuild before 0.19.7 with sccache as the rustc wrapper.

The sccache failure (rust-cross/cargo-zigbuild issue #295, reproduced by
tests/e2e/test_zig.py): with ``RUSTC_WRAPPER=sccache``, cc-rs wraps C compiles of build
scripts (``ring``) in sccache too; the sccache server runs cargo-zigbuild's ``zig cc``
wrapper to detect the compiler, with the server's own ``SCCACHE_START_SERVER=1`` in its
environment, and that wrapper asks ``$RUSTC_WRAPPER $RUSTC -vV`` for the rustc version
(rustc_version 0.4.1 honours RUSTC_WRAPPER), which sccache refuses::

    sccache: `SCCACHE_START_SERVER=1` can't be used with other commands

cargo-zigbuild's fix (PR #296, in 0.19.6): cargo-zigbuild puts the rustc version into
``CARGO_ZIGBUILD_RUSTC_VERSION`` and the wrapper reads it instead of running rustc. 0.19.6
reads the variable but sets a misspelt one (``CARGOZIG_BUILD_RUSTC_VERSION``; PR #297
corrected it in 0.19.7, tags v0.19.6/v0.19.7, src/zig.rs), so:

- cargo-zigbuild >= 0.19.7, maturin >= 1.8.0 (its Cargo.lock at v1.8.0 bundles
  cargo-zigbuild 0.19.7): nothing to do;
- cargo-zigbuild 0.19.6: avoided by exporting ``CARGO_ZIGBUILD_RUSTC_VERSION`` ourselves
  (the value rustc's ``-vV`` reports as ``release:``);
- cargo-zigbuild < 0.19.6, maturin < 1.8.0 (1.7.7 and 1.7.8 bundle 0.19.5; nothing reads
  the variable): refused with an error naming the fixed versions.

Standard library only.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from pyrust.errors import InputError
from pyrust.target import Target

Version = tuple[int, int, int]

#: First cargo-zigbuild whose ``zig cc`` wrapper works under sccache (issue #295, PR #297).
ZIGBUILD_FIXED: Version = (0, 19, 7)
#: First cargo-zigbuild whose wrapper reads CARGO_ZIGBUILD_RUSTC_VERSION (PR #296).
ZIGBUILD_READS_RUSTC_VERSION: Version = (0, 19, 6)
#: First maturin that bundles a fixed cargo-zigbuild (maturin's Cargo.lock: v1.7.8 0.19.5, v1.8.0 0.19.7).
MATURIN_FIXED: Version = (1, 8, 0)
SOURCE = "rust-cross/cargo-zigbuild issue #295, fixed by PRs #296/#297 in 0.19.7"
SCCACHE_ERROR = "sccache: `SCCACHE_START_SERVER=1` can't be used with other commands"

#: The environment variables that name cargo's rustc wrappers (cargo passes RUSTC_WRAPPER
#: on to build scripts, where cc-rs and rustc_version read it).
WRAPPER_VARIABLES = ("RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER")

# Rust target architecture -> zig's (cargo-zigbuild src/zig.rs; zig's names in `zig targets`).
_ZIG_ARCH = {"armv7": "arm", "armv5te": "arm", "arm": "arm", "thumbv7neon": "arm", "i686": "x86", "i586": "x86",
             "riscv64gc": "riscv64", "riscv32gc": "riscv32", "sparc64": "sparc64"}

TOOLS = {
    "maturin": "pip install 'maturin>=1.8' (it bundles cargo-zigbuild)",
    "cargo-zigbuild": "pip install 'cargo-zigbuild>=0.19.7', or cargo install --locked cargo-zigbuild",
}


@dataclasses.dataclass(frozen=True)
class ZigDriver:
    """The tool that runs cargo with zig as the linker.

    kind: "maturin" (``maturin build --zig``) or "cargo-zigbuild" (``cargo zigbuild``);
    path: its executable; version: what ``--version`` printed, e.g. (1, 16, 0).
    """

    kind: str
    path: str
    version: Version


def parse_version(text: str, tool: str) -> Version:
    """The version in ``<tool> --version`` output.

    Example:
        >>> parse_version("cargo-zigbuild 0.19.6\\n", "cargo-zigbuild")
        (0, 19, 6)
        >>> parse_version("maturin 1.16.0", "maturin")
        (1, 16, 0)

    Raises:
        InputError: no ``<tool> X.Y.Z`` in ``text``.
    """
    match = re.search(rf"^{re.escape(tool)}\s+v?(\d+)\.(\d+)\.(\d+)", text.strip(), re.MULTILINE)
    if match is None:
        raise InputError(f"{tool} --version", text.strip()[:80], f"'{tool} X.Y.Z'")
    return int(match[1]), int(match[2]), int(match[3])


def driver_kind(spec: str) -> str:
    """"maturin" or "cargo-zigbuild" from a ``--zig`` value (a name or a path), by file name.

    Raises:
        InputError: neither.
    """
    name = Path(spec).name
    for kind in TOOLS:
        if name == kind or name.startswith(kind + "-") or name.startswith(kind + "."):
            return kind
    raise InputError("--zig", spec, "maturin or cargo-zigbuild (a name on PATH or a path to either)")


def find_driver(spec: str) -> ZigDriver:
    """Find the ``--zig`` tool and ask its version (``<tool> --version``).

    Args:
        spec: "maturin", "cargo-zigbuild" or a path to either.

    Raises:
        InputError: unknown tool, not found (the message says how to install it), or
            no version.
    """
    kind = driver_kind(spec)
    path = shutil.which(spec)
    if path is None:
        raise InputError("--zig", spec, f"{kind} on PATH or a path to it ({TOOLS[kind]})")
    try:
        proc = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError) as err:
        raise InputError("--zig", path, f"a runnable {kind} ({err})") from None
    return ZigDriver(kind, path, parse_version(proc.stdout + proc.stderr, kind))


def find_zig_python(env: Mapping[str, str]) -> tuple[str, str]:
    """The Python whose ``-m ziglang`` runs zig, and zig's version.

    cargo-zigbuild (and maturin's bundled copy) runs ``$CARGO_ZIGBUILD_PYTHON_PATH -m
    ziglang`` (default ``python3``) before looking for ``zig`` on PATH (src/zig.rs,
    find_zig): the environment names this interpreter so the build uses PyPI's zig.

    Args:
        env: the environment; its CARGO_ZIGBUILD_PYTHON_PATH wins over the Python
            running pyrust.

    Returns:
        (python path, zig version), e.g. ("/venv/bin/python", "0.13.0").

    Raises:
        InputError: that Python cannot run ``-m ziglang``.
    """
    python = env.get("CARGO_ZIGBUILD_PYTHON_PATH") or sys.executable
    found = shutil.which(python)
    fix = "PyPI's ziglang installed for it (pip install ziglang), or CARGO_ZIGBUILD_PYTHON_PATH naming a Python that has it"
    if found is None:
        raise InputError("CARGO_ZIGBUILD_PYTHON_PATH", python, "a Python interpreter")
    try:
        proc = subprocess.run([found, "-m", "ziglang", "version"], capture_output=True, text=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as err:
        raise InputError("ziglang", found, f"{fix} ({err})") from None
    if proc.returncode != 0 or not re.fullmatch(r"\d+\.\d+\.\d+\S*", proc.stdout.strip()):
        raise InputError("ziglang", found, f"{fix}; `{found} -m ziglang version` said: {(proc.stderr or proc.stdout).strip()[-200:]}")
    return found, proc.stdout.strip()


def zig_libc_targets(python: str) -> frozenset[str]:
    """The targets zig ships a libc for: the ``libc`` list of ``python -m ziglang targets``.

    Example entries: "aarch64-linux-gnu", "arm-linux-gnueabihf", "mips64el-linux-gnuabi64".
    """
    try:
        proc = subprocess.run([python, "-m", "ziglang", "targets"], capture_output=True, text=True, timeout=120, check=True)
        return frozenset(json.loads(proc.stdout)["libc"])
    except (OSError, subprocess.SubprocessError, ValueError, KeyError) as err:
        raise InputError("ziglang", python, f"`-m ziglang targets` printing zig's JSON target list ({err})") from None


def zig_triple(rust_target: str) -> str:
    """The ``zig cc -target`` cargo-zigbuild derives from a Rust Linux target.

    cargo-zigbuild (src/zig.rs, prepare_zig_linker, 0.19.7 and 0.24) maps 32-bit MIPS
    and powerpc ``gnu`` to ``gnueabihf`` (hard float); the architecture names are zig's.

    Example:
        >>> zig_triple("armv7-unknown-linux-gnueabihf")
        'arm-linux-gnueabihf'
        >>> zig_triple("mipsel-unknown-linux-gnu")
        'mipsel-linux-gnueabihf'

    Raises:
        InputError: not a ``<arch>-<vendor>-linux-<env>`` target.
    """
    parts = rust_target.split("-")
    if len(parts) != 4 or parts[2] != "linux":
        raise InputError("Rust target", rust_target, "a Linux target <arch>-<vendor>-linux-<env> (cargo-zigbuild links Linux and macOS only)")
    arch, env = _ZIG_ARCH.get(parts[0], parts[0]), parts[3]
    if env == "gnu" and arch in ("mips", "mipsel", "powerpc"):
        env = "gnueabihf"
    return f"{arch}-linux-{env}"


def check_target(target: Target, libc_targets: frozenset[str]) -> None:
    """Refuse a target zig cannot link for, or links for differently than the target runs.

    Rules:
        - zig must ship a libc for :func:`zig_triple` (``zig targets``' ``libc`` list);
        - 32-bit MIPS and powerpc: cargo-zigbuild always links hard float (src/zig.rs):
          a soft-float target (TARGET_FPU soft) is refused;
        - armv7: cargo-zigbuild compiles C with ``-mcpu=generic+v7a+vfp3-d32+thumb2-neon``
          (src/zig.rs, zig_mcpu_default): an oe-core tune without ``neon`` in
          TUNE_FEATURES is refused (its C objects could use NEON).

    Raises:
        InputError: naming the target, the rule and where it comes from.
    """
    rust_target = target.rust_target_upstream
    triple = zig_triple(rust_target)
    if triple not in libc_targets:
        raise InputError("--zig", rust_target, f"a target zig links for: zig has no libc for {triple} (`python -m ziglang targets`, "
                         "list 'libc'); build with Debian's cross gcc instead (drop --zig)")
    if triple.split("-")[0] in ("mips", "mipsel", "powerpc") and target.float_abi != "hard":
        raise InputError("--zig", f"{rust_target} ({target.float_abi} float)", "a hard-float target: cargo-zigbuild links 32-bit MIPS "
                         "and powerpc as gnueabihf (src/zig.rs, prepare_zig_linker); build with Debian's cross gcc instead (drop --zig)")
    if rust_target.startswith("armv7-") and target.tune_features and "neon" not in target.tune_features:
        raise InputError("--zig", f"{rust_target} (TUNE_FEATURES without neon)", "an armv7 tune with NEON: cargo-zigbuild compiles C for "
                         "armv7 with -mcpu=generic+v7a+vfp3-d32+thumb2-neon (src/zig.rs, zig_mcpu_default); drop --zig")


def sccache_wrapper(env: Mapping[str, str]) -> str | None:
    """The first of :data:`WRAPPER_VARIABLES` whose value is sccache (cc-rs's test: the
    file stem is ``sccache``), as ``NAME=value``; None when sccache wraps nothing."""
    for name in WRAPPER_VARIABLES:
        value = env.get(name, "")
        if value and Path(value.split()[0]).stem == "sccache":
            return f"{name}={value}"
    return None


def rustc_release(env: Mapping[str, str]) -> str:
    """``release:`` of ``$RUSTC -vV`` (default rustc on PATH), e.g. "1.96.0".

    Raises:
        InputError: rustc does not run or prints no release.
    """
    rustc = env.get("RUSTC") or "rustc"
    try:
        out = subprocess.run([rustc, "-vV"], capture_output=True, text=True, timeout=120, env=dict(env)).stdout
    except (OSError, subprocess.SubprocessError):
        out = ""
    match = re.search(r"^release:\s*(\S+)", out, re.MULTILINE)
    if match is None:
        raise InputError("RUSTC", rustc, "a rustc whose -vV prints 'release: X.Y.Z'")
    return match[1]


def sccache_environment(driver: ZigDriver, env: Mapping[str, str]) -> dict[str, str]:
    """What the build environment needs so ``driver`` works with sccache as rustc wrapper.

    Args:
        driver: :func:`find_driver`'s result.
        env: the environment the build will run in (RUSTC_WRAPPER, RUSTC, ...).

    Returns:
        ``{}`` when sccache wraps nothing or the driver is fixed;
        ``{"CARGO_ZIGBUILD_RUSTC_VERSION": "<rustc release>"}`` for cargo-zigbuild 0.19.6.

    Raises:
        InputError: maturin < 1.8.0 or cargo-zigbuild < 0.19.6 with sccache, naming the
            fixed version (:data:`SOURCE`).
    """
    wrapper = sccache_wrapper(env)
    if wrapper is None:
        return {}
    shown = f"{driver.kind} {'.'.join(map(str, driver.version))}"
    why = (f"with {wrapper} its zig cc wrapper fails in build scripts that compile C (ring) with \"{SCCACHE_ERROR}\" "
           f"({SOURCE}); or drop the wrapper")
    if driver.kind == "maturin":
        if driver.version < MATURIN_FIXED:
            raise InputError("--zig", shown, "maturin 1.8.0 or newer, which bundles cargo-zigbuild 0.19.7 (pip install 'maturin>=1.8'): "
                             "older maturin bundles cargo-zigbuild 0.19.5 or older; " + why)
        return {}
    if driver.version >= ZIGBUILD_FIXED:
        return {}
    if driver.version >= ZIGBUILD_READS_RUSTC_VERSION:
        return {"CARGO_ZIGBUILD_RUSTC_VERSION": rustc_release(env)}
    raise InputError("--zig", shown, "cargo-zigbuild 0.19.7 or newer (pip install 'cargo-zigbuild>=0.19.7', or cargo install --locked "
                     "cargo-zigbuild): " + why)


def zig_environment(spec: str, target: Target, env: Mapping[str, str] | None = None) -> dict[str, str]:
    """Check everything ``--zig`` needs; the variables to add to the build environment.

    Args:
        spec: the ``--zig`` value: "maturin", "cargo-zigbuild" or a path to either.
        target: the target (:func:`check_target` must pass).
        env: the build's environment (default ``os.environ``).

    Returns:
        CARGO_ZIGBUILD_PYTHON_PATH (the Python with ziglang), PYRUST_ZIG_DRIVER (the tool's
        path), PYRUST_ZIG_VERSION (zig's version), and CARGO_ZIGBUILD_RUSTC_VERSION where
        :func:`sccache_environment` needs it.

    Raises:
        InputError: a missing tool or ziglang, an unsupported target, a broken
            sccache combination.
    """
    env = os.environ if env is None else env
    driver = find_driver(spec)
    python, zig_version = find_zig_python(env)
    check_target(target, zig_libc_targets(python))
    out = {"CARGO_ZIGBUILD_PYTHON_PATH": python, "PYRUST_ZIG_DRIVER": driver.path, "PYRUST_ZIG_VERSION": zig_version}
    out.update(sccache_environment(driver, env))
    return out
