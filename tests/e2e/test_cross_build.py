"""Real cross builds with the class's environment, checked under qemu-user.

Each build goes through the library's own code path (``python -m pyrust.cli build-env``,
the environment pyrust.bbclass exports plus what oe-core's python_pyo3 exports) and
``maturin build``, then the wheel is checked with ``pyrust check`` against Debian's
python3.11 for the architecture and called into under qemu-user:

1. the example crate (recipes-devtools/python/files/pyrust-example) for qemuarm
   (armv7 hard-float) and qemuarm64;
2. the package of the original report, rpds-py (sdist from PyPI), for qemuarm;
3. the regression on mips64el (oe-core's qemumips64 tune "mips64r2el", given as a
   ``bitbake -e`` style --env-file): oe-core's pyo3.config alone (no ``ext_suffix=``)
   makes maturin name the module for the Rust target (``mips64``) and ``pyrust check``
   catches it; the class's config gives a module that imports. Debian ships no Rust
   standard library for mips64el: build-env's ``--build-std auto`` builds it (RUSTC_BOOTSTRAP,
   ``[unstable] build-std``; about 5 minutes the first time).

Each build is a module-scoped fixture (done once) and prints its wall time (``-s``); the
times are also junit testsuite properties (``build-seconds-<label>``). Builds are
sequential and share one CARGO_TARGET_DIR per Rust target under the cache
(``$PYRUST_CACHE/cargo-target/<rust target>``), so reruns only rebuild the crate itself;
the crates are copied to temporary directories first.

Needs: qemu-user, the cross gcc's and Debian sysroots (scripts/setup-testbed), Debian's
Rust with the armhf/arm64 std and rust-src (scripts/rust-cross-setup), maturin; network
to PyPI and crates.io on the first run. Missing tools skip (fail under CI=true).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from pyrust.bbenv import parse_bitbake_env
from pyrust.check import find_interpreter
from pyrust.machines import machine_vars
from pyrust.qemurun import run_target_python
from pyrust.resolve import resolve_abi
from pyrust.standalone import default_linker, has_prebuilt_std
from pyrust.target import Target, target_from_vars
from testbed import REPO, cache_dir, missing, require_tool

pytestmark = pytest.mark.e2e

EXAMPLE = REPO / "recipes-devtools" / "python" / "files" / "pyrust-example"
# rpds-py 2026.9.1 locks PyO3 0.29.3 (rust-version 1.83); its newest dependency
# (rpds 1.2.1, archery 1.2.3) needs Rust 1.85: all build with Debian's rustc-web 1.85.
RPDS_VERSION = "2026.9.1"
TUNES_FILE = REPO / "tests" / "data" / "oe_tunes.json"
MIPS64_TUNE = "qemumips64/mips64r2el/glibc"
PY = "3.11"  # Debian bookworm's python3
BUILD_TIMEOUT = 3600.0  # -Zbuild-std for mips64el under a loaded 2-core machine
RUN_TIMEOUT = 180.0

# Which Debian port runs each target here (its python3.11 sysroot from the cache).
DEBIAN_ARCH = {"qemuarm": "armhf", "qemuarm64": "arm64", MIPS64_TUNE: "mips64el"}
# What triplet_probe() must report (Rust's std::env::consts::ARCH and cfg values).
PROBE = {
    "qemuarm": ("arch=arm ", "endian=little", "bits=32", "abi=eabihf"),
    "qemuarm64": ("arch=aarch64 ", "endian=little", "bits=64"),
    MIPS64_TUNE: ("arch=mips64 ", "endian=little", "bits=64", "abi=abi64"),
}


@dataclasses.dataclass(frozen=True)
class Built:
    """One wheel built with the class's environment."""

    label: str
    target: Target
    sysroot: Path
    wheel: Path
    env: dict[str, str]  # what build-env printed (plus PYO3_CONFIG_FILE as used)
    seconds: float

    def modules(self) -> list[str]:
        """Names of the shared objects in the wheel."""
        with zipfile.ZipFile(self.wheel) as wheel:
            return [name for name in wheel.namelist() if name.endswith(".so")]


# ---- helpers ----------------------------------------------------------------------------


def _run(argv: list[str], *, env: dict[str, str], cwd: Path, timeout: float, log: Path) -> int:
    """Run ``argv`` in its own session with output to ``log``; kill the whole group on timeout."""
    with open(log, "wb") as out:
        proc = subprocess.Popen(argv, env=env, cwd=cwd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            return proc.wait(timeout=timeout)
        except BaseException:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
            raise


def _tail(log: Path, lines: int = 40) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def _keep_if_same(src: Path, dest: Path) -> Path:
    """``dest`` holding ``src``'s bytes, rewritten only when they differ.

    pyo3-build-config reruns (and PyO3 rebuilds) when PYO3_CONFIG_FILE's path or mtime
    changes: a stable path under the cache keeps reruns incremental.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = src.read_bytes()
    if not dest.is_file() or dest.read_bytes() != data:
        dest.write_bytes(data)
    return dest


def _rust_environment() -> dict[str, str]:
    """os.environ plus Debian's Rust from scripts/rust-cross-setup (its private sysroot)."""
    script = REPO / "scripts" / "rust-cross-setup"
    proc = subprocess.run(["bash", "-c", f'out=$({script} --print-env) && eval "$out" && env -0'], capture_output=True, timeout=120)
    if proc.returncode != 0:
        missing(f"no Debian Rust toolchain: {proc.stderr.decode(errors='replace').strip()[-300:]} (scripts/rust-cross-setup)")
    env = dict(item.split("=", 1) for item in proc.stdout.decode().split("\0") if "=" in item)
    for tool in (env.get("RUSTC", ""), "/usr/bin/cargo"):
        if not tool or not os.access(tool, os.X_OK):
            missing(f"{tool or 'RUSTC'} from scripts/rust-cross-setup --print-env is not executable")
    return env


def _build(label: str, target: Target, sysroot: Path, crate_src: Path, target_args: list[str], rust_env: dict[str, str],
           work: Path, record, *, oe_core_config: bool = False) -> Built:
    """Write the class's build environment with ``pyrust build-env`` and run maturin in it.

    Args:
        label: names the build in output, logs and the stable config path.
        target_args: how build-env learns the target (``--machine M`` or ``--env-file F``).
        oe_core_config: use the pyo3.config oe-core's python_pyo3.bbclass writes (the
            class's file without its ``ext_suffix=`` / ``abiflags=`` lines): the regression.
    """
    linker = default_linker(resolve_abi(target, None, None, sysroot).abi)
    require_tool(linker)
    crate = work / "crate"
    shutil.copytree(crate_src, crate, ignore=shutil.ignore_patterns("target", "*.whl"))
    config = work / "config"
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "build-env", *target_args, "--sysroot", str(sysroot),
                           "--out", str(config), "--cargo-lock", str(crate / "Cargo.lock"), "--build-std", "auto",
                           "--format", "json"], env=rust_env, cwd=work, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"{label}: pyrust build-env exit {proc.returncode}\n{proc.stderr}"
    env = json.loads(proc.stdout)
    print(f"\n[build-env] {label}: {' '.join(target_args)}\n{proc.stderr}" + "\n".join(f"  {k}={v}" for k, v in env.items()))
    stable = cache_dir() / "e2e-cross-build" / label
    if oe_core_config:
        assert "PYO3_CONFIG_FILE" in env, f"{label}: build-env took the sysconfigdata route; no pyo3.config to strip"
        lines = Path(env["PYO3_CONFIG_FILE"]).read_text().splitlines()
        kept = [line for line in lines if not line.startswith(("ext_suffix=", "abiflags="))]
        assert len(kept) == len(lines) - 2, lines
        (config / "pyo3.config.oe-core").write_text("\n".join(kept) + "\n")
        env["PYO3_CONFIG_FILE"] = str(_keep_if_same(config / "pyo3.config.oe-core", stable / "pyo3.config"))
    elif "PYO3_CONFIG_FILE" in env:
        env["PYO3_CONFIG_FILE"] = str(_keep_if_same(Path(env["PYO3_CONFIG_FILE"]), stable / "pyo3.config"))
    rust_target = env["CARGO_BUILD_TARGET"]
    if env.get("RUSTC_BOOTSTRAP") != "1" and not has_prebuilt_std(rust_target, rust_env["RUSTC"]):
        missing(f"no Rust standard library for {rust_target} in {rust_env['RUSTC']}'s sysroot (scripts/rust-cross-setup --arch ...)")
    build_env = {**rust_env, **env, "CARGO_TARGET_DIR": str(cache_dir() / "cargo-target" / rust_target)}
    out = work / "wheels"
    log = work / "maturin.log"
    t0 = time.monotonic()
    # --compatibility off: what maturin's PEP 517 backend passes (so oe-core's python_maturin
    # builds this way too). Without it maturin audits the wheel for manylinux, and its ELF
    # parser (goblin) rejects mips64el modules ("Symbol table extends beyond file boundary").
    rc = _run([sys.executable, "-m", "maturin", "build", "--release", "--locked", "--compatibility", "off",
               "--config", env["PYRUST_CARGO_CONFIG"], "--out", str(out)], env=build_env, cwd=crate, timeout=BUILD_TIMEOUT, log=log)
    seconds = time.monotonic() - t0
    print(f"\n[build] {label}: maturin build for {rust_target}: {seconds:.1f} s (exit {rc}, log {log})")
    record(f"build-seconds-{label.replace('/', '_')}", f"{seconds:.1f}")
    assert rc == 0, f"{label}: maturin build exit {rc}\n{_tail(log)}"
    wheels = sorted(out.glob("*.whl"))
    assert len(wheels) == 1, f"{label}: expected one wheel in {out}, got {wheels}\n{_tail(log)}"
    return Built(label, target, sysroot, wheels[0], env, seconds)


def _pyrust_check(built: Built, target_args: list[str], work: Path) -> tuple[int, str]:
    """``pyrust check <target> --sysroot <debian sysroot> <wheel>``: (exit status, output)."""
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "check", *target_args, "--sysroot", str(built.sysroot),
                           "--timeout", str(RUN_TIMEOUT), str(built.wheel)],
                          capture_output=True, text=True, cwd=work, timeout=RUN_TIMEOUT + 120)
    output = proc.stdout + proc.stderr
    print(f"\n[check] {built.label}: exit {proc.returncode}\n{output}")
    return proc.returncode, output


def _run_on_target(built: Built, code: str, work: Path):
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


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="session")
def rust_env() -> dict[str, str]:
    if importlib.util.find_spec("maturin") is None:
        missing(f"maturin is not installed for {sys.executable} (pip install -e '.[build]')")
    return _rust_environment()


def _machine_build(machine: str, crate: Path, label: str, rust_env, sysroot_of, tmp_path_factory, record) -> Built:
    target = target_from_vars(machine_vars(machine))
    require_tool(target.qemu_binary)
    sysroot = sysroot_of(DEBIAN_ARCH[machine])
    work = tmp_path_factory.mktemp(label)
    return _build(label, target, sysroot, crate, ["--machine", machine], rust_env, work, record)


@pytest.fixture(scope="module", params=["qemuarm", "qemuarm64"])
def example_build(request, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> Built:
    """The example crate built for qemuarm / qemuarm64 (once each)."""
    machine = request.param
    return _machine_build(machine, EXAMPLE, f"{machine}-example", rust_env, sysroot_of, tmp_path_factory,
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
def rpds_build(rpds_sdist, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> Built:
    """rpds-py built for qemuarm from its sdist (its Cargo.lock decides the PyO3 route)."""
    unpacked = tmp_path_factory.mktemp("rpds-sdist")
    with tarfile.open(rpds_sdist) as sdist:
        if hasattr(tarfile, "data_filter"):  # Python 3.11.4+ / 3.12
            sdist.extractall(unpacked, filter="data")
        else:
            sdist.extractall(unpacked)  # noqa: S202 (an sdist from PyPI, pinned version)
    src = unpacked / f"rpds_py-{RPDS_VERSION}"
    assert (src / "Cargo.lock").is_file(), f"{rpds_sdist} has no Cargo.lock"
    return _machine_build("qemuarm", src, "qemuarm-rpds", rust_env, sysroot_of, tmp_path_factory, record_testsuite_property)


@pytest.fixture(scope="module")
def mips64_env_file(tmp_path_factory) -> Path:
    """oe-core's qemumips64 tune "mips64r2el" as a ``bitbake -e``-style file (NAME="value" lines).

    PYTHON_BASEVERSION is set to the Debian sysroot's 3.11 (the tune file says oe-core's 3.14).
    """
    values = dict(json.loads(TUNES_FILE.read_text())["tunes"][MIPS64_TUNE])
    values["PYTHON_BASEVERSION"] = PY
    text = "# bitbake -e (reduced): " + MIPS64_TUNE + "\n"
    text += "".join(f'export {name}="{value}"\n' if name.startswith("TARGET_") else f'{name}="{value}"\n'
                    for name, value in sorted(values.items()) if '"' not in value and "$" not in value)
    path = tmp_path_factory.mktemp("mips64-env") / "bitbake-e.txt"
    path.write_text(text)
    return path


def _mips64_build(label: str, env_file: Path, rust_env, sysroot_of, tmp_path_factory, record, oe_core_config: bool) -> Built:
    target = target_from_vars(parse_bitbake_env(env_file.read_text()))
    require_tool(target.qemu_binary)
    if not (Path(rust_env["PYRUST_RUST_SYSROOT"]) / "lib" / "rustlib" / "src" / "rust" / "library").is_dir():
        missing("no rust-src in the Rust sysroot (Debian's rust-web-src; scripts/rust-cross-setup) for -Zbuild-std")
    sysroot = sysroot_of(DEBIAN_ARCH[MIPS64_TUNE])
    work = tmp_path_factory.mktemp(label)
    return _build(label, target, sysroot, EXAMPLE, ["--env-file", str(env_file)], rust_env, work, record,
                  oe_core_config=oe_core_config)


@pytest.fixture(scope="module")
def mips64_oe_core_build(mips64_env_file, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> Built:
    """The example for mips64el with oe-core's pyo3.config alone (no ext_suffix=): the regression."""
    return _mips64_build("mips64el-oe-core-config", mips64_env_file, rust_env, sysroot_of, tmp_path_factory,
                         record_testsuite_property, oe_core_config=True)


@pytest.fixture(scope="module")
def mips64_class_build(mips64_env_file, rust_env, sysroot_of, tmp_path_factory, record_testsuite_property) -> Built:
    """The example for mips64el with the class's environment, unmodified."""
    return _mips64_build("mips64el-class", mips64_env_file, rust_env, sysroot_of, tmp_path_factory,
                         record_testsuite_property, oe_core_config=False)


# ---- 1. the example crate for qemuarm and qemuarm64 -------------------------------------


def test_example_module_named_for_target(example_build):
    expected = resolve_abi(example_build.target, None, None, example_build.sysroot).abi.ext_suffix
    assert example_build.modules() == [f"pyrust_example/pyrust_example{expected}"]


def test_example_passes_pyrust_check(example_build, tmp_path):
    machine = example_build.label.split("-")[0]
    rc, output = _pyrust_check(example_build, ["--machine", machine], tmp_path)
    assert rc == 0, output
    assert "ok (imported)  pyrust_example.pyrust_example" in output
    assert "1 module(s), 0 finding(s)" in output


def test_example_calls_under_qemu(example_build, tmp_path):
    machine = example_build.label.split("-")[0]
    result = _run_on_target(example_build, "import json, sys, pyrust_example as m\n"
                                           "so = sys.modules['pyrust_example.pyrust_example'].__file__\n"
                                           "print(json.dumps([m.add(2, 3), m.triplet_probe(), so]))", tmp_path)
    total, probe, path = json.loads(result.stdout.strip().splitlines()[-1])
    assert total == 5
    for part in PROBE[machine]:
        assert part in probe + " ", probe
    assert path.endswith(resolve_abi(example_build.target, None, None, example_build.sysroot).abi.ext_suffix)


# ---- 2. rpds-py, the package of the original report, for qemuarm ------------------------


def test_rpds_module_named_for_target(rpds_build):
    assert rpds_build.modules() == ["rpds/rpds.cpython-311-arm-linux-gnueabihf.so"]
    # PyO3 0.29.3 is >= 0.18.1: the class's pyo3.config route (ext_suffix= in it).
    assert "ext_suffix=.cpython-311-arm-linux-gnueabihf.so" in Path(rpds_build.env["PYO3_CONFIG_FILE"]).read_text()


def test_rpds_passes_pyrust_check(rpds_build, tmp_path):
    rc, output = _pyrust_check(rpds_build, ["--machine", "qemuarm"], tmp_path)
    assert rc == 0, output
    assert "ok (imported)  rpds.rpds" in output
    assert "1 module(s), 0 finding(s)" in output


def test_rpds_works_under_qemu(rpds_build, tmp_path):
    result = _run_on_target(rpds_build, "import rpds\nm = rpds.HashTrieMap({'a': 1})\n"
                                        "assert m['a'] == 1, m\nprint('rpds-ok', m['a'], rpds.__file__)", tmp_path)
    assert "rpds-ok 1" in result.stdout


# ---- 3. mips64el: oe-core's config alone vs the class's ---------------------------------


def test_oe_core_config_names_module_for_rust_target(mips64_oe_core_build):
    assert "ext_suffix=" not in Path(mips64_oe_core_build.env["PYO3_CONFIG_FILE"]).read_text()
    assert mips64_oe_core_build.modules() == ["pyrust_example/pyrust_example.cpython-311-mips64-linux-gnuabi64.so"]


def test_pyrust_check_catches_the_regression(mips64_oe_core_build, mips64_env_file, tmp_path):
    rc, output = _pyrust_check(mips64_oe_core_build, ["--env-file", str(mips64_env_file)], tmp_path)
    assert rc == 1, output
    findings = [line for line in output.splitlines() if line.startswith("FINDING ")]
    suffix = [line for line in findings if line.endswith("[pyrust-ext-suffix]")]
    assert len(suffix) == 1, output
    assert "'.cpython-311-mips64-linux-gnuabi64.so'" in suffix[0]
    assert "expected '.cpython-311-mips64el-linux-gnuabi64.so'" in suffix[0]
    failed = [line for line in findings if line.endswith("[pyrust-import]")]
    assert len(failed) == 1, output
    assert "ModuleNotFoundError" in failed[0] and "pyrust_example.pyrust_example" in failed[0], failed[0]
    assert "FAIL" in output and "2 finding(s)" in output


def test_class_environment_fixes_mips64(mips64_class_build, mips64_env_file, tmp_path):
    assert mips64_class_build.env.get("RUSTC_BOOTSTRAP") == "1"  # --build-std auto: no Debian std
    assert mips64_class_build.modules() == ["pyrust_example/pyrust_example.cpython-311-mips64el-linux-gnuabi64.so"]
    rc, output = _pyrust_check(mips64_class_build, ["--env-file", str(mips64_env_file)], tmp_path)
    assert rc == 0, output
    assert "ok (imported)  pyrust_example.pyrust_example" in output


def test_class_build_calls_under_qemu_mips64el(mips64_class_build, tmp_path):
    result = _run_on_target(mips64_class_build, "import json, pyrust_example as m\n"
                                                "print(json.dumps([m.add(2, 3), m.triplet_probe()]))", tmp_path)
    total, probe = json.loads(result.stdout.strip().splitlines()[-1])
    assert total == 5
    for part in PROBE[MIPS64_TUNE]:
        assert part in probe + " ", probe


# ---- image level: pyrust_image.bbclass's check on an assembled root filesystem ----------


def test_image_check_on_assembled_rootfs(rpds_build, tmp_path):
    """A rootfs from Debian's armhf python3 plus the rpds-py wheel and a wrongly named copy
    of its module: one interpreter run imports them all and names the broken one."""
    import hashlib
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
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file())).hexdigest()

    report = check_rootfs(rootfs, rpds_build.target, timeout=300)

    assert report.abi.source == "sysroot"
    assert "rpds.rpds" in report.imported
    by_qa = {(f.qa, f.path.split(":")[0].split("/")[-1]) for f in report.findings}
    assert (QA_EXT_SUFFIX, "rpds.cpython-311-armv7l-linux-gnueabihf.so") in by_qa
    assert any(f.qa == QA_IMPORT and "broken.rpds" in f.message and "ModuleNotFoundError" in f.message for f in report.findings)
    assert len(report.findings) == 2
    assert hashlib.sha256(b"".join(p.read_bytes() for p in sorted(site.rglob("*")) if p.is_file())).hexdigest() == digest
