"""PyO3 modules built with the class's environment and imported on Debian sid's real 3.13 to 3.15.

The example crate (recipes-devtools/python/files/pyrust-example, PyO3 0.30.1: CPython
3.9 to 3.15) is built with ``pyrust build-env <target> --python X.Y --abiflags F --sysroot
<sid sysroot>`` and maturin (crossbuild.maturin_build, as for the 3.11 targets), then
``pyrust check`` imports it in the sysroot's interpreter under qemu-user and the test calls
into it. Rows (:data:`BUILDS`): armv7 x {3.13, 3.14, 3.15, 3.14 debug}, aarch64, riscv64,
loongarch64 and big-endian s390x x 3.14. loongarch64 links with clang-19/lld-19 against
sid's loong64 libc (tests/e2e/sid.py: bookworm has no loongarch64 gcc) and runs on sid's
qemu-user. riscv64, s390x and loongarch64 build Rust's std from source (build-env's
``--build-std auto``): Debian bookworm ships no riscv64 std, and its s390x std lags the
amd64 rustc-web (asking scripts/rust-cross-setup for s390x pins every architecture back
to the newest common version, 1.85, and downgrades the host's rustc-web).

Needs qemu-user, the sid sysroots (tests/e2e/provision-sid), Debian's Rust with the
armhf/arm64 std and rust-src (scripts/rust-cross-setup), the cross gcc's
(scripts/setup-testbed --cross arm,riscv,s390x) and maturin. Missing tools skip (fail under CI=true).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
from pathlib import Path

import pytest

from crossbuild import (
    EXAMPLE,
    CrossTarget,
    assert_check_passes,
    assert_example_works,
    maturin_build,
    require_toolchain,
    rust_environment,
)
from pyrust.resolve import resolve_abi
from sid import SID_INTERPRETERS, loong64_cc_dir, oe_target, qemu_for, sid_sysroot
from testbed import missing, require_tool

pytestmark = pytest.mark.e2e


@dataclasses.dataclass(frozen=True)
class SidBuild:
    """One build: the sid interpreter it is for and what a correct module reports."""

    interpreter: str  # key of sid.SID_INTERPRETERS
    ext_suffix: str  # the interpreter's EXT_SUFFIX (tests/e2e/test_sid_interpreters.py reads it)
    build_std: bool  # Debian ships no Rust std for the target
    probe: dict[str, str]  # what triplet_probe() prints (Rust's view of the target)


def _probe(arch: str, endian: str, bits: int, abi: str = "") -> dict[str, str]:
    return {"arch": arch, "endian": endian, "bits": str(bits), "abi": abi}


BUILDS: dict[str, SidBuild] = {
    "armv7-3.13": SidBuild("armv7-3.13", ".cpython-313-arm-linux-gnueabihf.so", False, _probe("arm", "little", 32, "eabihf")),
    "armv7-3.14": SidBuild("armv7-3.14", ".cpython-314-arm-linux-gnueabihf.so", False, _probe("arm", "little", 32, "eabihf")),
    "armv7-3.15": SidBuild("armv7-3.15", ".cpython-315-arm-linux-gnueabihf.so", False, _probe("arm", "little", 32, "eabihf")),
    "armv7-3.14d": SidBuild("armv7-3.14d", ".cpython-314d-arm-linux-gnueabihf.so", False, _probe("arm", "little", 32, "eabihf")),
    "aarch64-3.14": SidBuild("aarch64-3.14", ".cpython-314-aarch64-linux-gnu.so", False, _probe("aarch64", "little", 64)),
    "riscv64-3.14": SidBuild("riscv64-3.14", ".cpython-314-riscv64-linux-gnu.so", True, _probe("riscv64", "little", 64)),
    "s390x-3.14": SidBuild("s390x-3.14", ".cpython-314-s390x-linux-gnu.so", True, _probe("s390x", "big", 64)),
    "loongarch64-3.14": SidBuild("loongarch64-3.14", ".cpython-314-loongarch64-linux-gnu.so", True,
                                 _probe("loongarch64", "little", 64)),
}


@pytest.fixture(scope="session")
def rust_env() -> dict[str, str]:
    if importlib.util.find_spec("maturin") is None:
        missing(f"maturin is not installed for {sys.executable} (pip install -e '.[build]')")
    return rust_environment()


def _path_for(entry) -> list[str]:
    """Directories to put first on PATH for ``entry``: sid's qemu-user (loong64), the
    loongarch64 linker wrapper; else skip (fail under CI)."""
    dirs = []
    if entry.qemu_from_sid:
        dirs.append(str(Path(qemu_for(entry)).parent))
    if entry.debian_arch == "loong64":
        require_tool("clang-19")
        require_tool("ld.lld-19")
        cc = loong64_cc_dir()
        if cc is None:
            missing("no loongarch64 linker wrapper (tests/e2e/provision-sid writes it)")
        dirs.append(str(cc))
    return dirs


@pytest.fixture(scope="module", params=list(BUILDS))
def sid_build(request, rust_env, tmp_path_factory, record_testsuite_property):
    """The example crate built for one row of BUILDS (once each): (row, CrossTarget view, build).

    For loongarch64 the test process's PATH gets sid's qemu-user and the linker wrapper
    first (``pyrust check`` and the call run ``qemu-loongarch64`` from PATH) until the
    row's tests are done.
    """
    label = request.param
    row = BUILDS[label]
    entry = SID_INTERPRETERS[row.interpreter]
    sysroot = sid_sysroot(entry)
    target = oe_target(entry)
    qemu_for(entry)
    extra = _path_for(entry)
    if extra:
        patch = pytest.MonkeyPatch()
        request.addfinalizer(patch.undo)
        patch.setenv("PATH", os.pathsep.join([*extra, os.environ["PATH"]]))
        rust_env = dict(rust_env, PATH=os.pathsep.join([*extra, rust_env["PATH"]]))
    require_toolchain(target, sysroot, rust_env, row.build_std, entry.version, entry.abiflags)
    args = [*entry.cli_target(), "--python", entry.version, "--abiflags", entry.abiflags]
    work = tmp_path_factory.mktemp(f"sid-{label}")
    built = maturin_build(f"sid-{label}-example", target, sysroot, EXAMPLE, args, rust_env, work, record_testsuite_property)
    view = CrossTarget(ext_suffix=row.ext_suffix, build_std=row.build_std, probe=row.probe)
    return row, view, built


def test_module_has_the_interpreters_suffix(sid_build):
    row, _, built = sid_build
    assert [name.rsplit("/", 1)[-1] for name in built.modules()] == [f"pyrust_example{row.ext_suffix}"]
    assert built.env["PYRUST_EXT_SUFFIX"] == row.ext_suffix


def test_build_env_took_the_sysroots_abi(sid_build):
    """build-env resolved the ABI from the sid sysroot's own sysconfigdata, without warnings."""
    row, _, built = sid_build
    entry = SID_INTERPRETERS[row.interpreter]
    resolution = resolve_abi(built.target, entry.version, entry.abiflags, built.sysroot)
    assert (resolution.abi.source, resolution.abi.ext_suffix, resolution.warnings) == ("sysroot", row.ext_suffix, ())
    assert built.env["PYO3_CROSS_PYTHON_VERSION"] == entry.version


def test_pyrust_check_imports_it(sid_build, tmp_path):
    _, _, built = sid_build
    assert_check_passes(built, tmp_path)


def test_module_is_called_on_the_target(sid_build, tmp_path):
    row, view, built = sid_build
    assert_example_works(view, built, tmp_path)
