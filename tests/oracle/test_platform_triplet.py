"""Oracle: CPython's own platform-triplet probe, run by real compilers, against the library.

For every configuration -- the 24 of ``lib/pyrust/data/machines.json`` (12 qemu machines x
glibc/musl) and, when it exists, every tune of ``tests/data/oe_tunes.json`` -- the probe
CPython's configure runs is preprocessed by a Debian cross compiler with the tune's
TUNE_CCARGS, and its answer is compared with
``pyrust.triplet.platform_triplet(pyrust.target.target_from_vars(vars), version)``.
Nothing of the library is used to compute the oracle's answer.

The probes come from ``tests/tools/fetch-cpython-probe``:

* 3.11: the ``conftest.c`` here-document of configure.ac, unchanged. configure keeps
  every output line not starting with ``#`` and not blank, with blanks removed.
* 3.12+ (``Misc/platform_triplet.c``; 3.13 from trixie when obtainable): the line
  ``PLATFORM_TRIPLET=...``.

When the preprocessor fails on the probe's ``#error``, configure keeps the value it was
given: oe-core's python3 recipe passes ``PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS}``
(``EXTRA_OECONF`` in meta/recipes-devtools/python/python3_*.bb), so that is the oracle's
answer then.

Per release (``test_release_platform_triplet``): every machine and every tune of each
release's own tables (``machines[-<release>].json``, ``oe_tunes[-<release>].json``,
generated from that release's BitBake), with the probe of that release's python3
(PYTHON_BASEVERSION of the table) and that release's recipe: where the probe fails and
the recipe passes no PLATFORM_TRIPLET (scarthgap: the table's ``release`` block, read
from python3's EXTRA_OECONF), configure has no triplet and the answer is "" (SOABI
"cpython-312", EXT_SUFFIX ".cpython-312.so"), compared with
``pyrust.release.release_abi``. Probe used per version: :data:`PROBE_FOR`.

The compiler is chosen from TARGET_ARCH/TARGET_OS (the ``${TARGET_SYS}-gcc`` oe-core would
use) by the table in :func:`toolchain_for`; flags placed *before* TUNE_CCARGS make the
Debian compiler start from the defaults oe-core's cross gcc is configured with for that
TARGET_SYS (endianness, MIPS ABI, ``--with-float`` from TARGET_FPU), so that TUNE_CCARGS
override them exactly as they would in oe-core.

C library: Debian's cross compilers are glibc ones. The 3.11 probe does not look at the C
library at all (it prints "gnu" names; configure's ``linux-musl*`` rewrite looks at the
*build* OS, glibc in an OE build), so for musl rows the 3.11 oracle answer is the probe's
gnu triplet, exactly what an OE musl build gets. The 3.12+ probe includes <features.h>
(and, without __GLIBC__, <stdarg.h>): for musl rows it is preprocessed with
``-nostdinc`` and the include order of a musl cross gcc -- the compiler's own include
and include-fixed directories, then the musl headers of Debian's musl-dev (features.h is
architecture independent) -- and without musl-dev :func:`testbed.missing` (a failure under CI).

Where glibc lacks ``gnu/stubs-<abi>.h`` for the ABI a tune selects (n32, soft-float on a
hard-float compiler...), an ``-idirafter`` directory of empty ``gnu/stubs-*.h`` files
satisfies the include without deciding anything (the real header wins when it exists).

oe-core's gcc accepts -mspe, -mno-spe, -mabi=spe and -mabi=no-spe as no-ops (its patch
0019-Re-introduce-spe-commandline-options.patch; GCC 9 removed the SPE port, so nothing
defines __SPE__); Debian's gcc 12 rejects them, so they are left out of the command line.

Probes: 3.11 and 3.13 (:data:`VERSIONS`) must exist -- a missing one, for instance a failed
fetch cached as unavailable, fails under CI (``testbed.missing``) with the cached answer
in the reason; the only gaps are :data:`EXPECTED_GAPS` (3.12, 3.14: Debian has no source),
asserted by ``test_oracle_coverage`` and printed in the terminal summary. Missing
musl-dev goes through ``testbed.missing`` too.

Skipped, not failed: riscv32 and loongarch64 (Debian has no cross compiler for them, in
CI too) and tunes whose TUNE_CCARGS the Debian compiler (gcc 12) rejects (e.g. -mspe):
the reason names the compiler's complaint. A missing Debian compiler goes through
``testbed.require_tool`` (skip locally, failure under CI=true).
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import os
import re
import shutil
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path

import pytest

from pyrust.errors import InputError
from pyrust.release import release_abi
from pyrust.target import target_from_vars
from pyrust.triplet import platform_triplet
from testbed import OE_INCONSISTENT_TUNES, REPO, missing, require_tool

pytestmark = pytest.mark.oracle

MACHINES_JSON = REPO / "lib" / "pyrust" / "data" / "machines.json"
TUNES_JSON = REPO / "tests" / "data" / "oe_tunes.json"
RELEASES = ("master", "wrynose", "scarthgap")

# The probe configure runs for each python3 version of a release. 3.13 and 3.14 ship the
# same Misc/platform_triplet.c. CPython 3.12's configure.ac conftest is not in any Debian
# suite (python3.12 never reached a Debian release; deb-src of sid, experimental, trixie,
# trixie-backports and bookworm-backports have no python3.12 on 2026-12-01), so the
# 3.11 conftest stands in for it: a known gap (between the two the Linux part gained the
# __loongarch__ branch, whose rows are skipped here anyway: Debian has no loongarch64
# compiler; the musl rewrite on the build OS is the same).
PROBE_FOR = {"3.11": "3.11", "3.12": "3.11", "3.13": "3.13", "3.14": "3.13"}

# Probe versions; 3.11 is always fetched, newer ones only when the Debian archive has them.
# Both must exist: a missing one (for instance a failed fetch cached as unavailable by
# fetch-cpython-probe) fails under CI (testbed.missing) instead of skipping its tests.
VERSIONS = ("3.11", "3.13")

# The probes Debian has no source for: the only gaps allowed (test_oracle_coverage
# asserts the set), and only when fetch-cpython-probe's cached answer is Debian's
# "no such source" (DEBIAN_HAS_NONE), not a failure of the fetch itself.
EXPECTED_GAPS = {
    "3.12": "no Debian suite has a python3.12 source package (see PROBE_FOR)",
    "3.14": "sid lists python3.14, but the archive answers 404 for its files; trixie has none",
}
# apt-get's words for "the archive has no such source": no source package in the suite's
# Sources, or the files of a listed one absent from the pool.
DEBIAN_HAS_NONE = re.compile(r"Unable to find a source package for python3\.\d+|\b404\s+Not Found\b")

# Architectures Debian has no cross compiler for: they are not "missing tools".
NO_DEBIAN_COMPILER = {
    "riscv32": "Debian has no riscv32 cross compiler (no riscv32 port)",
    "loongarch64": "Debian bookworm has no loongarch64 cross compiler",
}

# Options oe-core's gcc accepts and ignores: meta/recipes-devtools/gcc/gcc/
# 0019-Re-introduce-spe-commandline-options.patch adds them back to rs6000.opt as bare
# variables after GCC 9 removed the SPE port, so they change nothing (no __SPE__).
# Debian's gcc 12 rejects them; leaving them out is what oe-core's compiler does.
OE_GCC_NOOP_OPTIONS = frozenset({"-mspe", "-mno-spe", "-mabi=spe", "-mabi=no-spe"})

# MIPS TARGET_ARCH -> Debian cross compiler of that architecture (gcc-<triplet> packages).
MIPS_COMPILERS = {
    "mips": "mips-linux-gnu-gcc",
    "mipsel": "mipsel-linux-gnu-gcc",
    "mips64": "mips64-linux-gnuabi64-gcc",
    "mips64el": "mips64el-linux-gnuabi64-gcc",
    "mipsisa32r6": "mipsisa32r6-linux-gnu-gcc",
    "mipsisa32r6el": "mipsisa32r6el-linux-gnu-gcc",
    "mipsisa64r6": "mipsisa64r6-linux-gnuabi64-gcc",
    "mipsisa64r6el": "mipsisa64r6el-linux-gnuabi64-gcc",
}


def _load_configs() -> dict[str, dict[str, str]]:
    configs: dict[str, dict[str, str]] = {}
    with open(MACHINES_JSON, encoding="utf-8") as f:
        machines = json.load(f)["machines"]
    for machine in sorted(machines):
        for libc in sorted(machines[machine]):
            configs[f"machine:{machine}/{libc}"] = machines[machine][libc]
    if TUNES_JSON.is_file():
        with open(TUNES_JSON, encoding="utf-8") as f:
            tunes = json.load(f).get("tunes", {})
        for key in sorted(tunes):
            configs[f"tune:{key}"] = tunes[key]
    return configs


CONFIGS = _load_configs()


def _release_file(kind: str, release: str) -> Path:
    if kind == "machines":
        return MACHINES_JSON if release == "master" else MACHINES_JSON.with_name(f"machines-{release}.json")
    return TUNES_JSON if release == "master" else TUNES_JSON.with_name(f"oe_tunes-{release}.json")


def _load_release_configs() -> tuple[dict[str, dict[str, str]], dict[str, dict]]:
    """({"<release>:machine:M/L" or "<release>:tune:K": vars}, {release: release block})."""
    configs: dict[str, dict[str, str]] = {}
    facts: dict[str, dict] = {}
    for release in RELEASES:
        path = _release_file("machines", release)
        if not path.is_file():
            continue
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
        facts[release] = data["release"]
        for machine in sorted(data["machines"]):
            for libc in sorted(data["machines"][machine]):
                configs[f"{release}:machine:{machine}/{libc}"] = data["machines"][machine][libc]
        tunes = _release_file("tunes", release)
        if tunes.is_file():
            with open(tunes, encoding="utf-8") as f:
                for key, values in sorted(json.load(f).get("tunes", {}).items()):
                    configs[f"{release}:tune:{key}"] = values
    return configs, facts


RELEASE_CONFIGS, RELEASE_FACTS = _load_release_configs()


# --- which compiler, started from which defaults ------------------------------------------

@dataclasses.dataclass(frozen=True)
class Toolchain:
    """Debian compilers able to stand in for oe-core's ``${TARGET_SYS}-gcc``.

    ``choices``: (compiler, default flags) in preference order; the first installed wins.
    The default flags come before TUNE_CCARGS on the command line.
    """

    choices: tuple[tuple[str, tuple[str, ...]], ...]

    def pick(self) -> tuple[str, tuple[str, ...]] | None:
        for compiler, flags in self.choices:
            if shutil.which(compiler):
                return compiler, flags
        return None


def _last_value(ccargs: list[str], option: str) -> str | None:
    found = None
    for arg in ccargs:
        if arg.startswith(option + "="):
            found = arg.split("=", 1)[1]
    return found


def toolchain_for(vars: Mapping[str, str]) -> Toolchain | str:
    """The Debian stand-in for the target's cross gcc, or the reason there is none."""
    arch = vars["TARGET_ARCH"].strip()
    target_os = vars["TARGET_OS"].strip()
    ccargs = (vars.get("TUNE_CCARGS") or "").split()
    fpu = (vars.get("TARGET_FPU") or "").strip()
    if arch in NO_DEBIAN_COMPILER:
        return NO_DEBIAN_COMPILER[arch]
    # oe-core's gcc-cross: get_gcc_float_setting() -> --with-float=soft for TARGET_FPU soft.
    soft = ("-msoft-float",) if fpu == "soft" else ()
    if arch in ("arm", "armeb"):
        # arm-linux-gnueabihf defaults to the hard-float PCS, arm-linux-gnueabi to soft;
        # oe-core's arm gcc: --with-float=hard for the hf tunes (get_gcc_float_setting).
        mfloat = _last_value(ccargs, "-mfloat-abi") or ("hard" if fpu == "hard" else "soft")
        endian = ("-mbig-endian",) if arch == "armeb" else ("-mlittle-endian",)
        if mfloat == "hard":
            return Toolchain((("arm-linux-gnueabihf-gcc", endian),))
        return Toolchain((("arm-linux-gnueabi-gcc", endian + (f"-mfloat-abi={mfloat}",)),))
    if arch in ("aarch64", "aarch64_be"):
        flags = ("-mbig-endian",) if arch == "aarch64_be" else ("-mlittle-endian",)
        if target_os.endswith("ilp32"):
            flags += ("-mabi=ilp32",)
        return Toolchain((("aarch64-linux-gnu-gcc", flags),))
    if arch in ("i386", "i486", "i586", "i686"):
        return Toolchain((("i686-linux-gnu-gcc", ("-m32",)),))
    if arch == "x86_64":
        if target_os.endswith("x32"):
            return Toolchain((("x86_64-linux-gnux32-gcc", ("-mx32",)),))
        return Toolchain((("x86_64-linux-gnu-gcc", ("-m64",)), ("gcc", ("-m64",))))
    if arch in MIPS_COMPILERS:
        little = arch.endswith("el")
        abi = "n32" if target_os.endswith("n32") else ("64" if "64" in arch else "32")
        flags = ("-EL" if little else "-EB", f"-mabi={abi}") + soft
        # the same architecture of the other endianness, flipped by -EB/-EL, as a fallback
        other = arch[:-2] if little else arch + "el"
        return Toolchain(((MIPS_COMPILERS[arch], flags), (MIPS_COMPILERS[other], flags)))
    if arch in ("powerpc", "powerpcle"):
        flags = ("-mlittle",) if arch == "powerpcle" else ("-mbig",)
        return Toolchain((("powerpc-linux-gnu-gcc", flags + soft),))
    if arch in ("powerpc64", "powerpc64le"):
        flags = ("-mlittle",) if arch == "powerpc64le" else ("-mbig",)
        return Toolchain(((f"{arch}-linux-gnu-gcc", flags + soft),))
    if arch == "riscv64":
        return Toolchain((("riscv64-linux-gnu-gcc", ()),))
    raise AssertionError(f"the oracle has no compiler mapping for TARGET_ARCH={arch!r}: add one")


# --- running the probe ---------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class ProbeRun:
    """One preprocessing of a probe.

    ``kind``: "triplet" (``triplet`` holds what configure would take), "probe-error"
    (the probe's #error: configure keeps its preset), "rejected" (the compiler refused
    the command line: ``detail`` quotes it), "no-compiler" (``detail``: the compiler to
    install), "no-libc-headers" (``detail``: the compiler without target headers),
    "no-musl-headers" (``detail``: musl-dev to install), "no-debian-compiler", "skip"
    (no probe of that version) or "unexpected" (``detail``: why).
    """

    kind: str
    triplet: str = ""
    detail: str = ""
    command: tuple[str, ...] = ()
    warnings: str = ""


def _configure_triplet(version: str, output: str) -> str:
    if version == "3.11":
        # PLATFORM_TRIPLET=`grep -v '^#' conftest.out | grep -v '^ *$' | tr -d ' \t'`
        lines = [line for line in output.splitlines() if not line.startswith("#") and not re.fullmatch(r" *", line)]
        return "\n".join(line.replace(" ", "").replace("\t", "") for line in lines)
    # PLATFORM_TRIPLET=`grep '^PLATFORM_TRIPLET=' conftest.out | tr -d ' \t'`;
    # PLATFORM_TRIPLET="${PLATFORM_TRIPLET#PLATFORM_TRIPLET=}"
    lines = [line.replace(" ", "").replace("\t", "") for line in output.splitlines() if line.startswith("PLATFORM_TRIPLET=")]
    value = "\n".join(lines)
    return value[len("PLATFORM_TRIPLET="):] if value.startswith("PLATFORM_TRIPLET=") else value


# "file.c:12:4: error: #error unknown platform triplet" vs "cc1: error: ..." (command line).
_LOCATED = re.compile(r"^[^:\s]+\.[ch]:\d+(:\d+)?: ")


def _classify(version: str, proc: subprocess.CompletedProcess, command: tuple[str, ...]) -> ProbeRun:
    lines = proc.stderr.splitlines()
    warnings = "\n".join(line for line in lines if "warning:" in line)
    if proc.returncode == 0:
        return ProbeRun("triplet", _configure_triplet(version, proc.stdout), command=command, warnings=warnings)
    errors = [line for line in lines if "error:" in line]
    located = [line for line in errors if _LOCATED.match(line)]
    if located and all(re.search(r"error: #\s*error\b", line) for line in located) and len(located) == len(errors):
        return ProbeRun("probe-error", detail="; ".join(located), command=command, warnings=warnings)
    unlocated = [line for line in errors if not _LOCATED.match(line)]
    if unlocated and not located:
        # The compiler refused an option (e.g. "cc1: error: unrecognized command-line option '-mspe'").
        return ProbeRun("rejected", detail="; ".join(unlocated), command=command, warnings=warnings)
    return ProbeRun("unexpected", detail=f"exit {proc.returncode}: {proc.stderr.strip()}", command=command)


class Oracle:
    """Runs (and caches) probe preprocessings; thread safe for distinct commands."""

    def __init__(self, probes: Mapping[str, Path], workdir: Path):
        self.probes = dict(probes)
        self.stubdir = workdir / "stubs"
        self._make_stubs()
        self._musl_include = self._find_musl_include()
        self._cache: dict[tuple[str, ...], subprocess.CompletedProcess] = {}
        self._headers: dict[str, bool] = {}
        self._lock = threading.Lock()

    def _make_stubs(self) -> None:
        # Every gnu/stubs-<abi>.h any installed glibc can ask for, empty.
        names = {"stubs-32.h", "stubs-64.h", "stubs-x32.h", "stubs-soft.h", "stubs-hard.h",
                 "stubs-lp64.h", "stubs-lp64_be.h", "stubs-lp64d.h", "stubs-lp64f.h", "stubs-lp64s.h",
                 "stubs-ilp32.h", "stubs-ilp32d.h", "stubs-ilp32f.h", "stubs-64-v1.h", "stubs-64-v2.h"}
        names |= {f"stubs-{abi}_{fl}.h" for abi in ("o32", "n32", "n64") for fl in ("hard", "soft", "nan2008", "hard_2008", "soft_2008")}
        for stubs_h in Path("/usr").glob("*-linux-*/include/gnu/stubs.h"):
            names |= set(re.findall(r"stubs-[A-Za-z0-9_.-]+\.h", stubs_h.read_text(errors="replace")))
        (self.stubdir / "gnu").mkdir(parents=True, exist_ok=True)
        for name in names:
            (self.stubdir / "gnu" / name).touch()

    @staticmethod
    def _find_musl_include() -> Path | None:
        for candidate in sorted(Path("/usr/include").glob("*-linux-musl")) + [Path("/usr/lib/musl/include")]:
            if (candidate / "features.h").is_file():
                return candidate
        return None

    def _gcc_dirs(self, compiler: str) -> list[str]:
        out = []
        for name in ("include", "include-fixed"):
            path = subprocess.run([compiler, f"-print-file-name={name}"], capture_output=True, text=True,
                                  check=False).stdout.strip()
            if path and Path(path).is_dir():
                out += ["-isystem", path]
        return out

    def _has_own_libc_headers(self, compiler: str) -> bool:
        """Whether ``compiler`` finds features.h outside the host's /usr/include (or is the host's)."""
        with self._lock:
            if compiler not in self._headers:
                machine = subprocess.run([compiler, "-dumpmachine"], capture_output=True, text=True,
                                         check=False).stdout.strip()
                host = subprocess.run(["gcc", "-dumpmachine"], capture_output=True, text=True,
                                      check=False).stdout.strip()
                proc = subprocess.run([compiler, "-E", "-v", "-x", "c", os.devnull], capture_output=True,
                                      text=True, check=False)
                dirs = re.findall(r"^ (/\S+)$", proc.stderr, flags=re.M)
                own = [d for d in dirs if d != "/usr/include" or machine == host]
                self._headers[compiler] = any(Path(d, "features.h").is_file() for d in own)
            return self._headers[compiler]

    def run(self, version: str, vars: Mapping[str, str]) -> ProbeRun:
        toolchain = toolchain_for(vars)
        if isinstance(toolchain, str):
            return ProbeRun("no-debian-compiler", detail=toolchain)
        probe = self.probes.get(version)
        if probe is None:
            return ProbeRun("skip", detail=f"no CPython {version} probe")
        picked = toolchain.pick()
        if picked is None:
            return ProbeRun("no-compiler", detail=toolchain.choices[0][0])
        compiler, defaults = picked
        ccargs = tuple(arg for arg in (vars.get("TUNE_CCARGS") or "").split() if arg not in OE_GCC_NOOP_OPTIONS)
        libc_dirs: tuple[str, ...] = ()
        musl = (vars.get("TCLIBC") or "").strip() == "musl" or "musl" in vars["TARGET_OS"]
        if musl and version != "3.11":
            if self._musl_include is None:
                return ProbeRun("no-musl-headers", detail="musl headers not installed (apt-get install musl-dev): "
                                                          f"the {version} probe reads <features.h>")
            libc_dirs = ("-nostdinc", *self._gcc_dirs(compiler), "-isystem", str(self._musl_include))
        elif version != "3.11" and not self._has_own_libc_headers(compiler):
            # Without libc6-dev-<arch>-cross a Debian cross gcc falls back to the host's
            # /usr/include: the probe's <features.h> would not be the target's.
            return ProbeRun("no-libc-headers", detail=compiler)
        command = (compiler, "-E", *defaults, *ccargs, *libc_dirs, "-idirafter", str(self.stubdir), str(probe))
        proc = self._cache.get(command)
        if proc is None:
            proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False,
                                  env={**os.environ, "LC_ALL": "C"})
            self._cache[command] = proc
        return _classify(version, proc, command)


@pytest.fixture(scope="session")
def oracle_runs(cpython_probes, tmp_path_factory) -> dict[tuple[str, str], ProbeRun]:
    """{(version, config key): ProbeRun} for every configuration, run in threads."""
    oracle = Oracle(cpython_probes, tmp_path_factory.mktemp("platform-triplet-oracle"))
    keys = [(version, key) for version in VERSIONS for key in CONFIGS]
    # each release's rows with the probe of its own python3
    keys += [(PROBE_FOR[values["PYTHON_BASEVERSION"]], key) for key, values in RELEASE_CONFIGS.items()]
    configs = {**CONFIGS, **RELEASE_CONFIGS}
    # Prime the cache one command at a time per thread (distinct commands only).
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(2, (os.cpu_count() or 1) * 2)) as pool:
        results = list(pool.map(lambda vk: oracle.run(vk[0], configs[vk[1]]), keys))
    return dict(zip(keys, results))


# --- the comparison ------------------------------------------------------------------------

def _fallback(vars: Mapping[str, str]) -> str:
    """oe-core's preset: PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS}."""
    return f"{(vars.get('HOST_ARCH') or vars['TARGET_ARCH']).strip()}-{(vars.get('HOST_OS') or vars['TARGET_OS']).strip()}"


def _require_answer(run: ProbeRun, version: str, vars: Mapping[str, str], record_outcome, probe_gaps) -> None:
    """Skip (or fail) unless the probe ran to a triplet or its #error."""
    arch = vars["TARGET_ARCH"].strip()
    if run.kind == "no-debian-compiler":
        record_outcome(version, arch, "skipped", run.detail)
        pytest.skip(run.detail)
    if run.kind == "skip":
        # Only probes Debian has are run (VERSIONS, PROBE_FOR): a gap here is a failed
        # fetch, perhaps cached by fetch-cpython-probe as unavailable; name its answer.
        record_outcome(version, arch, "skipped", f"no CPython {version} probe")
        missing(f"no CPython {version} probe, which Debian has: {probe_gaps.get(version, run.detail)} "
                "(tests/tools/fetch-cpython-probe --retry-newer asks again)")
    if run.kind == "no-musl-headers":
        record_outcome(version, arch, "skipped", run.detail)
        missing(run.detail)
    if run.kind == "no-compiler":
        record_outcome(version, arch, "skipped", f"{run.detail} not installed")
        require_tool(run.detail)  # skips, or fails under CI
    if run.kind == "no-libc-headers":
        record_outcome(version, arch, "skipped", f"no target C library headers for {run.detail}")
        missing(f"{run.detail} has no C library headers of its own (install libc6-dev-<arch>-cross): "
                f"the CPython {version} probe includes <features.h>")
    if run.kind == "rejected":
        # Name the flag(s) in the reason: gcc's own message does.
        message = re.sub(r"^\S+: error: ", "", run.detail)
        record_outcome(version, arch, "skipped", f"{run.command[0]} rejects TUNE_CCARGS: {message}")
        pytest.skip(f"{run.command[0]} rejects the tune: {message} (TUNE_CCARGS={vars.get('TUNE_CCARGS', '').strip()!r})")
    if run.kind == "unexpected":
        record_outcome(version, arch, "failed", f"oracle could not run the probe: {run.detail}")
        pytest.fail(f"the probe did not run: {' '.join(run.command)}\n{run.detail}", pytrace=False)


@pytest.mark.parametrize("key", list(CONFIGS))
@pytest.mark.parametrize("version", VERSIONS)
def test_platform_triplet(version, key, oracle_runs, record_outcome, probe_gaps):
    vars = CONFIGS[key]
    arch = vars["TARGET_ARCH"].strip()
    run = oracle_runs[(version, key)]
    _require_answer(run, version, vars, record_outcome, probe_gaps)
    oracle = run.triplet if run.kind == "triplet" else _fallback(vars)
    how = f"probe printed {run.triplet!r}" if run.kind == "triplet" else f"probe hit #error ({run.detail}): preset"
    vt = tuple(int(part) for part in version.split("."))
    try:
        library = platform_triplet(target_from_vars(vars), vt)  # type: ignore[arg-type]
    except InputError as exc:
        if key.startswith("tune:") and key[len("tune:"):] in OE_INCONSISTENT_TUNES:
            # oe-core contradicts itself here (tests/testbed.py says how); refusing is right.
            assert exc.variable == OE_INCONSISTENT_TUNES[key[len("tune:"):]]
            record_outcome(version, arch, "compared", f"refused as inconsistent: {exc}")
            return
        record_outcome(version, arch, "failed", f"library raised InputError: {exc} (oracle {oracle!r})")
        pytest.fail(f"{key}: the library rejects the configuration: {exc}; oracle: {oracle!r} ({how})", pytrace=False)
    if library != oracle:
        record_outcome(version, arch, "failed", f"oracle {oracle!r} ({how}) != library {library!r}; "
                                               f"TUNE_CCARGS={vars.get('TUNE_CCARGS', '').strip()!r}")
    else:
        record_outcome(version, arch, "compared")
    assert library == oracle, (
        f"{key} CPython {version}: oracle {oracle!r} ({how}), library {library!r}\n"
        f"TUNE_CCARGS={vars.get('TUNE_CCARGS', '').strip()!r} TARGET_OS={vars['TARGET_OS']!r} "
        f"TARGET_FPU={vars.get('TARGET_FPU')!r}\ncommand: {' '.join(run.command)}\n{run.warnings}"
    )


@pytest.mark.parametrize("key", list(RELEASE_CONFIGS))
def test_release_platform_triplet(key, oracle_runs, record_outcome, probe_gaps):
    """Each release's rows with its own python3 and its own recipe's preset (or none)."""
    release = key.split(":", 1)[0]
    vars = RELEASE_CONFIGS[key]
    arch = vars["TARGET_ARCH"].strip()
    python = vars["PYTHON_BASEVERSION"]
    probe = PROBE_FOR[python]
    run = oracle_runs[(probe, key)]
    label = f"{release}/{python}"
    _require_answer(run, probe, vars, record_outcome, probe_gaps)
    preset = _fallback(vars) if RELEASE_FACTS[release]["platform_triplet_preset"] else ""
    oracle = run.triplet if run.kind == "triplet" else preset
    how = (f"probe {probe} printed {run.triplet!r}" if run.kind == "triplet"
           else f"probe {probe} hit #error ({run.detail}): {release}'s preset {preset!r}")
    try:
        abi, notes = release_abi(target_from_vars(vars), python, "", release)
    except InputError as exc:
        tune = key.split(":tune:", 1)[1] if ":tune:" in key else ""
        if tune in OE_INCONSISTENT_TUNES:
            assert exc.variable == OE_INCONSISTENT_TUNES[tune]
            record_outcome(label, arch, "compared", f"refused as inconsistent: {exc}")
            return
        record_outcome(label, arch, "failed", f"library raised InputError: {exc} (oracle {oracle!r})")
        pytest.fail(f"{key}: the library rejects the configuration: {exc}; oracle: {oracle!r} ({how})", pytrace=False)
    record_outcome(label, arch, "compared" if abi.platform_triplet == oracle else "failed",
                   "" if abi.platform_triplet == oracle else f"oracle {oracle!r} ({how}) != library {abi.platform_triplet!r}")
    assert abi.platform_triplet == oracle, (
        f"{key} CPython {python}: oracle {oracle!r} ({how}), library {abi.platform_triplet!r}\n"
        f"TUNE_CCARGS={vars.get('TUNE_CCARGS', '').strip()!r}\ncommand: {' '.join(run.command)}")
    # no triplet: the library says so, and EXT_SUFFIX has none
    assert bool(notes) == (oracle == ""), notes
    if oracle == "":
        assert abi.ext_suffix == f".cpython-{python.replace('.', '')}.so"


def test_oracle_coverage(oracle_runs, probe_gaps):
    """The oracle really answered: every machines.json row Debian can compile for, and
    most tunes (a drop means the compiler mapping or the probe broke, not the library)."""
    # The gaps are the listed ones (EXPECTED_GAPS), each one Debian's own "no such source";
    # the probes the tests run are all there. Reported after the checks of the others.
    assert set(EXPECTED_GAPS).isdisjoint(VERSIONS) and set(EXPECTED_GAPS).isdisjoint(PROBE_FOR.values())
    gap_problems = [f"{version}, which Debian has ({why})" for version, why in sorted(probe_gaps.items())
                    if version not in EXPECTED_GAPS]
    gap_problems += [f"{version}, whose fetch failed for another reason than Debian having no source ({why})"
                     for version, why in sorted(probe_gaps.items())
                     if version in EXPECTED_GAPS and not DEBIAN_HAS_NONE.search(why)]
    assert set(VERSIONS) | set(PROBE_FOR.values()) <= {version for version, _key in oracle_runs}
    for version in [version for version in VERSIONS if version not in probe_gaps]:  # gaps: gap_problems
        runs = {key: run for (v, key), run in oracle_runs.items() if v == version}
        absent = sorted({run.detail for run in runs.values() if run.kind == "no-compiler"})
        if absent:
            require_tool(absent[0])
        headless = sorted({run.detail for run in runs.values() if run.kind == "no-libc-headers"})
        if headless:
            missing(f"no target C library headers for {', '.join(headless)} (libc6-dev-<arch>-cross)")
        no_musl = sorted({run.detail for run in runs.values() if run.kind == "no-musl-headers"})
        if no_musl:
            missing(no_musl[0])
        unprobed = sorted(key for key, run in runs.items() if run.kind == "skip")
        assert not unprobed, f"CPython {version}: no probe for {len(unprobed)} configurations ({unprobed[:3]}...)"
        answered = {key for key, run in runs.items() if run.kind in ("triplet", "probe-error")}
        machine_keys = [key for key in runs if key.startswith("machine:")]
        possible = [key for key in machine_keys
                    if runs[key].kind != "no-debian-compiler"]
        assert set(possible) <= answered, (
            f"CPython {version}: no oracle answer for "
            + ", ".join(f"{key} ({runs[key].kind}: {runs[key].detail})" for key in possible if key not in answered))
        if version == "3.11":
            assert len(possible) >= 20, f"only {len(possible)} machines.json rows have a Debian compiler"
        tune_keys = [key for key in runs if key.startswith("tune:") and runs[key].kind != "no-debian-compiler"]
        if tune_keys:
            ratio = len([key for key in tune_keys if key in answered]) / len(tune_keys)
            assert ratio >= 0.8, f"CPython {version}: the oracle answered only {ratio:.0%} of the tunes"
    if gap_problems:
        missing("no CPython probe for " + "; ".join(gap_problems)
                + " (tests/tools/fetch-cpython-probe --retry-newer asks again)")
