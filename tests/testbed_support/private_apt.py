# SPDX-License-Identifier: MIT
"""A private apt configuration: one Debian suite, read and fetched without the host's apt.

The test beds take Debian packages from suites the host's apt does not list: sid's
binary packages (:mod:`testbed_support.provision`: target interpreters, qemu-user) and the CPython
source packages of bookworm and trixie (:func:`testbed_support.provision.provision_debian_source`,
used by build_target_cpython and the CPython probe fetch). Each suite gets a
directory of its own under ``<cache>/apt/``: a one-line sources list, package lists, an
archive cache and an empty dpkg status, passed to apt-get/apt-cache as ``-o`` options
(apt.conf(5) ``Dir::*``), so the host's sources, lists and installed packages are neither
read nor changed, and no ``dpkg --add-architecture`` or root is needed.

Standard library only.
"""

from __future__ import annotations

import os
from pathlib import Path

#: Debian's archive, for hosts whose apt sources name no Debian mirror (a non-Debian host).
DEBIAN_ARCHIVE = "http://deb.debian.org/debian"

#: Keyring the suites' Release files are checked with: bookworm's debian-archive-keyring
#: (2023.3+deb12u2 carries the trixie keys that also sign sid today).
ARCHIVE_KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg"


def pkgcache_options(name: str = "") -> list[str]:
    """Options giving apt a binary package cache file of its own (``name``: one per private
    configuration; "" for the host's own apt configuration).

    Docker's Debian images set ``Dir::Cache::pkgcache ""`` (docker-clean), so every apt
    call re-reads all package lists: about 4 to 8 s each with six architectures enabled,
    0.05 to 0.2 s with a cache file (apt rebuilds it by itself when lists or dpkg status
    change). The file is about 230 MB with nine architectures, so it lives in
    ``$TMPDIR/meta-pyrust-apt-<uid>`` rather than in the cache that CI saves. ``[]`` when
    that directory is not safely ours.
    """
    import tempfile

    d = Path(tempfile.gettempdir()) / f"meta-pyrust-apt-{os.getuid()}"
    try:
        d.mkdir(mode=0o700, exist_ok=True)
        st = d.lstat()
        if not d.is_dir() or d.is_symlink() or st.st_uid != os.getuid():
            return []
    except OSError:
        return []
    cache = d / (f"pkgcache-{name}.bin" if name else "pkgcache.bin")
    return ["-o", f"Dir::Cache::pkgcache={cache}", "-o", "Dir::Cache::srcpkgcache="]


def debian_archive_uri(indextargets: str | None = None, os_release: str | None = None) -> str:
    """The Debian archive URI for private configurations.

    The one the host's apt sources use for the host's own Debian suite (a local mirror
    where the host uses one, so the test beds fetch from where the host's apt does), else
    :data:`DEBIAN_ARCHIVE`.

    Args:
        indextargets: output of ``apt-get indextargets --format '$(SITE) $(RELEASE)
            $(COMPONENT) $(IDENTIFIER)'`` (``None``: run it; no apt-get counts as empty).
        os_release: text of /etc/os-release (``None``: read it).

    Returns:
        e.g. ``"http://deb.debian.org/debian"`` (no trailing slash).

    Example:
        >>> debian_archive_uri("http://mirror.example/debian bookworm main Packages\\n",
        ...                    'ID=debian\\nVERSION_CODENAME=bookworm\\n')
        'http://mirror.example/debian'
    """
    if os_release is None:
        try:
            os_release = Path("/etc/os-release").read_text()
        except OSError:
            os_release = ""
    fields = dict(line.split("=", 1) for line in os_release.splitlines() if "=" in line)
    if fields.get("ID", "").strip('"') != "debian":
        return DEBIAN_ARCHIVE
    codename = fields.get("VERSION_CODENAME", "").strip('"')
    if indextargets is None:
        import subprocess

        try:
            # with the host configuration's cache file: without one, this alone takes 7 s
            indextargets = subprocess.run(
                ["apt-get", *pkgcache_options(), "indextargets", "--format", "$(SITE) $(RELEASE) $(COMPONENT) $(IDENTIFIER)"],
                capture_output=True, text=True, env=dict(os.environ, LC_ALL="C"),
            ).stdout
        except OSError:
            indextargets = ""
    for line in indextargets.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[1] == codename and parts[2] == "main" and parts[3] == "Packages":
            return parts[0].rstrip("/")
    return DEBIAN_ARCHIVE


def private_apt_dir(suite: str, root: Path, arch: str = "", source: bool = False) -> Path:
    """``<root>/apt/<suite>-<arch>`` (binary packages) or ``<root>/apt/src-<suite>`` (sources).

    One directory per architecture, since ``apt-get update`` drops the lists of
    architectures it was not told about.
    """
    return root / "apt" / (f"src-{suite}" if source else f"{suite}-{arch}")


def private_apt_options(suite: str, root: Path, arch: str = "", source: bool = False,
                        archive: str | None = None) -> list[str]:
    """apt options for a private configuration of Debian ``suite`` (created if needed).

    Args:
        suite: a Debian suite: "sid", "trixie", "bookworm".
        root: the cache root; the configuration lives in :func:`private_apt_dir`.
        arch: for binary packages, the Debian architecture ("riscv64"), apt's only one.
        source: a ``deb-src`` configuration (``apt-get source``, ``apt-cache showsrc``).
        archive: the archive URI (``None``: :func:`debian_archive_uri`).

    Returns:
        ``["-o", "Dir::Etc::SourceList=...", ...]`` for apt-get and apt-cache. As root,
        apt is told not to switch to its ``_apt`` user (the lists are ours).

    Raises:
        ValueError: a binary configuration without ``arch``.

    Example:
        >>> opts = private_apt_options("trixie", Path("/tmp/c"), source=True)  # doctest: +SKIP
        >>> subprocess.run(["apt-get", *opts, "update"])                        # doctest: +SKIP
    """
    if not source and not arch:
        raise ValueError("private_apt_options: a binary configuration needs arch")
    base = private_apt_dir(suite, root, arch, source)
    for sub in ("lists/partial", "cache/archives/partial"):
        (base / sub).mkdir(parents=True, exist_ok=True)
    sources = base / "sources.list"
    kind = "deb-src" if source else "deb"
    line = f"{kind} [signed-by={ARCHIVE_KEYRING}] {archive or debian_archive_uri()} {suite} main\n"
    if not sources.is_file() or sources.read_text() != line:
        sources.write_text(line)
    status = base / "status"
    if not status.is_file():
        status.write_text("")
    opts = [
        "-o", f"Dir::Etc::SourceList={sources}", "-o", "Dir::Etc::SourceParts=/nonexistent",
        "-o", f"Dir::State::Lists={base / 'lists'}", "-o", f"Dir::Cache={base / 'cache'}",
        "-o", f"Dir::State::status={status}", "-o", "Acquire::Languages=none",
    ]
    if arch:
        opts += ["-o", f"APT::Architecture={arch}", "-o", f"APT::Architectures::={arch}"]
    if source:
        opts += ["-o", "Dir::Cache::pkgcache=", "-o", "Dir::Cache::srcpkgcache="]
    else:
        opts += [
            "-o", "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false",
            "-o", "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false",
            "-o", "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false",
        ]
    if os.getuid() == 0:
        opts += ["-o", "APT::Sandbox::User=root"]
    return opts
