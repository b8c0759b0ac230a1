"""What to export before maturin or setuptools-rust runs.

One function per output so the bbclass, the ``pyrust`` command line and the tests
call the same code. Standard library only: BitBake imports this module.
"""

from __future__ import annotations

from pyrust.pyabi import PythonABI
from pyrust.target import Target

# PyO3 reads PYO3_CONFIG_FILE itself and, before 0.18.1, rejects keys it does not know
# (pyo3-build-config's InterpreterConfig::from_reader; 0.18.1 made unknown keys a
# warning). maturin reads ``ext_suffix`` and ``abiflags`` from the same file and
# otherwise guesses the suffix from the Rust target.
PYO3_FIRST_TOLERANT_VERSION = (0, 18, 1)


def build_environment(target: Target, abi: PythonABI) -> dict[str, str]:
    """Environment variables for a cross build of an extension for ``target``.

    Returns:
        ``SETUPTOOLS_EXT_SUFFIX`` (setuptools / setuptools-rust name the module with
        it), ``_PYTHON_HOST_PLATFORM`` (sysconfig.get_platform(), so wheels are tagged
        for the device), and ``PYRUST_*`` copies of the ABI for recipes and scripts:
        PYRUST_PLATFORM_TRIPLET, PYRUST_SOABI, PYRUST_EXT_SUFFIX, PYRUST_PLATFORM_TAG,
        PYRUST_RUST_TARGET.

    Example: for qemuarm and 3.14,
    ``{"SETUPTOOLS_EXT_SUFFIX": ".cpython-314-arm-linux-gnueabihf.so", ...}``.
    """
    return {
        "SETUPTOOLS_EXT_SUFFIX": abi.ext_suffix,
        "_PYTHON_HOST_PLATFORM": abi.host_platform,
        "PYRUST_PLATFORM_TRIPLET": abi.platform_triplet,
        "PYRUST_SOABI": abi.soabi,
        "PYRUST_EXT_SUFFIX": abi.ext_suffix,
        "PYRUST_PLATFORM_TAG": abi.platform_tag,
        "PYRUST_RUST_TARGET": target.rust_target,
    }


def pyo3_config_lines(abi: PythonABI, pyo3_version: tuple[int, int, int] | None) -> list[str] | None:
    """Lines to add to oe-core's ``pyo3.config`` so maturin uses the right suffix.

    Args:
        abi: the target ABI.
        pyo3_version: the crate's PyO3 from Cargo.lock (:func:`pyrust.cargolock.pyo3_version`),
            or None when the crate does not lock PyO3 (then PyO3 is not the one reading).

    Returns:
        ``["ext_suffix=...", "abiflags=..."]``, or None when the crate's PyO3 is older
        than 0.18.1 and would fail on those keys: the caller must then take maturin's
        sysconfigdata route (no PYO3_CONFIG_FILE; PYO3_CROSS_LIB_DIR pointing at the
        target's ``_sysconfigdata*.py``), see :func:`pyo3_strategy`.
    """
    if pyo3_strategy(pyo3_version) != "config-file":
        return None
    return [f"ext_suffix={abi.ext_suffix}", f"abiflags={abi.abiflags}"]


def pyo3_strategy(pyo3_version: tuple[int, int, int] | None) -> str:
    """"config-file" (amend PYO3_CONFIG_FILE) or "sysconfigdata" (PyO3 < 0.18.1)."""
    if pyo3_version is not None and pyo3_version < PYO3_FIRST_TOLERANT_VERSION:
        return "sysconfigdata"
    return "config-file"


def amend_pyo3_config(text: str, extra: list[str]) -> str:
    """``text`` (a pyo3.config) with ``extra`` lines replacing any same-key lines.

    Example:
        >>> amend_pyo3_config("version=3.14\\next_suffix=.so\\n", ["ext_suffix=.cpython-314-x.so"])
        'version=3.14\\next_suffix=.cpython-314-x.so\\n'
    """
    keys = {line.split("=", 1)[0] for line in extra}
    kept = [line for line in text.splitlines() if line.split("=", 1)[0] not in keys]
    return "\n".join(kept + extra) + "\n"


# sccache runs as a server when SCCACHE_START_SERVER=1 is in its environment; a build
# that inherits that variable makes every wrapped rustc call (cargo's, and a build
# script's own `$RUSTC_WRAPPER rustc` probes) fail with "SCCACHE_START_SERVER=1 can't
# be used with other commands". SCCACHE_NO_DAEMON=1 likewise turns a client into a
# server. Neither belongs in a build's environment.
SCCACHE_SERVER_ONLY_VARIABLES = ("SCCACHE_START_SERVER", "SCCACHE_NO_DAEMON")


def wrapper_unexports(env: dict[str, str]) -> list[str]:
    """Variables to remove from a build environment so a RUSTC_WRAPPER works nested.

    Args:
        env: the build environment (name -> value), e.g. ``os.environ`` or the
            exported variables of a BitBake task.

    Returns:
        Names to unset: sccache's server-only switches when RUSTC_WRAPPER (or
        CARGO_BUILD_RUSTC_WRAPPER) is sccache; and RUSTC_WRAPPER itself when RUSTC
        already is that wrapper (cargo would run ``sccache sccache rustc``).

    Example:
        >>> wrapper_unexports({"RUSTC_WRAPPER": "/usr/bin/sccache", "SCCACHE_START_SERVER": "1"})
        ['SCCACHE_START_SERVER']
    """
    import os.path

    wrapper = env.get("RUSTC_WRAPPER") or env.get("CARGO_BUILD_RUSTC_WRAPPER") or ""
    drop: list[str] = []
    if os.path.basename(wrapper.split()[0] if wrapper.split() else "").startswith("sccache"):
        drop += [name for name in SCCACHE_SERVER_ONLY_VARIABLES if name in env]
    rustc = env.get("RUSTC", "")
    if wrapper and rustc and os.path.basename(rustc.split()[0]) == os.path.basename(wrapper.split()[0]):
        drop.append("RUSTC_WRAPPER" if "RUSTC_WRAPPER" in env else "CARGO_BUILD_RUSTC_WRAPPER")
    return drop
