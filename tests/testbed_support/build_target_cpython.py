#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cross-build a minimal CPython (3.11, or 3.13 with or without the GIL) for the e2e targets.

Debian bookworm has no python3.11 for powerpc (32-bit, big-endian) or mips64 (n64,
big-endian), and no Debian suite ships a free-threaded (``--disable-gil``) CPython at all,
so the end-to-end tests get those target interpreters from here: upstream CPython from a
Debian source package (Debian patches not applied), built with Debian's cross gcc and
installed, with the cross libc, loader and libgcc_s, into a sysroot that runs under
qemu-user::

    $PYRUST_CACHE/sysroots/cpython-<triplet>-python<X.Y><abiflags>-<version>/
        usr/bin/python<X.Y><abiflags>, usr/lib/python<X.Y><t>/_sysconfigdata_<abiflags>_linux_<multiarch>.py, ...
        lib/<triplet>/{ld.so.1,libc.so.6,libm.so.6,libgcc_s.so.1,...}
        <the loader path the interpreter asks for> -> lib/<triplet>/ld.so.1
        .pyrust-sysroot.json                     (manifest, written last)

e.g. ``cpython-powerpc-linux-gnu-python3.11-3.11.2`` or, with ``--python 3.13
--disable-gil``, ``cpython-arm-linux-gnueabihf-python3.13t-3.13.5``.

Sources (:data:`SOURCES`, one row per CPython version): 3.11 is Debian bookworm's
python3.11 source package, 3.13 Debian trixie's python3.13, each fetched with ``apt-get
source`` through a private deb-src configuration under ``$PYRUST_CACHE/apt/src-<suite>``
(the host's apt configuration is neither read for packages nor changed) and unpacked
with ``dpkg-source --skip-patches`` into ``$PYRUST_CACHE/debian-src/``
(testbed_support.provision.provision_debian_source; tests/tools/fetch-cpython-probe reads the
oracle's probes from the same trees). A cross build needs a Python of the same version on the
build machine (configure's --with-build-python): bookworm's /usr/bin/python3.11 for 3.11;
for 3.13 a native CPython built once from the same upstream tree into
``$PYRUST_CACHE/build-python/python<X.Y>-<version>/`` (no Debian python3.13 runs on the
bookworm host).

CPython's own configure decides the platform triplet, SOABI and EXT_SUFFIX here: no
PLATFORM_TRIPLET or anything else forcing them is passed, so the result is an
independent oracle for pyrust.pyabi. ``$PYRUST_CACHE`` defaults to ~/.cache/meta-pyrust.

Missing cross compilers (and qemu-user) are installed with tests/tools/setup-testbed
--cross <group> --sysroots none. The build tree lives in $TMPDIR and is removed; the
sysroot is staged in the cache as .tmp-<pid>-... and appears by one rename once
complete and checked under qemu-user (the check also asserts the ABI flags asked for),
so an interrupted run leaves nothing that looks like a sysroot (stale .tmp-<pid>-*
directories of dead runs are removed by the next run). A cached sysroot is returned at
once. The log of the last build is kept in $PYRUST_CACHE/cpython-build-logs/<triplet>.log
(3.11) or <triplet>-python<X.Y><abiflags>.log, the native build's in build-python-<X.Y>.log.

Progress with timings goes to stderr; stdout gets one sysroot path per triplet.

Usage:
  tests/tools/build-target-cpython powerpc-linux-gnu mips64-linux-gnuabi64      # CPython 3.11
  tests/tools/build-target-cpython --python 3.13 --disable-gil arm-linux-gnueabihf powerpc-linux-gnu
  tests/tools/build-target-cpython --find powerpc-linux-gnu     # look up only (exit 1 if absent)
  tests/tools/build-target-cpython --force --jobs 4 mips64-linux-gnuabi64

Exit status: 0 done, 1 a build or check failed, 2 bad arguments.
Measured (2 cores, make -j2, other builds running): 3.11 powerpc 2.7 to 4 min, mips64 4.8
to 6.3 min; a cached run 0.2 s. Each sysroot is about 125 to 140 MB. 3.13t (Dec 2026,
nice 10): at load average 3 to 5, trixie's source 28 s (private apt update + download +
dpkg-source; 0 s when cached), the native build Python 286 s (configure 85 s, make 183 s,
install 16 s; 81 MB), arm-linux-gnueabihf 251 s (configure 64 s, make 176 s); at load 7
to 10, with the native build still at -O3 -g: native 753 s, arm-linux-gnueabihf 808 s,
powerpc-linux-gnu 781 s. A 3.13t sysroot is about 118 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NamedTuple

from pyrust.cache import cache_dir as default_cache_dir
from pyrust.debianpython import relativize_symlinks
from pyrust.machines import machine_vars
from pyrust.sysconfigdata import read_sysconfigdata
from pyrust.tables import CPYTHON_VERSIONS
from pyrust.target import target_from_vars
from testbed_support.provision import MANIFEST, ProvisionError, file_lock, provision_debian_source
from testbed_support.provision import clean_stale as clean_stale_staging
from testbed_support.session import run_in_session

REPO = Path(__file__).resolve().parents[2]

PYTHON_VERSION = "3.11"  # the default --python (what the 3.11-only script built)
PROG = "build-target-cpython"


class CPythonSource(NamedTuple):
    """Where one CPython minor version's upstream source, and its build Python, come from."""

    suite: str  # the Debian suite whose source package holds it ("bookworm", "trixie")
    package: str  # the Debian source package ("python3.13")
    build_python: str  # "host": the build machine's /usr/bin/python<X.Y>; "native": built here from the same tree
    description: str  # for the manifest's "source"


#: CPython version -> its source, one row per version this script builds. The upstream
#: tarball inside the source package is what oe-core builds too; Debian's patches are not
#: applied. Sources: ``apt-cache showsrc python3.11`` (bookworm: 3.11.2-6+deb12u*) and
#: ``python3.13`` (trixie: 3.13.5-2+deb13u*), Dec 2026. Debian sid's python3.14 and
#: python3.15 are listed in sid's Sources index, but their files answer 404 on the
#: archive (tried Dec 2026: .dsc, .orig.tar.xz, .debian.tar.xz), so they have no row.
SOURCES: dict[str, CPythonSource] = {
    "3.11": CPythonSource("bookworm", "python3.11", "host",
                          "upstream CPython from Debian bookworm's python3.11 source package (Debian patches not applied)"),
    "3.13": CPythonSource("trixie", "python3.13", "native",
                          "upstream CPython from Debian trixie's python3.13 source package (Debian patches not applied)"),
}


class Cross(NamedTuple):
    """How to build for and run one GNU triplet."""

    group: str  # tests/tools/setup-testbed --cross group installing gcc-<triplet> and libc6-dev-<debarch>-cross
    debarch: str  # Debian architecture name in the cross package names
    machine: str  # the oe-core machine whose qemu-user command (pyrust.target) runs its binaries


#: The triplets this script knows. The check runs the build under the qemu-user binary
#: and options (CPU, kernel release) pyrust.target gives the oe-core machine, so the
#: build is started as the tests will start it.
CROSS: dict[str, Cross] = {
    "powerpc-linux-gnu": Cross("powerpc", "powerpc", "qemuppc"),
    "mips64-linux-gnuabi64": Cross("mips", "mips64", "qemumips64"),
    "arm-linux-gnueabihf": Cross("arm", "armhf", "qemuarm"),
}

#: configure answers it cannot find out when cross compiling (it would have to look at
#: the target's /dev): the same values as oe-core's python3 recipe (CACHED_CONFIGUREVARS);
#: every Linux has /dev/ptmx and none has /dev/ptc.
CONFIGURE_CACHE: tuple[str, ...] = ("ac_cv_file__dev_ptmx=yes", "ac_cv_file__dev_ptc=no")

#: The rest of the configure line. --without-ensurepip: `make install` would otherwise run
#: pip's installer (as oe-core's recipe, which passes it too). --enable-ipv6: configure's
#: getaddrinfo test must run a target program; naming the choice skips it (oe-core's
#: ipv6 PACKAGECONFIG does the same).
CONFIGURE_OPTIONS: tuple[str, ...] = ("--prefix=/usr", "--disable-test-modules", "--without-ensurepip", "--enable-ipv6")

#: The native build Python's configure options (beside --prefix): only what a cross
#: build's --with-build-python runs (freezing modules, the generators, compileall).
NATIVE_OPTIONS: tuple[str, ...] = ("--disable-test-modules", "--without-ensurepip")

#: configure's OPT for the native build Python (its default is "-g -O3 -Wall"): it only
#: runs build steps, so it is compiled for compile time (no debug info, -O1); the target
#: interpreters keep CPython's defaults. OPT changes no ABI variable of the target build.
NATIVE_OPT = "-O1 -Wall"

# Start-up check run in the staged interpreter under qemu: one JSON line.
CHECK_CODE = (
    "import importlib.machinery, json, struct, sys, sysconfig; print(json.dumps({"
    "'EXT_SUFFIX': sysconfig.get_config_var('EXT_SUFFIX'), 'MULTIARCH': sysconfig.get_config_var('MULTIARCH'), "
    "'SOABI': sysconfig.get_config_var('SOABI'), 'EXTENSION_SUFFIXES': importlib.machinery.EXTENSION_SUFFIXES, "
    "'abiflags': sys.abiflags, 'Py_GIL_DISABLED': sysconfig.get_config_var('Py_GIL_DISABLED'), "
    "'byteorder': sys.byteorder, 'pointer_bits': struct.calcsize('P') * 8, 'version': sys.version.split()[0]}))"
)


class BuildError(RuntimeError):
    """An expected failure; ``str()`` is one line saying what failed and what to do."""


class Spec(NamedTuple):
    """What to build: CPython ``version`` ("3.13") with ``abiflags`` ("" or "t": --disable-gil)."""

    version: str
    abiflags: str = ""

    @property
    def tag(self) -> str:
        """``python3.13t``: the interpreter's file name (LDVERSION) and the sysroot name's part."""
        return f"python{self.version}{self.abiflags}"

    @property
    def libdir(self) -> str:
        """``python3.13t``: the stdlib directory below usr/lib (configure's ABI_THREAD only)."""
        return f"python{self.version}{'t' if 't' in self.abiflags else ''}"

    @property
    def source(self) -> CPythonSource:
        """Its row of :data:`SOURCES`."""
        return SOURCES[self.version]


#: What the script built before --python existed (and builds without it): CPython 3.11.
DEFAULT = Spec(PYTHON_VERSION)


# --------------------------------------------------------------------------------------
# small helpers


def progress(line: str) -> None:
    """One progress line to stderr."""
    print(f"{PROG}: {line}", file=sys.stderr, flush=True)


@contextmanager
def timed(what: str, timings: dict[str, float]) -> Iterator[None]:
    """Time a step: prints ``what ...`` and ``what: 12.3 s``; stores the seconds in ``timings[what]``."""
    progress(f"{what} ...")
    t0 = time.monotonic()
    yield
    timings[what] = time.monotonic() - t0
    progress(f"{what}: {timings[what]:.1f} s")


def run_logged(cmd: Sequence[str], log: Path, *, cwd: Path, env: Mapping[str, str], what: str) -> None:
    """Run ``cmd`` appending its output to ``log``; raise BuildError with the log's tail on failure.

    The command runs in its own process group, killed as a whole when this script is
    interrupted: a `make -j2` must not go on writing into a directory being removed.
    """
    with open(log, "a") as out:
        out.write(f"\n$ cd {cwd} && {' '.join(cmd)}\n")
        out.flush()
        rc = run_in_session(cmd, out, env=env, cwd=cwd)
    if rc != 0:
        tail = log.read_text(errors="replace").splitlines()[-25:]
        sys.stderr.write("\n".join(f"    {line}" for line in tail) + "\n")
        raise BuildError(f"{what} failed (exit {rc}); the full log is {log}")


def capture(cmd: Sequence[str], env: Mapping[str, str] | None = None) -> str:
    """stdout of a short command that must succeed (BuildError naming it otherwise)."""
    try:
        proc = subprocess.run(list(cmd), capture_output=True, text=True, env=dict(env or os.environ, LC_ALL="C"))
    except FileNotFoundError:
        raise BuildError(f"{cmd[0]} not found") from None
    if proc.returncode != 0:
        raise BuildError(f"{' '.join(cmd)} failed: {proc.stderr.strip()[-300:]}")
    return proc.stdout


def qemu_command(triplet: str) -> tuple[str, ...]:
    """The qemu-user command (without -L) for ``triplet``: pyrust.target's for its oe-core machine,
    e.g. ``("qemu-ppc", "-r", "5.15", "-cpu", "7400")``."""
    target = target_from_vars(machine_vars(CROSS[triplet].machine))
    return (target.qemu_binary, *target.qemu_options)


# --------------------------------------------------------------------------------------
# the cache


def sysroot_name(triplet: str, version: str, spec: Spec = DEFAULT) -> str:
    """``cpython-<triplet>-python<X.Y><abiflags>-<CPython version>``.

    e.g. ``cpython-powerpc-linux-gnu-python3.11-3.11.2``,
    ``cpython-arm-linux-gnueabihf-python3.13t-3.13.5``. tests/e2e/conftest.py
    (cpython_sysroot) looks sysroots up by this pattern.
    """
    return f"cpython-{triplet}-{spec.tag}-{version}"


def find_cached(triplet: str, cache: Path, spec: Spec = DEFAULT) -> Path | None:
    """The newest complete (manifest written) sysroot of ``triplet`` and ``spec`` in ``cache``, or None."""
    found = [p for p in (cache / "sysroots").glob(sysroot_name(triplet, "*", spec)) if (p / MANIFEST).is_file()]
    return max(found, key=lambda p: (p / MANIFEST).stat().st_mtime) if found else None


def triplet_lock(cache: Path, triplet: str, spec: Spec) -> AbstractContextManager[None]:
    """Serialise concurrent builds of one triplet and spec."""
    name = f".cpython-{triplet}.lock" if spec == DEFAULT else f".cpython-{triplet}-{spec.tag}.lock"
    return file_lock(cache / "sysroots" / name, f"{triplet} {spec.tag}: another build of it is running; waiting for it", progress)


def log_name(triplet: str, spec: Spec) -> str:
    """``powerpc-linux-gnu.log`` (3.11, as before) or ``arm-linux-gnueabihf-python3.13t.log``."""
    return f"{triplet}.log" if spec == DEFAULT else f"{triplet}-{spec.tag}.log"


def clean_stale_builds(tmp_root: Path) -> None:
    """Remove build trees ``meta-pyrust-cpython-<pid>-*`` of runs that died (pid gone)."""
    clean_stale_staging(tmp_root, "meta-pyrust-cpython-")


# --------------------------------------------------------------------------------------
# prerequisites


def installed_versions(packages: Sequence[str]) -> dict[str, str]:
    """``{package: version}`` of those of ``packages`` dpkg has installed."""
    proc = subprocess.run(["dpkg-query", "-W", "-f=${Package} ${Version} ${db:Status-Status}\\n", *packages],
                          capture_output=True, text=True)
    found = {}
    for line in proc.stdout.splitlines():
        parts = line.split()
        if len(parts) == 3 and parts[2] == "installed":
            found[parts[0]] = parts[1]
    return found


def cross_packages(triplet: str) -> list[str]:
    """The Debian packages a build for ``triplet`` needs, e.g. gcc-powerpc-linux-gnu, libc6-dev-powerpc-cross."""
    arch = CROSS[triplet].debarch
    return [f"gcc-{triplet}", f"binutils-{triplet}", f"libc6-dev-{arch}-cross", f"libc6-{arch}-cross", f"libgcc-s1-{arch}-cross"]


def ensure_tools(triplets: Sequence[str], timings: dict[str, float]) -> dict[str, str]:
    """Install what is missing through tests/tools/setup-testbed; the versions of :func:`cross_packages`.

    Returns ``{package: version}`` for all triplets' packages (recorded in the manifests).
    """
    wanted = [p for t in triplets for p in cross_packages(t)]
    have = installed_versions(wanted)
    no_qemu = [qemu_command(t)[0] for t in triplets if shutil.which(qemu_command(t)[0]) is None]
    if len(have) < len(wanted) or no_qemu:
        groups = sorted({CROSS[t].group for t in triplets})
        cmd = [str(REPO / "tests" / "tools" / "setup-testbed"), "--cross", ",".join(groups), "--sysroots", "none"]
        with timed(f"install cross compilers / qemu-user: {' '.join(cmd[1:])}", timings):
            # setup-testbed reports on stdout; ours carries only sysroot paths
            rc = subprocess.run(cmd, stdout=sys.stderr).returncode
        have = installed_versions(wanted)
        missing = [p for p in wanted if p not in have]
        if rc != 0 or missing:
            raise BuildError(f"tests/tools/setup-testbed did not install {' '.join(missing) or 'everything'} "
                             f"(exit {rc}); as root run: apt-get install --no-install-recommends {' '.join(missing)} qemu-user")
    still = [q for q in no_qemu if shutil.which(q) is None]
    if still:
        raise BuildError(f"{', '.join(still)} not found after setup; install qemu-user (apt-get install qemu-user)")
    return have


def ensure_source(spec: Spec, cache: Path, timings: dict[str, float]) -> Path:
    """The unpacked upstream CPython tree of ``spec.version`` in the cache (read only from here on).

    :func:`testbed_support.provision.provision_debian_source` of the version's :data:`SOURCES` row
    (tests/tools/fetch-cpython-probe reads the oracle's probes from the same trees). A cached
    tree costs no network.
    """
    source = spec.source
    with timed(f"CPython {spec.version} source ({source.package} from Debian {source.suite})", timings):
        try:
            tree = provision_debian_source(source.package, source.suite, cache, progress)
        except ProvisionError as e:
            raise BuildError(str(e)) from None
    if not (tree / "configure").is_file():
        raise BuildError(f"{tree} is no CPython tree (no configure)")
    return tree


def source_version(tree: Path, version: str) -> str:
    """``PY_VERSION`` of a CPython tree, e.g. ``"3.11.2"``; BuildError unless it is CPython ``version``."""
    m = re.search(r'#define\s+PY_VERSION\s+"([^"]+)"', (tree / "Include" / "patchlevel.h").read_text())
    if not m or not m.group(1).startswith(version + "."):
        raise BuildError(f"{tree} is not a CPython {version} source tree (Include/patchlevel.h)")
    return m.group(1)


def host_python(version: str) -> Path:
    """The build machine's Python ``version`` (Debian's, not a pyenv shim); BuildError if absent."""
    for candidate in (f"/usr/bin/python{version}", shutil.which(f"python{version}")):
        if candidate and os.access(candidate, os.X_OK):
            return Path(candidate)
    raise BuildError(f"no python{version} on the build machine (CPython {version} cross builds need one): "
                     f"apt-get install python{version}")


def build_python(spec: Spec, tree: Path, cache: Path, jobs: int, timings: dict[str, float]) -> Path:
    """A Python of ``spec.version`` for configure's --with-build-python.

    "host" rows: :func:`host_python`. "native" rows: a CPython built from ``tree`` for the
    build machine (with the GIL, whatever the target's flags: it only runs build steps)
    into ``<cache>/build-python/python<X.Y>-<version>/``, once; later calls return it.
    """
    if spec.source.build_python == "host":
        return host_python(spec.version)
    version = source_version(tree, spec.version)
    final = cache / "build-python" / f"python{spec.version}-{version}"
    python = final / "bin" / f"python{spec.version}"
    with file_lock(cache / "build-python" / f".python{spec.version}.lock",
                   f"native python{spec.version}: another run is building it; waiting", progress):
        if os.access(python, os.X_OK) and (final / ".pyrust-build-python").is_file():
            return python
        logs = cache / "cpython-build-logs"
        logs.mkdir(parents=True, exist_ok=True)
        log = logs / f"build-python-{spec.version}.log"
        log.write_text(f"{PROG} native python{spec.version} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
        tmp_root = Path(tempfile.gettempdir())
        clean_stale_builds(tmp_root)
        work = Path(tempfile.mkdtemp(prefix=f"meta-pyrust-cpython-{os.getpid()}-native-", dir=tmp_root))
        stage = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=final.parent))
        what = f"native python{spec.version} (--with-build-python)"
        try:
            configure_make_install(what, ["./configure", f"--prefix={final}", *NATIVE_OPTIONS], tree, work, stage, log, jobs,
                                   timings, configure_env={"OPT": NATIVE_OPT})
            shutil.rmtree(work, ignore_errors=True)
            installed = stage / final.relative_to("/")
            got = capture([str(installed / "bin" / f"python{spec.version}"), "-c", "import sys; print(sys.version.split()[0])"],
                          env={"PATH": "/usr/bin:/bin", "PYTHONHOME": str(installed)}).strip()
            if got != version:
                raise BuildError(f"{what}: the built interpreter says {got}, expected {version}")
            (installed / ".pyrust-build-python").write_text(json.dumps({
                "cpython": version, "source": spec.source.description, "configure": [f"--prefix={final}", *NATIVE_OPTIONS],
                "OPT": NATIVE_OPT,
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}, indent=2) + "\n")
            shutil.rmtree(final, ignore_errors=True)
            os.rename(installed, final)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
            shutil.rmtree(work, ignore_errors=True)
        return python


def build_gnu_type(python: Path) -> str:
    """The build machine's GNU type as its Python's MULTIARCH says, e.g. ``x86_64-linux-gnu``."""
    out = capture([str(python), "-c", "import sysconfig; print(sysconfig.get_config_var('MULTIARCH') or '')"],
                  env={"PATH": "/usr/bin:/bin"}).strip()
    if not out:
        raise BuildError(f"{python} reports no MULTIARCH; cannot name the --build system")
    return out


# --------------------------------------------------------------------------------------
# build


def build_env(work: Path) -> dict[str, str]:
    """A clean environment: no CFLAGS, PYTHONPATH, _PYTHON_* or pyenv shims from the caller.

    pkg-config is pointed at an empty directory so that the host's .pc files do not add
    host include or library paths to a target build (modules lacking libraries are skipped).
    """
    empty = work / "empty-pkgconfig"
    empty.mkdir(exist_ok=True)
    return {
        "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "HOME": os.environ.get("HOME", "/root"),
        "LANG": "C.UTF-8",
        "TMPDIR": str(work),
        "PKG_CONFIG_LIBDIR": str(empty),
        "PKG_CONFIG_PATH": "",
    }


def configure_args(triplet: str, build: str, python: Path, spec: Spec = DEFAULT) -> list[str]:
    """The whole configure line (no PLATFORM_TRIPLET: configure must find the triplet itself)."""
    gil = ["--disable-gil"] if "t" in spec.abiflags else []
    return ["./configure", f"--host={triplet}", f"--build={build}", f"--with-build-python={python}",
            *CONFIGURE_OPTIONS, *gil, *CONFIGURE_CACHE]


def compile_and_install(triplet: str, spec: Spec, tree: Path, python: Path, work: Path, destdir: Path, log: Path,
                        jobs: int, timings: dict[str, float]) -> list[str]:
    """Copy ``tree`` into ``work/src``, configure, make and ``make install DESTDIR=destdir``.

    Returns the configure command line used. The copy keeps the cached tree pristine
    (fetch-cpython-probe reads the oracle's probes from it; configure refuses a source
    directory that was configured in place).
    """
    args = configure_args(triplet, build_gnu_type(python), python, spec)
    configure_make_install(f"{triplet} {spec.tag}", args, tree, work, destdir, log, jobs, timings)
    return args


def configure_make_install(what: str, configure: Sequence[str], tree: Path, work: Path, destdir: Path, log: Path,
                           jobs: int, timings: dict[str, float], configure_env: Mapping[str, str] | None = None) -> None:
    """Copy ``tree`` to ``work/src``, run ``configure`` (the whole command line, with
    ``configure_env`` added to :func:`build_env`'s environment), ``make -j<jobs>`` and
    ``make install DESTDIR=<destdir>`` there, each step timed as ``<what>: <step>`` and
    logged to ``log``. The cross builds and the native build Python both go through here.
    Raises BuildError (the log's tail shown) when a step fails.
    """
    src = work / "src"
    env = build_env(work)
    with timed(f"{what}: copy source", timings):
        shutil.copytree(tree, src, symlinks=True)  # copy2 keeps mtimes: make must not regenerate files
    with timed(f"{what}: configure", timings):
        run_logged(list(configure), log, cwd=src, env=dict(env, **(configure_env or {})), what=f"{what}: configure")
    with timed(f"{what}: make -j{jobs}", timings):
        run_logged(["make", f"-j{jobs}"], log, cwd=src, env=env, what=f"{what}: make")
    with timed(f"{what}: make install", timings):
        run_logged(["make", "install", f"DESTDIR={destdir}"], log, cwd=src, env=env, what=f"{what}: make install")


# --------------------------------------------------------------------------------------
# sysroot assembly and check


def program_interpreter(triplet: str, binary: Path) -> str:
    """The PT_INTERP of ``binary`` (``/lib/ld.so.1``), read with ``<triplet>-readelf -l``."""
    out = capture([f"{triplet}-readelf", "-l", str(binary)])
    m = re.search(r"\[Requesting program interpreter: ([^\]]+)\]", out)
    if not m:
        raise BuildError(f"{binary} has no program interpreter (a static or broken build?)")
    return m.group(1)


def _is_runtime_lib(name: str) -> bool:
    """Shared objects the loader loads (``libc.so.6``, ``ld.so.1``); not ``libc.so`` linker
    scripts, nor the sanitizer runtimes gcc's cross packages also ship (nothing here loads them)."""
    if re.match(r"lib(a|ub|t|l|hwa)san\.", name):
        return False
    return bool(re.fullmatch(r"ld[-.].*so.*|.+\.so\.[0-9][0-9.]*", name))


def strip_debug(triplet: str, root: Path, spec: Spec = DEFAULT) -> int:
    """Drop the debug info (CPython builds with -g) from the installed binaries; bytes saved.

    About 60 MB per sysroot (the interpreter, lib-dynload/*.so, libpython3.X.a) that
    the cache would otherwise carry; symbols stay, so nothing a test reads changes.
    A --disable-gil install has usr/bin/python3.13 as a hard link to python3.13t: both
    names are given (binutils strip keeps the link: measured, link count 2 afterwards).
    """
    lib = root / "usr" / "lib" / spec.libdir
    names = dict.fromkeys([f"python{spec.version}", spec.tag])
    binaries = [root / "usr" / "bin" / n for n in names if (root / "usr" / "bin" / n).is_file()
                and not (root / "usr" / "bin" / n).is_symlink()]
    files = [*binaries, *sorted((lib / "lib-dynload").glob("*.so")), *sorted(lib.glob("config-*/*.a"))]
    before = sum(f.stat().st_size for f in files)
    capture([f"{triplet}-strip", "--strip-debug", *map(str, files)])
    return before - sum(f.stat().st_size for f in files)


def install_cross_libs(triplet: str, root: Path, interp: str) -> list[str]:
    """Copy Debian's cross libc, loader and libgcc_s (``/usr/<triplet>/lib*``) into ``root``.

    They go to ``lib/<triplet>/``, the first directory that loader searches by default
    (Debian's multiarch layout), and ``interp`` (the loader path the interpreter asks
    for, e.g. ``/lib64/ld.so.1``) becomes a relative link to the loader there. Returns the
    file names copied.
    """
    dest = root / "lib" / triplet
    dest.mkdir(parents=True, exist_ok=True)
    copied = []
    for libdir in sorted(Path("/usr", triplet).glob("lib*")):
        for src in sorted(libdir.iterdir()):
            if not _is_runtime_lib(src.name) or (dest / src.name).exists():
                continue
            if src.is_symlink():
                os.symlink(os.path.basename(os.readlink(src)), dest / src.name)
            elif src.is_file():
                shutil.copy2(src, dest / src.name)
            copied.append(src.name)
    loader = dest / os.path.basename(interp)
    if not loader.is_file():
        raise BuildError(f"{interp} is not among /usr/{triplet}/lib*; is libc6-{CROSS[triplet].debarch}-cross installed?")
    link = root / interp.lstrip("/")
    if link != loader:
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(loader, link.parent))
    return copied


def sysconfigdata_file(root: Path, spec: Spec = DEFAULT) -> Path:
    """The one ``usr/lib/python3.X[t]/_sysconfigdata_*.py`` of the installed CPython."""
    found = sorted((root / "usr" / "lib" / spec.libdir).glob("_sysconfigdata_*.py"))
    if len(found) != 1:
        raise BuildError(f"expected one _sysconfigdata_*.py in {root}/usr/lib/{spec.libdir}, found {len(found)}")
    return found[0]


def check_under_qemu(triplet: str, root: Path, spec: Spec = DEFAULT, timeout: float = 300.0) -> dict:
    """Start the staged interpreter under qemu-user; what it reports (CHECK_CODE's JSON).

    Raises BuildError when it does not start, when its ABI flags are not ``spec``'s, or
    when its EXT_SUFFIX / MULTIARCH differ from the installed _sysconfigdata file (other
    tests read that file directly).
    """
    qemu = qemu_command(triplet)
    argv = [qemu[0], "-L", str(root), *qemu[1:], str(root / "usr" / "bin" / spec.tag), "-c", CHECK_CODE]
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONDONTWRITEBYTECODE": "1", "PYTHONNOUSERSITE": "1"}
    with tempfile.TemporaryDirectory() as empty:  # nothing on sys.path[0] to shadow the stdlib
        try:
            proc = subprocess.run(argv, cwd=empty, env=env, capture_output=True, text=True, timeout=timeout)
        except subprocess.TimeoutExpired:
            raise BuildError(f"{triplet}: the built interpreter did not answer within {timeout:.0f} s under {qemu[0]}") from None
    if proc.returncode != 0:
        raise BuildError(f"{triplet}: the built interpreter failed under {' '.join(qemu)} (exit {proc.returncode}): "
                         f"{proc.stderr.strip()[-500:]}")
    got = json.loads(proc.stdout)
    if got["abiflags"] != spec.abiflags or not got["version"].startswith(spec.version + "."):
        raise BuildError(f"{triplet}: the built interpreter is {got['version']} with ABI flags '{got['abiflags']}', "
                         f"asked for {spec.version} with '{spec.abiflags}'")
    data = read_sysconfigdata(sysconfigdata_file(root, spec))
    if (got["EXT_SUFFIX"], got["MULTIARCH"]) != (data.ext_suffix, data.multiarch):
        raise BuildError(f"{triplet}: the interpreter says {got['EXT_SUFFIX']}/{got['MULTIARCH']} but {data.path} "
                         f"says {data.ext_suffix}/{data.multiarch}")
    return got


def write_manifest(root: Path, triplet: str, spec: Spec, version: str, interp: str, report: dict, args: list[str],
                   packages: Mapping[str, str]) -> None:
    """The manifest (same file name and core keys as testbed_support.provision's Debian sysroots)."""
    manifest = {
        "kind": "cpython-cross-build",
        "triplet": triplet,
        "multiarch": report["MULTIARCH"],
        "python": f"usr/bin/{spec.tag}",
        "python_version": spec.version,
        "abiflags": spec.abiflags,
        "cpython": version,
        "source": spec.source.description,
        "configure": args,
        "loader": interp,
        "ext_suffix": report["EXT_SUFFIX"],
        "soabi": report["SOABI"],
        "byteorder": report["byteorder"],
        "pointer_bits": report["pointer_bits"],
        "packages": {p: packages[p] for p in cross_packages(triplet) if p in packages},
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    (root / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")


# --------------------------------------------------------------------------------------
# one triplet


def build_sysroot(triplet: str, spec: Spec, cache: Path, tree: Path, python: Path, packages: Mapping[str, str],
                  jobs: int, timings: dict[str, float]) -> Path:
    """Build, assemble, check and rename into place the sysroot of ``triplet``; its final path.

    Args:
        triplet: a key of :data:`CROSS`, e.g. ``"powerpc-linux-gnu"``.
        spec: the CPython version and ABI flags.
        cache: the cache root (``~/.cache/meta-pyrust``).
        tree: the CPython source tree of ``spec.version`` (read only).
        python: the build machine's Python of that version (--with-build-python).
        packages: ``{debian package: version}`` recorded in the manifest.
        jobs: make's -j.
        timings: ``{step: seconds}``, filled in.
    """
    version = source_version(tree, spec.version)
    sysroots = cache / "sysroots"
    final = sysroots / sysroot_name(triplet, version, spec)
    logs = cache / "cpython-build-logs"
    logs.mkdir(exist_ok=True)
    log = logs / log_name(triplet, spec)
    log.write_text(f"{PROG} {triplet} {spec.tag} {time.strftime('%Y-%m-%dT%H:%M:%SZ', time.gmtime())}\n")
    tmp_root = Path(tempfile.gettempdir())
    clean_stale_builds(tmp_root)
    work = Path(tempfile.mkdtemp(prefix=f"meta-pyrust-cpython-{os.getpid()}-", dir=tmp_root))
    # The staging directory shares the cache's file system (the final rename is atomic) and
    # is named like testbed_support.provision's, whose stale-directory clean-up covers it too.
    stage = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-cpython-{triplet}-", dir=sysroots))
    what = f"{triplet} {spec.tag}"
    try:
        args = compile_and_install(triplet, spec, tree, python, work, stage, log, jobs, timings)
        shutil.rmtree(work, ignore_errors=True)  # free the build tree's disk before the check
        saved = strip_debug(triplet, stage, spec)
        interp = program_interpreter(triplet, stage / "usr" / "bin" / spec.tag)
        copied = install_cross_libs(triplet, stage, interp)
        relativize_symlinks(stage)
        progress(f"{what}: debug info stripped ({saved >> 20} MiB); loader {interp}; "
                 f"{len(copied)} libraries from /usr/{triplet}/lib* in lib/{triplet}/")
        with timed(f"{what}: check under {qemu_command(triplet)[0]}", timings):
            report = check_under_qemu(triplet, stage, spec)
        progress(f"{what}: EXT_SUFFIX {report['EXT_SUFFIX']}, MULTIARCH {report['MULTIARCH']}, "
                 f"{report['byteorder']}-endian, {report['pointer_bits']}-bit pointers, ABI flags '{report['abiflags']}'")
        write_manifest(stage, triplet, spec, version, interp, report, args, packages)
        os.chmod(stage, 0o755)  # mkdtemp makes it 0700
        move_into_place(stage, final)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
    return final


def move_into_place(stage: Path, final: Path) -> None:
    """Rename the complete ``stage`` to ``final``; an older ``final`` (--force) is replaced.

    The old copy is first renamed to a ``.tmp-<pid>-old-*`` name (removed now, or by the
    stale clean-up if this process dies), so a failed rebuild never costs the old sysroot.
    """
    old = None
    if final.exists():
        old = final.with_name(f".tmp-{os.getpid()}-old-{final.name}")
        os.rename(final, old)
    try:
        os.rename(stage, final)
    except OSError as e:
        raise BuildError(f"cannot rename the staged sysroot to {final} ({e.strerror}); remove it and retry") from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM/SIGHUP: unwind like Ctrl-C, so the clean-up in ``finally`` blocks runs."""
    raise KeyboardInterrupt


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(prog="tests/tools/build-target-cpython", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("triplets", nargs="+", metavar="TRIPLET", help=f"GNU triplets: {', '.join(CROSS)}")
    ap.add_argument("--python", default=PYTHON_VERSION, metavar="X.Y",
                    help=f"CPython version: {', '.join(SOURCES)} (default: {PYTHON_VERSION})")
    ap.add_argument("--disable-gil", action="store_true",
                    help="a free-threaded build (configure --disable-gil, ABI flags 't'; CPython 3.13 and later)")
    ap.add_argument("--cache", type=Path, default=None, help="cache root (default: $PYRUST_CACHE or ~/.cache/meta-pyrust)")
    ap.add_argument("--find", action="store_true", help="only print cached sysroots; build nothing (exit 1 if one is missing)")
    ap.add_argument("--force", action="store_true", help="build even when a sysroot is cached (it is replaced)")
    ap.add_argument("--jobs", type=int, default=2, help="make -j (default: 2)")
    args = ap.parse_args(argv)
    unknown = [t for t in args.triplets if t not in CROSS]
    if unknown:
        ap.error(f"unknown triplet {', '.join(unknown)}: expected {', '.join(CROSS)}")
    if args.python not in SOURCES:
        ap.error(f"--python {args.python}: expected one of {', '.join(SOURCES)} (the versions with a reachable source)")
    major, minor = args.python.split(".")
    row = CPYTHON_VERSIONS.get((int(major), int(minor)))
    if args.disable_gil and not (row and row.free_threading):
        ap.error(f"--disable-gil: CPython {args.python} has no free-threaded build (3.13 and later)")
    if args.jobs < 1:
        ap.error(f"--jobs {args.jobs}: expected a positive number")
    args.spec = Spec(args.python, "t" if args.disable_gil else "")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Command line; see the module docstring. Exit 0, 1 (failed) or 2 (bad arguments)."""
    args = parse_args(argv)
    spec: Spec = args.spec
    cache = (args.cache or default_cache_dir()).expanduser()
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)
    t_start = time.monotonic()
    timings: dict[str, float] = {}
    try:
        (cache / "sysroots").mkdir(parents=True, exist_ok=True)
        todo = []
        for triplet in dict.fromkeys(args.triplets):
            cached = find_cached(triplet, cache, spec)
            if cached and not args.force:
                progress(f"{triplet} {spec.tag}: cached: {cached}")
                print(cached, flush=True)
            elif args.find:
                extra = "" if spec == DEFAULT else f" --python {spec.version}" + (" --disable-gil" if spec.abiflags else "")
                progress(f"{triplet} {spec.tag}: no cached sysroot in {cache}/sysroots (run {PROG}{extra} {triplet})")
                return 1
            else:
                todo.append(triplet)
        if not todo:
            return 0
        clean_stale_staging(cache / "sysroots")
        packages = ensure_tools(todo, timings)
        tree = ensure_source(spec, cache, timings)
        python = build_python(spec, tree, cache, args.jobs, timings)
        progress(f"build Python: {python}")
        for triplet in todo:
            with triplet_lock(cache, triplet, spec):
                cached = find_cached(triplet, cache, spec)
                if cached and not args.force:  # another run built it while we waited
                    progress(f"{triplet} {spec.tag}: cached: {cached}")
                else:
                    t0 = time.monotonic()
                    cached = build_sysroot(triplet, spec, cache, tree, python, packages, args.jobs, timings)
                    timings[f"{triplet} {spec.tag}: total"] = time.monotonic() - t0
                    progress(f"{triplet} {spec.tag}: ready in {timings[f'{triplet} {spec.tag}: total']:.1f} s: {cached}")
            print(cached, flush=True)
    except BuildError as e:
        progress(f"error: {e}")
        return 1
    except KeyboardInterrupt:
        progress("interrupted (nothing half-built was left in the cache)")
        return 130
    progress("summary:")
    for what, seconds in [*timings.items(), ("total", time.monotonic() - t_start)]:
        print(f"  {what:<60} {seconds:7.1f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
