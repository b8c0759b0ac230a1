"""testbed_support.provision's version table and the private apt configurations (testbed_support.private_apt), without apt or network."""

from __future__ import annotations

import json

import pytest

from pyrust.errors import InputError
from testbed_support import private_apt, provision

pytestmark = pytest.mark.unit


def fake_sysroot(cache, name):
    root = cache / "sysroots" / name
    (root / "usr" / "bin").mkdir(parents=True)
    (root / provision.MANIFEST).write_text(json.dumps({"python": "usr/bin/x"}))
    return root


def test_find_sysroot_tells_versions_and_debug_builds_apart(tmp_path):
    release = fake_sysroot(tmp_path, "debian-armhf-python3.14-3.14.10-1")
    debug = fake_sysroot(tmp_path, "debian-armhf-python3.14d-3.14.10-1")
    old = fake_sysroot(tmp_path, "debian-armhf-python3.11-3.11.2-6+deb12u9")
    (tmp_path / "sysroots" / "debian-armhf-python3.15-3.15.2-1").mkdir()  # no manifest: incomplete
    assert provision.find_sysroot("armhf", tmp_path, "3.14") == release
    assert provision.find_sysroot("armhf", tmp_path, "3.14", "d") == debug
    assert provision.find_sysroot("armhf", tmp_path) == old
    assert provision.find_sysroot("armhf", tmp_path, "3.15") is None
    assert provision.find_sysroot("arm64", tmp_path, "3.14") is None


@pytest.mark.parametrize(("python", "abiflags", "variable"), [("3.16", "", "--python"), ("3.12", "", "--python"),
                                                              ("3.14", "t", "--abiflags"), ("3.14", "td", "--abiflags")])
def test_versions_and_flags_debian_does_not_ship_are_refused(python, abiflags, variable):
    with pytest.raises(InputError) as err:
        provision.debian_python(python, abiflags)
    assert err.value.variable == variable


def test_cli_refuses_with_exit_2(tmp_path, capsys):
    assert provision.main(["--cache", str(tmp_path), "--python", "3.16", "armhf"]) == 2
    assert "3.16" in capsys.readouterr().err


def test_private_apt_configuration_is_sids_only(tmp_path):
    opts = private_apt.private_apt_options("sid", tmp_path, "riscv64", archive="http://deb.debian.org/debian")
    base = tmp_path / "apt" / "sid-riscv64"
    assert (base / "sources.list").read_text() == (
        f"deb [signed-by={provision.ARCHIVE_KEYRING}] http://deb.debian.org/debian sid main\n")
    assert (base / "status").read_text() == ""  # nothing counts as installed
    pairs = dict(opt.split("=", 1) for opt in opts if opt != "-o")
    assert pairs["Dir::Etc::SourceList"] == str(base / "sources.list")
    assert pairs["Dir::Etc::SourceParts"] == "/nonexistent"  # the host's sources.list.d is not read
    assert pairs["Dir::State::status"] == str(base / "status")
    assert pairs["APT::Architectures::"] == "riscv64"  # "::=" replaces the list


def test_private_source_configuration_is_deb_src_of_one_suite(tmp_path):
    opts = private_apt.private_apt_options("trixie", tmp_path, source=True, archive="http://mirror.example/debian")
    base = tmp_path / "apt" / "src-trixie"
    assert (base / "sources.list").read_text() == (
        f"deb-src [signed-by={private_apt.ARCHIVE_KEYRING}] http://mirror.example/debian trixie main\n")
    pairs = dict(opt.split("=", 1) for opt in opts if opt != "-o")
    assert pairs["Dir::Etc::SourceParts"] == "/nonexistent"
    assert pairs["Dir::State::Lists"] == str(base / "lists")
    assert not any(key.startswith("APT::Architecture") for key in pairs)  # sources have no architecture
    with pytest.raises(ValueError, match="needs arch"):
        private_apt.private_apt_options("sid", tmp_path)


# `apt-get indextargets --format '$(SITE) $(RELEASE) $(COMPONENT) $(IDENTIFIER)'` on a
# Debian 12 host with a local mirror and a deb-src line for trixie (its lines' shape as
# apt 2.6 prints them)
INDEXTARGETS = """\
http://mirror.example/debian/ bookworm main Packages
http://mirror.example/debian/ bookworm main Translations
http://deb.debian.org/debian/ trixie main Sources
http://security.debian.org/debian-security/ bookworm-security main Packages
"""


@pytest.mark.parametrize(("os_release", "uri"), [
    ("ID=debian\nVERSION_CODENAME=bookworm\n", "http://mirror.example/debian"),  # the host's mirror
    ('ID="debian"\nVERSION_CODENAME="trixie"\n', "http://deb.debian.org/debian"),  # no trixie Packages entry
    ("ID=ubuntu\nVERSION_CODENAME=noble\n", "http://deb.debian.org/debian"),  # not Debian: Debian's archive
    ("", "http://deb.debian.org/debian"),
])
def test_archive_uri_is_the_hosts_debian_mirror_else_debians(os_release, uri):
    assert private_apt.debian_archive_uri(INDEXTARGETS, os_release) == uri


def test_source_cli_refuses_a_malformed_package_suite(tmp_path, capsys):
    assert provision.main(["--cache", str(tmp_path), "--source", "python3.13"]) == 2
    assert "--source='python3.13': expected PACKAGE/SUITE" in capsys.readouterr().err


def test_every_sid_arch_is_a_known_port():
    assert set(provision.SID_ARCHES) <= set(provision.DEBIAN_ARCHES)
    assert provision.debian_arch("loongarch64-linux-gnu") == "loong64"
    assert provision.debian_arch("qemu-riscv64") == "riscv64"
