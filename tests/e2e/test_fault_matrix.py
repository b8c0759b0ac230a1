"""Fault matrix on real cross-compiled objects: each fault gives its named QA finding,
the checked tree is unchanged, and the import run leaves no process behind."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from pyrust.check import QA_ELF, QA_IMPORT, import_check, static_check
from pyrust.machines import machine_vars
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars
from testbed import REPO, require_tool

pytestmark = pytest.mark.e2e

TUNES = json.loads((REPO / "tests" / "data" / "oe_tunes.json").read_text())["tunes"]
MODULE = "void *PyInit_NAME(void) { return 0; }\n"


def cross_so(tmp: Path, gcc: str, flags: list[str], dest: Path, name: str) -> Path:
    compiler = require_tool(gcc)
    src = tmp / f"{name}.c"
    src.write_text(MODULE.replace("NAME", name))
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([compiler, *flags, "-shared", "-fPIC", "-nostdlib", "-o", str(dest), str(src)], check=True)
    return dest


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for p in sorted(root.rglob("*")):
        h.update(str(p).encode() + (p.read_bytes() if p.is_file() else b""))
    return h.hexdigest()


# (target variables, compiler, flags, what the finding must say)
FAULTS = {
    "soft-float module on a hard-float target": (
        machine_vars("qemuarm"), "arm-linux-gnueabi-gcc", [], "ARM hard-float ABI"),
    "big-endian module on a little-endian target": (
        TUNES["qemumips/mips32r2el/glibc"], "mips-linux-gnu-gcc", ["-mabi=32"], "big-endian, expected little-endian"),
    "n32 module on an n64 target": (
        TUNES["qemumips64/mips64r2el/glibc"], "mips64el-linux-gnuabi64-gcc", ["-mabi=n32"], "ELFCLASS32, expected ELFCLASS64"),
    "aarch64 module in an armhf package": (
        machine_vars("qemuarm"), "aarch64-linux-gnu-gcc", [], "EM_AARCH64, expected EM_ARM"),
    "little-endian ppc64 module on big-endian powerpc": (
        machine_vars("qemuppc"), "powerpc64le-linux-gnu-gcc", [], "EM_PPC64, expected EM_PPC"),
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
def test_elf_fault_is_named(fault, tmp_path):
    values, gcc, flags, expected = FAULTS[fault]
    target = target_from_vars(values)
    abi = python_abi(target, "3.14")
    tree = tmp_path / "D"
    cross_so(tmp_path, gcc, flags, tree / "usr/lib/python3.14/site-packages" / f"mod{abi.ext_suffix}", "mod")
    before = digest(tree)
    _modules, findings = static_check(tree, target, abi, shown_root="${D}")
    assert [f.qa for f in findings] == [QA_ELF]
    assert expected in findings[0].message
    assert digest(tree) == before


def test_right_module_gives_no_finding(tmp_path):
    target = target_from_vars(machine_vars("qemuarm"))
    abi = python_abi(target, "3.14")
    cross_so(tmp_path, "arm-linux-gnueabihf-gcc", [], tmp_path / "site-packages" / f"ok{abi.ext_suffix}", "ok")
    modules, findings = static_check(tmp_path, target, abi)
    assert findings == [] and [m.name for m in modules] == ["ok"]


@pytest.mark.parametrize(("qemu", "expected"), [("qemu-nonexistent", "not found"), ("qemu-aarch64", "Invalid ELF image")])
def test_missing_or_wrong_qemu_is_a_finding(qemu, expected, tmp_path, sysroot_of):
    require_tool("qemu-aarch64")
    sysroot = sysroot_of("armhf")
    target = dataclasses.replace(target_from_vars(machine_vars("qemuarm")), qemu_binary=qemu)
    abi = python_abi(target, "3.11")
    cross_so(tmp_path, "arm-linux-gnueabihf-gcc", [], tmp_path / "site-packages" / f"mod{abi.ext_suffix}", "mod")
    modules, _ = static_check(tmp_path, target, abi)
    outcome = import_check(modules, target, sysroot, "/usr/bin/python3.11", timeout=60)
    assert [f.qa for f in outcome.findings] == [QA_IMPORT]
    assert "could not import 'mod' on the target" in outcome.findings[0].message
    assert expected in outcome.findings[0].message
    leftovers = subprocess.run(["pgrep", "-f", str(tmp_path)], capture_output=True, text=True).stdout.split()
    assert leftovers == []
