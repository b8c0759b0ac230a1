"""The sysroot's own data is read as data and wins over the rules, with a warning."""

from __future__ import annotations

import json

import pytest

from pyrust.errors import InputError
from pyrust.resolve import resolve_abi
from pyrust.sysconfigdata import abi_from_sysroot, read_sysconfigdata
from pyrust.target import target_from_vars

pytestmark = pytest.mark.unit

MIPS64EL = {"TARGET_ARCH": "mips64el", "TARGET_OS": "linux", "TUNE_FEATURES": "fpu-hard n64 mips64r2",
            "TUNE_CCARGS": "-EL -mabi=64 -mhard-float", "TARGET_FPU": "", "PYTHON_BASEVERSION": "3.11"}


def write_sysconfigdata(path, ext_suffix, soabi, multiarch, version="3.11", abiflags="", prelude=""):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        prelude + "# system configuration generated and used by the sysconfig module\n"
        f"build_time_vars = {{'ABIFLAGS': {abiflags!r}, 'EXT_SUFFIX': {ext_suffix!r}, 'MULTIARCH': {multiarch!r},\n"
        f" 'SOABI': {soabi!r}, 'VERSION': {version!r}, 'CC': 'gcc -pthread'}}\n"
    )
    return path


def test_file_is_never_executed(tmp_path):
    marker = tmp_path / "executed"
    f = write_sysconfigdata(tmp_path / "_sysconfigdata__linux_x.py", ".cpython-311-x.so", "cpython-311-x", "x",
                            prelude=f"open({str(marker)!r}, 'w').write('ran')\n")
    abi = read_sysconfigdata(f)
    assert abi.ext_suffix == ".cpython-311-x.so"
    assert not marker.exists()


def test_non_literal_build_time_vars_is_an_error(tmp_path):
    f = tmp_path / "_sysconfigdata__x.py"
    f.write_text("build_time_vars = dict(SOABI=__import__('os').getcwd())\n")
    with pytest.raises(InputError):
        read_sysconfigdata(f)


def test_sysroot_agreeing_with_rules_gives_no_warning(tmp_path):
    target = target_from_vars(MIPS64EL)
    write_sysconfigdata(tmp_path / "usr/lib/python3.11/_sysconfigdata__mips64el-linux-gnuabi64.py",
                        ".cpython-311-mips64el-linux-gnuabi64.so", "cpython-311-mips64el-linux-gnuabi64",
                        "mips64el-linux-gnuabi64")
    res = resolve_abi(target, sysroot=tmp_path, require_sysroot_abi=True)
    assert res.abi.source == "sysroot"
    assert res.warnings == ()


def test_sysroot_wins_and_the_warning_names_both_values(tmp_path):
    target = target_from_vars(MIPS64EL)
    # What maturin's guess would look like, planted as if a sysroot said it.
    write_sysconfigdata(tmp_path / "usr/lib/python-sysconfigdata/_sysconfigdata.py",
                        ".cpython-311-mips64-linux-gnuabi64.so", "cpython-311-mips64-linux-gnuabi64", "")
    res = resolve_abi(target, sysroot=tmp_path)
    assert res.abi.ext_suffix == ".cpython-311-mips64-linux-gnuabi64.so"
    assert res.abi.source == "sysroot"
    joined = "\n".join(res.warnings)
    assert ".cpython-311-mips64-linux-gnuabi64.so" in joined
    assert ".cpython-311-mips64el-linux-gnuabi64.so" in joined


def test_build_details_json(tmp_path):
    target = target_from_vars({**MIPS64EL, "PYTHON_BASEVERSION": "3.14"})
    path = tmp_path / "usr/lib/python3.14/build-details.json"
    path.parent.mkdir(parents=True)
    suffixes = [".cpython-314-mips64el-linux-gnuabi64.so", ".abi3.so", ".so"]
    path.write_text(json.dumps({
        "schema_version": "1.0", "platform": "linux-mips64",
        "language": {"version": "3.14"}, "implementation": {"name": "cpython"},
        "abi": {"flags": [], "extension_suffix": suffixes[0], "stable_abi_suffix": ".abi3.so"},
        "suffixes": {"extensions": suffixes},
    }))
    res = resolve_abi(target, sysroot=tmp_path, require_sysroot_abi=True)
    assert res.abi.version == "3.14"
    assert list(res.abi.extension_suffixes) == suffixes
    assert res.warnings == ()


def test_empty_sysroot(tmp_path):
    target = target_from_vars(MIPS64EL)
    with pytest.raises(InputError):
        resolve_abi(target, sysroot=tmp_path, require_sysroot_abi=True)
    res = resolve_abi(target, sysroot=tmp_path)
    assert res.abi.source == "table" and len(res.warnings) == 1


def test_ambiguous_sysroot(tmp_path):
    for flags in ("", "d"):
        write_sysconfigdata(tmp_path / f"usr/lib/python3.11/_sysconfigdata_{flags}_linux_mips64el-linux-gnuabi64.py",
                            f".cpython-311{flags}-mips64el-linux-gnuabi64.so", f"cpython-311{flags}-mips64el-linux-gnuabi64",
                            "mips64el-linux-gnuabi64", abiflags=flags)
    with pytest.raises(InputError):
        abi_from_sysroot(tmp_path)
    assert abi_from_sysroot(tmp_path, abiflags="d").abiflags == "d"
