"""Version-specific CPython rules, each checked against a fact stated in CPython's own
sources (configure.ac, Misc/platform_triplet.c, Python/dynload_shlib.c) or measured on
a real build (the free-threaded debug list was printed by a CPython 3.14.4 built here)."""

from __future__ import annotations

import pytest

from pyrust.machines import machine_vars
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("version", "triplet"), [
    ("3.11", "arm-linux-gnueabihf"),  # conftest has no libc test: gnu, even for musl
    ("3.12", "arm-linux-gnueabihf"),
    ("3.13", "arm-linux-musleabi"),   # platform_triplet.c: #error unknown libc -> oe-core preset
    ("3.14", "arm-linux-musleabi"),
])
def test_musl_depends_on_the_probe_generation(version, triplet):
    target = target_from_vars(machine_vars("qemuarm", "musl"))
    assert python_abi(target, version).platform_triplet == triplet


def test_free_threaded_debug_suffixes():
    target = target_from_vars(machine_vars("qemux86-64"))
    abi = python_abi(target, "3.14", "td")
    # printed by importlib.machinery.EXTENSION_SUFFIXES of a --disable-gil --with-pydebug 3.14.4
    assert list(abi.extension_suffixes) == [
        ".cpython-314td-x86_64-linux-gnu.so", ".cpython-314t-x86_64-linux-gnu.so", ".abi3.so", ".so"]


def test_i686_uses_cpythons_i386_name():
    target = target_from_vars(machine_vars("qemux86"))
    assert python_abi(target, "3.14").ext_suffix == ".cpython-314-i386-linux-gnu.so"
    assert python_abi(target_from_vars(machine_vars("qemux86", "musl")), "3.14").platform_triplet == "i686-linux-musl"


def test_the_original_report():
    # python3-rpds-py on qemuarm: CPython looked for ...-arm-linux-gnueabihf.so
    assert python_abi(target_from_vars(machine_vars("qemuarm")), "3.12").ext_suffix == ".cpython-312-arm-linux-gnueabihf.so"
