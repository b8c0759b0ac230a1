"""Debian's real python3.11 under qemu-user against the library's answer for the same target.

For each Debian port the test bed provisions (armhf armel arm64 i386 mips64el mipsel
ppc64el s390x) the interpreter is asked for EXT_SUFFIX, SOABI, MULTIARCH and
importlib.machinery.EXTENSION_SUFFIXES; the library computes the same from the BitBake
variables of the matching oe-core configuration with
``pyrust.pyabi.python_abi(pyrust.target.target_from_vars(vars), "3.11")``.

Debian and oe-core's python3 both take PLATFORM_TRIPLET from CPython's configure (the
compiler's predefined macros), so a glibc oe-core target and the Debian port of the same
ABI must agree.

Needs qemu-user and the sysroots (tests/tools/setup-testbed); skipped without them, failed
under CI=true.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from pyrust.machines import machine_vars
from pyrust.qemurun import ExecFormatError, LoaderNotFoundError, QemuNotFoundError, TargetRunError, run_target_python
from testbed import require_tool
from testbed_support.provision import DEBIAN_ARCHES, TARGET_ARCHES

pytestmark = pytest.mark.e2e

# The oe-core configuration that matches each Debian port: a qemu machine's variables
# from the embedded table (real `bitbake -e` output) or one tune's from
# tests/data/oe_tunes.json (same generator, DEFAULTTUNE set). s390x has no oe-core
# machine; its variables are the minimal set a BSP layer would give.
OE_CONFIG: dict[str, tuple[str, object]] = {
    "armhf": ("machine", "qemuarm"),
    "armel": ("machine", "qemuarmv5"),
    "arm64": ("machine", "qemuarm64"),
    "i386": ("machine", "qemux86"),
    "mips64el": ("tune", "qemumips64/mips64r2el/glibc"),
    "mipsel": ("tune", "qemumips/mips32r2el/glibc"),
    "ppc64el": ("machine", "qemuppc64"),
    "s390x": ("vars", {"TARGET_ARCH": "s390x", "TARGET_OS": "linux", "TCLIBC": "glibc", "SITEINFO_BITS": "64",
                       "SITEINFO_ENDIANNESS": "be"}),
}
TUNES_FILE = Path(__file__).resolve().parent.parent / "data" / "oe_tunes.json"


def oe_vars(arch: str) -> dict[str, str]:
    kind, what = OE_CONFIG[arch]
    if kind == "machine":
        return machine_vars(str(what))
    if kind == "tune":
        return dict(json.loads(TUNES_FILE.read_text())["tunes"][str(what)])
    return dict(what)  # type: ignore[call-overload]


@pytest.mark.parametrize("arch", TARGET_ARCHES)
def test_interpreter_follows_the_triplet_rule(arch, interpreter_report):
    """What Debian's interpreter reports is ``.cpython-311-<multiarch>.so`` and its neighbours."""
    facts = DEBIAN_ARCHES[arch]
    got = interpreter_report(arch)
    assert got["version"].startswith("3.11.")
    assert got["MULTIARCH"] == facts.multiarch
    assert got["SOABI"] == f"cpython-311-{facts.multiarch}"
    assert got["EXT_SUFFIX"] == f".cpython-311-{facts.multiarch}.so"
    assert got["EXTENSION_SUFFIXES"] == [got["EXT_SUFFIX"], ".abi3.so", ".so"]
    assert got["byteorder"] == facts.endian
    assert got["pointer_bits"] == facts.elfclass


@pytest.mark.parametrize("arch", TARGET_ARCHES)
def test_library_agrees_with_interpreter(arch, interpreter_report, probe, tmp_path):
    """python_abi(target_from_vars(oe-core vars), "3.11") == what the interpreter reports.

    The interpreter is run a second time with the library's own qemu binary and
    QEMU_OPTIONS for the target, which must start it and give the same answer.
    """
    from pyrust.pyabi import python_abi
    from pyrust.target import target_from_vars

    target = target_from_vars(oe_vars(arch))
    abi = python_abi(target, "3.11")
    got = interpreter_report(arch)
    assert (abi.platform_triplet, abi.soabi, abi.ext_suffix, list(abi.extension_suffixes)) == (
        got["MULTIARCH"], got["SOABI"], got["EXT_SUFFIX"], got["EXTENSION_SUFFIXES"]
    )
    assert target.qemu_binary == DEBIAN_ARCHES[arch].qemu_binary
    again = probe(arch, target.qemu_binary, target.qemu_options, tmp_path)
    assert again["EXT_SUFFIX"] == abi.ext_suffix


# ---- qemurun's failure modes, on one real sysroot --------------------------------------


TIMEOUT = 120.0


@pytest.fixture
def armhf_sysroot(sysroot_of):
    require_tool("qemu-arm")
    return sysroot_of("armhf")


def test_missing_qemu_is_named(armhf_sysroot, tmp_path):
    with pytest.raises(QemuNotFoundError, match="qemu-nonexistent"):
        run_target_python("qemu-nonexistent", (), armhf_sysroot, "/usr/bin/python3.11", "pass", cwd=tmp_path)


def test_target_binary_without_qemu_is_exec_format_error(armhf_sysroot, tmp_path):
    with pytest.raises(ExecFormatError):
        run_target_python(None, (), armhf_sysroot, "/usr/bin/python3.11", "pass", cwd=tmp_path)


def test_wrong_qemu_is_exec_format_error(armhf_sysroot, tmp_path):
    require_tool("qemu-aarch64")
    with pytest.raises(ExecFormatError, match="Invalid ELF image"):
        run_target_python("qemu-aarch64", (), armhf_sysroot, "/usr/bin/python3.11", "pass", cwd=tmp_path)


def test_sysroot_without_loader_is_named(armhf_sysroot, tmp_path):
    bare = tmp_path / "bare"
    (bare / "usr" / "bin").mkdir(parents=True)
    python = bare / "usr" / "bin" / "python3.11"
    python.write_bytes((armhf_sysroot / "usr/bin/python3.11").read_bytes())
    with pytest.raises(TargetRunError, match="not executable"):
        run_target_python("qemu-arm", (), bare, "/usr/bin/python3.11", "pass", cwd=tmp_path)
    python.chmod(0o755)
    with pytest.raises(LoaderNotFoundError, match="ld-linux-armhf"):
        run_target_python("qemu-arm", (), bare, "/usr/bin/python3.11", "pass", cwd=tmp_path, timeout=TIMEOUT)


def test_timeout_kills_the_whole_group(armhf_sysroot, tmp_path):
    token = f"pyrust-timeout-{os.getpid()}-{time.monotonic_ns()}"
    kill_after = 5.0  # seconds: the run sleeps 600 s, so only the timeout ends it
    t0 = time.monotonic()
    result = run_target_python("qemu-arm", (), armhf_sysroot, "/usr/bin/python3.11", f"import time  # {token}\ntime.sleep(600)",
                               cwd=tmp_path, timeout=kill_after)
    elapsed = time.monotonic() - t0
    assert result.timed_out and result.signal is not None
    # SIGKILL to the group at the timeout (procgroup.kill_group): ended by it, not long after
    assert kill_after <= elapsed < 2 * kill_after, f"{elapsed:.1f} s with timeout {kill_after:g} s"
    left = [p for p in os.listdir("/proc") if p.isdigit() and _cmdline_has(p, token)]
    assert left == [], f"processes left behind: {left}"


def test_environment_is_scrubbed(armhf_sysroot, tmp_path, monkeypatch):
    monkeypatch.setenv("PYTHONHOME", "/nonexistent")
    monkeypatch.setenv("PYTHONPATH", "/nonexistent")
    result = run_target_python("qemu-arm", (), armhf_sysroot, "/usr/bin/python3.11",
                               "import os, sys; print(sorted(k for k in os.environ if k.startswith(('PYTHON', 'QEMU'))), sys.prefix)",
                               cwd=tmp_path, timeout=TIMEOUT, extra_env={"PYRUST_MARK": "1"})
    assert result.ok, result.stderr
    names, prefix = result.stdout.rsplit(" ", 1)
    assert names == "['PYTHONDONTWRITEBYTECODE', 'PYTHONNOUSERSITE']"
    assert prefix.strip() == str(armhf_sysroot.resolve() / "usr")


def _cmdline_has(pid: str, token: str) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return token.encode() in f.read()
    except OSError:
        return False

