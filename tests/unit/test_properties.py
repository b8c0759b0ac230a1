"""Property tests: any string input gives a result or the documented error."""

from __future__ import annotations

import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyrust.bbenv import parse_bitbake_env
from pyrust.errors import InputError
from pyrust.pyabi import python_abi
from pyrust.tables import TARGET_ARCHES
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit

VARIABLES = ["TARGET_ARCH", "TARGET_OS", "TUNE_FEATURES", "TUNE_CCARGS", "TARGET_FPU", "ABIEXTENSION", "TCLIBC",
             "SITEINFO_BITS", "SITEINFO_ENDIANNESS", "RUST_TARGET_SYS", "RUST_HOST_SYS", "HOST_ARCH", "HOST_OS",
             "TARGET_SYS", "TARGET_VENDOR", "PYTHON_BASEVERSION", "MACHINE_FEATURES", "QEMU_OPTIONS"]

plausible = st.sampled_from(sorted(TARGET_ARCHES) + ["linux", "linux-gnueabi", "linux-musl", "linux-gnux32",
                                                     "linux-gnun32", "hard", "soft", "eabi", "n32", "le", "be", "32",
                                                     "64", "glibc", "musl", "3.12", "-mfloat-abi=hard", "fpu-hard",
                                                     "armv7-oe-linux-gnueabihf", "mips64-oe-linux-gnu", ""])
values = st.one_of(st.text(max_size=30), plausible)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(VARIABLES), values), st.one_of(st.none(), st.text(max_size=6), plausible),
       st.sampled_from(["", "d", "t", "td", "x"]))
def test_target_and_abi_give_result_or_input_error(variables, version, flags):
    try:
        target = target_from_vars(variables)
        abi = python_abi(target, version, flags)
    except InputError as err:
        assert "\n" not in str(err)
        return
    assert abi.ext_suffix == f".{abi.soabi}.so"
    assert abi.ext_suffix in abi.extension_suffixes


@settings(max_examples=300)
@given(st.text(max_size=300))
def test_bitbake_env_parser_total(text):
    try:
        parse_bitbake_env(text)
    except InputError:
        pass


@settings(max_examples=25, deadline=None)
@given(st.lists(st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12), max_size=5))
def test_cli_exits_0_or_2(argv):
    result = subprocess.run([sys.executable, "-m", "pyrust.cli", "abi", *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 2), result.stderr
    assert "Traceback" not in result.stderr
