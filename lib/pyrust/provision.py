"""Provision a Debian target Python (a sysroot to run under qemu-user) into a cache.

Nothing is installed: the packages of one Debian architecture are fetched with
``apt-get download`` (versions pinned from ``apt-cache policy``), unpacked with
``dpkg -x`` into a private directory and renamed, complete, into::

    $PYRUST_CACHE/sysroots/debian-<arch>-python3.11-<version>/   (usr/bin/python3.11, lib/...)
    $PYRUST_CACHE/debs/                                          (the downloaded .deb files)

``$PYRUST_CACHE`` defaults to ``~/.cache/meta-pyrust``. Running it again finds the
sysroot and returns at once; an interrupted run leaves nothing that a later run would
mistake for a sysroot. Standard library only (used by scripts/setup-testbed and the
end-to-end tests before anything else is installed).

Command line (progress goes to stderr, one sysroot path per architecture to stdout)::

    python3 -m pyrust.provision armhf arm64 s390x
    python3 -m pyrust.provision --cache /tmp/c --find armhf    # look up only, no apt
    python3 -m pyrust.provision --arch-of qemu-ppc64le         # -> ppc64el

Facts this relies on (measured, docs in /work/shared/TESTBED.md): Debian bookworm's
``python3.11`` 3.11.2 exists for armhf, armel, arm64, i386, mips64el, mipsel, ppc64el,
s390x; ``libc6`` of mips64el and ppc64el ships ``/lib64/ld*.so*`` as absolute symlinks,
which qemu's ``-L`` prefix cannot follow, so they are rewritten as relative links.
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
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Callable, NamedTuple

from pyrust import tables
from pyrust.errors import InputError

PYTHON_VERSION = "3.11"

#: Packages unpacked into every sysroot: enough to start python3.11, read sysconfig and
#: import a C extension (libpython3.11-stdlib brings the rest of the pure-Python stdlib
#: and its C modules; their further libraries such as libffi8 or libssl3 are left out).
PACKAGES: tuple[str, ...] = (
    "python3.11-minimal",
    "libpython3.11-minimal",
    "libpython3.11-stdlib",
    "libc6",
    "zlib1g",
    "libexpat1",
    "libgcc-s1",
)

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
}

#: The architectures the test bed provisions (amd64 is the host: no qemu needed).
TARGET_ARCHES: tuple[str, ...] = ("armhf", "armel", "arm64", "i386", "mips64el", "mipsel", "ppc64el", "s390x")

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


def sysroot_name(arch: str, python_version: str) -> str:
    """``debian-<arch>-python3.11-<Debian version of python3.11-minimal>``."""
    return f"debian-{arch}-python{PYTHON_VERSION}-{_safe(python_version)}"


def find_sysroot(arch: str, cache_dir: Path | None = None) -> Path | None:
    """The newest complete cached sysroot of ``arch``, without asking apt; None if there is none.

    Example:
        >>> find_sysroot("armhf")   # doctest: +SKIP
        PosixPath('/root/.cache/meta-pyrust/sysroots/debian-armhf-python3.11-3.11.2-6+deb12u8')
    """
    _check_arch(arch)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    found = [p for p in (root / "sysroots").glob(f"debian-{arch}-python{PYTHON_VERSION}-*") if (p / MANIFEST).is_file()]
    if not found:
        return None
    return max(found, key=lambda p: (p / MANIFEST).stat().st_mtime)


# --------------------------------------------------------------------------------------
# running tools


def _run(cmd: Sequence[str], arch: str, what: str, *, cwd: Path | None = None, lock_retries: int = 0) -> str:
    """Run a tool, return stdout; raise ProvisionError with its last stderr line on failure.

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
        errors = [ln for ln in lines if ln.startswith(("E:", "dpkg: error", "dpkg-deb: error"))] or lines
        detail = errors[-1] if errors else f"exit status {proc.returncode}"
        if attempt < lock_retries and ("lock" in detail.lower()):
            time.sleep(5)
            continue
        raise ProvisionError(f"provision {arch}: {what} failed ({' '.join(cmd[:3])} ...): {detail}")
    raise AssertionError("unreachable")


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


def _apt_opts(root: Path) -> list[str]:
    """Options giving apt a binary package cache of its own (``root`` is unused: see below).

    Docker's Debian images set ``Dir::Cache::pkgcache ""`` (docker-clean), so every apt
    call re-reads all package lists: about 4 to 8 s each with six architectures enabled,
    0.05 to 0.2 s with a cache file (apt rebuilds it by itself when lists or dpkg status
    change). The file is about 230 MB with nine architectures, so it lives in
    ``$TMPDIR/meta-pyrust-apt-<uid>`` rather than in the cache that CI saves.
    """
    del root
    d = Path(tempfile.gettempdir()) / f"meta-pyrust-apt-{os.getuid()}"
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        st = d.lstat()
        if not d.is_dir() or d.is_symlink() or st.st_uid != os.getuid():
            return []
    except OSError:
        return []
    return ["-o", f"Dir::Cache::pkgcache={d / 'pkgcache.bin'}", "-o", "Dir::Cache::srcpkgcache="]


def _candidates(arch: str, packages: Iterable[str], root: Path) -> dict[str, str]:
    """``apt-cache policy`` candidate version of each ``PKG:ARCH`` (missing ones left out)."""
    out = subprocess.run(
        ["apt-cache", *_apt_opts(root), "policy", *(f"{p}:{arch}" for p in packages)],
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


def _sha256s(arch: str, versions: dict[str, str], root: Path) -> dict[str, str]:
    """SHA256 of each ``PKG:ARCH=VERSION`` from apt's index (one ``apt-cache show`` call)."""
    out = subprocess.run(
        ["apt-cache", *_apt_opts(root), "show", *(f"{p}:{arch}={v}" for p, v in versions.items())],
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


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _deb_path(debs: Path, arch: str, pkg: str, version: str) -> Path:
    return debs / f"{pkg}_{_safe(version)}_{arch}.deb"


def _download(arch: str, versions: dict[str, str], root: Path, progress: Progress) -> list[Path]:
    """The ``.deb`` of each package in the cache; missing ones fetched by one ``apt-get download``.

    A cached file counts only if its SHA256 matches apt's index (a half-written or stale
    file is fetched again). One apt call for all packages: each apt start re-reads every
    package list (seconds each with several architectures enabled).
    """
    debs = root / "debs"
    want = _sha256s(arch, versions, root)
    todo = {}
    for pkg, version in versions.items():
        dest = _deb_path(debs, arch, pkg, version)
        if dest.is_file() and (pkg not in want or _file_sha256(dest) == want[pkg]):
            continue
        todo[pkg] = version
    if len(todo) < len(versions):
        progress(f"provision {arch}: {len(versions) - len(todo)} of {len(versions)} packages already in {debs}")
    if todo:
        t0 = time.monotonic()
        progress(f"provision {arch}: apt-get download {' '.join(todo)} ...")
        tmp = Path(tempfile.mkdtemp(prefix=".partial-", dir=debs))
        try:
            cmd = ["apt-get", *_apt_opts(root), "download", "-q"]
            if _is_root():
                # apt drops to user _apt for downloads, which cannot write a root-owned directory.
                cmd += ["-o", "APT::Sandbox::User=root"]
            _run([*cmd, *(f"{p}:{arch}={v}" for p, v in todo.items())], arch, "apt-get download", cwd=tmp)
            size = 0
            for pkg, version in todo.items():
                got = sorted(tmp.glob(f"{pkg}_*.deb"))
                if len(got) != 1:
                    raise ProvisionError(f"provision {arch}: apt-get download gave no single file for {pkg}:{arch}={version}")
                if pkg in want and _file_sha256(got[0]) != want[pkg]:
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


def _check_sysroot(arch: str, sysroot: Path) -> None:
    """The interpreter exists, is an ELF of ``arch`` and its loader resolves inside the sysroot."""
    from pyrust.qemurun import read_elf

    facts = DEBIAN_ARCHES[arch]
    python = sysroot / "usr" / "bin" / f"python{PYTHON_VERSION}"
    if not python.is_file():
        raise ProvisionError(f"provision {arch}: the unpacked packages have no usr/bin/python{PYTHON_VERSION}")
    elf = read_elf(python)
    if elf is None or (elf.machine, elf.elfclass, elf.endian) != (facts.elf_machine, facts.elfclass, facts.endian):
        raise ProvisionError(f"provision {arch}: usr/bin/python{PYTHON_VERSION} is not an {arch} ELF executable ({elf})")
    if elf.interpreter and not (sysroot / elf.interpreter.lstrip("/")).exists():
        raise ProvisionError(f"provision {arch}: the dynamic loader {elf.interpreter} does not resolve inside the sysroot")


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


def provision_debian_python(debian_arch: str, cache_dir: Path | None = None, progress: Progress = print) -> Path:
    """Fetch and unpack Debian's python3.11 for ``debian_arch`` into the cache; return the sysroot.

    Args:
        debian_arch: a key of :data:`DEBIAN_ARCHES`: ``"armhf"``, ``"armel"``, ``"arm64"``,
            ``"i386"``, ``"mips64el"``, ``"mipsel"``, ``"ppc64el"``, ``"s390x"`` (or ``"amd64"``).
            Use :func:`debian_arch` to get it from a qemu binary or triplet.
        cache_dir: cache root (``None``: ``$PYRUST_CACHE`` or ``~/.cache/meta-pyrust``).
        progress: called with one human-readable line per step (``print`` by default;
            ``lambda s: None`` to be quiet).

    Returns:
        ``<cache>/sysroots/debian-<arch>-python3.11-<version>``, which contains
        ``usr/bin/python3.11``, ``usr/lib/python3.11`` and the loader. Run it with
        ``qemu-<arch> -L <sysroot> <sysroot>/usr/bin/python3.11`` (see :mod:`pyrust.qemurun`).

    Behaviour: if dpkg already knows the architecture, the versions are pinned from
    ``apt-cache policy`` and an existing sysroot of that python3.11 version is returned at
    once; if dpkg does not know it and a sysroot is cached, the newest cached one is returned
    without touching apt; otherwise (as root) ``dpkg --add-architecture`` and ``apt-get
    update`` run first. Downloads are kept in ``<cache>/debs`` and checked against apt's
    SHA256. Concurrent runs are safe: the sysroot appears by one atomic rename.

    Raises:
        InputError: ``debian_arch`` is not a supported architecture.
        ProvisionError: apt/dpkg missing or failing, not root when apt must be changed,
            package not in the archive for that architecture; the message says what to do.

    Example:
        >>> root = provision_debian_python("armhf", progress=lambda s: None)   # doctest: +SKIP
        >>> (root / "usr/bin/python3.11").exists()                             # doctest: +SKIP
        True
    """
    arch = debian_arch
    _check_arch(arch)
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    sysroots, debs = root / "sysroots", root / "debs"
    try:
        sysroots.mkdir(parents=True, exist_ok=True)
        debs.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ProvisionError(f"provision {arch}: cannot create the cache {root}: {e.strerror}; set PYRUST_CACHE") from None
    clean_stale(sysroots)

    updated = False
    if shutil.which("dpkg") is None or shutil.which("apt-get") is None:
        cached = find_sysroot(arch, root)
        if cached:
            progress(f"provision {arch}: using cached {cached} (no apt on this host)")
            return cached
        raise ProvisionError(f"provision {arch}: needs apt-get and dpkg (a Debian or Ubuntu host)")
    if arch not in _known_arches():
        cached = find_sysroot(arch, root)
        if cached:
            progress(f"provision {arch}: using cached {cached.name} (dpkg does not know {arch}; not checking for updates)")
            return cached
        _enable_arch(arch, progress)
        _apt_update(arch, progress)
        updated = True

    versions = _candidates(arch, PACKAGES, root)
    if len(versions) < len(PACKAGES) and not updated:
        _apt_update(arch, progress)
        versions = _candidates(arch, PACKAGES, root)
    missing = [p for p in PACKAGES if p not in versions]
    if missing:
        raise ProvisionError(
            f"provision {arch}: no {', '.join(f'{p}:{arch}' for p in missing)} in the apt sources; "
            f"this needs a Debian release that builds them for {arch} (bookworm does)"
        )

    final = sysroots / sysroot_name(arch, versions["python3.11-minimal"])
    if (final / MANIFEST).is_file():
        progress(f"provision {arch}: up to date: {final}")
        return final

    t0 = time.monotonic()
    progress(f"provision {arch}: python3.11 {versions['python3.11-minimal']}, libc6 {versions['libc6']}")
    files = _download(arch, {p: versions[p] for p in PACKAGES}, root, progress)

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
        _check_sysroot(arch, tmp)
        manifest = {
            "debian_arch": arch,
            "multiarch": DEBIAN_ARCHES[arch].multiarch,
            "python": f"usr/bin/python{PYTHON_VERSION}",
            "packages": {p: versions[p] for p in PACKAGES},
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        os.chmod(tmp, 0o755)  # mkdtemp makes it 0700
        try:
            os.rename(tmp, final)
        except OSError:
            if not (final / MANIFEST).is_file():
                raise ProvisionError(f"provision {arch}: cannot create {final}; remove it and retry") from None
            # another run finished first: keep its copy
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    progress(f"provision {arch}: ready in {time.monotonic() - t0:.1f} s: {final}")
    return final


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python3 -m pyrust.provision [--cache DIR] [--find] ARCH...``; exit 0/1/2."""
    ap = argparse.ArgumentParser(
        prog="python3 -m pyrust.provision",
        description="Unpack Debian's python3.11 for Debian architectures into a cache (for qemu-user).",
    )
    ap.add_argument("arches", nargs="*", metavar="ARCH", help=f"Debian architectures, or 'all' ({' '.join(TARGET_ARCHES)})")
    ap.add_argument("--cache", type=Path, default=None, help="cache root (default: $PYRUST_CACHE or ~/.cache/meta-pyrust)")
    ap.add_argument("--find", action="store_true", help="only print cached sysroots, never run apt (exit 1 if one is missing)")
    ap.add_argument("--arch-of", metavar="NAME", help="print the Debian arch of a qemu binary or triplet and exit")
    ap.add_argument("--float-abi", default="", help="with --arch-of qemu-arm: hard or soft")
    ap.add_argument("-q", "--quiet", action="store_true", help="no progress lines")
    args = ap.parse_args(argv)

    def progress(line: str) -> None:
        if not args.quiet:
            print(line, file=sys.stderr, flush=True)

    try:
        if args.arch_of:
            print(debian_arch(args.arch_of, args.float_abi))
            return 0
        arches = list(TARGET_ARCHES) if args.arches == ["all"] else args.arches
        if not arches:
            ap.error("give at least one architecture (or 'all')")
        for arch in arches:
            _check_arch(arch)
        status = 0
        for arch in arches:
            if args.find:
                found = find_sysroot(arch, args.cache)
                if found is None:
                    progress(f"provision {arch}: no cached sysroot")
                    status = 1
                else:
                    print(found)
            else:
                print(provision_debian_python(arch, args.cache, progress), flush=True)
        return status
    except (InputError, ProvisionError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
