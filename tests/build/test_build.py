"""Real BitBake builds with pyrust.bbclass, through do_install (tests/build/README.md).

Every recipe here is compiled by oe-core's own classes (python_maturin, python_pyo3,
python_pep517, cargo_common, rust-common, rust-target-config, python3targetconfig,
staging, insane) and checked by the class's do_install postfunc; the stand-ins replace
only the toolchain, glibc, rust/cargo, the native Python tools, the target python3, Rust's
std and pseudo. What a test expects comes from outside our library: the EXT_SUFFIX of the
target CPython's own ``_sysconfigdata`` in the recipe sysroot, and BitBake's own logs.

Build dirs (one BitBake server each, kept in the test bed cache, so warm runs only
re-check): build-qemuarm, build-qemuppc, build-qemumips64 (positive builds),
build-qemumips-el (qemumips, DEFAULTTUNE mips32r2el: the check-only regression and the
QA-name handling), build-qemuarm-faults (modules that segfault or hang on import).
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
from pathlib import Path

import build_testbed as tb
import pytest
import recipe_matrix as rm

pytestmark = pytest.mark.build

POSITIVE = ("python3-pyrust-example", "python3-rpds-py")
CLASS_ON = ('INHERIT += "pyrust"', 'PYRUST_STAGE_TARGET_PYTHON = "1"')


#: the qemu-user binary of each test-bed architecture (build_testbed.ARCHES, keyed by
#: TRANSLATED_TARGET_ARCH), which the import check must have used
QEMU = {key: arch.qemu for key, arch in tb.ARCHES.items()}


class Build:
    """One test-bed build dir: configure it, run bitbake in it, read what the build left.
    ``arch`` is the machine's key in build_testbed.ARCHES."""

    def __init__(self, name: str, machine: str, tune: str = "", arch: str = "") -> None:
        self.name, self.machine, self.tune = name, machine, tune
        self.arch = arch or {"qemuarm": "arm", "qemuppc": "powerpc", "qemumips64": "mips64", "qemuarm64": "aarch64"}[machine]

    def configure(self, *settings: str) -> None:
        tb.init(self.name, self.machine, self.tune, (*CLASS_ON, *settings))

    def bitbake(self, *args: str) -> subprocess.CompletedProcess[str]:
        """bitbake ARGS; ``stdout`` holds all it printed (knotty writes errors to stderr)."""
        proc = tb.oe_run(self.name, "bitbake", *args, check=False, timeout=3600)
        return subprocess.CompletedProcess(proc.args, proc.returncode, proc.stdout + proc.stderr, "")

    def var(self, recipe: str, name: str) -> str:
        proc = tb.oe_run(self.name, "bitbake-getvar", "--value", "-r", recipe, name, timeout=900)
        return proc.stdout.strip().splitlines()[-1]

    def task_log(self, recipe: str, task: str) -> str:
        return (Path(self.var(recipe, "T")) / f"log.{task}").read_text(errors="replace")


def target_ext_suffix(sysroot: Path) -> str:
    """EXT_SUFFIX as the target CPython's configure recorded it (its staged _sysconfigdata)."""
    return rm.sysconfig_vars(sysroot)["EXT_SUFFIX"]


def errors(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith("ERROR:")]


def assert_positive(build: Build, recipes: tuple[str, ...]) -> None:
    proc = build.bitbake("-c", "install", *recipes)
    assert proc.returncode == 0, f"bitbake -c install {' '.join(recipes)} failed:\n{proc.stdout[-6000:]}"
    for recipe in recipes:
        sysroot = Path(build.var(recipe, "RECIPE_SYSROOT"))
        expected = target_ext_suffix(sysroot)
        # the class amended oe-core's pyo3.config after do_configure
        config = (Path(build.var(recipe, "WORKDIR")) / "pyo3.config").read_text()
        assert f"ext_suffix={expected}\n" in config, config
        modules = rm.extension_modules(Path(build.var(recipe, "D")))
        assert modules, f"{recipe} installed no extension module"
        assert all(m.name.endswith(expected) for m in modules), (expected, [m.name for m in modules])
        log = build.task_log(recipe, "do_install")
        imported = re.search(r"pyrust: imported under (qemu-\S+) with /usr/bin/python3: (.*)", log)
        assert imported, log[-3000:]
        # every module in ${D}, by name, under the emulator of the test bed's row for the machine
        names = sorted(rm.dotted(m.relative_to(Path(build.var(recipe, "D"))).as_posix()) for m in modules)
        assert (imported.group(1), sorted(imported.group(2).split())) == (QEMU[build.arch], names), imported.group(0)


@pytest.mark.parametrize("machine", ["qemuarm", "qemuppc", "qemumips64"])
def test_positive_build(site_conf: Path, machine: str) -> None:
    """The two recipes build through do_install; modules named with the target's EXT_SUFFIX,
    and the QA check imported each one under qemu-user (its do_install log says so)."""
    build = Build(f"build-{machine}", machine)
    build.configure()
    assert_positive(build, POSITIVE)


def test_pseudo_tracks_only_the_paths_the_release_names(site_conf: Path, tmp_path: Path) -> None:
    """The stand-in pseudo-native honours the path rule of the release's bitbake.conf
    (PSEUDO_INCLUDE_PATHS on master and wrynose, PSEUDO_IGNORE_PATHS on scarthgap), run as
    BitBake runs a fakeroot task: FAKEROOTCMD with FAKEROOTBASEENV and FAKEROOTENV. Found by CI:
    bookworm's pseudo 1.9.0 knows only PSEUDO_IGNORE_PATHS, so on master it tracked the recipe
    sysroots too, and after a dependency was re-staged do_install aborted (exit code 134:
    "path mismatch ... recipe-sysroot-native/installeddeps/libstd-rs")."""
    build = Build("build-qemuarm", "qemuarm")
    build.configure()
    recipe = "python3-pyrust-example"
    proc = build.bitbake("-c", "prepare_recipe_sysroot", recipe)  # stages pseudo-native
    assert proc.returncode == 0, proc.stdout[-3000:]
    fake = rm.bitbake_env(build.name, recipe, ("FAKEROOTBASEENV", "FAKEROOTENV", "FAKEROOTCMD"))
    env = dict(os.environ)
    for var in ("FAKEROOTBASEENV", "FAKEROOTENV"):
        env |= dict(item.split("=", 1) for item in fake[var].split())
    tracked, untracked = tmp_path / "image", tmp_path / "recipe-sysroot-native"
    if "PSEUDO_INCLUDE_PATHS" in env:
        env["PSEUDO_INCLUDE_PATHS"] = f"/proc,{tracked}"
    else:
        env["PSEUDO_IGNORE_PATHS"] = f"/usr/,/etc/,/lib,/dev/,/run/,{untracked}"
    env["PSEUDO_LOCALSTATEDIR"] = str(tmp_path / "pseudo")
    fakeroot = fake["FAKEROOTCMD"]
    script = f"mkdir {tracked} {untracked} && touch {tracked}/f {untracked}/f && chown 1:1 {tracked}/f {untracked}/f"
    run = subprocess.run([fakeroot, "sh", "-c", script], env=env, text=True, capture_output=True, timeout=120)
    subprocess.run([fakeroot, "-S"], env=env, capture_output=True, timeout=120)  # stop its server
    assert run.returncode == 0, run.stdout + run.stderr
    with sqlite3.connect(tmp_path / "pseudo" / "files.db") as db:
        paths = {row[0] for row in db.execute("SELECT path FROM files")}
    assert str(tracked / "f") in paths and not any(p.startswith(str(untracked)) for p in paths), sorted(paths)


def test_oe_core_mips64_target_json_is_refused_by_rustc(site_conf: Path, tmp_path: Path) -> None:
    """Found by this test bed: the target JSON oe-core's rust-target-config writes for
    qemumips64 ("abi": "n64" with "llvm-abiname": "n64"; a data-layout without LLVM's
    i128:128) is refused by rustc >= 1.96, so the test bed corrects it
    (meta-pyrust-testbed/classes/testbed-rust-target-fixes.bbclass). This shows both
    halves with the test bed's rustc; it fails once oe-core's JSON loads."""
    build = Build("build-qemumips64", "qemumips64")
    build.configure()
    proc = build.bitbake("-c", "rust_gen_targets", "python3-pyrust-example")
    assert proc.returncode == 0, proc.stdout[-3000:]
    workdir = Path(build.var("python3-pyrust-example", "WORKDIR"))
    name = build.var("python3-pyrust-example", "RUST_HOST_SYS") + ".json"
    rustc = str(tb.work_dir() / "bin" / "rustc")

    def cfg(json_path: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run([rustc, "--print", "cfg", "--target", str(json_path)], text=True, capture_output=True)

    original = cfg(workdir / "rust-targets-oe-core" / name)
    assert original.returncode != 0 and "invalid MIPS ABI name" in original.stderr, original.stderr
    corrected = cfg(workdir / "rust-targets" / name)
    assert corrected.returncode == 0, corrected.stderr
    assert 'target_abi="abi64"' in corrected.stdout and 'target_endian="big"' in corrected.stdout
    # the data-layout meets LLVM's only when code is generated: an empty no_core crate
    (tmp_path / "empty.rs").write_text("#![feature(no_core)]\n#![no_core]\n")
    for spec, ok in ((json.loads((workdir / "rust-targets-oe-core" / name).read_text()) | {"abi": "abi64"}, False),
                     (json.loads((workdir / "rust-targets" / name).read_text()), True)):
        (tmp_path / name).write_text(json.dumps(spec))
        obj = subprocess.run([rustc, "--target", str(tmp_path / name), "--crate-type", "lib", "--emit=obj",
                              "-o", str(tmp_path / "empty.o"), str(tmp_path / "empty.rs")], text=True, capture_output=True)
        assert (obj.returncode == 0) == ok, obj.stderr
        assert ok or "differs from LLVM target's" in obj.stderr, obj.stderr


@pytest.fixture(scope="module")
def mipsel(site_conf: Path) -> Build:
    return Build("build-qemumips-el", "qemumips", "mips32r2el", arch="mipsel")


def test_check_only_catches_the_original_bug(mipsel: Build) -> None:
    """PYRUST_FIX = "0": oe-core + maturin alone name the module for mips, not mipsel; the
    class's QA fails do_install naming the expected suffix and the device's ImportError."""
    mipsel.configure('PYRUST_FIX = "0"')
    proc = mipsel.bitbake("-c", "install", "python3-pyrust-example")
    assert proc.returncode != 0, proc.stdout[-4000:]
    expected = target_ext_suffix(Path(mipsel.var("python3-pyrust-example", "RECIPE_SYSROOT")))
    assert expected == ".cpython-311-mipsel-linux-gnu.so"
    lines = errors(proc.stdout)
    assert any("[pyrust-ext-suffix]" in line and expected in line for line in lines), lines
    assert any("[pyrust-import]" in line and "ModuleNotFoundError" in line for line in lines), lines
    config = (Path(mipsel.var("python3-pyrust-example", "WORKDIR")) / "pyo3.config").read_text()
    assert "ext_suffix=" not in config


def test_fix_on_passes_the_same_configuration(mipsel: Build) -> None:
    mipsel.configure()
    assert_positive(mipsel, ("python3-pyrust-example",))


def test_warn_qa_passes_with_warnings(mipsel: Build) -> None:
    mipsel.configure('PYRUST_FIX = "0"', 'ERROR_QA:remove = "pyrust-ext-suffix pyrust-import"',
                     'WARN_QA:append = " pyrust-ext-suffix pyrust-import"')
    proc = mipsel.bitbake("-c", "install", "python3-pyrust-example")
    assert proc.returncode == 0, proc.stdout[-4000:]
    warnings = [line for line in proc.stdout.splitlines() if line.startswith("WARNING:")]
    assert any("[pyrust-ext-suffix]" in line for line in warnings), warnings
    assert any("[pyrust-import]" in line for line in warnings), warnings


def test_insane_skip_is_silent(mipsel: Build) -> None:
    mipsel.configure('PYRUST_FIX = "0"', 'INSANE_SKIP:pn-python3-pyrust-example = "pyrust-ext-suffix pyrust-import"')
    proc = mipsel.bitbake("-c", "install", "python3-pyrust-example")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "pyrust-ext-suffix" not in proc.stdout and "pyrust-import" not in proc.stdout


def test_insane_skip_global_and_per_recipe_combine(mipsel: Build) -> None:
    """As insane.bbclass: INSANE_SKIP and INSANE_SKIP:${PN} together (one QA name in each)."""
    mipsel.configure('PYRUST_FIX = "0"', 'INSANE_SKIP = "pyrust-ext-suffix"', 'INSANE_SKIP:python3-pyrust-example = "pyrust-import"')
    proc = mipsel.bitbake("-c", "install", "python3-pyrust-example")
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert "pyrust-ext-suffix" not in proc.stdout and "pyrust-import" not in proc.stdout


HANG_TIMEOUT = 20.0  # seconds: PYRUST_IMPORT_TIMEOUT of the hanging recipe


@pytest.fixture(scope="module")
def faults(site_conf: Path) -> Build:
    build = Build("build-qemuarm-faults", "qemuarm")
    build.configure(f'PYRUST_IMPORT_TIMEOUT:pn-python3-pyrust-fault-hang = "{HANG_TIMEOUT:g}"')
    return build


def test_segfault_on_import_fails_with_the_signal(faults: Build) -> None:
    proc = faults.bitbake("-c", "install", "python3-pyrust-fault-segv")
    assert proc.returncode != 0
    lines = [line for line in errors(proc.stdout) if "[pyrust-import]" in line]
    assert lines and re.search(r"signal 11|SIGSEGV", lines[0]), errors(proc.stdout)


def test_hang_on_import_fails_within_the_timeout(faults: Build) -> None:
    """The import never returns: do_install fails once PYRUST_IMPORT_TIMEOUT (HANG_TIMEOUT) is
    up, its buildstats say so, and no emulated interpreter is left running."""
    proc = faults.bitbake("-c", "install", "python3-pyrust-fault-hang")
    assert proc.returncode != 0
    lines = [line for line in errors(proc.stdout) if "[pyrust-import]" in line]
    assert lines and f"within {HANG_TIMEOUT:g} s" in lines[0], errors(proc.stdout)
    # buildstats (oe-core's default USER_CLASSES) records the task's elapsed seconds
    stats = sorted(Path(faults.var("python3-pyrust-fault-hang", "BUILDSTATS_BASE")).glob("*/python3-pyrust-fault-hang-*/do_install"),
                   key=lambda p: p.stat().st_mtime)
    assert stats, "no buildstats for do_install"
    elapsed = float(re.search(r"Elapsed time: ([0-9.]+) seconds", stats[-1].read_text()).group(1))
    # the import run is killed at the timeout; the rest of do_install (sysroot, install, static check) is short
    assert HANG_TIMEOUT <= elapsed < 3 * HANG_TIMEOUT, elapsed
    ps = subprocess.run(["ps", "-eo", "args"], text=True, capture_output=True).stdout.splitlines()
    assert not [p for p in ps if "pyrust_fault" in p or p.startswith("qemu-arm ")], ps

