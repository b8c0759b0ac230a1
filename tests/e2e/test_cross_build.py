"""Real cross builds with the class's environment, checked under qemu-user.

Each build goes through the library's own code path (``python -m pyrust.cli build-env``,
the environment pyrust.bbclass exports plus what oe-core's python_pyo3 exports) and
``maturin build``, then the wheel is checked with ``pyrust check`` against the target's
python3.11 and called into under qemu-user:

1. the example crate (recipes-devtools/python/files/pyrust-example) for every row of
   crossbuild.TARGETS: armv7 (qemuarm), aarch64 (qemuarm64), i686 (qemux86), ppc64le
   (qemuppc64), mipsel (tune qemumips/mips32r2el), mips64el (tune qemumips64/mips64r2el),
   and the big-endian pair powerpc (qemuppc) and mips64 n64 (qemumips64). Debian's
   python3.11 runs the little-endian ones; the big-endian ones run a CPython 3.11
   cross-built by tests/tools/build-target-cpython (conftest's ``cpython_sysroot``). Debian
   ships no Rust std for the MIPS and powerpc rows: build-env's ``--build-std auto``
   builds it (RUSTC_BOOTSTRAP, ``[unstable] build-std``; about 5 minutes per target the
   first time);
2. the package of the original report, rpds-py (sdist from PyPI), for qemuarm;
3. the regression on mips64el: oe-core's pyo3.config alone (no ``ext_suffix=``) makes
   maturin name the module for the Rust target (``mips64``) and ``pyrust check`` catches
   it; the class's config (the mips64el row of 1.) gives a module that imports.

Each build is a module-scoped fixture (done once) and prints its wall time (``-s``); the
times are also junit testsuite properties (``build-seconds-<label>``). Builds are
sequential and share one CARGO_TARGET_DIR per Rust target under the cache
(``$PYRUST_CACHE/cargo-target/<rust target>``), so reruns only rebuild the crate itself;
the crates are copied to temporary directories first. The helpers live in crossbuild.py.

Needs: qemu-user, the cross gcc's and Debian sysroots (tests/tools/setup-testbed), Debian's
Rust with the armhf/arm64/i386/ppc64el std and rust-src (tests/tools/rust-cross-setup --arch
armhf,arm64,i386,ppc64el), the big-endian CPython sysroots (tests/tools/build-target-cpython),
maturin; network to PyPI and crates.io on the first run. Missing tools skip (fail under CI=true).
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import tarfile
import zipfile
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
    cpython_sysroot_lookup,
    maturin_build,
    prepare_target,
    run_on_target,
    rust_environment,
)
from pyrust.resolve import resolve_abi
from testbed import cache_dir, missing, tree_digest

pytestmark = pytest.mark.e2e

# rpds-py 2026.9.1 locks PyO3 0.29.3 (rust-version 1.83); its newest dependency
# (rpds 1.2.1, archery 1.2.3) needs Rust 1.85: all build with Debian's rustc-web 1.85.
RPDS_VERSION = "2026.9.1"


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rust_env() -> dict[str, str]:
    if importlib.util.find_spec("maturin") is None:
        missing(f"maturin is not installed for {sys.executable} (pip install -e '.[build]')")
    return rust_environment()


def _target_build(key: str, crate: Path, label: str, request, rust_env, sysroot_of, tmp_path_factory, record,
                  *, oe_core_config: bool = False) -> Built:
    """``crate`` built with maturin and the class's environment for row ``key`` of TARGETS."""
    work = tmp_path_factory.mktemp(label)
    args, target, sysroot = prepare_target(TARGETS[key], work, rust_env, sysroot_of, lambda: cpython_sysroot_lookup(request))
    return maturin_build(label, target, sysroot, crate, args, rust_env, work, record, oe_core_config=oe_core_config)


@pytest.fixture(scope="module", params=list(TARGETS))
def example_build(request, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> tuple[CrossTarget, Built]:
    """The example crate built for one row of TARGETS (once each): (the row, the build)."""
    key = request.param
    return TARGETS[key], _target_build(key, EXAMPLE, f"{key}-example", request, rust_env, sysroot_of, tmp_path_factory,
                                       record_testsuite_property)


@pytest.fixture(scope="module")
def rpds_sdist(rust_env) -> Path:
    """rpds-py's sdist, downloaded once into the cache."""
    sdists = cache_dir() / "sdists"
    found = sorted(sdists.glob(f"rpds_py-{RPDS_VERSION}.tar.gz"))
    if found:
        return found[0]
    sdists.mkdir(parents=True, exist_ok=True)
    # --no-build-isolation: pip prepares the sdist's metadata with the installed maturin;
    # with build isolation, --no-binary :all: would compile maturin itself from source.
    proc = subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-binary", ":all:",
                           "--no-deps", "--no-build-isolation", f"rpds-py=={RPDS_VERSION}", "-d", str(sdists)],
                          capture_output=True, text=True, timeout=900, env=rust_env)
    found = sorted(sdists.glob(f"rpds_py-{RPDS_VERSION}.tar.gz"))
    if proc.returncode != 0 or not found:
        missing(f"pip download rpds-py=={RPDS_VERSION} failed (exit {proc.returncode}): {proc.stderr.strip()[-400:]}")
    return found[0]


@pytest.fixture(scope="module")
def rpds_build(request, rpds_sdist, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> Built:
    """rpds-py built for qemuarm from its sdist (its Cargo.lock decides the PyO3 route)."""
    unpacked = tmp_path_factory.mktemp("rpds-sdist")
    with tarfile.open(rpds_sdist) as sdist:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+ / 3.12
            sdist.extractall(unpacked, filter="data")
        else:
            sdist.extractall(unpacked)  # noqa: S202 (an sdist from PyPI, pinned version)
    src = unpacked / f"rpds_py-{RPDS_VERSION}"
    assert (src / "Cargo.lock").is_file(), f"{rpds_sdist} has no Cargo.lock"
    return _target_build("armv7", src, "qemuarm-rpds", request, rust_env, sysroot_of, tmp_path_factory,
                         record_testsuite_property)


@pytest.fixture(scope="module")
def mips64_oe_core_build(request, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> Built:
    """The example for mips64el with oe-core's pyo3.config alone (no ext_suffix=): the regression."""
    return _target_build("mips64el", EXAMPLE, "mips64el-oe-core-config", request, rust_env, sysroot_of, tmp_path_factory,
                         record_testsuite_property, oe_core_config=True)


# ---- 1. the example crate for every target ----------------------------------------------


def test_example_module_named_for_target(example_build):
    entry, built = example_build
    assert built.modules() == [f"pyrust_example/pyrust_example{entry.ext_suffix}"]
    # the table's suffix is the one the sysroot's interpreter states
    assert resolve_abi(built.target, None, None, built.sysroot).abi.ext_suffix == entry.ext_suffix


def test_example_builds_std_only_where_debian_has_none(example_build):
    entry, built = example_build
    # --build-std auto: RUSTC_BOOTSTRAP=1 exactly for the targets Debian ships no std for
    assert (built.env.get("RUSTC_BOOTSTRAP") == "1") == entry.build_std, built.env


def test_example_passes_pyrust_check(example_build, tmp_path):
    assert_check_passes(example_build[1], tmp_path)


def test_example_calls_under_qemu(example_build, tmp_path):
    assert_example_works(*example_build, tmp_path)


# ---- 2. rpds-py, the package of the original report, for qemuarm ------------------------


def test_rpds_module_named_for_target(rpds_build):
    assert rpds_build.modules() == ["rpds/rpds.cpython-311-arm-linux-gnueabihf.so"]
    # PyO3 0.29.3 is >= 0.18.1: the class's pyo3.config route (ext_suffix= in it).
    assert "ext_suffix=.cpython-311-arm-linux-gnueabihf.so" in Path(rpds_build.env["PYO3_CONFIG_FILE"]).read_text()


def test_rpds_passes_pyrust_check(rpds_build, tmp_path):
    assert_check_passes(rpds_build, tmp_path, module="rpds.rpds")


def test_rpds_works_under_qemu(rpds_build, tmp_path):
    result = run_on_target(rpds_build, "import rpds\nm = rpds.HashTrieMap({'a': 1})\n"
                                       "assert m['a'] == 1, m\nprint('rpds-ok', m['a'], rpds.__file__)", tmp_path)
    assert "rpds-ok 1" in result.stdout


# ---- 3. mips64el: oe-core's config alone vs the class's (the mips64el row of 1.) --------


def test_oe_core_config_names_module_for_rust_target(mips64_oe_core_build):
    assert "ext_suffix=" not in Path(mips64_oe_core_build.env["PYO3_CONFIG_FILE"]).read_text()
    assert mips64_oe_core_build.modules() == ["pyrust_example/pyrust_example.cpython-311-mips64-linux-gnuabi64.so"]


def test_pyrust_check_catches_the_regression(mips64_oe_core_build, tmp_path):
    assert_wrong_suffix_caught(mips64_oe_core_build, tmp_path, got=".cpython-311-mips64-linux-gnuabi64.so",
                               expected=".cpython-311-mips64el-linux-gnuabi64.so")


# ---- image level: pyrust_image.bbclass's check on an assembled root filesystem ----------


def test_image_check_on_assembled_rootfs(rpds_build, tmp_path):
    """A rootfs from Debian's armhf python3 plus the rpds-py wheel and a wrongly named copy
    of its module: one interpreter run imports them all and names the broken one."""
    import shutil

    from pyrust.check import QA_EXT_SUFFIX, QA_IMPORT, check_rootfs

    rootfs = tmp_path / "rootfs"
    shutil.copytree(rpds_build.sysroot, rootfs, symlinks=True)
    site = rootfs / "usr/lib/python3/dist-packages"
    with zipfile.ZipFile(rpds_build.wheel) as wheel:
        wheel.extractall(site)
    module = next(site.glob("rpds/rpds.cpython-*.so"))
    broken = site / "broken"
    broken.mkdir()
    (broken / "__init__.py").write_text("")
    shutil.copy2(module, broken / "rpds.cpython-311-armv7l-linux-gnueabihf.so")  # the original report's name
    digest = tree_digest(site)

    report = check_rootfs(rootfs, rpds_build.target, timeout=300)

    assert report.abi.source == "sysroot"
    assert "rpds.rpds" in report.imported
    by_qa = {(f.qa, f.path.split(":")[0].split("/")[-1]) for f in report.findings}
    assert (QA_EXT_SUFFIX, "rpds.cpython-311-armv7l-linux-gnueabihf.so") in by_qa
    assert any(f.qa == QA_IMPORT and "broken.rpds" in f.message and "ModuleNotFoundError" in f.message for f in report.findings)
    assert len(report.findings) == 2
    assert tree_digest(site) == digest
