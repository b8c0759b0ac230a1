"""Parsing `bitbake -e` output, with the escapes bitbake's emit_var writes."""

from __future__ import annotations

import pytest

from pyrust.bbenv import parse_assignment, parse_bitbake_env
from pyrust.errors import InputError

pytestmark = pytest.mark.unit

SAMPLE = r'''#
# $TARGET_ARCH [2 operations]
#   set /oe/meta/conf/bitbake.conf:129
#     "${TUNE_ARCH}"
# pre-expansion value:
#   "${TUNE_ARCH}"
TARGET_ARCH="arm"
export PYO3_CROSS="1"
unset LANGUAGE
TUNE_CCARGS=" -march=armv7ve -mfloat-abi=hard"
QUOTED="say \"hi\" for \$HOME"
MULTI="line one \
line two"

do_configure() {
    TARGET_ARCH="inside a function"
}

python do_something () {
    d.setVar("TARGET_OS", "nope")
}
TARGET_OS="linux-gnueabi"
'''


def test_parses_values_and_skips_functions():
    values = parse_bitbake_env(SAMPLE)
    assert values["TARGET_ARCH"] == "arm"
    assert values["PYO3_CROSS"] == "1"
    assert values["TUNE_CCARGS"] == " -march=armv7ve -mfloat-abi=hard"
    assert values["QUOTED"] == 'say "hi" for $HOME'
    assert values["MULTI"] == "line one\nline two"
    assert values["TARGET_OS"] == "linux-gnueabi"
    assert "LANGUAGE" not in values


def test_truncated_value_is_an_error():
    with pytest.raises(InputError):
        parse_bitbake_env('TARGET_ARCH="arm\nTARGET_OS="linux')


def test_not_bitbake_output():
    with pytest.raises(InputError):
        parse_bitbake_env("hello world\n")


def test_assignment():
    assert parse_assignment("TUNE_FEATURES=a b=c") == ("TUNE_FEATURES", "a b=c")
    with pytest.raises(InputError):
        parse_assignment("=x")
