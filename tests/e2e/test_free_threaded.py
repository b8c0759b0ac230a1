"""Free-threaded CPython 3.13 (``--disable-gil``, ABI flags ``t``) as a real target interpreter.

No Debian suite ships a free-threaded CPython, so ``tests/tools/build-target-cpython --python
3.13 --disable-gil`` cross-builds upstream 3.13 from Debian trixie's python3.13 source
(Debian patches not applied; configure picks the triplet) for armv7 hard-float (qemuarm)
and big-endian 32-bit powerpc (qemuppc). For each (:data:`FREE_THREADED`):

- the interpreter, run under qemu-user with the oe-core machine's qemu options, reports
  EXT_SUFFIX, SOABI, MULTIARCH, EXTENSION_SUFFIXES (in order), the _sysconfigdata module
  it imports, sysconfig.get_platform() (what _PYTHON_HOST_PLATFORM stands for), the wheel
  tags packaging computes, ``Py_GIL_DISABLED`` and ``sys._is_gil_enabled()``; ``pyrust abi
  --machine M --python 3.13 --abiflags t`` must give the same, and the sysroot reader the
  same from the files alone;
- the example crate, built with ``pyrust build-env ... --python 3.13 --abiflags t
  --sysroot <sysroot>`` and maturin, passes ``pyrust check`` (imported under qemu-user), is
  called, and its import leaves the GIL disabled (armv7). For 32-bit powerpc PyO3 cannot
  build a free-threaded module at all (no 64-bit atomics on the target; pyo3-ffi names
  AtomicU64): that refusal is what the test asserts there. PyO3 0.30.1 (the example's pin) refuses
  3.13t: PyO3 0.29.0 dropped 3.13t ("Drop support for Python 3.13t", PyO3 #5865), so the
  build takes PyO3 0.28.3, the newest release that supports it, through
  tests/data/pyrust-example-pyo3-0.28.3.Cargo.lock (the example's lock with only the PyO3
  crates moved); PyO3 0.28 declares every #[pymodule] free-threading safe unless it says
  ``gil_used = true`` (Py_MOD_GIL_NOT_USED);
- a stable-ABI module (``.abi3.so``, a tiny C module built against the GIL build's object
  layout, tests/e2e/cmodules.py; Debian's GIL 3.13 imports and runs it) put in a tree for
  the 3.13t target: 3.13t lists ``.abi3.so``, finds the file and dies with SIGSEGV
  running it. ``pyrust check`` gives a static ``pyrust-ext-suffix`` finding
  (pyrust.tables.GIL_STABLE_ABI_SUFFIXES) and an import finding that must be what a
  plain ``import`` in the 3.13t interpreter under qemu-user shows.

Needs qemu-user, the 3.13t sysroots (tests/tools/build-target-cpython, the e2e tier's
set-up), Debian's Rust with the armhf std and rust-src (tests/tools/rust-cross-setup), the
cross gcc's and maturin; missing ones skip (fail under CI=true).
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from cmodules import Compiler, build_module
from crossbuild import (
    BUILD_TIMEOUT,
    EXAMPLE,
    RUN_TIMEOUT,
    cargo_target_dir,
    class_environment,
    copy_crate,
    maturin_build,
    pyrust_check,
    require_toolchain,
    run_logged,
    rust_environment,
    tail,
)
from pyrust.check import find_interpreter
from pyrust.machines import machine_vars
from pyrust.qemurun import Result, run_target_python
from pyrust.target import Target, target_from_vars
from sid import (
    PROBE,
    SID_INTERPRETERS,
    assert_abi_equals_probe,
    assert_sysroot_states_probe,
    parse_probe,
    probe_prelude,
    sid_sysroot,
)
from testbed import REPO, missing, require_tool

pytestmark = pytest.mark.e2e

TIMEOUT = 300.0
PYO3_FOR_313T = "0.28.3"  # newest PyO3 with 3.13t (0.29.0 dropped it)
PYO3_LOCK = REPO / "tests" / "data" / f"pyrust-example-pyo3-{PYO3_FOR_313T}.Cargo.lock"


@dataclasses.dataclass(frozen=True)
class FreeThreaded:
    """One cross-built free-threaded interpreter and the oe-core machine of the same target."""

    triplet: str  # tests/tools/build-target-cpython's GNU triplet
    machine: str  # oe-core machine (pyrust's table)
    version: str = "3.13"
    abiflags: str = "t"
    build_std: bool = False  # Debian ships no Rust std for it
    gcc: str = ""  # cross gcc for the C module
    rust: dict[str, str] = dataclasses.field(default_factory=dict)  # what triplet_probe() prints
    pyo3_builds: bool = True  # PyO3 builds a free-threaded module for it (see test_pyo3_needs_64_bit_atomics)

    def target(self) -> Target:
        return target_from_vars(machine_vars(self.machine))


FREE_THREADED: dict[str, FreeThreaded] = {
    "armv7-3.13t": FreeThreaded("arm-linux-gnueabihf", "qemuarm", gcc="arm-linux-gnueabihf-gcc",
                                rust={"arch": "arm", "endian": "little", "bits": "32", "abi": "eabihf"}),
    "powerpc-3.13t": FreeThreaded("powerpc-linux-gnu", "qemuppc", build_std=True, gcc="powerpc-linux-gnu-gcc",
                                  rust={"arch": "powerpc", "endian": "big", "bits": "32", "abi": ""}, pyo3_builds=False),
}

# What the free-threaded interpreter says about its GIL, added to sid.PROBE's report.
FT_PROBE = r"""
import json as _json, sys as _sys, sysconfig as _sysconfig
print(_json.dumps({"Py_GIL_DISABLED": _sysconfig.get_config_var("Py_GIL_DISABLED"),
                   "gil_enabled": _sys._is_gil_enabled()}))
"""


@pytest.fixture(scope="module")
def ft_sysroot(cpython_sysroot):
    """``ft_sysroot(label)`` -> the cross-built sysroot of that row (skip/fail when absent)."""
    def lookup(label: str) -> Path:
        row = FREE_THREADED[label]
        return cpython_sysroot(row.triplet, row.version, row.abiflags)
    return lookup


def run_on(row: FreeThreaded, sysroot: Path, code: str, cwd: Path, python: str | None = None) -> Result:
    """``python -c code`` in ``sysroot``'s interpreter under the machine's qemu-user, from ``cwd``."""
    target = row.target()
    require_tool(target.qemu_binary)
    cwd.mkdir(parents=True, exist_ok=True)
    return run_target_python(target.qemu_binary, target.qemu_options, sysroot,
                             python or f"/usr/bin/python{row.version}{row.abiflags}", code, cwd=cwd, timeout=TIMEOUT)


@pytest.fixture(scope="module")
def reports(ft_sysroot, tmp_path_factory):
    """``report(label)`` -> what that interpreter printed for sid.PROBE plus FT_PROBE (once per module)."""
    seen: dict[str, dict] = {}

    def report(label: str) -> dict:
        if label not in seen:
            work = tmp_path_factory.mktemp(f"ft-{label}")
            result = run_on(FREE_THREADED[label], ft_sysroot(label), probe_prelude(work) + PROBE + FT_PROBE, work / "cwd")
            assert not result.timed_out, f"{label}: timed out"
            assert result.returncode == 0, f"{label}: exit {result.returncode}\n{result.stderr}"
            lines = result.stdout.strip().splitlines()
            seen[label] = {**json.loads(lines[-2]), **json.loads(lines[-1])}
        return seen[label]

    return report


def pyrust_abi(row: FreeThreaded) -> dict:
    """``pyrust abi --machine M --python 3.13 --abiflags t --format json``, parsed."""
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "abi", "--machine", row.machine, "--python", row.version,
                           "--abiflags", row.abiflags, "--format", "json"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


# ---- the interpreter against the library ----------------------------------------------------


@pytest.mark.parametrize("label", FREE_THREADED)
def test_interpreter_is_free_threaded(label, reports, ft_sysroot):
    """The build is what was asked for: 3.13, ABI flags t, Py_GIL_DISABLED=1, the GIL off at
    start, the machine's byte order and pointer width; the manifest says upstream source."""
    row = FREE_THREADED[label]
    got = reports(label)
    target = row.target()
    assert got["version"].startswith(row.version + ".")
    assert got["ABIFLAGS"] == row.abiflags
    assert got["Py_GIL_DISABLED"] == 1
    assert got["gil_enabled"] is False
    assert (got["byteorder"], got["pointer_bits"]) == (target.endian, target.bits)
    manifest = json.loads((ft_sysroot(label) / ".pyrust-sysroot.json").read_text())
    assert "--disable-gil" in manifest["configure"]
    assert not any(arg.startswith("PLATFORM_TRIPLET") for arg in manifest["configure"])
    assert "Debian patches not applied" in manifest["source"]


@pytest.mark.parametrize("label", FREE_THREADED)
def test_pyrust_abi_equals_the_interpreter(label, reports):
    """EXT_SUFFIX, SOABI, MULTIARCH, EXTENSION_SUFFIXES (in order: an upstream build, no
    Debian entries to take out), the _sysconfigdata name, _PYTHON_HOST_PLATFORM and the wheel tags."""
    row = FREE_THREADED[label]
    got = reports(label)
    assert_abi_equals_probe(pyrust_abi(row), got, row.version, row.abiflags, got["EXTENSION_SUFFIXES"])


@pytest.mark.parametrize("label", FREE_THREADED)
def test_sysroot_reader_states_the_same_abi(label, reports, ft_sysroot):
    """The files alone: abi_from_sysroot() reads the interpreter's answer from its
    _sysconfigdata_t_*.py (upstream 3.13 installs no build-details.json: that is 3.14's
    PEP 739), and resolve_abi() takes it without a disagreement with the rules."""
    row = FREE_THREADED[label]
    sysroot = ft_sysroot(label)
    got = reports(label)
    resolution, data = assert_sysroot_states_probe(sysroot, row.target(), row.version, row.abiflags, got)
    assert Path(data.path).name == got["sysconfigdata_name"] + ".py"
    assert list(sysroot.glob("usr/lib/python3*/build-details*.json")) == []
    assert list(resolution.abi.extension_suffixes) == got["EXTENSION_SUFFIXES"]
    assert resolution.warnings == ()


# ---- a PyO3 module on the free-threaded interpreter -----------------------------------------


def pyo3_0_28_crate(work: Path) -> Path:
    """The example crate with PyO3 pinned to :data:`PYO3_FOR_313T` and its committed lock."""
    crate = work / "example-pyo3-0.28"
    shutil.copytree(EXAMPLE, crate, ignore=shutil.ignore_patterns("target", "*.whl"))
    manifest = crate / "Cargo.toml"
    text = manifest.read_text()
    pin = re.compile(r'pyo3 = \{ version = "=[0-9.]+"')
    assert len(pin.findall(text)) == 1, "the example's PyO3 pin moved: update this test"
    manifest.write_text(pin.sub(f'pyo3 = {{ version = "={PYO3_FOR_313T}"', text))
    shutil.copy(PYO3_LOCK, crate / "Cargo.lock")
    return crate


# The call on the target: the module's functions, Rust's view, the file loaded, and whether
# importing it turned the GIL on (CPython 3.13 does that, with a RuntimeWarning, for a
# module that does not declare Py_mod_gil = Py_MOD_GIL_NOT_USED).
CALL = r"""
import json, sys, warnings
before = sys._is_gil_enabled()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    import pyrust_example as m
print(json.dumps({"add": m.add(2, 3), "probe": m.triplet_probe(),
                  "file": sys.modules["pyrust_example.pyrust_example"].__file__,
                  "gil_before": before, "gil_after": sys._is_gil_enabled(),
                  "warnings": [f"{w.category.__name__}: {w.message}" for w in caught]}))
"""


@pytest.fixture(scope="module")
def rust_env() -> dict[str, str]:
    if importlib.util.find_spec("maturin") is None:
        missing(f"maturin is not installed for {sys.executable} (pip install -e '.[build]')")
    return rust_environment()


@pytest.fixture(scope="module", params=[label for label, row in FREE_THREADED.items() if row.pyo3_builds])
def ft_build(request, rust_env, ft_sysroot, tmp_path_factory, record_testsuite_property):
    """The example crate (PyO3 0.28.3) built for one row with the class's environment (once each)."""
    label = request.param
    row = FREE_THREADED[label]
    sysroot = ft_sysroot(label)
    target = row.target()
    require_toolchain(target, sysroot, rust_env, row.build_std, row.version, row.abiflags)
    work = tmp_path_factory.mktemp(f"ft-build-{label}")
    crate = pyo3_0_28_crate(work)
    args = ["--machine", row.machine, "--python", row.version, "--abiflags", row.abiflags]
    built = maturin_build(f"ft-{label}-example", target, sysroot, crate, args, rust_env, work / "build",
                          record_testsuite_property)
    return label, row, built


def test_module_has_the_interpreters_suffix(ft_build, reports):
    label, _, built = ft_build
    suffix = reports(label)["EXT_SUFFIX"]
    assert [name.rsplit("/", 1)[-1] for name in built.modules()] == [f"pyrust_example{suffix}"]
    assert built.env["PYRUST_EXT_SUFFIX"] == suffix
    assert "Py_GIL_DISABLED" in Path(built.env["PYO3_CONFIG_FILE"]).read_text()


def test_pyrust_check_imports_it(ft_build, tmp_path):
    _, _, built = ft_build
    rc, output = pyrust_check(built, tmp_path)
    assert rc == 0, output
    assert "ok (imported)  pyrust_example.pyrust_example" in output
    assert "1 module(s), 0 finding(s)" in output


def test_module_is_called_and_keeps_the_gil_off(ft_build, reports, tmp_path):
    """add(2, 3), Rust's view of the target, the file loaded; the import neither warns nor
    enables the GIL (PyO3 0.28's modules declare Py_MOD_GIL_NOT_USED)."""
    label, row, built = ft_build
    site = tmp_path / "site"
    with zipfile.ZipFile(built.wheel) as wheel:
        wheel.extractall(site)
    python = find_interpreter(built.sysroot, row.version)
    assert python is not None
    result = run_on(row, built.sysroot, f"import sys; sys.path.insert(0, {str(site)!r})\n" + CALL, tmp_path / "cwd", python)
    assert result.returncode == 0 and not result.timed_out, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"
    got = parse_probe(result.stdout)
    probe = dict(part.split("=", 1) for part in got["probe"].split())
    assert got["add"] == 5
    assert {k: probe.get(k) for k in row.rust} == row.rust
    assert got["file"].endswith(reports(label)["EXT_SUFFIX"])
    assert (got["gil_before"], got["gil_after"], got["warnings"]) == (False, False, [])


@pytest.mark.parametrize("label", [label for label, row in FREE_THREADED.items() if not row.pyo3_builds])
def test_pyo3_needs_64_bit_atomics(label, rust_env, ft_sysroot, tmp_path, record_testsuite_property):
    """PyO3 cannot build a free-threaded module for a target without 64-bit atomics (32-bit
    powerpc): pyo3-ffi's AtomicCULong (Py_GIL_DISABLED only) names AtomicU64 for every
    target, which Rust defines only where target_has_atomic="64" (pyo3-ffi 0.28.3
    src/impl_/mod.rs; 0.30.1 has the same lines). Measured here with the class's
    environment; when PyO3 fixes it this test fails and the row can build and run."""
    row = FREE_THREADED[label]
    sysroot = ft_sysroot(label)
    target = row.target()
    require_toolchain(target, sysroot, rust_env, row.build_std, row.version, row.abiflags)
    cfg = subprocess.run([rust_env["RUSTC"], "--print", "cfg", "--target", target.rust_target_upstream],
                         capture_output=True, text=True, timeout=60, env=rust_env)
    assert cfg.returncode == 0, cfg.stderr
    assert 'target_has_atomic="64"' not in cfg.stdout.splitlines()
    crate = copy_crate(pyo3_0_28_crate(tmp_path), tmp_path / "build")
    args = ["--machine", row.machine, "--python", row.version, "--abiflags", row.abiflags]
    env = class_environment(f"ft-{label}-example", args, sysroot, crate, rust_env, tmp_path / "build")
    build_env = {**rust_env, **env, "CARGO_TARGET_DIR": str(cargo_target_dir(env["CARGO_BUILD_TARGET"]))}
    log = tmp_path / "maturin.log"
    rc = run_logged([sys.executable, "-m", "maturin", "build", "--release", "--locked", "--compatibility", "off",
                     "--config", env["PYRUST_CARGO_CONFIG"], "--out", str(tmp_path / "wheels")],
                    env=build_env, cwd=crate, timeout=BUILD_TIMEOUT, log=log)
    text = log.read_text(errors="replace")
    assert rc != 0, f"PyO3 {PYO3_FOR_313T} built a free-threaded module for {label}: give the row pyo3_builds=True"
    assert "cannot find type `AtomicU64`" in text and f"pyo3-ffi-{PYO3_FOR_313T}/src/impl_/mod.rs" in text, tail(log)
    assert "could not compile `pyo3-ffi`" in text, tail(log)


# ---- a stable-ABI module on the free-threaded interpreter -----------------------------------

ABI3_NAME = "ftabi3"
PLAIN_IMPORT = f"import {ABI3_NAME}; print({ABI3_NAME}.answer())"


def plain_import(row: FreeThreaded, sysroot: Path, site: Path, python: str | None = None) -> Result:
    """``python -c 'import ftabi3; ...'`` run from ``site`` (sys.path[0]) under qemu-user."""
    return run_on(row, sysroot, PLAIN_IMPORT, site, python)


def failure_text(result: Result) -> str:
    """How a plain import failed: the last traceback line, or the signal that ended it."""
    if result.signal:
        return f"signal {result.signal}"
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    return lines[-1] if lines else f"exit status {result.returncode}"


@pytest.fixture(scope="module", params=list(FREE_THREADED))
def abi3_tree(request, ft_sysroot, tmp_path_factory):
    """A tree holding ``ftabi3.abi3.so`` (working C module, GIL-build object layout) for one row."""
    label = request.param
    row = FREE_THREADED[label]
    require_tool(row.gcc)
    site = tmp_path_factory.mktemp(f"ft-abi3-{label}") / "site"
    build_module("working", ABI3_NAME, site / f"{ABI3_NAME}.abi3.so", Compiler(row.gcc))
    return label, row, ft_sysroot(label), site


def test_abi3_module_is_a_valid_stable_abi_module(tmp_path_factory):
    """Control: the same kind of ``.abi3.so`` imports and works on a GIL build of the same
    version for the same target (Debian sid's armhf python3.13), so what the free-threaded
    interpreter does with it below is about free threading, not a broken module."""
    row = FREE_THREADED["armv7-3.13t"]
    require_tool(row.gcc)
    site = tmp_path_factory.mktemp("ft-abi3-control") / "site"
    build_module("working", ABI3_NAME, site / f"{ABI3_NAME}.abi3.so", Compiler(row.gcc))
    entry = SID_INTERPRETERS["armv7-3.13"]
    result = plain_import(row, sid_sysroot(entry), site, entry.interpreter)
    assert (result.returncode, result.stdout.strip()) == (0, "42"), result.stderr


def test_abi3_module_check_matches_the_real_import(abi3_tree, reports, tmp_path):
    """An ``.abi3.so`` in a 3.13t tree: ``pyrust check`` gives a static ``pyrust-ext-suffix``
    finding, and its ``pyrust-import`` finding is what a plain import in the 3.13t
    interpreter under qemu-user shows (both read here, nothing copied). Measured: 3.13t
    lists ``.abi3.so`` (so the import finds the file) and dies with SIGSEGV running it;
    were the name refused, the import would end in ModuleNotFoundError instead."""
    label, row, sysroot, site = abi3_tree
    real = plain_import(row, sysroot, site)
    print(f"\n[plain import] {label}: exit {real.returncode}, signal {real.signal}\n{real.stdout}{real.stderr}")
    assert not real.timed_out
    assert real.returncode != 0, f"the 3.13t interpreter ran the GIL-ABI module: {real.stdout}"
    listed = ".abi3.so" in reports(label)["EXTENSION_SUFFIXES"]
    if not listed:
        assert "ModuleNotFoundError" in failure_text(real), failure_text(real)
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "check", "--machine", row.machine, "--python", row.version,
                           "--abiflags", row.abiflags, "--sysroot", str(sysroot), "--timeout", str(RUN_TIMEOUT), str(site)],
                          capture_output=True, text=True, cwd=tmp_path, timeout=RUN_TIMEOUT + 120)
    output = proc.stdout + proc.stderr
    print(f"[check] {label}: exit {proc.returncode}\n{output}")
    assert proc.returncode == 1, output
    findings = [line for line in output.splitlines() if line.startswith("FINDING ")]
    suffix = [line for line in findings if line.endswith("[pyrust-ext-suffix]")]
    imported = [line for line in findings if line.endswith("[pyrust-import]")]
    assert len(suffix) == 1 and f"'{ABI3_NAME}' has suffix '.abi3.so'" in suffix[0], output
    assert f"expected '{reports(label)['EXT_SUFFIX']}'" in suffix[0], output
    assert len(imported) == 1 and len(findings) == 2, output
    if real.signal:
        assert f"killed the interpreter with signal {real.signal}" in imported[0], (imported[0], failure_text(real))
    else:
        assert failure_text(real) in imported[0], (imported[0], failure_text(real))
