"""The test bed's Debian target Pythons (sysroots to run under qemu-user), tools and sources, in the cache.

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
mistake for a sysroot. Not part of the shipped library (tests/testbed_support); standard library and pyrust only
(used by the set-up tools and the end-to-end tests before anything else is installed; run
with tests/ and lib/ on PYTHONPATH).

Command line (progress goes to stderr, one sysroot path per architecture to stdout)::

    python3 -m testbed_support.provision armhf arm64 s390x
    python3 -m testbed_support.provision --python 3.14 armhf            # Debian sid's python3.14
    python3 -m testbed_support.provision --python 3.14 --abiflags d armhf   # its debug build (python3.14d)
    python3 -m testbed_support.provision --cache /tmp/c --find armhf    # look up only, no apt
    python3 -m testbed_support.provision --arch-of qemu-ppc64le         # -> ppc64el

Facts this relies on (measured on the test bed's Debian 12 host): Debian bookworm's
``python3.11`` 3.11.2 exists for armhf, armel, arm64, i386, mips64el, mipsel, ppc64el,
s390x; ``libc6`` of mips64el and ppc64el ships ``/lib64/ld*.so*`` as absolute symlinks,
which qemu's ``-L`` prefix cannot follow, so they are rewritten as relative links.
sid is merged-/usr (files only under ``usr/``): the sysroot gets ``lib -> usr/lib`` so
the loader path in the ELF header (``/lib/ld-linux-armhf.so.3``) resolves.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from pyrust.cache import cache_dir as default_cache_dir
from pyrust.debianpython import (  # the tables, names and fix-ups the product's --fetch-python uses too
    DEBIAN_ARCHES,
    DEBIAN_PYTHONS,
    MANIFEST,
    PYTHON_VERSION,
    Progress,
    _candidates,
    _check_arch,
    _check_sysroot,
    _download,
    _is_root,
    _publish,
    _python3_link,
    _run,
    _safe,
    clean_stale,
    debian_arch,
    debian_python,
    find_sysroot,
    interpreter_name,
    sysroot_name,
    unpack_debs,
)
from pyrust.debianpython import FetchError as ProvisionError
from pyrust.errors import InputError
from testbed_support.private_apt import ARCHIVE_KEYRING, pkgcache_options, private_apt_dir, private_apt_options  # noqa: F401 (ARCHIVE_KEYRING: re-exported)

#: Debian suites whose binary packages are reached through a private apt configuration
#: (:mod:`testbed_support.private_apt`); the others (bookworm) through the host's own apt.
PRIVATE_SUITES: tuple[str, ...] = ("sid",)

#: The architectures sid builds python3.13 to 3.15 for (its InRelease ``Architectures``, Dec 2026).
SID_ARCHES: tuple[str, ...] = ("armhf", "arm64", "i386", "ppc64el", "s390x", "riscv64", "loong64")

#: The architectures the test bed provisions (amd64 is the host: no qemu needed).
TARGET_ARCHES: tuple[str, ...] = ("armhf", "armel", "arm64", "i386", "mips64el", "mipsel", "ppc64el", "s390x")




# --------------------------------------------------------------------------------------
# running tools


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


def _known_arches() -> set[str]:
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True).stdout.split()
    foreign = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True, text=True).stdout.split()
    return set(native) | set(foreign)


def _apt_update(arch: str, progress: Progress) -> None:
    if not _is_root():
        raise ProvisionError(
            f"provision {arch}: the apt package lists lack {arch}; as root run "
            f"'dpkg --add-architecture {arch} && apt-get update' (or tests/tools/setup-testbed), then retry"
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
            f"'dpkg --add-architecture {arch} && apt-get update' (or tests/tools/setup-testbed), then retry"
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


# --------------------------------------------------------------------------------------
# sysroot fix-ups


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
    (:func:`testbed_support.private_apt.private_apt_options`; any user, nothing of the host's apt changes), updated only when
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
        links, made = unpack_debs(files, tmp, arch)
        if links:
            progress(f"provision {arch}: made {len(links)} absolute symlinks relative: "
                     + ", ".join(str(p.relative_to(tmp)) for p in links[:4]) + (" ..." if len(links) > 4 else ""))
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
        unpack_debs(files, tmp, arch)
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

    For the test beds' CPython sources (tests/tools/build-target-cpython builds them,
    tests/tools/fetch-cpython-probe reads configure's triplet probe from them): upstream as
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
    of ``suite`` (:func:`testbed_support.private_apt.private_apt_options`; the host's apt is neither
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
                             f"(dpkg --add-architecture {arch} && apt-get update, or tests/tools/setup-testbed)")
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
    """Command line: ``python3 -m testbed_support.provision [--python X.Y] [--abiflags d] [--cache DIR] [--find] ARCH...``
    or ``python3 -m testbed_support.provision --source PACKAGE/SUITE`` (prints the tree's path); exit 0/1/2."""
    ap = argparse.ArgumentParser(
        prog="python3 -m testbed_support.provision",
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
