"""Bad input gives InputError (library) or exit 2 with one line (CLI), never a traceback."""

from __future__ import annotations

import subprocess
import sys

import pytest

from pyrust.errors import InputError
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit

ARMV7HF = {
    "TARGET_ARCH": "arm",
    "TARGET_OS": "linux-gnueabi",
    "TUNE_FEATURES": "arm vfp callconvention-hard neon armv7ve thumb",
    "TUNE_CCARGS": "-march=armv7ve -mthumb -mfpu=neon -mfloat-abi=hard -mcpu=cortex-a15",
    "TARGET_FPU": "hard",
    "SITEINFO_BITS": "32",
    "SITEINFO_ENDIANNESS": "le",
}


@pytest.mark.parametrize(
    ("changes", "variable"),
    [
        ({"TARGET_ARCH": "sparc"}, "TARGET_ARCH"),
        ({"TARGET_ARCH": ""}, "TARGET_ARCH"),
        ({"TARGET_OS": "eabi"}, "TARGET_OS"),
        ({"RUST_TARGET_SYS": "mips-oe-linux-gnu"}, "RUST_TARGET_SYS"),
        ({"RUST_HOST_SYS": "armv7-oe-linux-gnueabi"}, "RUST_HOST_SYS"),  # soft-float Rust target, hard-float tune
        ({"TUNE_CCARGS": "-march=armv7ve -mbig-endian -mfloat-abi=hard"}, "TUNE_CCARGS"),
        ({"SITEINFO_ENDIANNESS": "be"}, "SITEINFO_ENDIANNESS"),
        ({"SITEINFO_BITS": "64"}, "SITEINFO_BITS"),
        ({"TCLIBC": "musl"}, "TCLIBC"),
        ({"TCLIBC": "newlib"}, "TCLIBC"),
        ({"TARGET_FPU": "soft"}, "TARGET_FPU"),
        ({"HOST_ARCH": "x86_64", "HOST_OS": "linux"}, "HOST_ARCH"),
        ({"ABIEXTENSION": "x32"}, "ABIEXTENSION"),
        ({"TUNE_FEATURES": "bigendian armv7a"}, "TUNE_FEATURES"),
    ],
)
def test_contradictions_name_the_variable(changes, variable):
    with pytest.raises(InputError) as err:
        target_from_vars({**ARMV7HF, **changes})
    assert err.value.variable == variable
    assert "\n" not in str(err.value)
    assert str(err.value).startswith(variable)


def test_missing_float_evidence_is_an_error_not_a_guess():
    with pytest.raises(InputError) as err:
        target_from_vars({"TARGET_ARCH": "mipsel", "TARGET_OS": "linux"})
    assert err.value.variable == "TARGET_FPU"


@pytest.mark.parametrize("version", ["3", "3.9", "2.7", "3.16", "three", "3.12.1", "", " 3.1x"])
def test_bad_python_versions(version):
    target = target_from_vars(ARMV7HF)
    with pytest.raises(InputError) as err:
        python_abi(target, version)
    assert err.value.variable == "--python"


@pytest.mark.parametrize(("version", "flags"), [("3.12", "t"), ("3.13", "dt"), ("3.14", "m"), ("3.11", "x")])
def test_bad_abiflags(version, flags):
    with pytest.raises(InputError):
        python_abi(target_from_vars(ARMV7HF), version, flags)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pyrust.cli", *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "args",
    [
        ["abi", "--var", "TARGET_ARCH=sparc", "--var", "TARGET_OS=linux"],
        ["abi", "--machine", "qemuarm", "--var", "RUST_TARGET_SYS=mips-oe-linux-gnu"],
        ["abi", "--machine", "qemuarm", "--python", "3.x"],
        ["abi", "--machine", "nosuchmachine"],
        ["abi", "--env-file", "/nonexistent/bitbake-e.txt"],
        ["abi", "--var", "NOEQUALS"],
        ["abi"],
        ["abi", "--machine", "qemuarm", "--sysroot", "/nonexistent"],
        ["abi", "--machine", "qemuarm", "--format", "xml"],
        ["nosuchcommand"],
    ],
)
def test_cli_bad_input_exits_2_with_one_line(args):
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert "Traceback" not in result.stderr
    assert lines[-1].startswith("pyrust") and "error" in lines[-1]
