"""``pyrust build-env --zig``: version parsing, the target rules and the sccache rule of
cargo-zigbuild issue #295, with stand-in executables that print what the real tools print
(their ``--version`` lines, zig 0.13.0's ``targets`` libc list). The real tools and the real
failure: tests/e2e/test_zig.py."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from pyrust.errors import InputError
from pyrust.machines import machine_vars
from pyrust.target import target_from_vars
from pyrust.zig import (
    SCCACHE_ERROR,
    ZigDriver,
    check_target,
    driver_kind,
    parse_version,
    sccache_environment,
    sccache_wrapper,
    zig_environment,
    zig_triple,
)
from testbed import REPO

pytestmark = pytest.mark.unit

# The Linux part of `python -m ziglang targets`' "libc" list, ziglang 0.13.0 (tests/e2e/test_zig.py
# compares this with the real one).
ZIG_0_13_LINUX_LIBC = frozenset([
    "aarch64_be-linux-gnu", "aarch64-linux-gnu", "aarch64-linux-musl", "arm-linux-gnueabi", "arm-linux-gnueabihf",
    "arm-linux-musleabi", "arm-linux-musleabihf", "x86-linux-gnu", "x86-linux-musl", "loongarch64-linux-gnu",
    "mips64el-linux-gnuabi64", "mips64el-linux-gnuabin32", "mips64-linux-gnuabi64", "mipsel-linux-gnueabi",
    "mipsel-linux-gnueabihf", "mipsel-linux-musl", "mips-linux-gnueabi", "mips-linux-gnueabihf", "powerpc64le-linux-gnu",
    "powerpc64-linux-gnu", "powerpc-linux-gnueabi", "powerpc-linux-gnueabihf", "riscv64-linux-gnu", "s390x-linux-gnu",
    "x86_64-linux-gnu", "x86_64-linux-musl",
])


def machine(name: str, **overrides: str):
    return target_from_vars({**machine_vars(name), **overrides})


def executable(path: Path, script: str) -> Path:
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)
    return path


def fake_zig_python(directory: Path) -> Path:
    """A "python" whose ``-m ziglang version`` / ``targets`` answer as ziglang 0.13.0's."""
    targets = directory / "targets.json"
    targets.write_text(json.dumps({"libc": sorted(ZIG_0_13_LINUX_LIBC)}))
    return executable(directory / "python", f'case "$3" in version) echo 0.13.0;; targets) cat {targets};; *) exit 1;; esac\n')


@pytest.mark.parametrize(("text", "tool", "version"), [
    ("cargo-zigbuild 0.19.6\n", "cargo-zigbuild", (0, 19, 6)),
    ("maturin 1.7.8\n", "maturin", (1, 7, 8)),
    ("warning: x\nmaturin 1.16.0", "maturin", (1, 16, 0)),
])
def test_parse_version(text, tool, version):
    assert parse_version(text, tool) == version


def test_parse_version_refuses_other_output():
    with pytest.raises(InputError, match=r"cargo-zigbuild --version='zig 0.13.0': expected 'cargo-zigbuild X.Y.Z'"):
        parse_version("zig 0.13.0", "cargo-zigbuild")


@pytest.mark.parametrize(("spec", "kind"), [("maturin", "maturin"), ("/venv/bin/maturin", "maturin"),
                                            ("cargo-zigbuild", "cargo-zigbuild"), ("/x/cargo-zigbuild-0.19.6", "cargo-zigbuild")])
def test_driver_kind(spec, kind):
    assert driver_kind(spec) == kind


def test_driver_kind_refuses_other_tools():
    with pytest.raises(InputError, match="--zig='zig': expected maturin or cargo-zigbuild"):
        driver_kind("zig")


@pytest.mark.parametrize(("rust", "zig"), [
    ("aarch64-unknown-linux-gnu", "aarch64-linux-gnu"), ("armv7-unknown-linux-gnueabihf", "arm-linux-gnueabihf"),
    ("i686-unknown-linux-gnu", "x86-linux-gnu"), ("mips-unknown-linux-gnu", "mips-linux-gnueabihf"),
    ("powerpc-unknown-linux-gnu", "powerpc-linux-gnueabihf"), ("mips64el-unknown-linux-gnuabi64", "mips64el-linux-gnuabi64"),
    ("riscv64gc-unknown-linux-gnu", "riscv64-linux-gnu"), ("x86_64-unknown-linux-musl", "x86_64-linux-musl"),
])
def test_zig_triple(rust, zig):
    assert zig_triple(rust) == zig


def test_zig_triple_refuses_non_linux():
    with pytest.raises(InputError, match="Linux target"):
        zig_triple("aarch64-apple-darwin")


@pytest.mark.parametrize("name", ["qemuarm", "qemuarm64", "qemux86", "qemux86-64", "qemumips", "qemuppc", "qemuppc64", "qemuriscv64"])
def test_qemu_machines_zig_links_for(name):
    check_target(machine(name), ZIG_0_13_LINUX_LIBC)


def test_target_without_zig_libc_is_refused():
    with pytest.raises(InputError, match=r"zig has no libc for aarch64-linux-gnu \(`python -m ziglang targets`"):
        check_target(machine("qemuarm64"), ZIG_0_13_LINUX_LIBC - {"aarch64-linux-gnu"})


def test_soft_float_mips_is_refused():
    with pytest.raises(InputError, match="soft float.*hard-float target: cargo-zigbuild links 32-bit MIPS"):
        check_target(machine("qemumips", TARGET_FPU="soft", TUNE_FEATURES="o32 bigendian mips32r2",
                             TUNE_CCARGS=" -EB -mabi=32 -msoft-float -march=mips32r2"), ZIG_0_13_LINUX_LIBC)


def test_armv7_without_neon_is_refused():
    target = machine("qemuarm")
    assert "neon" in target.tune_features
    check_target(target, ZIG_0_13_LINUX_LIBC)
    no_neon = " ".join(sorted(target.tune_features - {"neon"}))
    with pytest.raises(InputError, match="TUNE_FEATURES without neon.*thumb2-neon"):
        check_target(machine("qemuarm", TUNE_FEATURES=no_neon), ZIG_0_13_LINUX_LIBC)


@pytest.mark.parametrize(("env", "found"), [
    ({"RUSTC_WRAPPER": "/usr/bin/sccache"}, "RUSTC_WRAPPER=/usr/bin/sccache"),
    ({"CARGO_BUILD_RUSTC_WRAPPER": "sccache"}, "CARGO_BUILD_RUSTC_WRAPPER=sccache"),
    ({"RUSTC_WRAPPER": "/usr/bin/ccache-rustc"}, None),
    ({"RUSTC_WRAPPER": ""}, None),
    ({}, None),
])
def test_sccache_wrapper(env, found):
    assert sccache_wrapper(env) == found


@pytest.mark.parametrize(("kind", "version"), [("maturin", (1, 7, 8)), ("maturin", (1, 4, 0)), ("cargo-zigbuild", (0, 19, 5)),
                                               ("cargo-zigbuild", (0, 18, 4))])
def test_broken_with_sccache_is_refused_naming_the_fix(kind, version):
    driver = ZigDriver(kind, "/x/" + kind, version)
    assert sccache_environment(driver, {}) == {}  # no sccache: nothing to refuse
    with pytest.raises(InputError) as caught:
        sccache_environment(driver, {"RUSTC_WRAPPER": "sccache"})
    message = str(caught.value)
    assert "0.19.7" in message and SCCACHE_ERROR in message and "issue #295" in message
    assert ("maturin 1.8.0" in message) == (kind == "maturin")


@pytest.mark.parametrize(("kind", "version"), [("maturin", (1, 8, 0)), ("maturin", (1, 16, 0)), ("cargo-zigbuild", (0, 19, 7)),
                                               ("cargo-zigbuild", (0, 24, 1))])
def test_fixed_versions_need_nothing(kind, version):
    assert sccache_environment(ZigDriver(kind, "/x/" + kind, version), {"RUSTC_WRAPPER": "sccache"}) == {}


def test_zigbuild_0_19_6_gets_the_rustc_version(tmp_path):
    rustc = executable(tmp_path / "rustc", 'echo "rustc 1.96.0 (ac68faa20 2026-05-25)"; echo "host: x86_64-unknown-linux-gnu"; '
                                           'echo "release: 1.96.0"\n')
    env = {"RUSTC_WRAPPER": "sccache", "RUSTC": str(rustc), "PATH": os.environ["PATH"]}
    assert sccache_environment(ZigDriver("cargo-zigbuild", "/x", (0, 19, 6)), env) == {"CARGO_ZIGBUILD_RUSTC_VERSION": "1.96.0"}


def test_zigbuild_0_19_6_with_a_broken_rustc_is_bad_input(tmp_path):
    rustc = executable(tmp_path / "rustc", "exit 1\n")
    with pytest.raises(InputError, match="RUSTC=.*expected a rustc whose -vV prints 'release: X.Y.Z'"):
        sccache_environment(ZigDriver("cargo-zigbuild", "/x", (0, 19, 6)), {"RUSTC_WRAPPER": "sccache", "RUSTC": str(rustc)})


def test_zig_environment_with_stand_ins(tmp_path):
    python = fake_zig_python(tmp_path)
    maturin = executable(tmp_path / "maturin", "echo maturin 1.16.0\n")
    env = {"CARGO_ZIGBUILD_PYTHON_PATH": str(python), "RUSTC_WRAPPER": "sccache"}
    assert zig_environment(str(maturin), machine("qemuarm64"), env) == {
        "CARGO_ZIGBUILD_PYTHON_PATH": str(python), "PYRUST_ZIG_DRIVER": str(maturin), "PYRUST_ZIG_VERSION": "0.13.0"}


def test_missing_ziglang_names_the_install(tmp_path):
    python = executable(tmp_path / "python", "echo 'No module named ziglang' >&2; exit 1\n")
    maturin = executable(tmp_path / "maturin", "echo maturin 1.16.0\n")
    with pytest.raises(InputError, match=r"pip install ziglang.*No module named ziglang"):
        zig_environment(str(maturin), machine("qemuarm64"), {"CARGO_ZIGBUILD_PYTHON_PATH": str(python)})


def test_missing_cargo_zigbuild_names_the_install(tmp_path):
    with pytest.raises(InputError, match=r"cargo-zigbuild on PATH.*cargo install --locked cargo-zigbuild"):
        zig_environment(str(tmp_path / "cargo-zigbuild"), machine("qemuarm64"), {})


def run_build_env(tmp_path: Path, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    sysroot = tmp_path / "sysroot"
    data = sysroot / "usr/lib/python3.11/_sysconfigdata__linux_aarch64-linux-gnu.py"
    data.parent.mkdir(parents=True, exist_ok=True)
    data.write_text("build_time_vars = {'ABIFLAGS': '', 'EXT_SUFFIX': '.cpython-311-aarch64-linux-gnu.so', "
                    "'MULTIARCH': 'aarch64-linux-gnu', 'SOABI': 'cpython-311-aarch64-linux-gnu', 'VERSION': '3.11'}\n")
    return subprocess.run([sys.executable, "-m", "pyrust.cli", "build-env", "--machine", "qemuarm64", "--python", "3.11",
                           "--sysroot", str(sysroot), "--out", str(tmp_path / "out"), "--build-std", "no", *args],
                          capture_output=True, text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(REPO / "lib"), **env})


def test_cli_refuses_old_maturin_with_sccache(tmp_path):
    python = fake_zig_python(tmp_path)
    maturin = executable(tmp_path / "maturin", "echo maturin 1.7.8\n")
    proc = run_build_env(tmp_path, "--zig", str(maturin), env={"CARGO_ZIGBUILD_PYTHON_PATH": str(python), "RUSTC_WRAPPER": "sccache"})
    assert proc.returncode == 2, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("pyrust: error: --zig='maturin 1.7.8': expected maturin 1.8.0")
    assert "cargo-zigbuild 0.19.7" in proc.stderr and "Traceback" not in proc.stderr


def test_cli_zig_environment_has_no_linker(tmp_path):
    python = fake_zig_python(tmp_path)
    maturin = executable(tmp_path / "maturin", "echo maturin 1.16.0\n")
    proc = run_build_env(tmp_path, "--zig", str(maturin), "--format", "json", env={"CARGO_ZIGBUILD_PYTHON_PATH": str(python)})
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["CARGO_BUILD_TARGET"] == "aarch64-unknown-linux-gnu"
    assert env["CARGO_ZIGBUILD_PYTHON_PATH"] == str(python) and env["PYRUST_ZIG_DRIVER"] == str(maturin)
    assert not [name for name in env if name.endswith("_LINKER")]
    assert "linker" not in Path(env["PYRUST_CARGO_CONFIG"]).read_text().replace("No linker", "")


def test_cli_zig_and_linker_conflict(tmp_path):
    python = fake_zig_python(tmp_path)
    maturin = executable(tmp_path / "maturin", "echo maturin 1.16.0\n")
    proc = run_build_env(tmp_path, "--zig", str(maturin), "--linker", "aarch64-linux-gnu-gcc",
                         env={"CARGO_ZIGBUILD_PYTHON_PATH": str(python)})
    assert proc.returncode == 2 and "no --linker with --zig" in proc.stderr, proc.stderr
