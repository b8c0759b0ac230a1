"""The supported CPython versions (one row each) and CPython 3.15's rules.

Expected values here are what real interpreters reported, not the library's output:
Debian sid's CPython 3.15.2 and 3.15.2-dbg for armhf (EXTENSION_SUFFIXES under qemu-arm,
Dec 2026; the e2e tier re-reads them: tests/e2e/test_sid_interpreters.py), and the
free-threaded 3.15 list from python/cpython PR 152461 (gh-122931: the arch-tagged abi3t
suffix goes before ".abi3t.so", which a free-threaded build keeps; it loads no abi3).
"""

from __future__ import annotations

import re

import pytest

from pyrust.errors import InputError
from pyrust.machines import machine_vars
from pyrust.pyabi import SUPPORTED_VERSIONS, check_abiflags, extension_suffixes_for, parse_version, python_abi
from pyrust.tables import CPYTHON_VERSIONS
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit

# armhf, measured: Debian sid python3.15 3.15.2-1 and python3.15-dbg under qemu-arm.
REAL_315 = {
    "": [".cpython-315-arm-linux-gnueabihf.so", ".abi3-arm-linux-gnueabihf.so", ".abi3.so",
         ".abi3t-arm-linux-gnueabihf.so", ".abi3t.so", ".so"],
    "d": [".cpython-315d-arm-linux-gnueabihf.so", ".cpython-315-arm-linux-gnueabihf.so", ".abi3-arm-linux-gnueabihf.so",
          ".abi3.so", ".abi3t-arm-linux-gnueabihf.so", ".abi3t.so", ".so"],
    # gh-122931 / PR 152461 (upstream, no real interpreter here: Debian builds no 3.15t).
    "t": [".cpython-315t-arm-linux-gnueabihf.so", ".abi3t-arm-linux-gnueabihf.so", ".abi3t.so", ".so"],
}


def qemuarm():
    return target_from_vars(machine_vars("qemuarm"))


def test_supported_versions_are_the_table_rows():
    assert SUPPORTED_VERSIONS == ((3, 10), (3, 11), (3, 12), (3, 13), (3, 14), (3, 15))
    assert set(SUPPORTED_VERSIONS) == set(CPYTHON_VERSIONS)
    for version in SUPPORTED_VERSIONS:
        assert parse_version(f"{version[0]}.{version[1]}") == version


@pytest.mark.parametrize("text", ["3.16", "3.9", "4.0"])
def test_versions_outside_the_table_are_refused_naming_the_range(text):
    with pytest.raises(InputError, match=re.escape("from 3.10 to 3.15")):
        parse_version(text, "--python")


@pytest.mark.parametrize("flags", ["", "d", "t"])
def test_315_extension_suffixes_are_the_real_interpreters(flags):
    abi = python_abi(qemuarm(), "3.15", flags)
    assert abi.ext_suffix == REAL_315[flags][0]
    assert list(abi.extension_suffixes) == REAL_315[flags]


def test_315_free_threaded_debug_drops_abi3_and_keeps_the_release_soabi():
    abi = python_abi(qemuarm(), "3.15", "td")
    assert list(abi.extension_suffixes) == [".cpython-315td-arm-linux-gnueabihf.so", ".cpython-315t-arm-linux-gnueabihf.so",
                                            ".abi3t-arm-linux-gnueabihf.so", ".abi3t.so", ".so"]


@pytest.mark.parametrize("version", ["3.13", "3.14"])
def test_upstream_313_and_314_have_no_arch_tagged_abi3(version):
    """Upstream 3.13/3.14 (and oe-core's, which adds no such patch) list only ".abi3.so";
    Debian's arch-tagged one is a Debian patch (see tests/e2e/test_sid_interpreters.py)."""
    nodots = version.replace(".", "")
    abi = python_abi(qemuarm(), version)
    assert list(abi.extension_suffixes) == [f".cpython-{nodots}-arm-linux-gnueabihf.so", ".abi3.so", ".so"]


def test_315_keeps_the_314_triplet_rules():
    """3.15's probe is Misc/platform_triplet.c as in 3.13 and 3.14: musl fails it (oe-core's
    preset), glibc names the triplet."""
    for machine, tclibc, triplet in (("qemuarm", "musl", "arm-linux-musleabi"), ("qemuarm64", "glibc", "aarch64-linux-gnu"),
                                     ("qemuriscv64", "glibc", "riscv64-linux-gnu"), ("qemuloongarch64", "glibc", "loongarch64-linux-gnu")):
        abi = python_abi(target_from_vars(machine_vars(machine, tclibc)), "3.15")
        assert abi.platform_triplet == triplet, machine
        assert abi.soabi == f"cpython-315-{triplet}"


@pytest.mark.parametrize(("version", "flags", "ok"), [
    ((3, 15), "t", True), ((3, 15), "td", True), ((3, 13), "t", True), ((3, 12), "t", False), ((3, 15), "dt", False)])
def test_free_threading_follows_the_table(version, flags, ok):
    if ok:
        assert check_abiflags(flags, version) == flags
    else:
        with pytest.raises(InputError):
            check_abiflags(flags, version)


@pytest.mark.parametrize("suffix", [".so", ".cpython-316-arm-linux-gnueabihf.so", ".abi3.so", "cpython-315.so"])
def test_extension_suffixes_of_an_unknown_suffix_are_refused(suffix):
    with pytest.raises(InputError, match="EXT_SUFFIX"):
        extension_suffixes_for(suffix, "")


def test_wheel_platform_tag_does_not_depend_on_the_version():
    assert {python_abi(qemuarm(), f"3.{minor}").platform_tag for minor in (10, 11, 12, 13, 14, 15)} == {"linux_armv7l"}


@pytest.mark.parametrize(("flags", "build_flags"), [("", None), ("d", "WITH_THREAD,Py_DEBUG"),
                                                    ("t", "WITH_THREAD,Py_GIL_DISABLED")])
def test_pyo3_config_states_debug_and_free_threaded_builds(flags, build_flags):
    """PyO3 0.30.1 refuses abiflags=d without Py_DEBUG in build_flags ("ABI flags are
    inconsistent with Py_DEBUG=false", measured building for Debian's 3.14d)."""
    from pyrust.export import pyo3_config_lines

    lines = pyo3_config_lines(python_abi(qemuarm(), "3.15", flags), (0, 30, 1))
    assert lines is not None
    assert [line for line in lines if line.startswith("build_flags=")] == ([f"build_flags={build_flags}"] if build_flags else [])
    assert f"abiflags={flags}" in lines
