"""What the class exports and writes, from real inputs (the example crate's Cargo.lock)."""

from __future__ import annotations

import os

import pytest

from pyrust.cargolock import pyo3_version
from pyrust.errors import InputError
from pyrust.export import amend_pyo3_config, build_environment, pyo3_config_lines, pyo3_strategy, wrapper_unexports
from pyrust.machines import machine_vars
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars
from testbed import REPO

pytestmark = pytest.mark.unit

EXAMPLE_LOCK = REPO / "recipes-devtools/python/files/pyrust-example/Cargo.lock"


def test_pyo3_version_from_the_example_lock():
    assert pyo3_version(EXAMPLE_LOCK) == (0, 30, 1)


@pytest.mark.parametrize(("version", "strategy"), [((0, 18, 0), "sysconfigdata"), ((0, 18, 1), "config-file"),
                                                   ((0, 30, 1), "config-file"), (None, "config-file")])
def test_strategy_follows_pyo3_tolerance(version, strategy):
    assert pyo3_strategy(version) == strategy


def test_lock_with_two_pyo3_versions_is_refused(tmp_path):
    lock = tmp_path / "Cargo.lock"
    lock.write_text('version = 3\n[[package]]\nname = "pyo3"\nversion = "0.20.0"\n[[package]]\nname = "pyo3"\nversion = "0.21.0"\n')
    with pytest.raises(InputError):
        pyo3_version(lock)


def test_oe_core_pyo3_config_amended():
    abi = python_abi(target_from_vars(machine_vars("qemumips64")), "3.14")
    oe_config = "implementation=CPython\nversion=3.14\nshared=true\nabi3=false\npointer_width=64\n"
    amended = amend_pyo3_config(oe_config, pyo3_config_lines(abi, (0, 29, 0)))
    assert amended.splitlines()[:5] == oe_config.splitlines()
    assert "ext_suffix=.cpython-314-mips64-linux-gnuabi64.so" in amended.splitlines()
    assert pyo3_config_lines(abi, (0, 17, 3)) is None


def test_environment_names_the_suffix_and_platform():
    target = target_from_vars(machine_vars("qemuarm"))
    env = build_environment(target, python_abi(target, "3.12"))
    assert env["SETUPTOOLS_EXT_SUFFIX"] == ".cpython-312-arm-linux-gnueabihf.so"
    assert env["_PYTHON_HOST_PLATFORM"] == "linux-armv7l"


# Every way sccache wraps rustc: the environment variables cargo reads, and none at all
# (a cargo configuration's build.rustc-wrapper, which the environment does not show).
SCCACHE_ENGAGED = [
    {"RUSTC_WRAPPER": "/usr/bin/sccache"},
    {"RUSTC_WORKSPACE_WRAPPER": "sccache"},
    {"CARGO_BUILD_RUSTC_WRAPPER": "/opt/bin/sccache"},
    {"CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER": "sccache"},
    {},
]


@pytest.mark.parametrize("wrapper", SCCACHE_ENGAGED)
def test_sccache_server_switches_are_dropped_however_sccache_is_engaged(wrapper):
    env = {**wrapper, "SCCACHE_START_SERVER": "1", "SCCACHE_NO_DAEMON": "1", "RUSTC": "/usr/bin/rustc"}
    assert wrapper_unexports(env) == ["SCCACHE_START_SERVER", "SCCACHE_NO_DAEMON"]


def test_only_server_switches_are_dropped():
    # The wrapper stays (sccache must still run) and so does sccache's client configuration.
    env = {"RUSTC_WRAPPER": "sccache", "RUSTC_WORKSPACE_WRAPPER": "sccache", "RUSTC": "/usr/bin/sccache",
           "SCCACHE_DIR": "/cache", "SCCACHE_IDLE_TIMEOUT": "0", "SCCACHE_NO_DAEMON": "1"}
    assert wrapper_unexports(env) == ["SCCACHE_NO_DAEMON"]
    assert wrapper_unexports({"RUSTC_WRAPPER": "sccache", "RUSTC": "sccache"}) == []
    assert wrapper_unexports({}) == []


def test_wrapper_unexports_reads_os_environ(monkeypatch):
    monkeypatch.setenv("SCCACHE_START_SERVER", "1")
    monkeypatch.delenv("SCCACHE_NO_DAEMON", raising=False)
    assert wrapper_unexports(os.environ) == ["SCCACHE_START_SERVER"]
