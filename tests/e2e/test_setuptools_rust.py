"""The example crate built through setuptools-rust, with and without the class's environment.

The crate (recipes-devtools/python/files/pyrust-example) is copied and given a setup.py
with ``RustExtension("pyrust_example.pyrust_example", binding=Binding.PyO3)``, then built
into a wheel with ``pip wheel --no-build-isolation`` (PEP 517, setuptools.build_meta:
the backend oe-core's python_setuptools3_rust runs through pyproject-build) for armv7
(qemuarm, Debian's python3.11) and the big-endian powerpc (qemuppc, a CPython cross-built
by tests/tools/build-target-cpython), in three environments:

``class``
    what ``pyrust build-env`` prints (pyrust.bbclass's exports plus oe-core's python_pyo3
    ones). setuptools names the module with SETUPTOOLS_EXT_SUFFIX; setuptools-rust builds
    for CARGO_BUILD_TARGET and keeps the suffix because ``_PYTHON_HOST_PLATFORM`` makes
    ``build --plat-name`` and ``sysconfig.get_platform()`` agree.
``no-ext-suffix``
    the same without SETUPTOOLS_EXT_SUFFIX (and no target sysconfigdata): setuptools falls
    back to the *running* interpreter's EXT_SUFFIX, the build machine's
    (``.cpython-311-x86_64-linux-gnu.so``); ``pyrust check`` names the suffix and the
    failed import.
``oe-core``
    exactly what oe-core's classes export for a python_setuptools3_rust recipe without
    pyrust (see :func:`oe_core_environment`). python3targetconfig.bbclass makes the build
    machine's python read the *target's* sysconfigdata, so setuptools takes EXT_SUFFIX
    from there: measured right for both targets (unlike maturin's guess, which the
    mips64el regression in test_cross_build.py shows).

Every build gets a fresh crate copy (setuptools' build/lib.<platform> directory would
otherwise carry one build's module into the next wheel) and shares the Rust target's
CARGO_TARGET_DIR with the maturin builds. Needs setuptools-rust and wheel (setuptools
< 70.1 has no bdist_wheel of its own), plus what test_cross_build.py needs.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
import sysconfig
from pathlib import Path

import pytest

from crossbuild import (
    EXAMPLE,
    TARGETS,
    Built,
    CrossTarget,
    assert_check_passes,
    assert_example_works,
    assert_wrong_suffix_caught,
    cargo_target_dir,
    class_environment,
    copy_crate,
    cpython_sysroot_lookup,
    keep_if_same,
    oe_core_pyo3_config,
    oe_variables,
    one_wheel,
    prepare_target,
    rust_environment,
    timed_build,
)
from pyrust.sysconfigdata import abi_from_sysroot
from testbed import cache_dir, missing

pytestmark = pytest.mark.e2e

# A little-endian and a big-endian row of crossbuild.TARGETS.
SETUPTOOLS_TARGETS = ("armv7", "powerpc")

# The build machine's own suffix: what setuptools falls back to without
# SETUPTOOLS_EXT_SUFFIX and without the target's sysconfigdata.
HOST_EXT_SUFFIX = sysconfig.get_config_var("EXT_SUFFIX")

PYPROJECT = """\
[build-system]
requires = ["setuptools>=64", "setuptools-rust>=1.9", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "pyrust-example"
version = "0.1.0"
requires-python = ">=3.11"
"""

SETUP_PY = """\
from setuptools import setup
from setuptools_rust import Binding, RustExtension

setup(
    packages=["pyrust_example"],
    # --locked: Cargo.lock is committed (maturin's `locked = true` in the original pyproject.toml)
    rust_extensions=[RustExtension("pyrust_example.pyrust_example", binding=Binding.PyO3, cargo_manifest_args=["--locked"])],
    zip_safe=False,
)
"""

# maturin generates this package for a pure-Rust project; setuptools needs it written out.
INIT_PY = "from .pyrust_example import *  # noqa: F403\n"

# What a build's environment must not inherit from the caller's: each variant sets its own.
CALLER_PREFIXES = ("SETUPTOOLS_", "PYO3_", "_PYTHON_", "PYRUST_", "CARGO_BUILD_", "CARGO_TARGET_", "PYTHONPATH")
TOOLCHAIN = ("PYRUST_RUST_SYSROOT",)  # from tests/tools/rust-cross-setup: the Rust toolchain, kept


# ---- the crate as a setuptools-rust project -----------------------------------------------


def setuptools_crate(work: Path, cargo_config: Path) -> Path:
    """A copy of the example crate with setup.py/pyproject.toml for setuptools-rust.

    The cargo configuration build-env wrote (target, linker, ``[unstable] build-std``)
    becomes the crate's ``.cargo/config.toml``: setuptools-rust runs cargo itself, with no
    way to pass ``--config``, and cargo reads this file from the build's working directory
    (oe-core's cargo_common writes the same settings into ``${CARGO_HOME}/config.toml``).
    """
    crate = copy_crate(EXAMPLE, work)
    (crate / "pyproject.toml").write_text(PYPROJECT)
    (crate / "setup.py").write_text(SETUP_PY)
    (crate / "pyrust_example").mkdir()
    (crate / "pyrust_example" / "__init__.py").write_text(INIT_PY)
    (crate / ".cargo").mkdir()
    shutil.copyfile(cargo_config, crate / ".cargo" / "config.toml")
    return crate


def pip_wheel(label: str, crate: Path, env: dict[str, str], work: Path, record) -> tuple[Path, float]:
    """``pip wheel --no-build-isolation`` of ``crate`` in ``env``: (the wheel, seconds)."""
    out = work / "wheels"
    log = work / "pip-wheel.log"
    seconds = timed_build(label, f"setuptools-rust (pip wheel) for {env['CARGO_BUILD_TARGET']}",
                          [sys.executable, "-m", "pip", "wheel", "--no-build-isolation", "--no-deps", "--no-cache-dir",
                           "--disable-pip-version-check", "--verbose", "--wheel-dir", str(out), str(crate)],
                          env=env, cwd=crate, log=log, record=record)
    return one_wheel(out, label, log), seconds


# ---- the three environments ---------------------------------------------------------------


def base_environment(rust_env: dict[str, str]) -> dict[str, str]:
    """The Rust toolchain's environment without any Python cross-build variable of the caller's."""
    return {name: value for name, value in rust_env.items() if name in TOOLCHAIN or not name.startswith(CALLER_PREFIXES)}


def without_ext_suffix(env: dict[str, str]) -> dict[str, str]:
    """The class's environment without SETUPTOOLS_EXT_SUFFIX."""
    return {name: value for name, value in env.items() if name != "SETUPTOOLS_EXT_SUFFIX"}


def python_sysconfigdata(sysroot: Path, work: Path) -> Path:
    """oe-core's ``${STAGING_LIBDIR}/python-sysconfigdata``: the target's ``_sysconfigdata*.py``
    copied as ``_sysconfigdata.py`` (what the python3 recipe's do_install stages)."""
    abi = abi_from_sysroot(sysroot)
    assert abi is not None and abi.path.endswith(".py"), f"no _sysconfigdata*.py in {sysroot}"
    directory = work / "python-sysconfigdata"
    directory.mkdir()
    shutil.copyfile(abi.path, directory / "_sysconfigdata.py")
    return directory


def oe_core_environment(class_env: dict[str, str], entry: CrossTarget, sysroot: Path, crate: Path, work: Path,
                        config_key: str) -> dict[str, str]:
    """What oe-core's classes export for a python_setuptools3_rust recipe, without pyrust.

    From the class's environment (build-env) keep only python_pyo3.bbclass's variables:
    PYO3_CROSS, PYO3_CROSS_PYTHON_VERSION, PYO3_CROSS_LIB_DIR (STAGING_LIBDIR),
    CARGO_BUILD_TARGET (upstream Rust target here: there is no OE target spec), and its
    pyo3.config (no ``ext_suffix=``/``abiflags=``); PYO3_PYTHON is ``${PYTHON}``, the build
    machine's python. Add python_pep517.bbclass's ``_PYTHON_HOST_PLATFORM=linux-${HOST_ARCH}``
    and python3targetconfig.bbclass's setup_target_config (run before do_compile):
    ``_PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata``, ``_PYTHON_PROJECT_BASE=${B}`` and
    ``python-sysconfigdata`` first on PYTHONPATH. Its PATH entry for the target's
    python3-config is left out: neither setuptools nor setuptools-rust runs it.
    setuptools3-base's STAGING_*/LDSHARED/CCSHARED are for C extensions only.
    RUSTC_BOOTSTRAP stays where build-env set it: a standalone -Zbuild-std needs it
    (OE builds std in its own recipe).
    """
    pyo3 = ("PYO3_CROSS", "PYO3_CROSS_PYTHON_VERSION", "PYO3_CROSS_LIB_DIR", "CARGO_BUILD_TARGET", "RUSTC_BOOTSTRAP")
    env = {name: class_env[name] for name in pyo3 if name in class_env}
    stripped = oe_core_pyo3_config(Path(class_env["PYO3_CONFIG_FILE"]), work / "pyo3.config.oe-core")
    env["PYO3_CONFIG_FILE"] = str(keep_if_same(stripped, cache_dir() / "e2e-cross-build" / config_key / "pyo3.config"))
    env["PYO3_PYTHON"] = sys.executable
    env["_PYTHON_HOST_PLATFORM"] = "linux-" + oe_variables(entry)["HOST_ARCH"]
    env["_PYTHON_SYSCONFIGDATA_NAME"] = "_sysconfigdata"
    env["_PYTHON_PROJECT_BASE"] = str(crate)
    env["PYTHONPATH"] = str(python_sysconfigdata(sysroot, work))
    return env


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rust_env() -> dict[str, str]:
    if importlib.util.find_spec("setuptools_rust") is None:
        missing(f"setuptools-rust is not installed for {sys.executable} (pip install -e '.[build]')")
    if importlib.util.find_spec("wheel") is None and importlib.util.find_spec("setuptools.command.bdist_wheel") is None:
        missing(f"no bdist_wheel for {sys.executable}: pip install wheel (or setuptools >= 70.1)")
    return rust_environment()


def _setuptools_build(key: str, variant: str, request, rust_env, sysroot_of, tmp_path_factory, record) -> Built:
    """The example built with setuptools-rust for row ``key`` of TARGETS in environment ``variant``."""
    entry = TARGETS[key]
    label = f"{key}-setuptools-{variant}"
    work = tmp_path_factory.mktemp(label)
    args, target, sysroot = prepare_target(entry, work, rust_env, sysroot_of, lambda: cpython_sysroot_lookup(request))
    # The class's pyo3.config goes to the same stable path as the maturin example build's,
    # and oe-core's to the mips64el regression's naming: one PyO3 build per config.
    class_env = class_environment(label, args, sysroot, EXAMPLE, rust_env, work, config_key=f"{key}-example")
    crate = setuptools_crate(work, Path(class_env["PYRUST_CARGO_CONFIG"]))
    if variant == "class":
        env = class_env
    elif variant == "no-ext-suffix":
        env = without_ext_suffix(class_env)
    else:
        env = oe_core_environment(class_env, entry, sysroot, crate, work, f"{key}-oe-core-config")
    print(f"\n[environment] {label}:\n" + "\n".join(f"  {k}={v}" for k, v in sorted(env.items())))
    build_env = {**base_environment(rust_env), **env, "CARGO_TARGET_DIR": str(cargo_target_dir(class_env["CARGO_BUILD_TARGET"]))}
    wheel, seconds = pip_wheel(label, crate, build_env, work, record)
    return Built(label, target, sysroot, wheel, env, seconds, tuple(args))


@pytest.fixture(scope="module", params=SETUPTOOLS_TARGETS)
def class_build(request, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> tuple[CrossTarget, Built]:
    """setuptools-rust with the class's environment: (the row, the build)."""
    return TARGETS[request.param], _setuptools_build(request.param, "class", request, rust_env, sysroot_of, tmp_path_factory,
                                                     record_testsuite_property)


@pytest.fixture(scope="module", params=SETUPTOOLS_TARGETS)
def no_suffix_build(request, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> tuple[CrossTarget, Built]:
    """setuptools-rust with the class's environment minus SETUPTOOLS_EXT_SUFFIX."""
    return TARGETS[request.param], _setuptools_build(request.param, "no-ext-suffix", request, rust_env, sysroot_of,
                                                     tmp_path_factory, record_testsuite_property)


@pytest.fixture(scope="module", params=SETUPTOOLS_TARGETS)
def oe_core_build(request, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> tuple[CrossTarget, Built]:
    """setuptools-rust with exactly oe-core's exports (no pyrust)."""
    return TARGETS[request.param], _setuptools_build(request.param, "oe-core", request, rust_env, sysroot_of,
                                                     tmp_path_factory, record_testsuite_property)


# ---- with the class's environment ---------------------------------------------------------


def test_class_build_named_for_target(class_build):
    entry, built = class_build
    assert built.env["SETUPTOOLS_EXT_SUFFIX"] == entry.ext_suffix
    assert built.modules() == [f"pyrust_example/pyrust_example{entry.ext_suffix}"]


def test_class_build_passes_pyrust_check(class_build, tmp_path):
    assert_check_passes(class_build[1], tmp_path)


def test_class_build_calls_under_qemu(class_build, tmp_path):
    assert_example_works(*class_build, tmp_path)


# ---- without SETUPTOOLS_EXT_SUFFIX: the build machine's suffix, caught --------------------


def test_without_ext_suffix_module_gets_build_machine_suffix(no_suffix_build):
    _, built = no_suffix_build
    print(f"\n[finding] {built.label}: setuptools-rust named the module {built.modules()}")
    assert built.modules() == [f"pyrust_example/pyrust_example{HOST_EXT_SUFFIX}"]


def test_pyrust_check_catches_missing_ext_suffix(no_suffix_build, tmp_path):
    entry, built = no_suffix_build
    assert_wrong_suffix_caught(built, tmp_path, got=HOST_EXT_SUFFIX, expected=entry.ext_suffix)


# ---- oe-core's exports alone: the target's sysconfigdata names it -------------------------


def test_oe_core_exports_name_module_from_target_sysconfigdata(oe_core_build, tmp_path):
    """A finding, kept as a test: under oe-core's own classes setuptools-rust takes the
    suffix from the target's sysconfigdata (python3targetconfig), which is right here."""
    entry, built = oe_core_build
    assert "SETUPTOOLS_EXT_SUFFIX" not in built.env and "ext_suffix=" not in Path(built.env["PYO3_CONFIG_FILE"]).read_text()
    print(f"\n[finding] {built.label}: setuptools-rust named the module {built.modules()}")
    assert built.modules() == [f"pyrust_example/pyrust_example{entry.ext_suffix}"]
    assert_check_passes(built, tmp_path)
