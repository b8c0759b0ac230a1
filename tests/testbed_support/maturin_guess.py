#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Measure the module filename suffix maturin guesses for each oe-core target.

oe-core's python_pyo3.bbclass writes a PYO3_CONFIG_FILE without an ``ext_suffix=``
line, so maturin makes the suffix up from the Rust target triple. This script runs the
installed maturin for every machine of the embedded table (pyrust.machines) x
glibc/musl, reads the module's filename out of the wheel maturin writes, and compares
it with the suffix oe-core's target python3 uses (pyrust.release.release_abi: CPython's
rules, pyrust.pyabi.python_abi, as the release's python3 recipe configures them).

No Rust code is compiled: maturin runs with a PATH whose ``cargo`` is a small wrapper
(written into a temporary directory). ``cargo metadata`` goes to the real cargo (without
``--filter-platform``, so custom oe-core triples need no target specification); the
build (``cargo rustc``/``cargo build``) prints the JSON messages cargo would print,
naming a prebuilt shared object as the crate's cdylib. maturin computes the suffix
before the build and only copies the artifact into the wheel, so any ELF shared object
does. The crate depends on a local stub crate named ``pyo3`` (no network), which is
how maturin recognises PyO3 bindings.

Environment per row, as oe-core exports it (meta/classes-recipe/python_pyo3.bbclass):
PYO3_CROSS=1, PYO3_CROSS_PYTHON_VERSION, PYO3_CROSS_LIB_DIR (an empty directory),
PYO3_PYTHON (this interpreter), PYO3_CONFIG_FILE (implementation, version, shared, abi3,
lib_name, lib_dir, pointer_width, build_flags, suppress_build_script_link_lines; no
ext_suffix) and CARGO_BUILD_TARGET. maturin runs as
``maturin build --release --auditwheel skip --compatibility linux --out DIR`` (maturin
before 1.5 has no ``--auditwheel``: ``--skip-auditwheel`` there, chosen from ``maturin
build --help``).

With ``--release R`` (scarthgap, wrynose, master) everything is that openembedded-core
release's: its maturin (tests/tools/release-maturin: scarthgap's 1.4.0 built from the sdist
with the recipe's patches, wrynose's 1.12.4 and master's 1.14.1 from PyPI; downloaded or
built into the cache on first use), its python3's version, its machine table
(pyrust.machines, release=R) and tune list (tests/data/oe_tunes-R.json; master:
oe_tunes.json), and the suffix column follows that release's python3 recipe
(pyrust.release.release_abi: scarthgap's passes no PLATFORM_TRIPLET, so where CPython's
probe finds none the suffix has no triplet). With --markdown a "Measured ..." line
(maturin and how it was made, rustc, date, seconds) is printed before the table.
Without --release: the maturin on PATH (or --maturin), --python, master's tables.

Usage:
  maturin-guess [--release R | --python 3.14] [--markdown | --json] [--rows qemuarm/musl,...]
                [--oe-triple] [--tunes] [--not-ok] [--maturin PATH] [--keep]

  --release    scarthgap, wrynose or master: that release's maturin, python3, machines, tunes
  --rows       only these MACHINE/TCLIBC rows
  --oe-triple  also run with oe-core's own CARGO_BUILD_TARGET (RUST_HOST_SYS, e.g.
               armv7-oe-linux-gnueabihf) and report whether maturin's answer differs
  --tunes      measure every tune in tests/data/oe_tunes[-R].json instead of the machine
               table, printing one row per distinct (Rust target, maturin, pyrust) answer
  --not-ok     print only the rows where maturin (with either triple) does not name the
               module as oe-core's python3 does (the summary counts all rows)

Exit status: 0 (measured; WRONG rows are a result, not a failure), 1 (getting the
release's maturin failed: download, patch or build), 2 (bad input or a missing tool).
Times are wall-clock seconds.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import time
import zipfile
from pathlib import Path

from pyrust.errors import InputError
from pyrust.machines import DEFAULT_RELEASE, check_release, machine_names, machine_vars, release_facts
from pyrust.pyabi import parse_version
from pyrust.release import release_abi
from pyrust.target import Target, target_from_vars
from pyrust.triplet import detected_triplet

REPO = Path(__file__).resolve().parents[2]

CRATE = "guess"
TIMEOUT = 120

# The stand-in for cargo. argv[1:] is what maturin passes to cargo.
FAKE_CARGO = r'''#!{python}
import json, os, subprocess, sys
REAL = {real_cargo!r}
args = sys.argv[1:]
if args and args[0] == "metadata":
    # --filter-platform makes cargo ask rustc about the target; an oe-core triple
    # (armv7-oe-linux-gnueabihf) has no built-in specification. The crate has no
    # platform-specific dependencies, so the metadata is the same without it.
    if "--filter-platform" in args:
        i = args.index("--filter-platform")
        del args[i:i + 2]
    os.execv(REAL, [REAL] + args)
if not args or args[0] not in ("rustc", "build"):
    os.execv(REAL, [REAL] + args)
with open(os.environ["FAKE_CARGO_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
manifest = os.path.abspath(args[args.index("--manifest-path") + 1])
meta = json.loads(subprocess.run([REAL, "metadata", "--format-version", "1", "--no-deps", "--offline",
                                  "--manifest-path", manifest], check=True, capture_output=True, text=True).stdout)
pkg = next(p for p in meta["packages"] if p["manifest_path"] == manifest)
target = next(t for t in pkg["targets"] if "cdylib" in t["kind"])
print(json.dumps({{"reason": "compiler-artifact", "package_id": pkg["id"], "manifest_path": manifest,
                  "target": target, "profile": {{"opt_level": "3", "debuginfo": 0, "debug_assertions": False,
                  "overflow_checks": False, "test": False}}, "features": [],
                  "filenames": [os.environ["FAKE_CARGO_ARTIFACT"]], "executable": None, "fresh": False}}))
print(json.dumps({{"reason": "build-finished", "success": True}}))
'''

CARGO_TOML = f"""[package]
name = "{CRATE}"
version = "0.1.0"
edition = "2021"

[lib]
crate-type = ["cdylib"]

[dependencies]
pyo3 = {{ path = "pyo3" }}
"""

# A stub with the name and a current version of PyO3 (0.26+: no extension-module warning).
STUB_PYO3_TOML = """[package]
name = "pyo3"
version = "0.27.1"
edition = "2021"
"""

PYPROJECT = f"""[build-system]
requires = ["maturin>=1,<2"]
build-backend = "maturin"

[project]
name = "{CRATE}"
version = "0.1.0"

[tool.maturin]
bindings = "pyo3"
"""

# What oe-core's python_pyo3_do_configure writes (no ext_suffix=, no abiflags=).
PYO3_CONFIG = """implementation=CPython
version={version}
shared=true
abi3=false
lib_name=python{version}
lib_dir={lib_dir}
pointer_width={bits}
build_flags=WITH_THREAD
suppress_build_script_link_lines=false
"""

SUFFIX_RE = re.compile(r"^\.cpython-(?P<tag>[0-9]+[a-z]*)-(?P<triplet>.+)\.so$")


@dataclasses.dataclass
class Measurement:
    """maturin's answer for one Rust target: ``suffix`` or, when it refused, ``error``."""

    rust_target: str
    suffix: str | None
    error: str | None
    wheel: str | None
    seconds: float


@dataclasses.dataclass
class Row:
    """One compared row; ``verdict`` is "ok", "WRONG" or "maturin refused"."""

    key: str
    machine: str
    libc: str
    rust_target: str
    oe_rust_target: str
    maturin: Measurement
    maturin_oe: Measurement | None
    pyrust: str
    verdict: str
    why: str

    def as_dict(self) -> dict[str, object]:
        return dataclasses.asdict(self)


class Harness:
    """A temporary crate, the fake cargo and a dummy shared object; :meth:`measure` runs maturin."""

    def __init__(self, maturin: str | None = None, keep: bool = False) -> None:
        found = maturin or shutil.which("maturin")
        if not found:
            raise InputError("maturin", None, "maturin on PATH (pip install maturin) or --maturin PATH")
        self.maturin: str = found
        real_cargo = shutil.which("cargo")
        if not real_cargo:
            raise InputError("cargo", None, "cargo on PATH (maturin runs `cargo metadata`)")
        if not shutil.which("rustc"):
            raise InputError("rustc", None, "rustc on PATH (maturin runs `rustc -vV`)")
        self.real_cargo = real_cargo
        self.root = Path(tempfile.mkdtemp(prefix="maturin-guess-"))
        self.keep = keep
        self.cache: dict[tuple[str, str, int, bool, str | None], Measurement] = {}
        bindir = self.root / "bin"
        bindir.mkdir()
        cargo = bindir / "cargo"
        cargo.write_text(FAKE_CARGO.format(python=sys.executable, real_cargo=real_cargo))
        cargo.chmod(0o755)
        crate = self.root / "crate"
        (crate / "src").mkdir(parents=True)
        (crate / "pyo3" / "src").mkdir(parents=True)
        (crate / "Cargo.toml").write_text(CARGO_TOML)
        (crate / "src" / "lib.rs").write_text("")
        (crate / "pyo3" / "Cargo.toml").write_text(STUB_PYO3_TOML)
        (crate / "pyo3" / "src" / "lib.rs").write_text("")
        (crate / "pyproject.toml").write_text(PYPROJECT)
        self.crate = crate
        self.lib_dir = self.root / "recipe-sysroot" / "usr" / "lib"
        self.lib_dir.mkdir(parents=True)
        self.artifact = self._dummy_shared_object()
        self.path = f"{bindir}{os.pathsep}{os.environ.get('PATH', '')}"
        self.build_args = ["build", "--release", *self._skip_auditwheel(), "--compatibility", "linux"]

    def _skip_auditwheel(self) -> list[str]:
        """``--auditwheel skip`` (maturin 1.5+), else ``--skip-auditwheel`` (older maturin, e.g. 1.4.0)."""
        try:
            help_text = subprocess.run([self.maturin, "build", "--help"], capture_output=True, text=True, timeout=60).stdout
        except (OSError, subprocess.SubprocessError) as e:
            raise InputError("maturin", self.maturin, f"an executable maturin ({e})") from e
        if "--auditwheel" in help_text:
            return ["--auditwheel", "skip"]
        if "--skip-auditwheel" in help_text:
            return ["--skip-auditwheel"]
        raise InputError("maturin", self.maturin, "a maturin whose `build --help` lists --auditwheel or --skip-auditwheel")

    def _dummy_shared_object(self) -> Path:
        """An ELF shared object exporting PyInit_guess (host cc), else one from lib-dynload."""
        out = self.root / f"lib{CRATE}.so"
        cc = shutil.which("cc") or shutil.which("gcc")
        if cc:
            src = self.root / "dummy.c"
            src.write_text(f"int PyInit_{CRATE}(void) {{ return 0; }}\n")
            if subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(src)], capture_output=True).returncode == 0:
                return out
        dynload = Path(sysconfig.get_path("platstdlib")) / "lib-dynload"
        for candidate in sorted(dynload.glob("*.so")):
            shutil.copy(candidate, out)
            return out
        raise InputError("cc", None, "a C compiler (for a dummy shared object) or a CPython with lib-dynload")

    def close(self) -> None:
        if not self.keep:
            shutil.rmtree(self.root, ignore_errors=True)

    def versions(self) -> dict[str, str]:
        """maturin, cargo and rustc versions, for the record."""
        out = {}
        for name, argv in (("maturin", [self.maturin, "--version"]), ("cargo", [self.real_cargo, "--version"]),
                           ("rustc", ["rustc", "--version"])):
            try:
                out[name] = subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
            except (OSError, subprocess.SubprocessError):
                out[name] = "?"
        return out

    def measure(self, rust_target: str, version: str, bits: int, real_cargo: bool = False,
                ext_suffix: str | None = None) -> Measurement:
        """maturin's suffix for ``rust_target`` and CPython ``version`` (cached).

        ``real_cargo`` runs maturin with the real cargo, compiling the (empty) crate: a
        cross-check of the method, for a target whose Rust standard library is installed.
        ``ext_suffix`` adds an ``ext_suffix=`` line to the config file, as pyrust.bbclass
        does: what maturin names the module with the class.
        """
        key = (rust_target, version, bits, real_cargo, ext_suffix)
        if key in self.cache:
            return self.cache[key]
        name = f"{rust_target}-{version}-{bits}{'-real' if real_cargo else ''}{'-ext' + ext_suffix if ext_suffix else ''}"
        run = self.root / "runs" / name
        out = run / "wheels"
        out.mkdir(parents=True)
        config = run / "pyo3.config"
        text = PYO3_CONFIG.format(version=version, lib_dir=self.lib_dir, bits=bits)
        config.write_text(text + (f"ext_suffix={ext_suffix}\n" if ext_suffix else ""))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("PYO3_", "CARGO_BUILD_", "CARGO_TARGET_", "_PYTHON_", "MATURIN_", "SETUPTOOLS_EXT"))}
        env.update({
            "PATH": os.environ.get("PATH", "") if real_cargo else self.path,
            "PYO3_CROSS": "1",
            "PYO3_CROSS_PYTHON_VERSION": version,
            "PYO3_CROSS_LIB_DIR": str(self.lib_dir),
            "PYO3_PYTHON": sys.executable,
            "PYO3_CONFIG_FILE": str(config),
            "CARGO_BUILD_TARGET": rust_target,
            "CARGO_NET_OFFLINE": "true",
            "FAKE_CARGO_ARTIFACT": str(self.artifact),
            "FAKE_CARGO_LOG": str(run / "cargo.log"),
        })
        argv = [self.maturin, *self.build_args, "--out", str(out)]
        start = time.monotonic()
        try:
            proc = subprocess.run(argv, cwd=self.crate, env=env, capture_output=True, text=True, timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            result = Measurement(rust_target, None, f"timed out after {TIMEOUT} s", None, time.monotonic() - start)
            self.cache[key] = result
            return result
        seconds = time.monotonic() - start
        wheels = sorted(out.glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            result = Measurement(rust_target, None, _maturin_error(proc.stdout + proc.stderr, proc.returncode), None, seconds)
        else:
            with zipfile.ZipFile(wheels[0]) as whl:
                modules = [n for n in whl.namelist() if Path(n).name.startswith(CRATE + ".") and n.endswith(".so")]
            if len(modules) != 1:
                result = Measurement(rust_target, None, f"wheel holds {modules or 'no module'}", wheels[0].name, seconds)
            else:
                result = Measurement(rust_target, Path(modules[0]).name[len(CRATE):], None, wheels[0].name, seconds)
        self.cache[key] = result
        return result


def _maturin_error(output: str, returncode: int) -> str:
    """The most specific line of maturin's failure output."""
    lines = [re.sub(r"\x1b\[[0-9;]*m", "", line).strip() for line in output.splitlines()]
    caused = [line.removeprefix("Caused by:").strip() for line in lines if line.startswith("Caused by:")]
    if caused:
        return caused[-1]
    failed = [line for line in lines if "maturin failed" in line or line.startswith("error")]
    return failed[-1] if failed else f"exit status {returncode}"


def _split(suffix: str) -> tuple[str, str, str]:
    """".cpython-314-arm-linux-gnueabihf.so" -> ("arm", "linux", "gnueabihf")."""
    m = SUFFIX_RE.match(suffix)
    if not m:
        return suffix, "", ""
    arch, _, rest = m.group("triplet").partition("-")
    os_, _, env = rest.partition("-")
    return arch, os_, env


def _probe_failure(target: Target, vt: tuple[int, int]) -> str:
    """Why CPython's triplet probe stops at #error for ``target`` (see pyrust.triplet)."""
    if target.libc == "musl" and vt >= (3, 13):
        return "stops at `#error unknown libc` with OE's musl toolchain"
    if target.cpu_family == "loongarch64" and vt < (3, 12):
        return "has no LoongArch branch before 3.12"
    if target.cpu_family in ("mips", "mips64") and target.float_abi != "hard" and vt < (3, 13):
        return "names no soft-float MIPS before 3.13"
    return "has no branch for this target"


def explain(target: Target, version: str, maturin: str, pyrust_suffix: str, release: str = DEFAULT_RELEASE) -> str:
    """Why maturin's suffix differs from oe-core python3's, from the two strings and the naming rules."""
    vt = parse_version(version)
    m_arch, m_os, m_env = _split(maturin)
    p_arch, p_os, p_env = _split(pyrust_suffix)
    reasons = []
    fallback = detected_triplet(target, vt) is None
    if fallback and not SUFFIX_RE.match(pyrust_suffix):
        return (f"CPython {version}'s triplet probe {_probe_failure(target, vt)} and {release}'s python3 recipe passes "
                f"no PLATFORM_TRIPLET, so the python3's EXT_SUFFIX has no triplet; maturin always writes one")
    if fallback:
        reasons.append(f"CPython {version}'s triplet probe {_probe_failure(target, vt)}, so oe-core's python3 keeps "
                       f"its preset ${{HOST_ARCH}}-${{HOST_OS}} = {target.host_sys_triplet}")
    if m_arch != p_arch:
        # maturin's arch comes from its own table (Target::get_python_arch/get_python_ext_arch),
        # not from the Rust triple as written: i686 -> i386, armv7 -> arm, mipsel -> mips.
        if fallback:
            reasons.append(f"maturin's arch table gives '{m_arch}' where HOST_ARCH is '{p_arch}'")
        elif p_arch == m_arch + "el":
            reasons.append(f"maturin's arch table drops the 'el' of little-endian MIPS ('{m_arch}'); CPython's "
                           f"probe names it '{p_arch}' (_MIPSEL)")
        else:
            reasons.append(f"maturin's arch table gives '{m_arch}'; CPython's probe names it '{p_arch}'")
    if m_os != p_os:
        reasons.append(f"maturin writes '{m_arch}-{m_os}-...' where the python3 has '{p_arch}-{p_os}'")
    if m_env != p_env:
        if p_env == m_env + "sf" and target.cpu_family in ("mips", "mips64") and not fallback:
            reasons.append(f"CPython {version}'s probe appends 'sf' for soft-float MIPS (LIBC_MIPS in "
                           "Misc/platform_triplet.c); maturin's name has no float ABI")
        elif target.cpu_family == "mips64" and m_env == "gnuabi64":
            what = "maturin writes 'gnuabi64' for every Linux mips64/mips64el target"
            if target.libc == "musl":
                what += ", musl included"
            elif target.abi_variant == "n32":
                what += ", n32 included"
            reasons.append(what)
        elif not fallback and target.libc == "musl" and vt < (3, 13) and p_env.startswith("gnu") and m_env.startswith("musl"):
            reasons.append(f"CPython {version}'s configure writes 'gnu' for a musl target (its musl rewrite tests the "
                           "build machine, $build_os, glibc in an OE cross build); maturin assumes 'musl' from 3.11 on")
        elif fallback and p_env == "":
            reasons.append(f"maturin adds '-{m_env}' (from the Rust target); HOST_OS is plain 'linux'")
        elif fallback and m_env == p_env + "hf":
            reasons.append(f"maturin writes '{m_env}' (from the Rust target); oe-core's ARM HOST_OS is "
                           f"'{p_os}-{p_env}' whatever the float ABI")
        elif fallback:
            reasons.append(f"maturin writes '{m_env}' (from the Rust target) where HOST_OS has '{p_env}'")
        else:
            reasons.append(f"maturin writes '{m_env}' (from the Rust target) where CPython's probe writes '{p_env}'")
    if not reasons:
        reasons.append("the strings differ")
    return "; ".join(reasons)


def compare(harness: Harness, key: str, machine: str, libc: str, target: Target, version: str,
            oe_triple: bool, release: str = DEFAULT_RELEASE) -> Row:
    abi, _ = release_abi(target, version, release=release)
    measured = harness.measure(target.rust_target_upstream, version, target.bits)
    measured_oe = harness.measure(target.rust_target, version, target.bits) if oe_triple else None
    if measured.suffix is None:
        verdict, why = "maturin refused", f"maturin: {measured.error}"
    elif measured.suffix == abi.ext_suffix:
        verdict, why = "ok", ""
    else:
        verdict, why = "WRONG", explain(target, version, measured.suffix, abi.ext_suffix, release)
    return Row(key, machine, libc, target.rust_target_upstream, target.rust_target, measured, measured_oe,
               abi.ext_suffix, verdict, why)


def machine_rows(harness: Harness, version: str, only: set[str] | None, oe_triple: bool,
                 release: str = DEFAULT_RELEASE) -> list[Row]:
    """The machine table of ``release`` x glibc/musl (or the ``only`` MACHINE/TCLIBC keys)."""
    rows = []
    for machine in machine_names(release):
        for libc in ("glibc", "musl"):
            key = f"{machine}/{libc}"
            if only is not None and key not in only:
                continue
            target = target_from_vars(machine_vars(machine, libc, release=release))
            rows.append(compare(harness, key, machine, libc, target, version, oe_triple, release))
    if only is not None:
        unknown = only - {r.key for r in rows}
        if unknown:
            raise InputError("--rows", ",".join(sorted(unknown)), "MACHINE/TCLIBC with a machine of pyrust.machines "
                             "and glibc or musl")
    return rows


def tunes_file(release: str = DEFAULT_RELEASE) -> Path:
    """tests/data/oe_tunes.json (master) or oe_tunes-<release>.json: every AVAILTUNES entry, from BitBake."""
    name = "oe_tunes.json" if release == DEFAULT_RELEASE else f"oe_tunes-{release}.json"
    return REPO / "tests" / "data" / name


def tune_rows(harness: Harness, version: str, oe_triple: bool,
              release: str = DEFAULT_RELEASE) -> tuple[list[Row], list[str]]:
    """Every tune of the release's tune list; one row per distinct answer, keys joined."""
    data = json.loads(tunes_file(release).read_text())["tunes"]
    grouped: dict[tuple, Row] = {}
    skipped = []
    for key in sorted(data):
        try:
            target = target_from_vars(data[key])
        except InputError as e:
            skipped.append(f"{key}: {e}")
            continue
        machine, tune, libc = key.split("/")
        row = compare(harness, key, machine, libc, target, version, oe_triple, release)
        group = (row.rust_target, row.maturin.suffix, row.maturin.error, row.pyrust, row.verdict, row.why)
        if group in grouped:
            grouped[group].key += f" {machine}/{tune}"
        else:
            row.key = f"{machine}/{tune}"
            grouped[group] = row
    return list(grouped.values()), skipped


def _oe_cell(row: Row) -> str:
    if row.maturin_oe is None:
        return ""
    if row.maturin_oe.suffix == row.maturin.suffix:
        return "same" if row.maturin.suffix else "refused too"
    return row.maturin_oe.suffix or "refused"


def render(rows: list[Row], markdown: bool, oe_triple: bool, tunes: bool) -> str:
    header = ([] if tunes else ["machine"]) + ["TCLIBC", "Rust target", "maturin's suffix"]
    if oe_triple:
        header.append("with RUST_HOST_SYS")
    header += ["oe-core python3's suffix (pyrust)", "verdict", "why"]
    if tunes:
        header.append("tunes (machine/tune)")
    table = []
    for row in rows:
        cells = ([] if tunes else [row.machine]) + [row.libc, row.rust_target, row.maturin.suffix or "-"]
        if oe_triple:
            cells.append(_oe_cell(row))
        cells += [row.pyrust, row.verdict, row.why]
        if tunes:
            keys = row.key.split()
            if markdown and len(keys) > 4:
                keys = [*keys[:3], f"and {len(keys) - 3} more"]
            cells.append(", ".join(keys) if markdown else row.key)
        table.append(cells)
    if markdown:
        def md(cells: list[str]) -> str:
            return "| " + " | ".join(_code(c, header[i]) for i, c in enumerate(cells)) + " |"
        lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        lines += [md(cells) for cells in table]
        return "\n".join(lines)
    # Plain text: every column but the last padded.
    widths = [max(len(r[i]) for r in [header, *table]) for i in range(len(header) - 1)]
    lines = []
    for cells in [header, *table]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(cells, widths)) + "  " + cells[-1])
    return "\n".join(line.rstrip() for line in lines)


def _code(cell: str, name: str) -> str:
    """A Markdown cell: targets and suffixes as code, ``|`` escaped."""
    if cell and cell not in ("-", "same", "refused", "refused too") and (
            name in ("Rust target", "maturin's suffix", "with RUST_HOST_SYS") or name.startswith("oe-core")):
        return f"`{cell}`"
    return cell.replace("|", "\\|")


def summary(rows: list[Row], version: str, seconds: float, versions: dict[str, str], tunes: bool = False) -> str:
    """"N rows, Python X.Y: a ok, b WRONG, c maturin refused (...)"; with ``tunes`` also the
    counts over tune configurations (a row of the tune table groups MACHINE/TUNE keys)."""
    verdicts = ("ok", "WRONG", "maturin refused")
    counts = {v: sum(r.verdict == v for r in rows) for v in verdicts}
    runs = sum(1 for r in rows for m in (r.maturin, r.maturin_oe) if m is not None)
    text = (f"{len(rows)} rows, Python {version}: {counts['ok']} ok, {counts['WRONG']} WRONG, "
            f"{counts['maturin refused']} maturin refused")
    if tunes:
        configs = {v: sum(len(r.key.split()) for r in rows if r.verdict == v) for v in verdicts}
        text += (f"; {sum(configs.values())} tune configurations (MACHINE/TUNE/TCLIBC): {configs['ok']} ok, "
                 f"{configs['WRONG']} WRONG, {configs['maturin refused']} maturin refused")
    return f"{text} ({versions['maturin']}; {versions['rustc']}; {runs} maturin runs, {seconds:.1f} s)"


def load_release_maturin():
    """release_maturin (tests/tools/release-maturin): get/find a release's maturin."""
    from testbed_support import release_maturin

    return release_maturin


def release_python(release: str) -> str:
    """X.Y of the release's python3 recipe ("3.12.13" -> "3.12")."""
    return ".".join(str(release_facts(release)["python3"]).split(".")[:2])


def release_marker(release: str, oe_triple: bool, tunes: bool, not_ok: bool) -> str:
    """The comment before a release's table in docs/maturin-guess.md (the drift test finds tables by it)."""
    cmd = f"maturin-guess --release {release}" + (" --oe-triple" if oe_triple else "") + " --markdown"
    cmd += (" --tunes" if tunes else "") + (" --not-ok" if not_ok else "")
    return f"<!-- {cmd} (tests/e2e/test_maturin_guess.py reads this table) -->"


def measured_with(release: str, maturin: str, versions: dict[str, str], seconds: float, rows: list[Row]) -> str:
    """One line: which maturin (and how it was made), rustc, python3, date, how long."""
    record_file = Path(maturin).resolve().parent.parent / "build.json"
    how = ""
    if record_file.is_file():
        record = json.loads(record_file.read_text())
        how = f" ({record['source']}"
        patches = record.get("patches") or []
        if patches:
            applied = sum(p["result"] == "applied" for p in patches)
            how += (f" + the {len(patches)} patches of {release}'s python3-maturin_{record['version']}.bb in SRC_URI order "
                    f"({applied} applied, {len(patches) - applied} already upstream)")
        if record.get("lock_changes"):
            how += f"; Cargo.lock changed: {', '.join(record['lock_changes'])}"
        if record.get("build_seconds") is not None:
            how += f"; built with {record['rustc']} in {record['build_seconds']:.0f} s"
        how += ")"
    runs = sum(1 for r in rows for m in (r.maturin, r.maturin_oe) if m is not None)
    day = datetime.date.today().isoformat()
    return (f"Measured {day} with {versions['maturin']}{how}, for {release}'s python3 {release_facts(release)['python3']}; "
            f"maturin ran {versions['rustc']} and {versions['cargo']}; {runs} maturin runs, {seconds:.1f} s.")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--release", help="scarthgap, wrynose or master: that release's maturin, python3, machines and tunes")
    which.add_argument("--python", help="target CPython version X.Y (default 3.14, oe-core master's)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="print a Markdown table")
    fmt.add_argument("--json", action="store_true", help="print the rows as JSON")
    parser.add_argument("--rows", help="comma-separated MACHINE/TCLIBC rows (default: all)")
    parser.add_argument("--oe-triple", action="store_true", help="also measure with oe-core's RUST_HOST_SYS triple")
    parser.add_argument("--tunes", action="store_true", help="every tune of tests/data/oe_tunes[-RELEASE].json")
    parser.add_argument("--not-ok", action="store_true", help="print only the WRONG and refused rows")
    parser.add_argument("--maturin", help="the maturin executable (default: the release's, else maturin on PATH)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (printed on stderr)")
    args = parser.parse_args(argv)
    release = DEFAULT_RELEASE
    maturin = args.maturin
    try:
        if args.release is not None:
            release = check_release(args.release, "--release")
            version = release_python(release)
            want = f"maturin {release_facts(release)['maturin']}"
            if maturin is None:
                rm = load_release_maturin()
                try:
                    maturin = str(rm.get(release, rm.default_cache_dir(), rm.default_upstream()))
                except rm.Failed as e:
                    print(f"maturin-guess: {release}'s maturin: {e}", file=sys.stderr)
                    return 1
            answer = subprocess.run([maturin, "--version"], capture_output=True, text=True).stdout.strip()
            if answer != want:
                raise InputError("--maturin", maturin, f"{want} (--release {release}); it says {answer!r}: "
                                 "drop --maturin to use tests/tools/release-maturin's")
        else:
            vt = parse_version(args.python or "3.14", "--python")
            version = f"{vt[0]}.{vt[1]}"
        only = {r.strip() for r in args.rows.split(",") if r.strip()} if args.rows else None
        harness = Harness(maturin, keep=args.keep)
    except (InputError, OSError) as e:
        print(f"maturin-guess: {e}", file=sys.stderr)
        return 2
    try:
        start = time.monotonic()
        skipped: list[str] = []
        if args.tunes:
            rows, skipped = tune_rows(harness, version, args.oe_triple, release)
        else:
            rows = machine_rows(harness, version, only, args.oe_triple, release)
        seconds = time.monotonic() - start
        versions = harness.versions()
        measured = rows
        if args.not_ok:
            rows = [r for r in rows if r.verdict != "ok" or (r.maturin_oe is not None and r.maturin_oe.suffix != r.pyrust)]
    except InputError as e:
        print(f"maturin-guess: {e}", file=sys.stderr)
        return 2
    finally:
        if args.keep:
            print(f"maturin-guess: kept {harness.root}", file=sys.stderr)
        harness.close()
    if args.json:
        print(json.dumps({"release": args.release, "python": version, "versions": versions, "seconds": round(seconds, 1),
                          "rows": [r.as_dict() for r in rows], "skipped": skipped}, indent=2))
        return 0
    if args.release is not None and args.markdown:
        print(measured_with(release, harness.maturin, versions, seconds, measured))
        print()
        print(summary(measured, version, seconds, versions, args.tunes))
        for line in skipped:
            print(f"skipped (oe-core configuration the library refuses): {line}")
        print()
        print(release_marker(release, args.oe_triple, args.tunes, args.not_ok))
        print(render(rows, args.markdown, args.oe_triple, args.tunes))
        return 0
    print(render(rows, args.markdown, args.oe_triple, args.tunes))
    print()
    print(summary(measured, version, seconds, versions, args.tunes))
    for line in skipped:
        print(f"skipped (oe-core configuration the library refuses): {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
