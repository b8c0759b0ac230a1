"""Provision a Debian target Python (a sysroot to run under qemu-user) into a cache.

Nothing is installed: the packages of one Debian architecture are fetched with
``apt-get download`` (versions pinned from ``apt-cache policy``), unpacked with
``dpkg -x`` into a private directory and renamed, complete, into::

    $PYRUST_CACHE/sysroots/debian-<arch>-python<X.Y><flags>-<version>/   (usr/bin/python<X.Y><flags>, lib/...)
    $PYRUST_CACHE/debs/                                                  (the downloaded .deb files)
    $PYRUST_CACHE/apt/<suite>-<arch>/                                    (private apt lists, sid only)

Which Debian suite and packages give each CPython version is one table,
:data:`DEBIAN_PYTHONS`: bookworm's python3.11 comes through the host's own apt sources
(``dpkg --add-architecture``); sid's python3.13, 3.14 and 3.15 (and their ``-dbg``
builds, ABI flags "d") through a private apt configuration under the cache (its own
sources list, package lists and an empty dpkg status), so the host's apt never sees sid.

``$PYRUST_CACHE`` defaults to ``~/.cache/meta-pyrust``. Running it again finds the
sysroot and returns at once; an interrupted run leaves nothing that a later run would
mistake for a sysroot. Standard library only (used by scripts/setup-testbed and the
end-to-end tests before anything else is installed).

Command line (progress goes to stderr, one sysroot path per architecture to stdout)::

    python3 -m pyrust.provision armhf arm64 s390x
    python3 -m pyrust.provision --python 3.14 armhf            # Debian sid's python3.14
    python3 -m pyrust.provision --python 3.14 --abiflags d armhf   # its debug build (python3.14d)
    python3 -m pyrust.provision --cache /tmp/c --find armhf    # look up only, no apt
    python3 -m pyrust.provision --arch-of qemu-ppc64le         # -> ppc64el

Facts this relies on (measured, docs in /work/shared/TESTBED.md): Debian bookworm's
``python3.11`` 3.11.2 exists for armhf, armel, arm64, i386, mips64el, mipsel, ppc64el,
s390x; ``libc6`` of mips64el and ppc64el ships ``/lib64/ld*.so*`` as absolute symlinks,
which qemu's ``-L`` prefix cannot follow, so they are rewritten as relative links.
sid is merged-/usr (files only under ``usr/``): the sysroot gets ``lib -> usr/lib`` so
the loader path in the ELF header (``/lib/ld-linux-armhf.so.3``) resolves.
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
import tempfile
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, NamedTuple

from pyrust import tables
from pyrust.errors import InputError
from pyrust.private_apt import ARCHIVE_KEYRING, pkgcache_options, private_apt_dir, private_apt_options  # noqa: F401 (ARCHIVE_KEYRING: re-exported)

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

#: Debian suites whose binary packages are reached through a private apt configuration
#: (:mod:`pyrust.private_apt`); the others (bookworm) through the host's own apt.
PRIVATE_SUITES: tuple[str, ...] = ("sid",)

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

#: The architectures the test bed provisions (amd64 is the host: no qemu needed).
TARGET_ARCHES: tuple[str, ...] = ("armhf", "armel", "arm64", "i386", "mips64el", "mipsel", "ppc64el", "s390x")

#: The architectures sid builds python3.13 to 3.15 for (its InRelease ``Architectures``, Dec 2026).
SID_ARCHES: tuple[str, ...] = ("armhf", "arm64", "i386", "ppc64el", "s390x", "riscv64", "loong64")

_ARM_FLOAT = {"hard": "armhf", "soft": "armel", "softfp": "armel"}


class ProvisionError(RuntimeError):
    """An expected failure while provisioning (apt, dpkg, permissions, disk).

    ``str()`` is one line naming the architecture, what failed and what to do.
    """


Progress = Callable[[str], object]


def default_cache_dir() -> Path:
    """The cache root: ``$PYRUST_CACHE`` or ``~/.cache/meta-pyrust``."""
    env = os.environ.get("PYRUST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "meta-pyrust"


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
        cache_dir: cache root (None: :func:`default_cache_dir`).
        python: "3.11" (bookworm) or "3.13", "3.14", "3.15" (sid).
        abiflags: "" or "d" (the debug build).

    Example:
        >>> find_sysroot("armhf", python="3.14")   # doctest: +SKIP
        PosixPath('/root/.cache/meta-pyrust/sysroots/debian-armhf-python3.14-3.14.10-1')
    """
    _check_arch(arch)
    debian_python(python, abiflags)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    pattern = f"debian-{arch}-{interpreter_name(python, abiflags)}-*"
    found = [p for p in (root / "sysroots").glob(pattern) if (p / MANIFEST).is_file()]
    if not found:
        return None
    return max(found, key=lambda p: (p / MANIFEST).stat().st_mtime)


# --------------------------------------------------------------------------------------
# running tools


def _run(cmd: Sequence[str], arch: str, what: str, *, cwd: Path | None = None, lock_retries: int = 0) -> str:
    """Run a tool, return stdout; raise ProvisionError with its first and last error lines on failure.

    ``arch`` names what is provisioned in the message ("armhf", "source python3.13/trixie").

    ``lock_retries``: apt-get update / dpkg --add-architecture fail at once when another
    apt or dpkg holds the lock (apt only waits for the dpkg frontend lock); retry then.
    """
    env = dict(os.environ, LC_ALL="C.UTF-8", DEBIAN_FRONTEND="noninteractive")
    for attempt in range(lock_retries + 1):
        try:
            proc = subprocess.run(list(cmd), cwd=cwd, env=env, capture_output=True, text=True, errors="replace")
        except FileNotFoundError:
            raise ProvisionError(
                f"provision {arch}: {cmd[0]} not found; provisioning needs a Debian/Ubuntu host with apt and dpkg"
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
        raise ProvisionError(f"provision {arch}: {what} failed ({' '.join(cmd[:3])} ...): {detail}")
    raise AssertionError("unreachable")


@contextmanager
def file_lock(lock: Path, waiting: str, progress: Progress = print) -> Iterator[None]:
    """Hold ``lock`` exclusively (fcntl.flock); a second process says ``waiting`` through
    ``progress`` and waits, then finds the first one's result."""
    import fcntl

    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "w") as fd:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            progress(waiting)
            fcntl.flock(fd, fcntl.LOCK_EX)
        yield


def _is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


def _known_arches() -> set[str]:
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.split()
    foreign = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True, text=True).stdout.split()
    return set(native) | set(foreign)


def _apt_update(arch: str, progress: Progress) -> None:
    if not _is_root():
        raise ProvisionError(
            f"provision {arch}: the apt package lists lack {arch}; as root run "
            f"'dpkg --add-architecture {arch} && apt-get update' (or scripts/setup-testbed), then retry"
        )
    t0 = time.monotonic()
    progress(f"provision {arch}: apt-get update ...")
    try:
        _run(["apt-get", "update", "-q"], arch, "apt-get update", lock_retries=60)
    except ProvisionError as e:
        # A partly failed update (one index of a mirror in sync) keeps the old lists; the
        # packages may well be there: the caller's candidate check decides.
        progress(f"{e}; continuing with the lists apt has")
    progress(f"provision {arch}: apt-get update done in {time.monotonic() - t0:.1f} s")


def _enable_arch(arch: str, progress: Progress) -> None:
    if not _is_root():
        raise ProvisionError(
            f"provision {arch}: dpkg does not know the architecture {arch}; as root run "
            f"'dpkg --add-architecture {arch} && apt-get update' (or scripts/setup-testbed), then retry"
        )
    progress(f"provision {arch}: dpkg --add-architecture {arch}")
    _run(["dpkg", "--add-architecture", arch], arch, "dpkg --add-architecture", lock_retries=60)


def _private_update(suite: str, arch: str, opts: list[str], progress: Progress) -> None:
    """``apt-get update`` of a private configuration (any user: the lists are ours)."""
    t0 = time.monotonic()
    progress(f"provision {arch}: apt-get update of the private {suite} lists ...")
    cmd = ["apt-get", *opts, "update", "-q"]
    _run(cmd, arch, f"apt-get update ({suite})", lock_retries=60)
    progress(f"provision {arch}: apt-get update ({suite}) done in {time.monotonic() - t0:.1f} s")


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
        progress(f"provision {arch}: {len(versions) - len(todo)} of {len(versions)} packages already in {debs}")
    if todo:
        t0 = time.monotonic()
        progress(f"provision {arch}: apt-get download {' '.join(todo)} ...")
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
                    raise ProvisionError(f"provision {arch}: apt-get download gave no single file for {pkg}:{arch}={version}")
                if pkg in want and file_sha256(got[0]) != want[pkg]:
                    raise ProvisionError(f"provision {arch}: {got[0].name} does not match the SHA256 in apt's index; retry")
                size += got[0].stat().st_size
                os.replace(got[0], _deb_path(debs, arch, pkg, version))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        progress(f"provision {arch}: downloaded {len(todo)} packages ({size // 1024} KiB) in {time.monotonic() - t0:.1f} s")
    return [_deb_path(debs, arch, p, v) for p, v in versions.items()]


# --------------------------------------------------------------------------------------
# sysroot fix-ups


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
        raise ProvisionError(f"provision {arch}: the unpacked packages have no usr/bin/{name}")
    elf = read_elf(python)
    if elf is None or (elf.machine, elf.elfclass, elf.endian) != (facts.elf_machine, facts.elfclass, facts.endian):
        raise ProvisionError(f"provision {arch}: usr/bin/{name} is not an {arch} ELF executable ({elf})")
    if elf.interpreter and not (sysroot / elf.interpreter.lstrip("/")).exists():
        raise ProvisionError(f"provision {arch}: the dynamic loader {elf.interpreter} does not resolve inside the sysroot")


def _publish(tmp: Path, final: Path, manifest: dict, arch: str) -> None:
    """Write the manifest (last: it marks the tree complete) and rename ``tmp`` to ``final``
    in one step; when another run got there first, keep its copy."""
    (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
    try:
        os.rename(tmp, final)
    except OSError:
        if not (final / MANIFEST).is_file():
            raise ProvisionError(f"provision {arch}: cannot create {final}; remove it and retry") from None


def clean_stale(sysroots: Path) -> None:
    """Remove ``.tmp-*`` directories left by runs that died (their pid is gone)."""
    for tmp in sysroots.glob(".tmp-*"):
        m = re.match(r"\.tmp-(\d+)-", tmp.name)
        if not m:
            continue
        try:
            os.kill(int(m.group(1)), 0)
        except ProcessLookupError:
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:
            pass


# --------------------------------------------------------------------------------------
# the entry point


def provision_debian_python(debian_arch: str, cache_dir: Path | None = None, progress: Progress = print,
                            python: str = PYTHON_VERSION, abiflags: str = "") -> Path:
    """Fetch and unpack Debian's python3.X for ``debian_arch`` into the cache; return the sysroot.

    Args:
        debian_arch: a key of :data:`DEBIAN_ARCHES`: ``"armhf"``, ``"armel"``, ``"arm64"``,
            ``"i386"``, ``"mips64el"``, ``"mipsel"``, ``"ppc64el"``, ``"s390x"``,
            ``"riscv64"``, ``"loong64"`` (or ``"amd64"``); not every version exists for
            every architecture (bookworm has no riscv64 or loong64; sid no armel, mipsel, mips64el).
            Use :func:`debian_arch` to get it from a qemu binary or triplet.
        cache_dir: cache root (``None``: ``$PYRUST_CACHE`` or ``~/.cache/meta-pyrust``).
        progress: called with one human-readable line per step (``print`` by default;
            ``lambda s: None`` to be quiet).
        python: a key of :data:`DEBIAN_PYTHONS`: "3.11" (bookworm, the default), "3.13",
            "3.14", "3.15" (sid).
        abiflags: "" (release build) or "d" (Debian's ``python3.X-dbg``: ``python3.Xd``).

    Returns:
        ``<cache>/sysroots/debian-<arch>-python<X.Y><flags>-<version>``, which contains
        ``usr/bin/python<X.Y><flags>`` (and ``usr/bin/python3`` linking to it),
        ``usr/lib/python<X.Y>`` and the loader. Run it with ``qemu-<arch> -L <sysroot>
        <sysroot>/usr/bin/python3`` (see :mod:`pyrust.qemurun`).

    Behaviour (bookworm): if dpkg already knows the architecture, the versions are pinned from
    ``apt-cache policy`` and an existing sysroot of that version is returned at
    once; if dpkg does not know it and a sysroot is cached, the newest cached one is returned
    without touching apt; otherwise (as root) ``dpkg --add-architecture`` and ``apt-get
    update`` run first. sid: a private apt configuration under ``<cache>/apt/sid-<arch>``
    (:func:`pyrust.private_apt.private_apt_options`; any user, nothing of the host's apt changes), updated only when
    it has no lists yet, lacks a package, or a download fails (sid moves on). Downloads
    are kept in ``<cache>/debs`` and checked against apt's SHA256. Concurrent runs are
    safe: the sysroot appears by one atomic rename. Seconds: about 10 to 20 for a new
    sid sysroot (70 to 90 MB more for a debug one), under 1 when cached.

    Raises:
        InputError: ``debian_arch``, ``python`` or ``abiflags`` is not supported.
        ProvisionError: apt/dpkg missing or failing, not root when apt must be changed,
            package not in the archive for that architecture; the message says what to do.

    Example:
        >>> root = provision_debian_python("armhf", progress=lambda s: None)   # doctest: +SKIP
        >>> (root / "usr/bin/python3.11").exists()                             # doctest: +SKIP
        True
        >>> provision_debian_python("armhf", python="3.14", abiflags="d").name  # doctest: +SKIP
        'debian-armhf-python3.14d-3.14.10-1'
    """
    arch = debian_arch
    _check_arch(arch)
    row = debian_python(python, abiflags)
    packages = row.debug_packages if abiflags else row.packages
    name = interpreter_name(python, abiflags)
    main_pkg = packages[0]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    sysroots, debs = root / "sysroots", root / "debs"
    try:
        sysroots.mkdir(parents=True, exist_ok=True)
        debs.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ProvisionError(f"provision {arch}: cannot create the cache {root}: {e.strerror}; set PYRUST_CACHE") from None
    clean_stale(sysroots)

    def cached_or(reason: str) -> Path:
        cached = find_sysroot(arch, root, python, abiflags)
        if cached:
            progress(f"provision {arch}: using cached {cached.name} ({reason})")
            return cached
        raise ProvisionError(f"provision {arch}: {reason}")

    if shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        return cached_or("no apt-get/dpkg on this host; provisioning needs a Debian or Ubuntu host")
    updated = False
    if row.suite in PRIVATE_SUITES:
        opts = private_apt_options(row.suite, root, arch) + pkgcache_options(f"{row.suite}-{arch}")
        if not any((private_apt_dir(row.suite, root, arch) / "lists").glob("*_Packages*")):
            _private_update(row.suite, arch, opts, progress)
            updated = True

        def update() -> None:
            _private_update(row.suite, arch, opts, progress)
    else:
        opts = pkgcache_options()
        if arch not in _known_arches():
            cached = find_sysroot(arch, root, python, abiflags)
            if cached:
                progress(f"provision {arch}: using cached {cached.name} (dpkg does not know {arch}; not checking for updates)")
                return cached
            _enable_arch(arch, progress)
            _apt_update(arch, progress)
            updated = True

        def update() -> None:
            _apt_update(arch, progress)

    versions = _candidates(arch, packages, opts)
    if len(versions) < len(packages) and not updated:
        update()
        updated = True
        versions = _candidates(arch, packages, opts)
    missing = [p for p in packages if p not in versions]
    if missing:
        raise ProvisionError(
            f"provision {arch}: no {', '.join(f'{p}:{arch}' for p in missing)} in Debian {row.suite}; "
            f"Debian {row.suite} does not build python{python} for {arch}"
        )

    final = sysroots / sysroot_name(arch, versions[main_pkg], python, abiflags)
    if (final / MANIFEST).is_file():
        progress(f"provision {arch}: up to date: {final}")
        return final

    t0 = time.monotonic()
    progress(f"provision {arch}: {name} {versions[main_pkg]} ({row.suite}), libc6 {versions['libc6']}")
    try:
        files = _download(arch, {p: versions[p] for p in packages}, root, progress, opts)
    except ProvisionError:
        if updated or row.suite not in PRIVATE_SUITES:
            raise
        # sid moved on since the lists were fetched: the pinned files left the mirror.
        update()
        return provision_debian_python(arch, cache_dir, progress, python, abiflags)

    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=sysroots))
    try:
        for deb in files:
            _run(["dpkg-deb", "-x", str(deb), str(tmp)], arch, f"unpacking {deb.name}")
        links = relativize_symlinks(tmp)
        if links:
            progress(f"provision {arch}: made {len(links)} absolute symlinks relative: "
                     + ", ".join(str(p.relative_to(tmp)) for p in links[:4]) + (" ..." if len(links) > 4 else ""))
        made = _merged_usr_links(tmp)
        if made:
            progress(f"provision {arch}: merged-/usr links {', '.join(made)}")
        _python3_link(tmp, name)
        _check_sysroot(arch, tmp, name)
        manifest = {
            "debian_arch": arch,
            "multiarch": DEBIAN_ARCHES[arch].multiarch,
            "python": f"usr/bin/{name}",
            "python_version": python,
            "abiflags": abiflags,
            "suite": row.suite,
            "packages": {p: versions[p] for p in packages},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        _publish(tmp, final, manifest, arch)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"provision {arch}: ready in {time.monotonic() - t0:.1f} s: {final}")
    return final


def provision_debian_packages(packages: Sequence[str], arch: str = "amd64", suite: str = "sid", cache_dir: Path | None = None,
                              progress: Progress = print) -> Path:
    """Unpack Debian ``packages`` of ``suite`` for ``arch`` (never installed) into one cached tree.

    For what the host's release lacks and needs no installing: sid's ``qemu-user`` (static
    binaries since 1:9.1; bookworm's 7.2 stops sid's loong64 binaries with SIGILL), or a
    target's C development files (``libc6-dev``, ``libgcc-16-dev``) for a linker.

    Args:
        packages: e.g. ("qemu-user",); the first names the tree. suite: one of
            :data:`PRIVATE_SUITES`. arch: a Debian architecture. cache_dir, progress: as
            :func:`provision_debian_python`.

    Returns:
        ``<cache>/tools/<first package>-<its version>_<arch>`` (absolute links made
        relative, merged-/usr links added). Cold: about 75 MB and 5 to 15 s for
        qemu-user; cached: under 1 s.

    Raises:
        InputError: unknown suite. ProvisionError: apt fails or a package is not in ``suite``.
    """
    if suite not in PRIVATE_SUITES:
        raise InputError("suite", suite, f"one of {', '.join(PRIVATE_SUITES)}")
    if not packages:
        raise InputError("packages", packages, "at least one Debian package name")
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    tools = root / "tools"
    tools.mkdir(parents=True, exist_ok=True)
    (root / "debs").mkdir(parents=True, exist_ok=True)
    clean_stale(tools)
    opts = private_apt_options(suite, root, arch) + pkgcache_options(f"{suite}-{arch}")
    if not any((private_apt_dir(suite, root, arch) / "lists").glob("*_Packages*")):
        _private_update(suite, arch, opts, progress)
    versions = _candidates(arch, packages, opts)
    if len(versions) < len(packages):
        _private_update(suite, arch, opts, progress)
        versions = _candidates(arch, packages, opts)
    missing = [p for p in packages if p not in versions]
    if missing:
        raise ProvisionError(f"provision {arch}: no {', '.join(missing)} for {arch} in Debian {suite}")
    final = tools / f"{packages[0]}-{_safe(versions[packages[0]])}_{arch}"
    if (final / MANIFEST).is_file():
        return final
    files = _download(arch, {p: versions[p] for p in packages}, root, progress, opts)
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=tools))
    try:
        for deb in files:
            _run(["dpkg-deb", "-x", str(deb), str(tmp)], arch, f"unpacking {deb.name}")
        relativize_symlinks(tmp)
        _merged_usr_links(tmp)
        _publish(tmp, final, {"packages": versions, "suite": suite, "arch": arch}, arch)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"provision {arch}: {', '.join(packages)} ({suite}) unpacked: {final}")
    return final


def provision_debian_tool(package: str, suite: str = "sid", arch: str = "amd64", cache_dir: Path | None = None,
                          progress: Progress = print) -> Path:
    """One host tool from ``suite``: :func:`provision_debian_packages` of ``[package]``.

    Example:
        >>> provision_debian_tool("qemu-user") / "usr/bin/qemu-loongarch64"   # doctest: +SKIP
    """
    return provision_debian_packages([package], arch, suite, cache_dir, progress)


def provision_debian_source(package: str, suite: str, cache_dir: Path | None = None, progress: Progress = print) -> Path:
    """The upstream tree of Debian source package ``package`` from ``suite``, unpacked once into the cache.

    For the test beds' CPython sources (scripts/build-target-cpython builds them,
    scripts/fetch-cpython-probe reads configure's triplet probe from them): upstream as
    Debian ships it (``*.orig.tar.*``), Debian's patches not applied, because oe-core
    builds upstream CPython.

    Args:
        package: a Debian source package, e.g. "python3.13".
        suite: the Debian suite holding it, e.g. "bookworm", "trixie", "sid".
        cache_dir, progress: as :func:`provision_debian_python`.

    Returns:
        ``<cache>/debian-src/<package>-<upstream version>`` (e.g. ``python3.13-3.13.5``),
        without Debian's ``debian/`` directory; its ``.pyrust-source`` file says
        ``<suite> <package> <version> <dsc>``.

    Behaviour: a tree already unpacked from ``suite`` is returned at once (no network).
    Otherwise ``apt-get source --download-only`` through a private deb-src configuration
    of ``suite`` (:func:`pyrust.private_apt.private_apt_options`; the host's apt is neither
    read nor changed; apt checks every file against the signed Sources index) into
    ``<cache>/debian-src/downloads``, then ``dpkg-source --skip-patches -x`` into a
    staging directory renamed into place, so an interrupted run leaves no tree.
    Concurrent runs wait for each other (a lock file). Seconds: 20 to 30 for CPython
    (apt-get update of the suite's Sources, a 20 to 27 MB download, unpacking).

    Raises:
        ProvisionError: apt-get/dpkg-source missing, ``suite`` has no ``package``, or a
            download fails (the archive answers 404 for files its index lists); the
            message names the step.

    Example:
        >>> provision_debian_source("python3.13", "trixie").name   # doctest: +SKIP
        'python3.13-3.13.5'
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    where = root / "debian-src"
    downloads = where / "downloads"
    downloads.mkdir(parents=True, exist_ok=True)
    label = f"source {package}/{suite}"
    for tool, deb in (("apt-get", "apt"), ("dpkg-source", "dpkg-dev")):
        if shutil.which(tool) is None:
            raise ProvisionError(f"provision {label}: {tool} not found; apt-get install {deb}")

    def cached() -> Path | None:
        trees = sorted(t for t in where.glob(f"{package}-*")
                       if (t / ".pyrust-source").is_file() and (t / ".pyrust-source").read_text().split()[:2] == [suite, package])
        return trees[-1] if trees else None

    with file_lock(where / f".{package}-{suite}.lock", f"{label}: another run is fetching it; waiting", progress):
        tree = cached()
        if tree:
            return tree
        t0 = time.monotonic()
        opts = private_apt_options(suite, root, source=True)
        progress(f"{label}: apt-get update of the private deb-src {suite} configuration ...")
        _run(["apt-get", *opts, "update", "-q"], label, "apt-get update")
        # apt's own candidate and file names: the same files `apt-get source` then fetches
        uris = _run(["apt-get", *opts, "source", "--print-uris", "-q", package], label, "apt-get source --print-uris")
        dscs = re.findall(r"^'[^']+' (\S+\.dsc) \d+", uris, re.M)
        if len(dscs) != 1:
            raise ProvisionError(f"provision {label}: Debian {suite} has no {package} source package")
        dsc = downloads / dscs[0]
        version = dscs[0].removeprefix(f"{package}_").removesuffix(".dsc")
        progress(f"{label}: apt-get source --download-only {package} ({version})")
        _run(["apt-get", *opts, "source", "--download-only", "-q", package], label, "apt-get source", cwd=downloads)
        if not dsc.is_file():
            raise ProvisionError(f"provision {label}: apt-get source left no {dsc.name} in {downloads}")
        tree = where / f"{package}-{version.rsplit('-', 1)[0]}"
        stage = where / f".tmp-{os.getpid()}-{tree.name}"
        shutil.rmtree(stage, ignore_errors=True)
        try:
            _run(["dpkg-source", "--skip-patches", "--no-check", "--no-copy", "-x", str(dsc), str(stage)], label, "dpkg-source -x")
            shutil.rmtree(stage / "debian", ignore_errors=True)  # the packaging, not the upstream tree
            (stage / ".pyrust-source").write_text(f"{suite} {package} {version} {dsc.name}\n")
            shutil.rmtree(tree, ignore_errors=True)
            os.rename(stage, tree)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
        progress(f"{label}: {tree} in {time.monotonic() - t0:.1f} s")
        return tree


class DebUri(NamedTuple):
    """Where apt fetches one package from, and the SHA256 its index gives for it."""

    url: str
    sha256: str


def debian_uris(arch: str, packages: Sequence[str], suite: str = "bookworm", cache_dir: Path | None = None,
                pinned: dict[str, str] | None = None) -> list[DebUri]:
    """The download URL and SHA256 of each of ``packages`` (apt's candidate version for
    ``arch``, or the version ``pinned`` gives), as apt itself would fetch them (``apt-get --print-uris download``): for a
    BitBake SRC_URI (``url;sha256sum=...``) that fetches the very files a sysroot here
    unpacks. Nothing is downloaded or installed.

    Args:
        arch: a Debian architecture ("armhf", "amd64", "all" packages are found under any).
        packages: package names without architecture ("libc6", "python3.14-minimal").
        suite: "bookworm" (the host's own apt sources; dpkg must know ``arch``) or one of
            :data:`PRIVATE_SUITES` ("sid": the private configuration of
            :func:`provision_debian_python`, updated first when it has no lists yet).
        cache_dir: cache root (None: :func:`default_cache_dir`).
        pinned: package -> Debian version, for packages that must match an installed one
            (``{"rust-web-src": "1.96.0+dfsg1-1~deb12u2"}``).

    Returns:
        One :class:`DebUri` per package, in the order given.

    Raises:
        ProvisionError: a package has no candidate for ``arch`` in ``suite``, or apt fails.

    Example:
        >>> debian_uris("armhf", ["libc6"])[0].url.endswith("_armhf.deb")   # doctest: +SKIP
        True
    """
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    if suite in PRIVATE_SUITES:
        opts = private_apt_options(suite, root, arch) + pkgcache_options(f"{suite}-{arch}")
        if not any((private_apt_dir(suite, root, arch) / "lists").glob("*_Packages*")):
            _private_update(suite, arch, opts, lambda line: None)
    else:
        opts = pkgcache_options()
    versions = {**_candidates(arch, [p for p in packages if p not in (pinned or {})], opts), **(pinned or {})}
    absent = [p for p in packages if p not in versions]
    if absent:
        raise ProvisionError(f"provision {arch}: no candidate for {', '.join(absent)} in {suite} "
                             f"(dpkg --add-architecture {arch} && apt-get update, or scripts/setup-testbed)")
    out = _run(["apt-get", *opts, "--print-uris", "download", *(f"{p}:{arch}={versions[p]}" for p in packages)],
               arch, "apt-get --print-uris download", cwd=Path(tempfile.gettempdir()))
    found = {}
    for line in out.splitlines():
        m = re.match(r"'([^']+)' (\S+?)_\S+ \d+ SHA256:([0-9a-f]{64})", line)
        if m:
            found[m.group(2)] = DebUri(m.group(1), m.group(3))
    missing = [p for p in packages if p not in found]
    if missing:
        raise ProvisionError(f"provision {arch}: apt-get --print-uris gave no URL for {', '.join(missing)}")
    return [found[p] for p in packages]


def debian_python_uris(debian_arch: str, python: str = PYTHON_VERSION, abiflags: str = "",
                       cache_dir: Path | None = None) -> list[DebUri]:
    """:func:`debian_uris` of exactly the packages :func:`provision_debian_python` unpacks
    for ``debian_arch``, ``python`` and ``abiflags`` (same arguments, same errors)."""
    _check_arch(debian_arch)
    row = debian_python(python, abiflags)
    return debian_uris(debian_arch, row.debug_packages if abiflags else row.packages, row.suite, cache_dir)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python3 -m pyrust.provision [--python X.Y] [--abiflags d] [--cache DIR] [--find] ARCH...``
    or ``python3 -m pyrust.provision --source PACKAGE/SUITE`` (prints the tree's path); exit 0/1/2."""
    ap = argparse.ArgumentParser(
        prog="python3 -m pyrust.provision",
        description="Unpack Debian's python3.X for Debian architectures into a cache (for qemu-user).",
    )
    ap.add_argument("arches", nargs="*", metavar="ARCH",
                    help=f"Debian architectures, or 'all' (3.11: {' '.join(TARGET_ARCHES)}; sid: {' '.join(SID_ARCHES)})")
    ap.add_argument("--python", default=PYTHON_VERSION, help=f"CPython version: {', '.join(DEBIAN_PYTHONS)} (default {PYTHON_VERSION})")
    ap.add_argument("--abiflags", default="", help="'' (default) or 'd' for Debian's debug build (python3.Xd)")
    ap.add_argument("--cache", type=Path, default=None, help="cache root (default: $PYRUST_CACHE or ~/.cache/meta-pyrust)")
    ap.add_argument("--find", action="store_true", help="only print cached sysroots, never run apt (exit 1 if one is missing)")
    ap.add_argument("--arch-of", metavar="NAME", help="print the Debian arch of a qemu binary or triplet and exit")
    ap.add_argument("--float-abi", default="", help="with --arch-of qemu-arm: hard or soft")
    ap.add_argument("--source", metavar="PACKAGE/SUITE",
                    help="unpack Debian source package PACKAGE of SUITE (upstream, no Debian patches) and print its path")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    try:
        if args.arch_of:
            print(debian_arch(args.arch_of, args.float_abi))
            return 0
        if args.source:
            package, _, suite = args.source.partition("/")
            if not package or not suite or "/" in suite:
                raise InputError("--source", args.source, "PACKAGE/SUITE, e.g. python3.13/trixie")
            print(provision_debian_source(package, suite, args.cache, progress))
            return 0
        row = debian_python(args.python, args.abiflags)
        every = TARGET_ARCHES if row.suite == "bookworm" else SID_ARCHES
        arches = list(every) if args.arches == ["all"] else args.arches
        if not arches:
            ap.error("give at least one architecture (or 'all')")
        for arch in arches:
            _check_arch(arch)
        status = 0
        for arch in arches:
            if args.find:
                found = find_sysroot(arch, args.cache, args.python, args.abiflags)
                if found is None:
                    progress(f"provision {arch}: no cached sysroot")
                    status = 1
                else:
                    print(found)
            else:
                print(provision_debian_python(arch, args.cache, progress, args.python, args.abiflags), flush=True)
        return status
    except (InputError, ProvisionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
