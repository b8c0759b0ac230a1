"""Shared helpers of the end-to-end cross builds (test_cross_build.py, test_setuptools_rust.py).

One table, :data:`TARGETS`, says for each target how pyrust learns it (an oe-core
machine from the embedded table, or a tune from tests/data/oe_tunes.json written as a
``bitbake -e``-style file), where its python3.11 comes from (a Debian sysroot, or a
CPython cross-built by tests/tools/build-target-cpython for the big-endian pair Debian
lacks), and what a correct module reports (its EXT_SUFFIX, whether Rust's std must be
built from source, what ``triplet_probe()`` prints).

Builds go through the library's own code path: ``python -m pyrust.cli build-env``
prints the environment pyrust.bbclass exports plus what oe-core's python_pyo3 exports,
and writes the pyo3.config and a cargo configuration. Every build runs in its own
process group with its output in a log file (:func:`run_logged`), is timed, and shares
one CARGO_TARGET_DIR per Rust target under the cache, so reruns only rebuild the crate.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Optional

import pytest

from pyrust.bbenv import parse_bitbake_env
from pyrust.check import find_interpreter
from pyrust.machines import machine_vars
from pyrust.qemurun import Result, run_target_python
from pyrust.resolve import resolve_abi
from pyrust.standalone import default_linker, has_prebuilt_std
from pyrust.target import Target, target_from_vars
from testbed import REPO, cache_dir, missing, require_tool
from testbed_support.session import run_in_session

EXAMPLE = REPO / "recipes-devtools" / "python" / "files" / "pyrust-example"
TUNES_FILE = REPO / "tests" / "data" / "oe_tunes.json"
PY = "3.11"  # Debian bookworm's python3, and the CPython tests/tools/build-target-cpython builds
BUILD_TIMEOUT = 3600.0  # -Zbuild-std under a loaded 2-core machine
RUN_TIMEOUT = 180.0

# The test's code that calls into the example module on the target: one JSON line.
CALL_EXAMPLE = ("import json, sys, pyrust_example as m\n"
                "so = sys.modules['pyrust_example.pyrust_example'].__file__\n"
                "print(json.dumps([m.add(2, 3), m.triplet_probe(), so]))")


@dataclasses.dataclass(frozen=True)
class CrossTarget:
    """One row of :data:`TARGETS`.

    Exactly one of ``machine`` / ``tune`` names the target, and exactly one of
    ``debian_arch`` / ``cpython_triplet`` names its python3.11 sysroot.
    """

    ext_suffix: str  # what the target's python3.11 accepts (its sysconfigdata's EXT_SUFFIX)
    build_std: bool  # Debian ships no Rust std for it: build-env's --build-std auto builds one
    probe: Mapping[str, str]  # fields triplet_probe() must print ("arch", "endian", "bits", "abi")
    machine: str = ""  # an oe-core qemu machine of pyrust's table (build-env --machine)
    tune: str = ""  # or a key of tests/data/oe_tunes.json (build-env --env-file)
    debian_arch: str = ""  # Debian's python3.11 (tests/tools/setup-testbed)
    cpython_triplet: str = ""  # or CPython cross-built from source (tests/tools/build-target-cpython)


def _probe(arch: str, endian: str, bits: int, abi: str = "") -> dict[str, str]:
    # Rust's std::env::consts::ARCH and cfg values, as the example's triplet_probe() prints them.
    return {"arch": arch, "endian": endian, "bits": str(bits), "abi": abi}


# label -> target. The little-endian rows run Debian's python3.11; Debian has no Python
# for 32-bit powerpc or big-endian mips64, so those run a CPython cross-built from
# Debian's source. Debian ships Rust's std only for armhf, arm64, i386, ppc64el (and
# s390x): the MIPS and powerpc rows build it with -Zbuild-std.
TARGETS: dict[str, CrossTarget] = {
    "armv7": CrossTarget(machine="qemuarm", debian_arch="armhf", ext_suffix=".cpython-311-arm-linux-gnueabihf.so",
                         build_std=False, probe=_probe("arm", "little", 32, "eabihf")),
    "aarch64": CrossTarget(machine="qemuarm64", debian_arch="arm64", ext_suffix=".cpython-311-aarch64-linux-gnu.so",
                           build_std=False, probe=_probe("aarch64", "little", 64)),
    "i686": CrossTarget(machine="qemux86", debian_arch="i386", ext_suffix=".cpython-311-i386-linux-gnu.so",
                        build_std=False, probe=_probe("x86", "little", 32)),
    "ppc64le": CrossTarget(machine="qemuppc64", debian_arch="ppc64el", ext_suffix=".cpython-311-powerpc64le-linux-gnu.so",
                           build_std=False, probe=_probe("powerpc64", "little", 64)),
    "mipsel": CrossTarget(tune="qemumips/mips32r2el/glibc", debian_arch="mipsel", ext_suffix=".cpython-311-mipsel-linux-gnu.so",
                          build_std=True, probe=_probe("mips", "little", 32)),
    "mips64el": CrossTarget(tune="qemumips64/mips64r2el/glibc", debian_arch="mips64el",
                            ext_suffix=".cpython-311-mips64el-linux-gnuabi64.so", build_std=True,
                            probe=_probe("mips64", "little", 64, "abi64")),
    "powerpc": CrossTarget(machine="qemuppc", cpython_triplet="powerpc-linux-gnu", ext_suffix=".cpython-311-powerpc-linux-gnu.so",
                           build_std=True, probe=_probe("powerpc", "big", 32)),
    "mips64": CrossTarget(machine="qemumips64", cpython_triplet="mips64-linux-gnuabi64",
                          ext_suffix=".cpython-311-mips64-linux-gnuabi64.so", build_std=True,
                          probe=_probe("mips64", "big", 64, "abi64")),
}


@dataclasses.dataclass(frozen=True)
class Built:
    """One wheel built for a target."""

    label: str
    target: Target
    sysroot: Path
    wheel: Path
    env: dict[str, str]  # what build-env printed (plus PYO3_CONFIG_FILE as used)
    seconds: float
    args: tuple[str, ...] = ()  # how build-env learnt the target (:func:`target_args`), for pyrust check

    def modules(self) -> list[str]:
        """Names of the shared objects in the wheel."""
        with zipfile.ZipFile(self.wheel) as wheel:
            return [name for name in wheel.namelist() if name.endswith(".so")]


# ---- running and timing -----------------------------------------------------------------


def run_logged(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float, log: Path) -> int:
    """Run ``argv`` in its own session with output to ``log``; kill the whole group on timeout.

    Returns the exit status; raises subprocess.TimeoutExpired (after the kill) on timeout.
    """
    with open(log, "wb") as out:
        return run_in_session(argv, out, env=env, cwd=cwd, timeout=timeout)


def tail(log: Path, lines: int = 40) -> str:
    """The last ``lines`` lines of a log, for assertion messages."""
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def timed_build(label: str, what: str, argv: list[str], *, env: dict[str, str], cwd: Path, log: Path, record) -> float:
    """Run one build with :func:`run_logged`; print and record its wall time; assert it succeeded.

    ``record`` is pytest's ``record_testsuite_property``: the time becomes the junit
    property ``build-seconds-<label>``.
    """
    t0 = time.monotonic()
    rc = run_logged(argv, env=env, cwd=cwd, timeout=BUILD_TIMEOUT, log=log)
    seconds = time.monotonic() - t0
    print(f"\n[build] {label}: {what}: {seconds:.1f} s (exit {rc}, log {log})")
    record(f"build-seconds-{label.replace('/', '_')}", f"{seconds:.1f}")
    assert rc == 0, f"{label}: {what} exit {rc}\n{tail(log)}"
    return seconds


def one_wheel(out: Path, label: str, log: Path) -> Path:
    """The single wheel a build wrote into ``out``."""
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, f"{label}: expected one wheel in {out}, got {wheels}\n{tail(log)}"
    return wheels[0]


# ---- the target, its sysroot and its toolchain --------------------------------------------


def tune_variables(tune: str) -> dict[str, str]:
    """oe-core tune ``tune``'s variables from tests/data/oe_tunes.json, PYTHON_BASEVERSION set to 3.11.

    The tune file says oe-core's 3.14; the sysroots here are 3.11.
    """
    values = dict(json.loads(TUNES_FILE.read_text())["tunes"][tune])
    values["PYTHON_BASEVERSION"] = PY
    return values


def tune_env_file(tune: str, directory: Path) -> Path:
    """oe-core tune ``tune`` (:func:`tune_variables`) as a ``bitbake -e``-style file in ``directory``."""
    values = tune_variables(tune)
    text = "# bitbake -e (reduced): " + tune + "\n"
    text += "".join(f'export {name}="{value}"\n' if name.startswith("TARGET_") else f'{name}="{value}"\n'
                    for name, value in sorted(values.items()) if '"' not in value and "$" not in value)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "bitbake-e.txt"
    path.write_text(text)
    return path


def target_args(entry: CrossTarget, directory: Path) -> list[str]:
    """How ``pyrust build-env`` / ``pyrust check`` learn the target (writes the tune's env file)."""
    if entry.machine:
        # the sysroots hold CPython 3.11: asked for, so it may decide the suffix (master's python3 is 3.14)
        return ["--machine", entry.machine, "--python", PY]
    return ["--env-file", str(tune_env_file(entry.tune, directory))]  # PYTHON_BASEVERSION = 3.11


def oe_variables(entry: CrossTarget) -> dict[str, str]:
    """The BitBake variables of ``entry``: the machine table's, or the tune's (:func:`tune_variables`)."""
    return machine_vars(entry.machine) if entry.machine else tune_variables(entry.tune)


def target_from_args(args: list[str]) -> Target:
    """The Target the same arguments give the command line."""
    option, value = args[:2]
    if option == "--machine":
        return target_from_vars(machine_vars(value))
    return target_from_vars(parse_bitbake_env(Path(value).read_text()))


def sysroot_for(entry: CrossTarget, debian: Callable[[str], Path], cpython: Callable[[], Callable[[str], Path]]) -> Path:
    """The python3.11 sysroot of ``entry``.

    Args:
        debian: conftest's ``sysroot_of`` (Debian arch -> cached sysroot, else skip/fail).
        cpython: returns conftest's ``cpython_sysroot`` (triplet -> cross-built CPython
            sysroot, else skip/fail); called only for the rows that need it.
    """
    if entry.debian_arch:
        return debian(entry.debian_arch)
    return cpython()(entry.cpython_triplet)


def cpython_sysroot_lookup(request) -> Callable[[str], Path]:
    """conftest's ``cpython_sysroot`` fixture (triplet -> sysroot) through pytest's ``request``.

    Asked for lazily, by the big-endian rows only, so the other rows never wait for or
    depend on a CPython cross build.
    """
    try:
        return request.getfixturevalue("cpython_sysroot")
    except pytest.FixtureLookupError:
        missing("no cpython_sysroot fixture in tests/e2e/conftest.py (the CPython sysroots of tests/tools/build-target-cpython)")
        raise


def rust_environment() -> dict[str, str]:
    """os.environ plus Debian's Rust from tests/tools/rust-cross-setup (its private sysroot)."""
    script = REPO / "tests" / "tools" / "rust-cross-setup"
    proc = subprocess.run(["bash", "-c", f'out=$({script} --print-env) && eval "$out" && env -0'], capture_output=True, timeout=120)
    if proc.returncode != 0:
        missing(f"no Debian Rust toolchain: {proc.stderr.decode(errors='replace').strip()[-300:]} (tests/tools/rust-cross-setup)")
    env = dict(item.split("=", 1) for item in proc.stdout.decode().split("\0") if "=" in item)
    for tool in (env.get("RUSTC", ""), "/usr/bin/cargo"):
        if not tool or not os.access(tool, os.X_OK):
            missing(f"{tool or 'RUSTC'} from tests/tools/rust-cross-setup --print-env is not executable")
    return env


def prepare_target(entry: CrossTarget, work: Path, rust_env: Mapping[str, str], debian: Callable[[str], Path],
                   cpython: Callable[[], Callable[[str], Path]]) -> tuple[list[str], Target, Path]:
    """Everything a build for ``entry`` needs before it starts: (target arguments, Target, sysroot).

    Writes the tune's env file under ``work``; skips (fails under CI) when the sysroot,
    qemu-user, the cross linker or Rust's std is missing (:func:`sysroot_for`,
    :func:`require_toolchain`).
    """
    args = target_args(entry, work / "target")
    target = target_from_args(args)
    sysroot = sysroot_for(entry, debian, cpython)
    require_toolchain(target, sysroot, rust_env, entry.build_std)
    return args, target, sysroot


def require_toolchain(target: Target, sysroot: Path, rust_env: Mapping[str, str], build_std: bool,
                      version: str | None = None, abiflags: str | None = None) -> None:
    """Skip (fail under CI) unless qemu-user, the cross linker and Rust's std (or rust-src) are there.

    ``version``/``abiflags`` pick the sysroot's interpreter where it has several builds
    (a Debian -dbg sysroot has the release and the debug _sysconfigdata).
    """
    require_tool(target.qemu_binary)
    require_tool(default_linker(resolve_abi(target, version, abiflags, sysroot).abi))
    if build_std:
        if not (Path(rust_env["PYRUST_RUST_SYSROOT"]) / "lib" / "rustlib" / "src" / "rust" / "library").is_dir():
            missing("no rust-src in the Rust sysroot (Debian's rust-web-src; tests/tools/rust-cross-setup) for -Zbuild-std")
    elif not has_prebuilt_std(target.rust_target_upstream, rust_env["RUSTC"]):
        missing(f"no Rust standard library for {target.rust_target_upstream} in {rust_env['RUSTC']}'s sysroot "
                "(tests/tools/rust-cross-setup --arch ...)")


# ---- the class's environment --------------------------------------------------------------


def copy_crate(src: Path, work: Path) -> Path:
    """A private copy of a crate (without build output) under ``work``."""
    crate = work / "crate"
    shutil.copytree(src, crate, ignore=shutil.ignore_patterns("target", "*.whl"))
    return crate


def keep_if_same(src: Path, dest: Path) -> Path:
    """``dest`` holding ``src``'s bytes, rewritten only when they differ.

    pyo3-build-config reruns (and PyO3 rebuilds) when PYO3_CONFIG_FILE's path or mtime
    changes: a stable path under the cache keeps reruns incremental.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    if not dest.is_file() or dest.read_bytes() != data:
        dest.write_bytes(data)
    return dest


def oe_core_pyo3_config(config: Path, dest: Path) -> Path:
    """The pyo3.config oe-core's python_pyo3.bbclass writes: the class's file without
    its ``ext_suffix=`` / ``abiflags=`` lines, written to ``dest``."""
    lines = config.read_text().splitlines()
    kept = [line for line in lines if not line.startswith(("ext_suffix=", "abiflags="))]
    assert len(kept) == len(lines) - 2, lines
    dest.write_text("\n".join(kept) + "\n")
    return dest


def class_environment(label: str, args: list[str], sysroot: Path, crate: Path, rust_env: Mapping[str, str], work: Path,
                      *, oe_core_config: bool = False, config_key: str = "") -> dict[str, str]:
    """Run ``pyrust build-env`` for the target; its environment with a stable PYO3_CONFIG_FILE.

    Args:
        label: names the build in output.
        args: :func:`target_args`.
        oe_core_config: use the pyo3.config oe-core's python_pyo3.bbclass writes (the
            class's file without its ``ext_suffix=`` / ``abiflags=`` lines).
        config_key: names the stable config path
            (``$PYRUST_CACHE/e2e-cross-build/<config_key>/pyo3.config``; default ``label``).
            Builds of one target with the same config share it, so cargo reuses PyO3.
    """
    config = work / "config"
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "build-env", *args, "--sysroot", str(sysroot),
                           "--out", str(config), "--cargo-lock", str(crate / "Cargo.lock"), "--build-std", "auto",
                           "--format", "json"], env=dict(rust_env), cwd=work, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{label}: pyrust build-env exit {proc.returncode}\n{proc.stderr}"
    env: dict[str, str] = json.loads(proc.stdout)
    print(f"\n[build-env] {label}: {' '.join(args)}\n{proc.stderr}" + "\n".join(f"  {k}={v}" for k, v in env.items()))
    stable = cache_dir() / "e2e-cross-build" / (config_key or label)
    if oe_core_config:
        assert "PYO3_CONFIG_FILE" in env, f"{label}: build-env took the sysconfigdata route; no pyo3.config to strip"
        stripped = oe_core_pyo3_config(Path(env["PYO3_CONFIG_FILE"]), config / "pyo3.config.oe-core")
        env["PYO3_CONFIG_FILE"] = str(keep_if_same(stripped, stable / "pyo3.config"))
    elif "PYO3_CONFIG_FILE" in env:
        env["PYO3_CONFIG_FILE"] = str(keep_if_same(Path(env["PYO3_CONFIG_FILE"]), stable / "pyo3.config"))
    return env


def cargo_target_dir(rust_target: str) -> Path:
    """The CARGO_TARGET_DIR every build for ``rust_target`` shares (std and PyO3 built once)."""
    return cache_dir() / "cargo-target" / rust_target


# ---- maturin ------------------------------------------------------------------------------


def maturin_build(label: str, target: Target, sysroot: Path, crate_src: Path, args: list[str], rust_env: Mapping[str, str],
                  work: Path, record, *, oe_core_config: bool = False) -> Built:
    """Write the class's build environment with ``pyrust build-env`` and run ``maturin build`` in it.

    Args:
        label: names the build in output, logs and the stable config path.
        args: how build-env learns the target (:func:`target_args`).
        oe_core_config: see :func:`class_environment` (the regression).
    """
    crate = copy_crate(crate_src, work)
    env = class_environment(label, args, sysroot, crate, rust_env, work, oe_core_config=oe_core_config)
    rust_target = env["CARGO_BUILD_TARGET"]
    build_env = {**rust_env, **env, "CARGO_TARGET_DIR": str(cargo_target_dir(rust_target))}
    out = work / "wheels"
    log = work / "maturin.log"
    # --compatibility off: what maturin's PEP 517 backend passes (so oe-core's python_maturin
    # builds this way too). Without it maturin audits the wheel for manylinux, and its ELF
    # parser (goblin) rejects mips64el modules ("Symbol table extends beyond file boundary").
    seconds = timed_build(label, f"maturin build for {rust_target}",
                          [sys.executable, "-m", "maturin", "build", "--release", "--locked", "--compatibility", "off",
                           "--config", env["PYRUST_CARGO_CONFIG"], "--out", str(out)],
                          env=build_env, cwd=crate, log=log, record=record)
    return Built(label, target, sysroot, one_wheel(out, label, log), env, seconds, tuple(args))


# ---- checking and calling -----------------------------------------------------------------


def pyrust_check(built: Built, work: Path) -> tuple[int, str]:
    """``pyrust check <target> --sysroot <sysroot> <wheel>``, the target as the build had it: (exit status, output)."""
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "check", *built.args, "--sysroot", str(built.sysroot),
                           "--timeout", str(RUN_TIMEOUT), str(built.wheel)],
                          capture_output=True, text=True, cwd=work, timeout=RUN_TIMEOUT + 120)
    output = proc.stdout + proc.stderr
    print(f"\n[check] {built.label}: exit {proc.returncode}\n{output}")
    return proc.returncode, output


def run_on_target(built: Built, code: str, work: Path) -> Result:
    """Run ``code`` in the target's python3.11 under its qemu-user, the wheel on sys.path, from an empty cwd."""
    site = work / "site"
    with zipfile.ZipFile(built.wheel) as wheel:
        wheel.extractall(site)
    cwd = work / "cwd"
    cwd.mkdir()
    python = find_interpreter(built.sysroot, PY)
    assert python is not None, f"no python3 in {built.sysroot}"
    prelude = f"import sys; sys.path.insert(0, {str(site)!r})\n"
    result = run_target_python(built.target.qemu_binary, built.target.qemu_options, built.sysroot, python, prelude + code,
                               cwd=cwd, timeout=RUN_TIMEOUT)
    assert not result.timed_out, f"{built.label}: timed out: {' '.join(result.argv[:-2])}"
    assert result.returncode == 0, f"{built.label}: exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    return result


def call_example(built: Built, work: Path) -> tuple[int, dict[str, str], str]:
    """Call the example module on the target: (add(2, 3), triplet_probe() as a dict, the module's file)."""
    result = run_on_target(built, CALL_EXAMPLE, work)
    total, probe, path = json.loads(result.stdout.strip().splitlines()[-1])
    return total, dict(part.split("=", 1) for part in probe.split()), path


def probe_mismatches(entry: CrossTarget, probe: Mapping[str, str]) -> dict[str, tuple[Optional[str], str]]:
    """The fields of ``probe`` that differ from the table's: name -> (got, expected)."""
    return {name: (probe.get(name), want) for name, want in entry.probe.items() if probe.get(name) != want}


# ---- what a build must show ------------------------------------------------------------------


def assert_check_passes(built: Built, work: Path, module: str = "pyrust_example.pyrust_example") -> None:
    """``pyrust check`` on the wheel exits 0, imports ``module`` and finds nothing."""
    rc, output = pyrust_check(built, work)
    assert rc == 0, output
    assert f"ok (imported)  {module}" in output
    assert "1 module(s), 0 finding(s)" in output


def assert_wrong_suffix_caught(built: Built, work: Path, got: str, expected: str,
                               module: str = "pyrust_example.pyrust_example") -> None:
    """``pyrust check`` exits 1 with exactly two findings: the suffix ``got`` (naming
    ``expected``) and the ModuleNotFoundError the device would give for ``module``."""
    rc, output = pyrust_check(built, work)
    assert rc == 1, output
    findings = [line for line in output.splitlines() if line.startswith("FINDING ")]
    suffix = [line for line in findings if line.endswith("[pyrust-ext-suffix]")]
    assert len(suffix) == 1, output
    assert f"'{got}'" in suffix[0] and f"expected '{expected}'" in suffix[0], suffix[0]
    failed = [line for line in findings if line.endswith("[pyrust-import]")]
    assert len(failed) == 1, output
    assert "ModuleNotFoundError" in failed[0] and module in failed[0], failed[0]
    assert "FAIL" in output and "2 finding(s)" in output


def assert_example_works(entry: CrossTarget, built: Built, work: Path) -> None:
    """The example module, called on the target: add(2, 3) == 5, Rust's view of the target
    matches the table, and the loaded file carries the target's suffix."""
    total, probe, path = call_example(built, work)
    assert total == 5
    assert probe_mismatches(entry, probe) == {}, probe
    assert path.endswith(entry.ext_suffix)
