"""Standalone cross builds: the class's environment plus what oe-core's python_pyo3
exports, for building outside BitBake (the main job, the end-to-end tests).

Generated files are rendered from jinja2 templates in ``pyrust/templates``.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from pathlib import Path

from pyrust.errors import InputError
from pyrust.export import build_environment, pyo3_config_lines
from pyrust.pyabi import PythonABI
from pyrust.target import Target

TEMPLATES = Path(__file__).with_name("templates")

# Debian's cross gcc for a CPython platform triplet where the names differ
# (Debian's i386 port uses the i686-linux-gnu toolchain: gcc-i686-linux-gnu).
DEBIAN_GCC_TRIPLETS: dict[str, str] = {"i386-linux-gnu": "i686-linux-gnu"}


def render(template: str, **values: object) -> str:
    """Render ``pyrust/templates/<template>`` with jinja2 (StrictUndefined).

    Raises:
        InputError: jinja2 is not installed.
    """
    try:
        import jinja2
    except ImportError:
        raise InputError("jinja2", None, "the 'jinja2' package installed (pip install jinja2)") from None
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(TEMPLATES)), undefined=jinja2.StrictUndefined,
                             keep_trailing_newline=True, autoescape=False)
    return env.get_template(template).render(**values)


def default_linker(abi: PythonABI) -> str:
    """The Debian cross gcc that links for the triplet, e.g. "arm-linux-gnueabihf-gcc"."""
    return DEBIAN_GCC_TRIPLETS.get(abi.platform_triplet, abi.platform_triplet) + "-gcc"


def _write_if_changed(path: Path, text: str) -> None:
    # PyO3's build script reruns when PYO3_CONFIG_FILE's mtime changes: keep it when
    # the content is the same, so repeated builds stay incremental.
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


def cargo_env_name(rust_target: str, what: str) -> str:
    """Cargo's per-target variable name: ("armv7-unknown-linux-gnueabihf", "LINKER") ->
    "CARGO_TARGET_ARMV7_UNKNOWN_LINUX_GNUEABIHF_LINKER"."""
    return "CARGO_TARGET_" + rust_target.upper().replace("-", "_").replace(".", "_") + "_" + what


def has_prebuilt_std(rust_target: str, rustc: str | None = None) -> bool:
    """True when ``rustc``'s sysroot has a standard library for ``rust_target``.

    Args:
        rust_target: e.g. "mips64el-unknown-linux-gnuabi64".
        rustc: the compiler (default: $RUSTC, else "rustc" on PATH).
    """
    import os
    import subprocess

    rustc = rustc or os.environ.get("RUSTC") or "rustc"
    try:
        sysroot = subprocess.run([rustc, "--print", "sysroot"], capture_output=True, text=True, check=True, timeout=60).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        raise InputError("RUSTC", rustc, "a working rustc (tests/tools/rust-cross-setup prints the environment)") from None
    return any((Path(sysroot) / "lib" / "rustlib" / rust_target / "lib").glob("libstd-*.rlib"))


def prepare_standalone_build(target: Target, abi: PythonABI, sysroot: Path, outdir: Path,
                             linker: str | None = None,
                             pyo3_version: tuple[int, int, int] | None = None,
                             build_std: bool = False, zig: Mapping[str, str] | None = None) -> dict[str, str]:
    """Write pyo3.config and cargo-config.toml into ``outdir``; return the build environment.

    Args:
        target, abi: the target and its resolved ABI (prefer one resolved from ``sysroot``).
        sysroot: the target sysroot (PYO3_CROSS_LIB_DIR is its ``usr/lib``).
        outdir: where to write the generated files (created).
        linker: the cross linker; default :func:`default_linker`, which must be on PATH.
        pyo3_version: the crate's PyO3 (from Cargo.lock), to choose the config route.
        build_std: build the Rust standard library from source (targets Debian ships
            no std for: mipsel, mips64el, powerpc, mips64); sets RUSTC_BOOTSTRAP=1 and
            ``[unstable] build-std`` in the cargo configuration.
        zig: link with zig instead (``maturin build --zig``): the variables
            :func:`pyrust.zig.zig_environment` checked and returned; then no linker is
            set (cargo-zigbuild sets CARGO_TARGET_<T>_LINKER only where it is unset) and
            ``linker`` must be None.

    Returns:
        Environment to run ``maturin build`` (or ``pip wheel`` with setuptools-rust) in:
        PYO3_CROSS, PYO3_CROSS_PYTHON_VERSION, PYO3_CROSS_LIB_DIR, PYO3_CONFIG_FILE
        (absent on the sysconfigdata route), CARGO_BUILD_TARGET,
        CARGO_TARGET_<T>_LINKER, PYO3_BUILD_EXTENSION_MODULE, RUSTC_BOOTSTRAP (with
        ``build_std``), PYRUST_CARGO_CONFIG (pass it to ``maturin build --config``), and
        :func:`pyrust.export.build_environment`.

    Raises:
        InputError: the linker is not on PATH (or given with ``zig``), or jinja2 is missing.

    Note: maturin's manylinux/auditwheel pass cannot parse some MIPS objects; build with
    ``--compatibility off`` (as maturin's PEP 517 backend, and so oe-core, does).
    """
    if zig is not None:
        if linker is not None:
            raise InputError("--linker", linker, "no --linker with --zig (zig is the linker)")
    elif shutil.which(linker := linker or default_linker(abi)) is None:
        raise InputError("--linker", linker, "a cross linker on PATH (Debian: apt install gcc-" + linker.removesuffix("-gcc") + ")")
    outdir.mkdir(parents=True, exist_ok=True)
    lib_dir = Path(sysroot) / "usr" / "lib"
    rust_target = target.rust_target_upstream
    env = {
        "PYO3_CROSS": "1",
        "PYO3_CROSS_PYTHON_VERSION": abi.version,
        "PYO3_CROSS_LIB_DIR": str(lib_dir),
        "CARGO_BUILD_TARGET": rust_target,
        # PyO3 0.26+: build as an extension module (no libpython link) without the
        # deprecated "extension-module" feature; maturin sets it too.
        "PYO3_BUILD_EXTENSION_MODULE": "1",
    }
    if linker is not None:
        env[cargo_env_name(rust_target, "LINKER")] = linker
    if build_std:
        env["RUSTC_BOOTSTRAP"] = "1"
    extra = pyo3_config_lines(abi, pyo3_version)
    if extra is not None:
        config = outdir / "pyo3.config"
        _write_if_changed(config, render("pyo3.config.j2", abi=abi, target=target, lib_dir=lib_dir, extra_lines=extra))
        env["PYO3_CONFIG_FILE"] = str(config)
    cargo_config = outdir / "cargo-config.toml"
    _write_if_changed(cargo_config, render("cargo-config.toml.j2", target=target, rust_target=rust_target, linker=linker,
                                   build_std=build_std))
    env["PYRUST_CARGO_CONFIG"] = str(cargo_config)
    env.update(build_environment(target, abi))
    env.update(zig or {})
    return env
