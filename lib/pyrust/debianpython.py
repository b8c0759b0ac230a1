"""Debian's interpreter for a target's Python, unpacked into the user's cache: ``pyrust check --fetch-python``.

The one place the product fetches anything, and only when asked. Nothing of the host
changes and no root is needed: Debian's packages of one architecture are read through a
private apt configuration under the cache (its own sources list, package lists, archive
cache and an empty dpkg status, passed to apt as ``-o Dir::*`` options, apt's own package
cache files off), fetched with ``apt-get download`` (versions pinned from ``apt-cache
policy``, checked against the index's SHA256) and unpacked with ``dpkg-deb -x``::

    <cache>/apt/<suite>-<arch>/                                       (the private apt configuration)
    <cache>/debs/                                                      (the downloaded .deb files)
    <cache>/sysroots/debian-<arch>-python<X.Y><flags>-<version>/       (usr/bin/python<X.Y>, lib/...)

``<cache>`` is :func:`pyrust.cache.cache_dir`. Which Debian suite ships which CPython is
one table, :data:`DEBIAN_PYTHONS`; a version without a row is an error naming it. The
test bed (tests/testbed_support) shares these tables, names and fix-ups.
Standard library only.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Callable, NamedTuple

from pyrust import cache as _cache
from pyrust import tables
from pyrust.errors import InputError

PYTHON_VERSION = "3.11"  # the default: Debian bookworm's python3


class DebianPython(NamedTuple):
    """One row of :data:`DEBIAN_PYTHONS`: where Debian ships a CPython version and what to unpack."""

    suite: str  # "bookworm": the host's own apt sources; anything else: a private apt configuration
    packages: tuple[str, ...]  # the release build's sysroot
    debug_packages: tuple[str, ...]  # the --with-pydebug build's (ABI flags "d": usr/bin/python<X.Y>d)
    source: str  # where the facts come from


_RUNTIME = ("libc6", "zlib1g", "libexpat1", "libgcc-s1")

#: CPython version -> Debian's packages of it, one row per version. Enough to start the
#: interpreter, read sysconfig and import a C extension: ``python3.X-minimal`` (the
#: interpreter), ``libpython3.X-minimal`` (sysconfigdata, core stdlib),
#: ``libpython3.X-stdlib`` (the rest of the pure-Python stdlib and its C modules; their
#: further libraries such as libffi8 or libssl3 are left out) and the C runtime. The debug
#: build replaces the interpreter by ``python3.X-dbg`` (``/usr/bin/python3.Xd``) and
#: ``libpython3.X-dbg`` (libpython3.Xd.so, the ``d`` sysconfigdata and lib-dynload modules).
#: 3.14 and 3.15's interpreters link libzstd (compression.zstd). Sources: ``apt-cache show``
#: Depends of each package in bookworm (3.11.2) and sid (3.13.18, 3.14.10, 3.15.2, Dec 2026).
DEBIAN_PYTHONS: dict[str, DebianPython] = {
    "3.11": DebianPython(
        "bookworm",
        ("python3.11-minimal", "libpython3.11-minimal", "libpython3.11-stdlib", *_RUNTIME),
        ("python3.11-dbg", "libpython3.11-dbg", "libpython3.11-minimal", "libpython3.11-stdlib", *_RUNTIME),
        "Debian 12 bookworm, python3.11 3.11.2",
    ),
    "3.13": DebianPython(
        "sid",
        ("python3.13-minimal", "libpython3.13-minimal", "libpython3.13-stdlib", *_RUNTIME),
        ("python3.13-dbg", "libpython3.13-dbg", "libpython3.13-minimal", "libpython3.13-stdlib", *_RUNTIME),
        "Debian sid, python3.13",
    ),
    "3.14": DebianPython(
        "sid",
        ("python3.14-minimal", "libpython3.14-minimal", "libpython3.14-stdlib", "libzstd1", *_RUNTIME),
        ("python3.14-dbg", "libpython3.14-dbg", "libpython3.14-minimal", "libpython3.14-stdlib", "libzstd1", *_RUNTIME),
        "Debian sid, python3.14",
    ),
    "3.15": DebianPython(
        "sid",
        ("python3.15-minimal", "libpython3.15-minimal", "libpython3.15-stdlib", "libzstd1", *_RUNTIME),
        ("python3.15-dbg", "libpython3.15-dbg", "libpython3.15-minimal", "libpython3.15-stdlib", "libzstd1", *_RUNTIME),
        "Debian sid, python3.15",
    ),
}

MANIFEST = ".pyrust-sysroot.json"


class DebianArch(NamedTuple):
    """One Debian architecture as qemu-user and CPython see it."""

    multiarch: str  # Debian multiarch tuple == CPython's MULTIARCH / PLATFORM_TRIPLET
    qemu_binary: str  # qemu-user binary that runs it
    gnu_triplets: tuple[str, ...]  # further names for it (GCC cross-compiler triplets)
    cpu_family: str  # key of pyrust.tables.ELF_MACHINES (its e_machine comes from there)
    elfclass: int  # 32 or 64
    endian: str  # "little" or "big"

    @property
    def elf_machine(self) -> int:
        """e_machine of the port's binaries, from the one table of them (tables.ELF_MACHINES)."""
        return tables.ELF_MACHINES[self.cpu_family]


#: Debian architecture -> facts. Sources: Debian's dpkg ``ostable``/``cputable`` (multiarch
#: tuples), CPython's ``configure.ac`` PLATFORM_TRIPLET (same strings; i386 is
#: "i386-linux-gnu" although GCC says i686-linux-gnu), qemu's ``linux-user`` targets.
DEBIAN_ARCHES: dict[str, DebianArch] = {
    "amd64": DebianArch("x86_64-linux-gnu", "qemu-x86_64", (), "x86_64", 64, "little"),
    "arm64": DebianArch("aarch64-linux-gnu", "qemu-aarch64", (), "aarch64", 64, "little"),
    "armel": DebianArch("arm-linux-gnueabi", "qemu-arm", (), "arm", 32, "little"),
    "armhf": DebianArch("arm-linux-gnueabihf", "qemu-arm", (), "arm", 32, "little"),
    "i386": DebianArch("i386-linux-gnu", "qemu-i386", ("i686-linux-gnu", "i586-linux-gnu"), "x86", 32, "little"),
    "mips64el": DebianArch("mips64el-linux-gnuabi64", "qemu-mips64el", (), "mips64", 64, "little"),
    "mipsel": DebianArch("mipsel-linux-gnu", "qemu-mipsel", (), "mips", 32, "little"),
    "ppc64el": DebianArch("powerpc64le-linux-gnu", "qemu-ppc64le", (), "powerpc64", 64, "little"),
    "s390x": DebianArch("s390x-linux-gnu", "qemu-s390x", (), "s390x", 64, "big"),
    # Release architectures of trixie/sid only (no bookworm python3.11 for them).
    "riscv64": DebianArch("riscv64-linux-gnu", "qemu-riscv64", (), "riscv64", 64, "little"),
    "loong64": DebianArch("loongarch64-linux-gnu", "qemu-loongarch64", (), "loongarch64", 64, "little"),
}

_ARM_FLOAT = {"hard": "armhf", "soft": "armel", "softfp": "armel"}





class FetchError(RuntimeError):
    """An expected failure while fetching (apt, dpkg-deb, network, disk).

    ``str()`` is one line naming the architecture, what failed and what to do.
    """


Progress = Callable[[str], object]

#: The Debian archive the private configurations read (``$PYRUST_DEBIAN_MIRROR`` overrides it).
DEBIAN_ARCHIVE = "http://deb.debian.org/debian"

#: Keyring the suites' Release files are checked with (package debian-archive-keyring).
ARCHIVE_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def private_apt(suite: str, root: Path, arch: str) -> list[str]:
    """apt options reading Debian ``suite`` for ``arch`` through ``<root>/apt/<suite>-<arch>``
    only (created here): the host's sources, lists, dpkg status and architectures are
    neither read nor changed, and apt writes no package cache file outside it."""
    base = root / "apt" / f"{suite}-{arch}"
    for sub in ("lists/partial", "cache/archives/partial"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    sources, status = base / "sources.list", base / "status"
    line = f"deb [signed-by={ARCHIVE_KEYRING}] {os.environ.get('PYRUST_DEBIAN_MIRROR') or DEBIAN_ARCHIVE} {suite} main\n"
    if not sources.is_file() or sources.read_text() != line:
        sources.write_text(line)
    if not status.is_file():
        status.write_text("")
    opts = [
        "-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/nonexistent",
        "-o", f"Dir::State::Lists={base / 'lists'}", "-o", f"Dir::Cache={base / 'cache'}",
        "-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache=",
        "-o", f"Dir::State::status={status}", "-o", "Acquire::Languages=none",
        "-o", f"APT::Architecture={arch}", "-o", f"APT::Architectures::={arch}",
        "-o", "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
        "-o", "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
        "-o", "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
    ]
    if _is_root():
        opts += ["-o", "APT::Sandbox::User=root"]  # the lists are ours; apt's _apt user cannot write them
    return opts


def debian_arch(name: str, float_abi: str = "") -> str:
    """Map a qemu-user binary, a CPython/multiarch triplet or a Debian arch to the Debian arch.

    Args:
        name: ``"qemu-aarch64"``, ``"/usr/bin/qemu-ppc64le-static"``, ``"arm-linux-gnueabihf"``,
            ``"i686-linux-gnu"`` or already ``"armhf"``.
        float_abi: only for ``qemu-arm``, which runs both ARM ports: ``"hard"`` -> armhf,
            ``"soft"``/``"softfp"`` -> armel (``pyrust.target.Target.float_abi`` spelling).

    Returns:
        One key of :data:`DEBIAN_ARCHES`, e.g. ``"arm64"``.

    Raises:
        InputError: unknown name, or ``qemu-arm`` without a usable ``float_abi``.

    Examples:
        >>> debian_arch("qemu-mips64el"), debian_arch("powerpc64le-linux-gnu")
        ('mips64el', 'ppc64el')
        >>> debian_arch("qemu-arm", float_abi="soft")
        'armel'
    """
    base = os.path.basename(name.strip())
    if base.endswith("-static"):
        base = base[: -len("-static")]
    if base in DEBIAN_ARCHES:
        return base
    for arch, facts in DEBIAN_ARCHES.items():
        if base == facts.multiarch or base in facts.gnu_triplets:
            return arch
    candidates = [arch for arch, facts in DEBIAN_ARCHES.items() if facts.qemu_binary == base]
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        if float_abi in _ARM_FLOAT:
            return _ARM_FLOAT[float_abi]
        raise InputError(
            "float_abi", float_abi or None, f"'hard' (armhf) or 'soft'/'softfp' (armel) to choose the Debian port {base} runs"
        )
    qemus = sorted({f.qemu_binary for f in DEBIAN_ARCHES.values()})
    triplets = sorted(f.multiarch for f in DEBIAN_ARCHES.values())
    raise InputError(
        "qemu binary or triplet", name, f"one of {', '.join(qemus + triplets + sorted(DEBIAN_ARCHES))}"
    )


def _check_arch(arch: str) -> DebianArch:
    if arch not in DEBIAN_ARCHES:
        raise InputError("debian_arch", arch, f"one of {', '.join(sorted(DEBIAN_ARCHES))}")
    return DEBIAN_ARCHES[arch]


def _safe(version: str) -> str:
    """A Debian version as it appears in file names (the epoch colon escaped like apt does)."""
    return version.replace(":", "%3a")


def debian_python(python: str = PYTHON_VERSION, abiflags: str = "") -> DebianPython:
    """The :data:`DEBIAN_PYTHONS` row of ``python`` ("3.14"), checking ``abiflags`` ("" or "d").

    Raises:
        InputError: a version Debian's archive (as reached here) has no row for, or ABI
            flags other than "" and "d" (Debian builds no free-threaded python3.X).
    """
    if python not in DEBIAN_PYTHONS:
        raise InputError("--python", python, f"one of {', '.join(DEBIAN_PYTHONS)} (the CPython versions Debian ships)")
    if abiflags not in ("", "d"):
        raise InputError("--abiflags", abiflags, "'' or 'd' (Debian's python3.X-dbg); Debian ships no free-threaded build")
    return DEBIAN_PYTHONS[python]


def interpreter_name(python: str = PYTHON_VERSION, abiflags: str = "") -> str:
    """``python3.14`` or ``python3.14d``: the interpreter's file name in ``usr/bin``."""
    return f"python{python}{abiflags}"


def sysroot_name(arch: str, python_version: str, python: str = PYTHON_VERSION, abiflags: str = "") -> str:
    """``debian-<arch>-python<X.Y><flags>-<Debian version of the interpreter package>``."""
    return f"debian-{arch}-{interpreter_name(python, abiflags)}-{_safe(python_version)}"


def find_sysroot(arch: str, cache_dir: Path | None = None, python: str = PYTHON_VERSION, abiflags: str = "") -> Path | None:
    """The newest complete cached sysroot of ``arch`` and ``python``, without asking apt; None if there is none.

    Args:
        arch: a Debian architecture ("armhf").
        cache_dir: cache root (None: :func:`pyrust.cache.cache_dir`).
        python: "3.11" (bookworm) or "3.13", "3.14", "3.15" (sid).
        abiflags: "" or "d" (the debug build).

    Example:
        >>> find_sysroot("armhf", python="3.14")   # doctest: +SKIP
        PosixPath('/root/.cache/meta-pyrust/sysroots/debian-armhf-python3.14-3.14.10-1')
    """
    _check_arch(arch)
    debian_python(python, abiflags)
    root = Path(cache_dir) if cache_dir is not None else _cache.cache_dir()
    pattern = f"debian-{arch}-{interpreter_name(python, abiflags)}-*"
    found = [p for p in (root / "sysroots").glob(pattern) if (p / MANIFEST).is_file()]
    if not found:
        return None
    return max(found, key=lambda p: (p / MANIFEST).stat().st_mtime)



def _run(cmd: Sequence[str], arch: str, what: str, *, cwd: Path | None = None, lock_retries: int = 0) -> str:
    """Run a tool, return stdout; raise FetchError with its first and last error lines on failure.

    ``arch`` names what is fetched in the message ("armhf", "source python3.13/trixie").

    ``lock_retries`` (the test bed's use of the host's apt): apt-get update fails at once when another
    apt or dpkg holds the lock (apt only waits for the dpkg frontend lock); retry then.
    """
    env = dict(os.environ, LC_ALL="C.UTF-8", DEBIAN_FRONTEND="noninteractive")
    for attempt in range(lock_retries + 1):
        try:
            proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, errors="replace")
        except FileNotFoundError:
            raise FetchError(
                f"fetch {arch}: {cmd[0]} not found; this needs a Debian/Ubuntu host with apt and dpkg"
            ) from None
        if proc.returncode == 0:
            return proc.stdout
        lines = [ln.strip() for ln in (proc.stderr or proc.stdout).splitlines() if ln.strip()]
        errors = [ln for ln in lines if ln.startswith(("E:", "dpkg: error", "dpkg-deb: error", "dpkg-source: error"))] or lines
        # the first error names the cause (apt: "Failed to fetch <url> 404"), the last sums up
        detail = (errors[0] if len(errors) == 1 else f"{errors[0]} ... {errors[-1]}") if errors else f"exit status {proc.returncode}"
        if attempt < lock_retries and ("lock" in detail.lower()):
            time.sleep(5)
            continue
        raise FetchError(f"fetch {arch}: {what} failed ({' '.join(cmd[:3])} ...): {detail}")
    raise AssertionError("unreachable")



def _candidates(arch: str, packages: Iterable[str], opts: list[str]) -> dict[str, str]:
    """``apt-cache policy`` candidate version of each ``PKG:ARCH`` (missing ones left out)."""
    out = subprocess.run(
        ["apt-cache", *opts, "policy", *(f"{p}:{arch}" for p in packages)],
        capture_output=True,
        text=True,
        env=dict(os.environ, LC_ALL="C.UTF-8"),
    ).stdout
    found: dict[str, str] = {}
    current = None
    for line in out.splitlines():
        if line and not line[0].isspace() and line.endswith(":"):
            current = line[:-1].split(":")[0]
        elif current and line.strip().startswith("Candidate:"):
            version = line.split(":", 1)[1].strip()
            if version and version != "(none)":
                found[current] = version
    return found


def _sha256s(arch: str, versions: dict[str, str], opts: list[str]) -> dict[str, str]:
    """SHA256 of each ``PKG:ARCH=VERSION`` from apt's index (one ``apt-cache show`` call)."""
    out = subprocess.run(
        ["apt-cache", *opts, "show", *(f"{p}:{arch}={v}" for p, v in versions.items())],
        capture_output=True,
        text=True,
        env=dict(os.environ, LC_ALL="C.UTF-8"),
    ).stdout
    found: dict[str, str] = {}
    for stanza in out.split("\n\n"):
        pkg = re.search(r"^Package: *(\S+)$", stanza, re.M)
        ver = re.search(r"^Version: *(\S+)$", stanza, re.M)
        sha = re.search(r"^SHA256: *([0-9a-f]{64})$", stanza, re.M)
        if pkg and ver and sha and versions.get(pkg.group(1)) == ver.group(1):
            found.setdefault(pkg.group(1), sha.group(1))
    return found


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file, hex (read in 1 MiB blocks)."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _deb_path(debs: Path, arch: str, pkg: str, version: str) -> Path:
    return debs / f"{pkg}_{_safe(version)}_{arch}.deb"


def _download(arch: str, versions: dict[str, str], root: Path, progress: Progress, opts: list[str]) -> list[Path]:
    """The ``.deb`` of each package in the cache; missing ones fetched by one ``apt-get download``.

    A cached file counts only if its SHA256 matches apt's index (a half-written or stale
    file is fetched again). One apt call for all packages: each apt start re-reads every
    package list (seconds each with several architectures enabled).
    """
    debs = root / "debs"
    want = _sha256s(arch, versions, opts)
    todo = {}
    for pkg, version in versions.items():
        dest = _deb_path(debs, arch, pkg, version)
        if dest.is_file() and (pkg not in want or file_sha256(dest) == want[pkg]):
            continue
        todo[pkg] = version
    if len(todo) < len(versions):
        progress(f"fetch {arch}: {len(versions) - len(todo)} of {len(versions)} packages already in {debs}")
    if todo:
        t0 = time.monotonic()
        progress(f"fetch {arch}: apt-get download {' '.join(todo)} ...")
        tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=debs))
        try:
            cmd = ["apt-get", *opts, "download", "-q"]
            if _is_root():
                # apt drops to user _apt for downloads, which cannot write a root-owned directory.
                cmd += ["-o", "APT::Sandbox::User=root"]
            _run([*cmd, *(f"{p}:{arch}={v}" for p, v in todo.items())], arch, "apt-get download", cwd=tmp)
            size = 0
            for pkg, version in todo.items():
                got = sorted(tmp.glob(f"{pkg}_*.deb"))
                if len(got) != 1:
                    raise FetchError(f"fetch {arch}: apt-get download gave no single file for {pkg}:{arch}={version}")
                if pkg in want and file_sha256(got[0]) != want[pkg]:
                    raise FetchError(f"fetch {arch}: {got[0].name} does not match the SHA256 in apt's index; retry")
                size += got[0].stat().st_size
                os.replace(got[0], _deb_path(debs, arch, pkg, version))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        progress(f"fetch {arch}: downloaded {len(todo)} packages ({size // 1024} KiB) in {time.monotonic() - t0:.1f} s")
    return [_deb_path(debs, arch, p, v) for p, v in versions.items()]



def relativize_symlinks(sysroot: Path) -> list[Path]:
    """Rewrite every absolute symlink inside ``sysroot`` as a relative one, in place.

    ``lib64/ld64.so.1 -> /lib/powerpc64le-linux-gnu/ld64.so.2`` becomes
    ``lib64/ld64.so.1 -> ../lib/powerpc64le-linux-gnu/ld64.so.2``, so the link resolves
    inside the sysroot (for qemu's ``-L``, a chroot, or plain ``open``). Returns the links changed.
    """
    changed = []
    for dirpath, dirnames, filenames in os.walk(sysroot):
        for name in dirnames + filenames:
            link = Path(dirpath) / name
            if not link.is_symlink():
                continue
            target = os.readlink(link)
            if not target.startswith("/"):
                continue
            inside = sysroot / target.lstrip("/")
            rel = os.path.relpath(inside, link.parent)
            link.unlink()
            link.symlink_to(rel)
            changed.append(link)
    return changed


def _merged_usr_links(sysroot: Path) -> list[str]:
    """For merged-/usr packages (files only under usr/): add ``lib -> usr/lib`` etc."""
    made = []
    for d in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top, usr = sysroot / d, sysroot / "usr" / d
        if not top.exists() and not top.is_symlink() and usr.is_dir():
            top.symlink_to(f"usr/{d}")
            made.append(d)
    return made


def _python3_link(sysroot: Path, name: str) -> bool:
    """Add ``usr/bin/python3 -> <name>`` when absent (what python3-minimal would ship), so a
    check that runs the target's ``/usr/bin/python3`` runs this sysroot's one interpreter
    (in a debug sysroot: ``python3.Xd``)."""
    link = sysroot / "usr" / "bin" / "python3"
    if link.exists() or link.is_symlink():
        return False
    link.symlink_to(name)
    return True


def _check_sysroot(arch: str, sysroot: Path, name: str = f"python{PYTHON_VERSION}") -> None:
    """The interpreter exists, is an ELF of ``arch`` and its loader resolves inside the sysroot."""
    from pyrust.qemurun import read_elf

    facts = DEBIAN_ARCHES[arch]
    python = sysroot / "usr" / "bin" / name
    if not python.is_file():
        raise FetchError(f"fetch {arch}: the unpacked packages have no usr/bin/{name}")
    elf = read_elf(python)
    if elf is None or (elf.machine, elf.elfclass, elf.endian) != (facts.elf_machine, facts.elfclass, facts.endian):
        raise FetchError(f"fetch {arch}: usr/bin/{name} is not an {arch} ELF executable ({elf})")
    if elf.interpreter and not (sysroot / elf.interpreter.lstrip("/")).exists():
        raise FetchError(f"fetch {arch}: the dynamic loader {elf.interpreter} does not resolve inside the sysroot")


def unpack_debs(files: Sequence[Path], root: Path, arch: str) -> tuple[list[Path], list[str]]:
    """``dpkg-deb -x`` each of ``files`` into ``root`` (never installed), then make Debian's
    absolute symbolic links relative and add the merged-/usr links, so that qemu-user can
    use ``root`` as the target's root (``-L``). Returns (the links made relative, the
    merged-/usr links made), for progress lines.

    Raises:
        FetchError: dpkg-deb failed on a file (its message names it).
    """
    for deb in files:
        _run(["dpkg-deb", "-x", str(deb), str(root)], arch, f"unpacking {deb.name}")
    return relativize_symlinks(root), _merged_usr_links(root)


def _publish(tmp: Path, final: Path, manifest: dict, arch: str) -> None:
    """Write the manifest (last: it marks the tree complete) and rename ``tmp`` to ``final``
    in one step; when another run got there first, keep its copy."""
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / MANIFEST).is_file():
            raise FetchError(f"fetch {arch}: cannot create {final}; remove it and retry") from None


def clean_stale(parent: Path, prefix: str = ".tmp-") -> None:
    """Remove the directories ``<prefix><pid>-*`` in ``parent`` that runs which died left
    (their pid is gone): the staging trees of fetches (``.tmp-``), and of the test bed's
    CPython builds (``meta-pyrust-cpython-``)."""
    for tmp in parent.glob(f"{prefix}*-*"):
        m = re.match(rf"{re.escape(prefix)}(\d+)-", tmp.name)
        if not m or not tmp.is_dir():
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass




# --------------------------------------------------------------------------------------
# the entry point


def fetch_python(arch: str, python: str, cache: Path | None = None, progress: Progress = print) -> Path:
    """Debian's python``python`` for ``arch``, unpacked once into the user's cache; return the sysroot.

    Args:
        arch: a key of :data:`DEBIAN_ARCHES` (:func:`debian_arch` maps a triplet to it).
        python: "X.Y", the target's Python version; a key of :data:`DEBIAN_PYTHONS`.
        cache: the cache root (None: :func:`pyrust.cache.cache_dir`).
        progress: one human-readable line per step.

    Returns:
        ``<cache>/sysroots/debian-<arch>-python<X.Y>-<version>`` (a cached one at once).

    Raises:
        InputError: ``arch`` unknown, or Debian ships no CPython ``python`` (the message
            names the version, the ones Debian has, and ``--sysroot``).
        FetchError: no apt-get/dpkg-deb, apt or the network fails, or the suite has no
            such interpreter for ``arch``.
    """
    _check_arch(arch)
    if python not in DEBIAN_PYTHONS:
        raise InputError("target Python", python,
                         f"a version Debian ships as an interpreter to fetch ({', '.join(DEBIAN_PYTHONS)}); for Python {python} "
                         f"give --sysroot DIR with the target's python{python}, or --no-import")
    row = DEBIAN_PYTHONS[python]
    packages, name = row.packages, interpreter_name(python)
    root = Path(cache) if cache is not None else _cache.cache_dir()
    cached = find_sysroot(arch, root, python)
    if cached:
        progress(f"fetch {arch}: using cached {cached.name}")
        return cached
    for tool in ("apt-get", "apt-cache", "dpkg-deb"):
        if shutil.which(tool) is None:
            raise FetchError(f"fetch {arch}: {tool} not found; --fetch-python needs a Debian or Ubuntu host (else give --sysroot)")
    sysroots = root / "sysroots"
    try:
        sysroots.mkdir(parents=True, exist_ok=True)
        (root / "debs").mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise FetchError(f"fetch {arch}: cannot create the cache {root}: {e.strerror}; set PYRUST_CACHE") from None
    clean_stale(sysroots)
    opts = private_apt(row.suite, root, arch)

    def update() -> None:
        progress(f"fetch {arch}: apt-get update of the private {row.suite} lists in {root / 'apt'} ...")
        _run(["apt-get", *opts, "update", "-q"], arch, f"apt-get update ({row.suite})")

    updated = False
    if not any((root / "apt" / f"{row.suite}-{arch}" / "lists").glob("*_Packages*")):
        update()
        updated = True
    versions = _candidates(arch, packages, opts)
    if len(versions) < len(packages) and not updated:
        update()
        versions = _candidates(arch, packages, opts)
    missing = [p for p in packages if p not in versions]
    if missing:
        raise FetchError(f"fetch {arch}: no {', '.join(f'{p}:{arch}' for p in missing)} in Debian {row.suite}: "
                         f"Debian builds no python{python} for {arch}; give --sysroot DIR")
    final = sysroots / sysroot_name(arch, versions[packages[0]], python)
    files = _download(arch, {p: versions[p] for p in packages}, root, progress, opts)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=sysroots))
    try:
        unpack_debs(files, tmp, arch)
        _python3_link(tmp, name)
        _check_sysroot(arch, tmp, name)
        _publish(tmp, final, {
            "debian_arch": arch, "multiarch": DEBIAN_ARCHES[arch].multiarch, "python": f"usr/bin/{name}",
            "python_version": python, "abiflags": "", "suite": row.suite,
            "packages": {p: versions[p] for p in packages}, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }, arch)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"fetch {arch}: {name} {versions[packages[0]]} ({row.suite}) unpacked: {final}")
    return final
