#!/usr/bin/env python3
"""The build test bed: real BitBake builds of PyO3 recipes with pyrust.bbclass, through do_install.

What cannot be fetched or built on this machine (the cross toolchain, glibc, rust-native,
cargo-native, python3-native and its build tools, the target python3, Rust's std, pseudo,
qemu-native) is stood in for; everything else is oe-core's and BitBake's own code. README.md
beside this file lists each stand-in, why, and what a real build does differently.

Commands (run as root or as the build user; BitBake itself always runs as the unprivileged
build user of ``tests/tools/oe-testbed``)::

    tests/build/build_testbed.py setup
        host side once (idempotent, cached in $PYRUST_CACHE/build-testbed): the wrappers
        that give Debian's cross gcc, rustc, cargo, qemu-user and a Python venv (maturin,
        build, oe-core's patched installer) oe-core's names, the SRC_URIs with checksums of
        the stand-ins' inputs, the PyPI premirror; writes site.conf and prints its path.
    tests/build/build_testbed.py init BUILDDIR [--machine M] [--tune T] [--set VAR=VALUE]...
        a build dir (oe-testbed's, with meta-pyrust and meta-pyrust-testbed added) whose
        conf/site.conf is the test bed's and conf/auto.conf sets MACHINE, DEFAULTTUNE and
        every --set (e.g. --set 'INHERIT += "pyrust"').
    tests/build/build_testbed.py bitbake BUILDDIR -- ARGS...
        bitbake ARGS as the build user in BUILDDIR, PATH starting with the wrappers.

Architectures (one row of ARCHES each): arm (qemuarm), aarch64 (qemuarm64), mipsel
(qemumips with DEFAULTTUNE=mips32r2el), powerpc (qemuppc), mips64 (qemumips64).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO / "lib"), str(REPO / "tests")]
from pyrust.cache import cache_dir as default_cache_dir  # noqa: E402
from testbed_support import provision  # noqa: E402  (the checkout's library and test bed, whatever is pip-installed)

LAYER = HERE / "meta-pyrust-testbed"
OE_TESTBED = REPO / "tests" / "tools" / "oe-testbed"
CLEAN_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

#: The native Python build tools at the versions oe-core master's recipes build
#: (meta/recipes-devtools/python/python3-<name>_<version>.bb): maturin, build and
#: installer for every PEP 517 recipe; setuptools, wheel, setuptools-rust,
#: setuptools-scm, cffi and pycparser for the setuptools-rust recipes (python3-bcrypt,
#: meta-python's python3-cbor2), which depend on their -native variants; flit-core for
#: python3-typing-extensions (a build dependency of meta-python's python3-pydantic-core);
#: hatchling (with its own dependencies) and hatch-vcs for the test dependencies that
#: do_pyrust_ptest stages (python3-pygments, -colorama, -iniconfig); semantic-version for the
#: target python3-maturin.
VENV_PINS = ("maturin==1.14.1", "build==1.5.1", "installer==1.0.1", "setuptools==84.0.0", "wheel==0.48.0",
             "setuptools-rust==1.13.0", "setuptools-scm==10.2.1", "cffi==2.1.1", "pycparser==3.0", "flit-core==3.12.0",
             "hatchling==1.31.0", "hatch-vcs==0.5.0", "pathspec==1.1.1", "pluggy==1.6.0", "packaging==26.3",
             "editables==0.6", "trove-classifiers==2026.6.1.19", "semantic-version==2.10.0")
#: Their oe-core names, assumed provided (the venv is what they would install).
NATIVE_TOOLS = ("python3-native", "python3-maturin-native", "python3-build-native", "python3-installer-native",
                "python3-setuptools-native", "python3-wheel-native", "python3-setuptools-rust-native",
                "python3-setuptools-scm-native", "python3-cffi-native", "python3-pycparser-native", "python3-flit-core-native",
                "python3-hatchling-native", "python3-hatch-vcs-native", "python3-pathspec-native", "python3-pluggy-native",
                "python3-packaging-native", "python3-editables-native", "python3-trove-classifiers-native",
                "python3-semantic-version-native")


@dataclass(frozen=True)
class Recipe:
    """A recipe the test bed builds from a release archive, unmodified: its BitBake name,
    the layer archive it comes from ("oe-core" or "meta-python"), its PyPI project (the
    sdist the premirror serves; None when do_fetch takes its source elsewhere), the
    matrix machines it is built for (None: all) and why on fewer, whether it is
    only a build dependency of a recipe under test (built, not a matrix cell), and, for a
    recipe whose own source host this network cannot reach, what stands in for that source
    (a bbappend of meta-pyrust-testbed/recipes-testbed/fetch-standins; empty: none)."""

    name: str
    layer: str
    pypi: str | None
    machines: tuple[str, ...] | None = None
    fewer_machines_why: str = ""
    dependency: bool = False
    source_standin: str = ""


#: The upstream recipes under test (tests/build/README.md, "The recipes under test").
RECIPES = (
    Recipe("python3-rpds-py", "oe-core", "rpds_py"),
    Recipe("python3-bcrypt", "oe-core", "bcrypt"),
    Recipe("python3-cbor2", "meta-python", "cbor2"),
    Recipe("python3-hypothesis", "oe-core", "hypothesis"),
    Recipe("python3-cryptography", "oe-core", "cryptography", machines=("qemuarm", "qemumips-mips32r2el"),
           fewer_machines_why="links the target's OpenSSL, which the test bed has from Debian (testbed-openssl) "
                              "for Debian's architectures only, and takes about 3 min per cell"),
    Recipe("python3-pydantic-core", "meta-python", "pydantic_core", machines=("qemumips-mips32r2el",),
           fewer_machines_why="103 crates, 5.5 to 7 min per cell: the 32-bit mipsel tune only, where its "
                              "atomics patches matter"),
    # no extension module: a uv-build binary and a pure-Python package
    Recipe("python3-uv-build", "oe-core", "uv_build", machines=("qemuarm64",),
           fewer_machines_why="310 crates; links the target's zstd, which the test bed has from Debian bookworm "
                              "(testbed-zstd) for Debian's architectures only, and on qemuarm sid's Python 3.14 "
                              "stages sid's libzstd1 itself (a sysroot file conflict): one machine"),
    Recipe("python3-ruff", "meta-python", "ruff", machines=("qemuarm64",),
           fewer_machines_why="501 crates: one machine, as python3-uv-build (the same shape: a binary, no module)"),
    Recipe("python3-maturin", "oe-core", "maturin", machines=("qemuarm64",),
           fewer_machines_why="473 crates and links the target's zstd, as python3-uv-build: one machine (the same "
                              "shape: a binary, no module; it inherits python_pyo3 directly)"),
    # git sources on github.com / gitlab.com: the release's PyPI sdist stands in (fetch-standins)
    Recipe("python3-orjson", "meta-python", "orjson",
           source_standin="the PyPI sdist of the release: git://github.com/ijl/orjson is unreachable here"),
    Recipe("python3-pendulum", "meta-python", "pendulum",
           source_standin="the PyPI sdist of the release: git://github.com/python-pendulum/pendulum is unreachable here"),
    Recipe("python3-pyruvate", "meta-python", "pyruvate",
           source_standin="the PyPI sdist of 1.2.1: git://gitlab.com/tschorr/pyruvate.git is unreachable here"),
    Recipe("python3-typing-extensions", "oe-core", "typing_extensions", dependency=True),
    # python3-maturin's target build dependency (a pure-Python package built with inherit cargo)
    Recipe("python3-setuptools-rust", "oe-core", "setuptools_rust", dependency=True),
    # the runtime closure of RDEPENDS:${PN}-ptest, which do_pyrust_ptest (PYRUST_PTEST = "1") stages
    Recipe("python3-pytest", "oe-core", "pytest", dependency=True),
    Recipe("python3-pluggy", "oe-core", "pluggy", dependency=True),
    Recipe("python3-iniconfig", "oe-core", "iniconfig", dependency=True),
    Recipe("python3-packaging", "oe-core", "packaging", dependency=True),
    Recipe("python3-pygments", "oe-core", "pygments", dependency=True),
    Recipe("python3-colorama", "oe-core", "colorama", dependency=True),
)
#: Target libraries the recipes under test link, from Debian bookworm's packages
#: (meta-pyrust-testbed/recipes-testbed/debian-libs): the recipe's SRC_URI variable ->
#: the packages. python3-cryptography links OpenSSL, python3-uv-build zstd.
DEBIAN_LIBS = {
    "TESTBED_OPENSSL_SRC_URI": ("libssl-dev", "libssl3"),
    "TESTBED_ZSTD_SRC_URI": ("libzstd-dev", "libzstd1"),
}
#: The meta-openembedded archive of ../shared/upstream (master, matching oe-core master).
META_OE_ARCHIVE = "meta-openembedded-master.tar.xz"
#: oe-core's patch to pypa/installer that adds --interpreter (python_pep517.bbclass uses it).
INSTALLER_PATCH = "meta/recipes-devtools/python/python3-installer/interpreter.patch"

#: Tools oe-core calls with ${TARGET_PREFIX} (bitbake.conf, rust-common's wrappers).
CROSS_TOOLS = ("gcc", "cpp", "ar", "as", "ld", "ld.bfd", "nm", "objcopy", "objdump", "ranlib",
               "readelf", "strip", "gcc-ar", "gcc-nm", "gcc-ranlib")


@dataclass(frozen=True)
class Arch:
    """One test-bed architecture, keyed by oe-core's TRANSLATED_TARGET_ARCH (an OVERRIDES entry).

    ``target_prefix`` is oe-core's ${TARGET_SYS} for it (``meta/conf/bitbake.conf``:
    ${TARGET_ARCH}${TARGET_VENDOR}-${TARGET_OS}); ``gnu`` the Debian cross compiler's triplet;
    ``python`` where its target interpreter comes from: ("debian", Debian arch, X.Y) or
    ("cpython", the triplet tests/tools/build-target-cpython built, X.Y).
    """

    target_sys: str
    gnu: str
    qemu: str
    python: tuple[str, str, str]


ARCHES: dict[str, Arch] = {
    # qemuarm (cortexa15thf-neon): Debian armhf is the same ABI (EABI, VFP hard-float); sid's
    # python3.14 is oe-core master's own Python version, so no PYTHON_BASEVERSION override.
    "arm": Arch("arm-oe-linux-gnueabi", "arm-linux-gnueabihf", "qemu-arm", ("debian", "armhf", "3.14")),
    # qemuarm64 (cortexa57): Debian arm64; bookworm's python3.11 (sid's 3.14 would need a
    # native 3.14 for the setuptools-rust recipes, see tests/build/README.md).
    "aarch64": Arch("aarch64-oe-linux", "aarch64-linux-gnu", "qemu-aarch64", ("debian", "arm64", "3.11")),
    # qemumips + DEFAULTTUNE=mips32r2el: little-endian o32, Debian mipsel.
    "mipsel": Arch("mipsel-oe-linux", "mipsel-linux-gnu", "qemu-mipsel", ("debian", "mipsel", "3.11")),
    # qemuppc (ppc7400): 32-bit big-endian; Debian has no powerpc python3.11.
    "powerpc": Arch("powerpc-oe-linux", "powerpc-linux-gnu", "qemu-ppc", ("cpython", "powerpc-linux-gnu", "3.11")),
    # qemumips64 (mips64r2): big-endian n64; Debian has no mips64 python3.11.
    "mips64": Arch("mips64-oe-linux", "mips64-linux-gnuabi64", "qemu-mips64", ("cpython", "mips64-linux-gnuabi64", "3.11")),
}


class TestbedError(RuntimeError):
    """A set-up step failed; the message names the step and the fix."""


def cache_dir() -> Path:
    """The one cache rule (pyrust.cache)."""
    return default_cache_dir()


def work_dir() -> Path:
    return cache_dir() / "build-testbed"


def log(msg: str) -> None:
    print(f"build-testbed: {msg}", file=sys.stderr, flush=True)


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(cmd, text=True, capture_output=True, **kw)
    if proc.returncode != 0:
        raise TestbedError(f"{' '.join(cmd[:4])} ... failed (rc {proc.returncode}): {(proc.stderr or proc.stdout).strip()[-2000:]}")
    return proc


def oe_paths() -> dict[str, str]:
    """``tests/tools/oe-testbed setup``'s KEY=VALUE lines (OECORE, BUILDS, BUILD_USER...)."""
    out = run([str(OE_TESTBED), "setup"]).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def write_if_changed(path: Path, text: str, mode: int = 0o644) -> None:
    """Rewrite ``path`` only when its content changes: BitBake hashes config mtimes."""
    if path.is_file() and path.read_text() == text:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.chmod(mode)
    tmp.replace(path)


# ---------------------------------------------------------------------------- host tools

def check_host_tools() -> None:
    """The Debian tools the wrappers point at. Debian packages this test bed alone needs are
    installed when run as root; the rest come from the tier's set-up (scripts/run-tests)."""
    venv_ok = subprocess.run(["/usr/bin/python3", "-c", "import ensurepip, venv"], capture_output=True).returncode == 0
    if not venv_ok and os.geteuid() == 0:
        log("installing python3-venv (the native Python tools' venv)")
        run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", "python3-venv"],
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
    need = [f"/usr/bin/{a.gnu}-gcc" for a in ARCHES.values()]
    need += [f"/usr/bin/{a.qemu}" for a in ARCHES.values()]
    need += ["/usr/bin/rustc", "/usr/bin/cargo", "/usr/bin/python3", "/usr/bin/patch"]
    absent = [p for p in need if not os.access(p, os.X_OK)]
    if absent:
        raise TestbedError(f"missing host tools: {' '.join(absent)} (run tests/tools/setup-testbed --cross arm,mips,powerpc "
                           "--sysroots none and tests/tools/rust-cross-setup --arch armhf)")
    if subprocess.run(["/usr/bin/python3", "-c", "import ensurepip, venv"], capture_output=True).returncode != 0:
        raise TestbedError("/usr/bin/python3 cannot create a venv (apt-get install python3-venv)")


def rust_version() -> tuple[str, str]:
    """(Debian version of the installed rustc-web, its upstream part): ("1.96.0+dfsg1-1~deb12u2", "1.96.0")."""
    deb = run(["dpkg-query", "-W", "-f=${Version}", "rustc-web"]).stdout.strip()
    m = re.match(r"(?:\d+:)?(\d+\.\d+\.\d+)", deb)
    if not m:
        raise TestbedError(f"rustc-web version {deb!r}: expected <major>.<minor>.<patch>...")
    return deb, m.group(1)


#: Debian's packages of a native CPython for target Python versions the host's python3
#: (Debian bookworm's 3.11) is not: sid's python3.14 (oe-core master's python3 version)
#: with the C library it was built against (newer than the host's), for amd64.
NATIVE_PYTHON_DEBS: dict[str, tuple[str, ...]] = {
    "3.14": ("python3.14-minimal", "libpython3.14-minimal", "libpython3.14-stdlib", "libc6", "libgcc-s1", "libcrypt1",
             "zlib1g", "libexpat1", "libffi8", "libssl3t64", "libbz2-1.0", "liblzma5", "libzstd1", "libsqlite3-0",
             "libuuid1", "libmpdec4", "libncursesw6", "libtinfo6", "libreadline8t64"),
}
HOST_PYTHON = "/usr/bin/python3"


def host_python_version() -> str:
    return run([HOST_PYTHON, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()


def native_python(version: str) -> Path:
    """A CPython ``version`` that runs on this host: the host's own, or Debian sid's unpacked
    into the cache (never installed) with a copy of its binary whose loader and RPATH
    (patchelf) are the unpacked C library's, so it and every process it starts with
    sys.executable run here. oe-core's python3-native has the target's version; setuptools'
    and setuptools-rust's wheel tags come from the Python that runs them."""
    if version == host_python_version():
        return Path(HOST_PYTHON)
    if version not in NATIVE_PYTHON_DEBS:
        raise TestbedError(f"no native Python {version} in the test bed (have {host_python_version()} and {', '.join(NATIVE_PYTHON_DEBS)})")
    root = provision.provision_debian_packages(NATIVE_PYTHON_DEBS[version], "amd64", "sid", cache_dir=cache_dir(), progress=log)
    host = root / "usr" / "bin" / f"python{version}-host"
    if not host.is_file():
        if not shutil.which("patchelf"):
            if os.geteuid() != 0:
                raise TestbedError("patchelf is missing (apt-get install patchelf)")
            run(["apt-get", "-o", "DPkg::Lock::Timeout=600", "install", "-y", "--no-install-recommends", "patchelf"],
                env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        libdir = root / "usr" / "lib" / "x86_64-linux-gnu"
        tmp = host.with_name(host.name + ".tmp")
        shutil.copy2(root / "usr" / "bin" / f"python{version}", tmp)
        run(["patchelf", "--set-interpreter", str(libdir / "ld-linux-x86-64.so.2"), "--force-rpath", "--set-rpath", str(libdir), str(tmp)])
        tmp.replace(host)
    got = run([str(host), "-c", "import sys, ssl, ctypes; print('%d.%d' % sys.version_info[:2])"]).stdout.strip()
    if got != version:
        raise TestbedError(f"{host} reports Python {got}, expected {version}")
    return host


def venv(oecore: Path, version: str) -> Path:
    """A venv of the native Python ``version`` (:func:`native_python`) with oe-core's native
    build tools (VENV_PINS), pypa/installer carrying oe-core's interpreter.patch. The host's
    pip installs them (binary wheels for ``version``) when the interpreter has no pip of its
    own (Debian's python3.X-minimal). Cached by version, pins and patch digest."""
    patch = oecore / INSTALLER_PATCH
    key = hashlib.sha256(("\n".join((version, *VENV_PINS)) + patch.read_text()).encode()).hexdigest()[:12]
    root = work_dir() / f"venv-{version}-{key}"
    if (root / ".complete").is_file():
        return root
    log(f"creating {root} (Python {version}; {' '.join(VENV_PINS)}, installer with oe-core's interpreter.patch)")
    shutil.rmtree(root, ignore_errors=True)
    python = native_python(version)
    if python == Path(HOST_PYTHON):
        run([HOST_PYTHON, "-m", "venv", str(root)])
        run([str(root / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", *VENV_PINS])
    else:
        run([str(python), "-m", "venv", "--without-pip", str(root)])
        site = root / "lib" / f"python{version}" / "site-packages"
        run([HOST_PYTHON, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--target", str(site),
             "--python-version", version, "--implementation", "cp", "--abi", "cp" + version.replace(".", ""),
             "--only-binary=:all:", "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux_2_17_x86_64",
             "--platform", "manylinux2014_x86_64", *VENV_PINS])
    where = "import installer, pathlib; print(pathlib.Path(installer.__file__).parent.parent)"
    site_dir = run([str(root / "bin" / "python3"), "-c", where]).stdout.strip()
    # the patch is against the source tree (src/installer/...): -p2 from site-packages
    run(["patch", "-p2", "-d", site_dir, "-i", str(patch)])
    run([str(root / "bin" / "python3"), "-m", "installer", "--help"]).stdout.index("--interpreter")
    (root / ".complete").touch()
    return root


def write_wrappers(venvs: dict[str, Path]) -> Path:
    """The directory put first on BitBake's PATH: oe-core's tool names for Debian's tools.
    ``venvs`` maps each target Python version to its native venv (:func:`venv`)."""
    bindir = work_dir() / "bin"
    bindir.mkdir(parents=True, exist_ok=True)

    def link(name: str, target: str) -> None:
        p = bindir / name
        if p.is_symlink() and os.readlink(p) == target:
            return
        if p.exists() or p.is_symlink():
            p.unlink()
        p.symlink_to(target)

    for arch in ARCHES.values():
        for tool in (*CROSS_TOOLS, "g++"):
            link(f"{arch.target_sys}-{tool}", f"/usr/bin/{arch.gnu}-{tool}")
        link(arch.qemu, f"/usr/bin/{arch.qemu}")
    link("cargo", "/usr/bin/cargo")
    link("rustdoc", "/usr/bin/rustdoc")
    host_venv = venvs[host_python_version()]
    # maturin is one Rust binary whatever Python runs it (same version in every venv)
    link("maturin", str(host_venv / "bin" / "maturin"))
    # Not links: Python finds its venv from the path it was started by, and hosttools/
    # links to these files. oe-core's python3-native has the target's Python version; here
    # each version has its own venv, chosen by the version python_pyo3 exports for the
    # recipe (PYO3_CROSS_PYTHON_VERSION = PYTHON_BASEVERSION) or, for the other Python
    # recipes (the pure-Python test dependencies of do_pyrust_ptest), the test bed's
    # TESTBED_PYTHON_VERSION (testbed-native-python.bbclass); the host's without either.
    cases = "".join(f'    {v}) exec {root}/bin/python3 "$@" ;;\n' for v, root in sorted(venvs.items()))
    write_if_changed(bindir / "nativepython3", f"""#!/bin/sh
# meta-pyrust test bed: the native Python of the target's version (tests/build/README.md).
version=${{PYO3_CROSS_PYTHON_VERSION:-${{TESTBED_PYTHON_VERSION:-{host_python_version()}}}}}
case "$version" in
{cases}    *) echo "nativepython3: the test bed has no native Python $version ({' '.join(sorted(venvs))})" >&2; exit 1 ;;
esac
""", 0o755)
    write_if_changed(bindir / "pyproject-build", '#!/bin/sh\nexec nativepython3 -m build "$@"\n', 0o755)
    # Stock rustc refuses oe-core's custom target JSON ("custom targets are unstable");
    # oe-core's rust carries a patch for it (0002-Fix-rust-build-failure-with-unstable-
    # options.patch). Only for those targets: build scripts and proc-macros (host target)
    # must not see RUSTC_BOOTSTRAP, or crates that probe for nightly features misbehave.
    write_if_changed(bindir / "rustc", """#!/bin/bash
# meta-pyrust test bed: Debian's rustc, accepting oe-core's target JSON (see testbed.py).
prev=
for a in "$@"; do
    t=
    [ "$prev" = "--target" ] && t=$a
    case $a in --target=*) t=${a#--target=} ;; esac
    case $t in *-oe-*|*.json) exec env RUSTC_BOOTSTRAP=1 /usr/bin/rustc -Zunstable-options "$@" ;; esac
    prev=$a
done
exec /usr/bin/rustc "$@"
""", 0o755)
    return bindir


# ---------------------------------------------------------------------------- inputs

def src_uris(debs, subdir: str) -> list[str]:
    """BitBake SRC_URI entries for pyrust.provision.DebUri rows: fetched and checksummed by do_fetch."""
    return [f"{deb.url};sha256sum={deb.sha256};subdir={subdir}" for deb in debs]


def cpython_tarball(triplet: str, version: str) -> str:
    """A file:// SRC_URI of a tarball of the CPython tests/tools/build-target-cpython cross-built
    (built on demand, cached); the tarball is made once per sysroot."""
    out = run([str(REPO / "tests" / "tools" / "build-target-cpython"), triplet]).stdout.strip().splitlines()
    sysroot = Path(out[-1])
    if not (sysroot / "usr" / "bin" / f"python{version}").exists():
        raise TestbedError(f"{sysroot}: no usr/bin/python{version}")
    tarball = work_dir() / "inputs" / f"{sysroot.name}.tar"
    if not tarball.is_file():
        tarball.parent.mkdir(parents=True, exist_ok=True)
        tmp = tarball.with_suffix(".tmp")
        with tarfile.open(tmp, "w") as tar:
            for entry in sorted(sysroot.iterdir()):
                if not entry.name.startswith("."):
                    tar.add(entry, arcname=entry.name)
        tmp.replace(tarball)
    return f"file://{tarball};subdir=sysroot"


def upstream_dir() -> Path:
    """The release archives: $PYRUST_UPSTREAM, default ../shared/upstream beside the clone."""
    return Path(os.environ.get("PYRUST_UPSTREAM", REPO.parent / "shared" / "upstream"))


def meta_openembedded() -> Path:
    """meta-openembedded master unpacked once (checked against SHA256SUMS) into the test-bed
    cache, keyed by the archive's checksum; returns its ``meta-openembedded`` directory."""
    upstream = upstream_dir()
    sums = upstream / "SHA256SUMS"
    archive = upstream / META_OE_ARCHIVE
    if not archive.is_file() or not sums.is_file():
        raise TestbedError(f"{archive} or {sums} not found (set PYRUST_UPSTREAM to the directory with the archives)")
    want = next((line.split()[0] for line in sums.read_text().splitlines()
                 if line.split()[-1].lstrip("*") == META_OE_ARCHIVE), None)
    if want is None:
        raise TestbedError(f"{sums} has no {META_OE_ARCHIVE} line")
    root = work_dir() / f"meta-openembedded-{want[:12]}"
    if (root / ".complete").is_file():
        return root / "meta-openembedded"
    digest = hashlib.sha256()
    with archive.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    if digest.hexdigest() != want:
        raise TestbedError(f"{archive}: sha256 {digest.hexdigest()}, SHA256SUMS says {want}")
    log(f"unpacking {archive.name} into {root}")
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    with tarfile.open(archive) as tar:
        tar.extractall(root, filter="tar")
    (root / ".complete").touch()
    return root / "meta-openembedded"


def recipe_file(recipe: Recipe, oecore: Path) -> Path:
    """The recipe's .bb in its release archive (one version each)."""
    base = oecore / "meta" if recipe.layer == "oe-core" else meta_openembedded() / recipe.layer
    where = base / "recipes-devtools" / "python"
    found = sorted(where.glob(f"{recipe.name}_*.bb")) + sorted(where.glob(f"{recipe.name}.bb"))
    if len(found) != 1:
        raise TestbedError(f"{recipe.name}: expected one recipe in {where}, found {found}")
    return found[0]


def recipe_version(bb: Path) -> str:
    """PV of a recipe file: from its name (python3-bcrypt_5.0.0.bb), else its own or its
    required .inc files' ``PV = "..."`` (python3-cryptography.bb requires -common.inc)."""
    if "_" in bb.stem:
        return bb.stem.split("_", 1)[1]
    text = bb.read_text()
    for inc in re.findall(r"^require\s+(\S+\.inc)$", text, re.M):
        if (bb.parent / inc).is_file():
            text += (bb.parent / inc).read_text()
    m = re.search(r'^PV = "([^"$]+)"', text, re.M)
    if not m:
        raise TestbedError(f"{bb}: no version in its name and no PV = \"...\"")
    return m.group(1)


def pypi_premirror(oecore: Path) -> Path:
    """A premirror directory holding the sdist of every recipe under test, downloaded from
    PyPI's simple index (pypi.bbclass's predictable /packages/source/ URL is not served to
    this network, the index's hashed URL is). Each recipe's SRC_URI[sha256sum] checks it."""
    from pip._internal.models.index import PyPI  # the index pip itself uses; no host named here

    mirror = work_dir() / "premirror"
    for recipe in RECIPES:
        if recipe.pypi is None:
            continue
        version = recipe_version(recipe_file(recipe, oecore))
        name = f"{recipe.pypi}-{version}.tar.gz"
        if (mirror / name).is_file():
            continue
        project = re.sub(r"[-_.]+", "-", recipe.pypi).lower()  # PEP 503, as pypi.bbclass's pypi_normalize
        req = urllib.request.Request(f"{PyPI.simple_url.rstrip('/')}/{project}/", headers={"Accept": "application/vnd.pypi.simple.v1+json"})
        with urllib.request.urlopen(req, timeout=60) as resp:
            files = json.load(resp)["files"]
        entry = next((f for f in files if f["filename"] == name), None)
        if entry is None:
            raise TestbedError(f"PyPI has no {name} (recipe {recipe.name})")
        mirror.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(entry["url"], timeout=300) as resp:
            data = resp.read()
        if hashlib.sha256(data).hexdigest() != entry["hashes"]["sha256"]:
            raise TestbedError(f"{name}: sha256 differs from PyPI's index")
        (mirror / name).write_bytes(data)
    return mirror


def recipe_masks() -> list[str]:
    """BBMASK lines that leave only RECIPES parsed from oe-core and meta-openembedded
    (meta-oe is added only because meta-python's LAYERDEPENDS names it)."""
    def keep(layer: str) -> str:
        names = "|".join(re.escape(r.name) for r in RECIPES if r.layer == layer)
        return f"devtools/python/({names})(_|\\.bb)" if names else "$^"
    return [
        f'BBMASK += "${{COREBASE}}/meta/recipes-(?!{keep("oe-core")})"',
        f'BBMASK += "/meta-openembedded/meta-python/recipes-(?!{keep("meta-python")})"',
        'BBMASK += "/meta-openembedded/meta-oe/(recipes-|dynamic-layers/)"',
        'BBMASK += "/meta-openembedded/meta-python/dynamic-layers/"',
        "# meta-oe has no recipe left: say that is intended (BitBake warns about an empty layer otherwise)",
        'BBFILE_PATTERN_IGNORE_EMPTY_openembedded-layer = "1"',
    ]


# ---------------------------------------------------------------------------- site.conf

def python3_version(oecore: Path) -> str:
    """oe-core's PYTHON_BASEVERSION (meta/classes-recipe/python3-dir.bbclass)."""
    m = re.search(r'^PYTHON_BASEVERSION = "([0-9.]+)"', (oecore / "meta/classes-recipe/python3-dir.bbclass").read_text(), re.M)
    if not m:
        raise TestbedError(f"{oecore}: no PYTHON_BASEVERSION in python3-dir.bbclass")
    return m.group(1)


def pseudo_suite(oecore: Path) -> str:
    """The Debian suite whose pseudo follows the path rule of the release's bitbake.conf.

    oe-core tells pseudo which paths to track: master and wrynose through
    ``PSEUDO_INCLUDE_PATHS`` (${WORKDIR}/image, package, ... only),
    scarthgap through ``PSEUDO_IGNORE_PATHS`` (all but recipe-sysroot*, ${T}, ...). A pseudo
    that does not know the release's variable tracks every path, the recipe sysroots too, which
    do_prepare_recipe_sysroot re-stages outside pseudo when a dependency changed: the next
    do_install then aborts on pseudo's "path mismatch ... inode mismatch" (a reused inode).
    Bookworm's pseudo (1.9.0+git20220404) knows only PSEUDO_IGNORE_PATHS; sid's (1.9.11,
    oe-core master's version) both.

    Returns "sid" or "bookworm". Raises TestbedError if bitbake.conf names neither variable.
    """
    conf = (oecore / "meta/conf/bitbake.conf").read_text()
    if re.search(r"^PSEUDO_INCLUDE_PATHS\b", conf, re.M):
        return "sid"
    if re.search(r"^PSEUDO_IGNORE_PATHS\b", conf, re.M):
        return "bookworm"
    raise TestbedError(f"{oecore}/meta/conf/bitbake.conf sets neither PSEUDO_INCLUDE_PATHS nor PSEUDO_IGNORE_PATHS")


def deb_upstream_version(deb: provision.DebUri) -> str:
    """The upstream version in a .deb's file name: ``.../pseudo_1.9.11-1_amd64.deb`` -> "1.9.11"."""
    version = urllib.parse.unquote(deb.url.rsplit("/", 1)[-1]).split("_")[1]
    return version.rsplit("-", 1)[0]


def site_conf(oecore: Path) -> str:
    """The test bed's site configuration: machine-independent (per-architecture values under
    TRANSLATED_TARGET_ARCH overrides), so that one file serves every MACHINE and oe-selftest,
    which copies the build dir's conf/, picks it up like any site's configuration."""
    check_host_tools()
    venvs = {v: venv(oecore, v) for v in sorted({host_python_version(), *(a.python[2] for a in ARCHES.values())})}
    write_wrappers(venvs)  # the PATH head oe_run gives BitBake (HOSTTOOLS find them there)
    rust_deb, rust_upstream = rust_version()
    pseudo = provision.debian_uris("amd64", ["pseudo", "libpseudo"], pseudo_suite(oecore))
    rust_src = provision.debian_uris("amd64", ["rust-web-src"], pinned={"rust-web-src": rust_deb})
    mirror = pypi_premirror(oecore)
    work = work_dir()

    lines = [
        "# meta-pyrust build test bed: generated by tests/build/build_testbed.py; do not edit.",
        "# Stand-ins for what this machine cannot fetch or build; see tests/build/README.md.",
        f'DL_DIR = "{work}/downloads"',
        f'SSTATE_DIR = "{work}/sstate-cache"',
        "# do_fetch reaches crates.io, Debian's archive and (through the premirror) PyPI's sdist;",
        "# tests/tools/oe-testbed's local.conf block keeps its other build dirs offline (BB_NO_NETWORK).",
        'BB_NO_NETWORK:forcevariable = "0"',
        'INHERIT:remove = "uninative"',
        'CONNECTIVITY_CHECK_URIS = ""',
        'BB_NUMBER_THREADS = "2"',
        'PARALLEL_MAKE = "-j 2"',
        "",
        "# toolchain, libc, rust, native Python tools, qemu: Debian's, under oe-core's names",
        'ASSUME_PROVIDED += "gcc-cross-${TARGET_ARCH} binutils-cross-${TARGET_ARCH} virtual/cross-cc virtual/cross-binutils"',
        'ASSUME_PROVIDED += "virtual/libc glibc virtual/compilerlibs gcc-runtime"',
        'ASSUME_PROVIDED += "rust-native cargo-native"',
        f'ASSUME_PROVIDED += "{" ".join(NATIVE_TOOLS)}"',
        'ASSUME_PROVIDED += "qemu-native quilt-native patch-replacement-native pkgconfig-native pkgconf-native"',
        "# python3-native is assumed provided: what oe-core runs as ${PYTHON} (PYO3_PYTHON, e.g. for",
        "# python3-cryptography's cffi build script) is the test bed's native Python of the target's version",
        'PYTHON:forcevariable = "${HOSTTOOLS_DIR}/nativepython3"',
        'PATCHTOOL = "patch"',
        "",
        "# The test bed stops at do_install: what only packaging (do_package*, ptest packages)",
        "# or the target python3's own build and runtime closure need is not parsed. BitBake",
        "# resolves providers for every task of a recipe, so the packaging tools are assumed",
        "# (they never run here) and only the recipes under test are parsed (BBMASK: the rest",
        "# of oe-core cannot be built here, and parsing it costs 1.5 to 2.5 min per configuration).",
        'ASSUME_PROVIDED += "rpm-native dwarfsrcfiles-native opkg-utils-native zstd-native"',
        "# update-alternatives.bbclass (python3-pytest): opkg-utils' tool, used by do_package and on the device",
        'ASSUME_PROVIDED += "virtual/update-alternatives-native virtual/update-alternatives"',
        "# ptest is on only in build dirs that set TESTBED_PTEST = \"1\" (do_pyrust_ptest's tests)",
        'DISTRO_FEATURES:remove = "${@\'\' if d.getVar(\'TESTBED_PTEST\') == \'1\' else \'ptest\'}"',
        "# the test dependencies' own ptest packages are not built here (python3-packaging-ptest",
        "# needs python3-hypothesis and python3-pretend): only the recipes under test run theirs",
        *(f'PTEST_ENABLED:pn-{r.name} = "0"' for r in RECIPES if r.dependency),
        *recipe_masks(),
        "# oe-selftest adds meta-selftest, whose appends are for recipes masked here",
        'BBMASK += "/meta-selftest/recipes-"',
        "# meta-pyrust's append to oe-core's python3 (masked); testbed-python3 stages alike",
        'BBMASK += "/recipes-devtools/python/python3_%\\.bbappend$"',
        'BB_HASHSERVE_DB_DIR = "${SSTATE_DIR}"',
        f'HOSTTOOLS += "{" ".join(f"{a.target_sys}-{t}" for a in ARCHES.values() for t in CROSS_TOOLS)}"',
        f'HOSTTOOLS_NONFATAL += "{" ".join(f"{a.target_sys}-g++" for a in ARCHES.values())}"',
        f'HOSTTOOLS += "nativepython3 pyproject-build maturin cargo rustc rustdoc pkg-config {" ".join(a.qemu for a in ARCHES.values())}"',
        "# Debian's gcc 12 does not know -mno-spe (oe-core's ppc7400 tune, for gcc 16)",
        'TUNE_CCARGS:remove = "-mno-spe"',
        "",
        "# corrections oe-core lacks: rustc >= 1.96 refuses its mips64 n64 target JSON",
        'INHERIT += "testbed-rust-target-fixes"',
        "# python_hatchling's hatchling_rm_emptydirs needs a native site-packages (the venv stands in for it)",
        'INHERIT += "testbed-native-python"',
        "",
        "# stand-in recipes (tests/build/meta-pyrust-testbed)",
        'PREFERRED_PROVIDER_python3 = "testbed-python3"',
        'PREFERRED_PROVIDER_openssl = "testbed-openssl"',
        'PREFERRED_PROVIDER_zstd = "testbed-zstd"',
        'PREFERRED_RPROVIDER_python3-core = "testbed-python3"',
        "# orjson's RDEPENDS: the empty testbed-runtime-names, not the target python3-maturin built on qemuarm64;",
        "# where the test bed has no zstd (powerpc, mips64) python3-maturin is masked, or BitBake, which weighs",
        "# every runtime provider, fails on it: \"Nothing PROVIDES 'zstd' (but python3-maturin ... DEPENDS on it)\"",
        'PREFERRED_RPROVIDER_python3-maturin = "testbed-runtime-names"',
        'BBMASK += "${@\'\' if d.getVar(\'TESTBED_ZSTD_SRC_URI\') else \'/recipes-devtools/python/python3-maturin_\'}"',
        f'TESTBED_RUST_VERSION = "{rust_upstream}"',
        'PREFERRED_VERSION_libstd-rs = "${TESTBED_RUST_VERSION}"',
        f'TESTBED_RUST_SRC_URI = "{src_uris(rust_src, "rust-src")[0]}"',
        f'TESTBED_PSEUDO_DEBS = "{" ".join(src_uris(pseudo, "deb"))}"',
        f'TESTBED_PSEUDO_VERSION = "{deb_upstream_version(pseudo[0])}"',
        "# one pseudo database per pseudo version: one that bookworm's pseudo wrote on master (it tracked",
        "# every path) holds recipe-sysroot inodes that a newer pseudo meets again in ${D} and aborts on",
        "# (\"path mismatch\"); a build dir of an earlier test bed keeps working without a clean",
        'PSEUDO_LOCALSTATEDIR = "${WORKDIR}/pseudo-${TESTBED_PSEUDO_VERSION}/"',
        'FAKEROOTLOGS = "${PSEUDO_LOCALSTATEDIR}pseudo.log"',
        f'PREMIRRORS:prepend = "https?://.*/packages/source/.* file://{mirror}/ "',
    ]
    oe_version = python3_version(oecore)
    for key, arch in ARCHES.items():
        kind, where, version = arch.python
        if kind == "debian":
            # the interpreter's packages plus its headers (python3-cryptography compiles C against
            # them) and gcc's libatomic, which oe-core's gcc-runtime (virtual/compilerlibs, assumed
            # provided here) stages into every recipe sysroot (python3-cryptography's module needs
            # it on 32-bit mipsel)
            suite = provision.debian_python(version).suite
            extra = provision.debian_uris(where, [f"libpython{version}-dev", "libatomic1"], suite)
            uris = src_uris([*provision.debian_python_uris(where, version), *extra], "sysroot")
            for var, packages in DEBIAN_LIBS.items():
                debs = provision.debian_uris(where, list(packages), "bookworm")
                lines.append(f'{var}:{key} = "{" ".join(src_uris(debs, "sysroot"))}"')
        else:
            uris = [cpython_tarball(where, version)]
        lines.append(f'TESTBED_PYTHON3_SRC_URI:{key} = "{" ".join(uris)}"')
        if version != oe_version:
            lines.append(f'PYTHON_BASEVERSION:{key} = "{version}"')
    return "\n".join(lines) + "\n"


def setup() -> Path:
    """Everything host-side; writes and returns $PYRUST_CACHE/build-testbed/site.conf."""
    paths = oe_paths()
    text = site_conf(Path(paths["OECORE"]))
    path = work_dir() / "site.conf"
    write_if_changed(path, text)
    if os.geteuid() == 0:
        user = paths.get("BUILD_USER") or "pyrust"
        for sub in ("downloads", "sstate-cache"):
            (work_dir() / sub).mkdir(parents=True, exist_ok=True)
        run(["chown", "-R", f"{user}:", str(work_dir() / "downloads"), str(work_dir() / "sstate-cache")])
    return path


# ---------------------------------------------------------------------------- build dirs

def oe_run_args(builddir: str, *cmd: str, verb: str = "run") -> list[str]:
    """``tests/tools/oe-testbed run`` (or ``verb``) of ``cmd`` in ``builddir``, PATH starting with the wrappers."""
    return [str(OE_TESTBED), verb, "--with-layer", "--env", f"PATH={work_dir() / 'bin'}:{CLEAN_PATH}", builddir, "--", *cmd]


def oe_run(builddir: str, *cmd: str, input: str | None = None, check: bool = True, timeout: float | None = None,
           verb: str = "run") -> subprocess.CompletedProcess[str]:
    args = oe_run_args(builddir, *cmd, verb=verb)
    proc = subprocess.run(args, text=True, capture_output=True, input=input, timeout=timeout)
    if check and proc.returncode != 0:
        raise TestbedError(f"{' '.join(cmd)} in {builddir} failed (rc {proc.returncode}):\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}")
    return proc


def write_build_file(builddir: str, relpath: str, text: str) -> None:
    """Write ``relpath`` in the build dir as the build user, only when it changes (``oe-testbed write``)."""
    oe_run(builddir, relpath, input=text, verb="write")


def init(builddir: str, machine: str, tune: str = "", settings: tuple[str, ...] = ()) -> Path:
    """A build dir with meta-pyrust and the test-bed layer, the test bed's site.conf, and
    auto.conf = MACHINE, DEFAULTTUNE and ``settings`` (whole lines, e.g. 'INHERIT += "pyrust"')."""
    site = work_dir() / "site.conf"
    if not site.is_file():
        raise TestbedError(f"{site} not found: run tests/build/build_testbed.py setup first")
    proc = subprocess.run([str(OE_TESTBED), "init", "--with-layer", builddir], text=True, capture_output=True)
    if proc.returncode != 0:
        raise TestbedError(f"oe-testbed init {builddir} failed: {proc.stderr.strip()[-2000:]}")
    bdir = Path([ln for ln in proc.stdout.splitlines() if ln.startswith("BUILDDIR=")][-1].split("=", 1)[1])
    # the test-bed layer of this checkout (a block naming another clone's is replaced)
    bblayers = re.sub(r"# >>> build-testbed >>>\n.*?# <<< build-testbed <<<\n", "",
                      (bdir / "conf" / "bblayers.conf").read_text(), flags=re.S)
    meta_oe = meta_openembedded()
    layers = " ".join(map(str, (LAYER, meta_oe / "meta-oe", meta_oe / "meta-python")))
    write_build_file(builddir, "conf/bblayers.conf", bblayers + f'# >>> build-testbed >>>\nBBLAYERS += "{layers}"\n# <<< build-testbed <<<\n')
    write_build_file(builddir, "conf/site.conf", site.read_text())
    auto = [f'MACHINE = "{machine}"'] + ([f'DEFAULTTUNE = "{tune}"'] if tune else []) + list(settings)
    write_build_file(builddir, "conf/auto.conf", "\n".join(auto) + "\n")
    return bdir


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="testbed.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("setup")
    p_init = sub.add_parser("init")
    p_init.add_argument("builddir")
    p_init.add_argument("--machine", default="qemuarm")
    p_init.add_argument("--tune", default="")
    p_init.add_argument("--set", action="append", default=[], metavar="LINE")
    p_bb = sub.add_parser("bitbake")
    p_bb.add_argument("builddir")
    p_bb.add_argument("args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    try:
        if args.cmd == "setup":
            print(setup())
        elif args.cmd == "init":
            print(init(args.builddir, args.machine, args.tune, tuple(args.set)))
        else:
            bbargs = args.args[1:] if args.args[:1] == ["--"] else args.args
            return subprocess.call(oe_run_args(args.builddir, "bitbake", *bbargs))
    except TestbedError as err:
        print(f"build-testbed: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
