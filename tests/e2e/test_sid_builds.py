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
amd64 rustc-web (asking tests/tools/rust-cross-setup for s390x pins every architecture back
to the newest common version, 1.85, and downgrades the host's rustc-web).

For armv7 and aarch64 x 3.14 the device's own pip (PyPI's pure-Python pip wheel, run by
the target interpreter under qemu-user) installs the wheel into a prefix: its tag must be
in packaging.tags.sys_tags() as the target computes them.

Needs qemu-user, the sid sysroots (tests/tools/provision-sid), Debian's Rust with the
armhf/arm64 std and rust-src (tests/tools/rust-cross-setup), the cross gcc's
(tests/tools/setup-testbed --cross arm,riscv,s390x) and maturin. Missing tools skip (fail under CI=true).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from packaging.utils import parse_wheel_filename

from crossbuild import (
    EXAMPLE,
    CrossTarget,
    assert_check_passes,
    assert_example_works,
    maturin_build,
    require_toolchain,
    rust_environment,
)
from pyrust.check import find_interpreter
from pyrust.qemurun import run_target_python
from pyrust.resolve import resolve_abi
from sid import (
    SID_INTERPRETERS,
    loong64_cc_dir,
    oe_target,
    packaging_dir,
    parse_probe,
    qemu_for,
    sid_qemu_dir,
    sid_sysroot,
)
from testbed import cache_dir, missing, require_tool

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
            missing("no loongarch64 linker wrapper (tests/tools/provision-sid writes it)")
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


# ---- the wheel a device's pip accepts ---------------------------------------------------

PIP_VERSION = "26.3"  # pure-Python wheel from PyPI, run by the target interpreter
PIP_BUILDS = ("armv7-3.14", "aarch64-3.14")

# One target interpreter run: packaging's sys_tags() as the device computes them, pip
# installing the wheel into a prefix (and refusing a copy tagged for x86_64), then the
# module imported from that prefix and called.
PIP_SCRIPT = r"""
import compileall, json, sys
# pip's 1000-odd modules compiled once per CPython version (the .pyc files are the same on
# every architecture): imported from source under qemu-aarch64 they took 5 min per run.
compileall.compile_dir({pip!r}, quiet=2)
sys.path[:0] = [{pip!r}, {pure!r}]
from packaging import tags
from pip._internal.cli.main import main as pip
common = ["install", "--no-index", "--no-deps", "--no-cache-dir", "--disable-pip-version-check",
          "--root-user-action=ignore", "--target"]
wrong = pip(common + [{prefix!r} + "-wrong", {wrong!r}])
right = pip(common + [{prefix!r}, {wheel!r}])
sys.path.insert(0, {prefix!r})
import pyrust_example as m
so = sys.modules["pyrust_example.pyrust_example"].__file__
print(json.dumps({{"sys_tags": [str(t) for t in tags.sys_tags()], "wrong": wrong, "right": right,
                   "add": m.add(2, 3), "module": so}}))
"""


@pytest.fixture(scope="session")
def pip_wheel(rust_env) -> Path:
    """pip's own wheel from PyPI, downloaded once into the cache and unpacked beside it
    (the directory is what the target runs: its .pyc files stay for the next run)."""
    wheels = cache_dir() / "wheels"
    unpacked = wheels / f"pip-{PIP_VERSION}-py3-none-any"
    if (unpacked / "pip" / "__main__.py").is_file():
        return unpacked
    found = sorted(wheels.glob(f"pip-{PIP_VERSION}-py3-none-any.whl"))
    if not found:
        wheels.mkdir(parents=True, exist_ok=True)
        proc = subprocess.run([sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps",
                               "--only-binary", ":all:", f"pip=={PIP_VERSION}", "-d", str(wheels)],
                              capture_output=True, text=True, timeout=600)
        found = sorted(wheels.glob(f"pip-{PIP_VERSION}-py3-none-any.whl"))
        if proc.returncode != 0 or not found:
            missing(f"pip download pip=={PIP_VERSION} failed (exit {proc.returncode}): {proc.stderr.strip()[-300:]}")
    staging = wheels / f".tmp-{os.getpid()}-pip"
    shutil.rmtree(staging, ignore_errors=True)
    with zipfile.ZipFile(found[0]) as wheel:
        wheel.extractall(staging)
    staging.rename(unpacked)
    return unpacked


@pytest.mark.parametrize("sid_build", PIP_BUILDS, indirect=True)
def test_device_pip_installs_the_wheel(sid_build, pip_wheel, tmp_path):
    """The wheel's tag is one the target computes (packaging.tags.sys_tags() under
    qemu-user), the target's own pip installs it into a prefix (and refuses the same
    wheel tagged linux_x86_64), and the module imports from there and is called."""
    row, _, built = sid_build
    wrong = tmp_path / built.wheel.name.replace(f"-{built.env['PYRUST_PLATFORM_TAG']}.whl", "-linux_x86_64.whl")
    shutil.copy(built.wheel, wrong)
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    code = PIP_SCRIPT.format(pip=str(pip_wheel), pure=str(packaging_dir(tmp_path)), prefix=str(tmp_path / "prefix"),
                             wheel=str(built.wheel), wrong=str(wrong))
    python = find_interpreter(built.sysroot, SID_INTERPRETERS[row.interpreter].version)
    assert python is not None
    # sid's qemu-user (provision-sid unpacks it for loong64) when there: bookworm's 7.2 runs
    # sid's arm64 python3.14 about 5x slower (pip's imports: 127 s against 24 s, measured).
    sid_qemu = sid_qemu_dir()
    qemu = str(sid_qemu / built.target.qemu_binary) if sid_qemu and (sid_qemu / built.target.qemu_binary).is_file() \
        else built.target.qemu_binary
    result = run_target_python(qemu, built.target.qemu_options, built.sysroot, python, code, cwd=cwd, timeout=600)
    assert result.returncode == 0 and not result.timed_out, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    got = parse_probe(result.stdout)
    assert set(str(t) for t in parse_wheel_filename(built.wheel.name)[3]) <= set(got["sys_tags"])
    assert (got["wrong"], got["right"]) == (1, 0), result.stdout + result.stderr
    assert "is not a supported wheel on this platform" in result.stdout + result.stderr
    assert (got["add"], Path(got["module"]).name) == (5, f"pyrust_example{row.ext_suffix}")
    assert Path(got["module"]).is_relative_to(tmp_path / "prefix")
