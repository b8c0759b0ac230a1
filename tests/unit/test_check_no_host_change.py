"""``pyrust check`` changes nothing on the host and never judges with another Python version.

Without ``--sysroot`` the check is static and says in one line how to get the import check;
a sysroot whose interpreter has another version than the target's is bad input naming both
(unless ``--python`` asks for it); ``--fetch-python`` for a version Debian does not ship is
an error naming the version and the fix, before any apt call. The real fetch (network) is
tests/e2e/test_fetch_python.py.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest

from pyrust import cli
from pyrust.checkcmd import HOW_TO_IMPORT

pytestmark = pytest.mark.unit

ARMHF_311 = ("usr/lib/python3.11/_sysconfigdata__arm-linux-gnueabihf.py",
             "build_time_vars = {'ABIFLAGS': '', 'EXT_SUFFIX': '.cpython-311-arm-linux-gnueabihf.so', "
             "'MULTIARCH': 'arm-linux-gnueabihf', 'SOABI': 'cpython-311-arm-linux-gnueabihf', 'VERSION': '3.11'}\n")


def host_state() -> tuple[str, str]:
    """(dpkg's foreign architectures, a digest of /etc/apt's files and dpkg's arch list)."""
    foreign = subprocess.run(["dpkg", "--print-foreign-architectures"], capture_output=True, text=True).stdout \
        if shutil.which("dpkg") else ""
    digest = hashlib.sha256()
    for root in (Path("/etc/apt"), Path("/var/lib/dpkg/arch")):
        for path in sorted([root] if root.is_file() else root.rglob("*")) if root.exists() else []:
            st = path.lstat()
            digest.update(f"{path} {st.st_size} {st.st_mtime_ns}\n".encode())
            if path.is_file():
                digest.update(path.read_bytes())
    return foreign, digest.hexdigest()


@pytest.fixture
def sysroot_311(tmp_path) -> Path:
    root = tmp_path / "sysroot"
    (root / ARMHF_311[0]).parent.mkdir(parents=True)
    (root / ARMHF_311[0]).write_text(ARMHF_311[1])
    return root


def test_check_without_sysroot_is_static_says_how_and_changes_nothing(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYRUST_CACHE", str(tmp_path / "cache"))
    (tmp_path / "tree").mkdir()
    before = host_state()
    assert cli.main(["check", "--machine", "qemuarm", str(tmp_path / "tree")]) == 0
    out = capsys.readouterr().out
    notes = [line for line in out.splitlines() if line.startswith("import check:")]
    assert notes == [f"import check: skipped: no --sysroot: {HOW_TO_IMPORT}"]
    assert "--sysroot DIR" in notes[0] and "--fetch-python" in notes[0]
    assert host_state() == before
    assert not (tmp_path / "cache").exists()  # nothing fetched, not even the cache made


@pytest.mark.parametrize("command", [["abi"], ["check", "TREE"]])
def test_sysroot_of_another_version_is_an_error_naming_both(command, sysroot_311, tmp_path, capsys):
    (tmp_path / "tree").mkdir()
    argv = [c if c != "TREE" else str(tmp_path / "tree") for c in command]
    # master's python3 is 3.14: the 3.11 interpreter must not decide the suffix
    assert cli.main([argv[0], "--machine", "qemuarm", "--sysroot", str(sysroot_311), *argv[1:]]) == 2
    err = capsys.readouterr().err
    assert "the target's Python 3.14, not 3.11" in err and "--python 3.11" in err
    assert err.count("\n") == 1


def test_sysroot_of_the_asked_version_is_used(sysroot_311, capsys):
    assert cli.main(["abi", "--machine", "qemuarm", "--sysroot", str(sysroot_311), "--python", "3.11"]) == 0
    out = capsys.readouterr().out
    assert ".cpython-311-arm-linux-gnueabihf.so" in out and "source:              sysroot" in out


def test_asking_another_version_than_the_sysroot_has_is_an_error(sysroot_311, capsys):
    assert cli.main(["abi", "--machine", "qemuarm", "--sysroot", str(sysroot_311), "--python", "3.13"]) == 2
    assert "the target's Python 3.13, not 3.11" in capsys.readouterr().err


def test_fetch_python_for_a_version_debian_lacks_names_it_and_the_fix(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYRUST_CACHE", str(tmp_path / "cache"))
    (tmp_path / "tree").mkdir()
    before = host_state()
    # scarthgap's python3 is 3.12: no Debian suite reached here ships python3.12
    assert cli.main(["check", "--machine", "qemuarm", "--release", "scarthgap", "--fetch-python", str(tmp_path / "tree")]) == 2
    err = capsys.readouterr().err
    assert "'3.12'" in err and "--sysroot DIR" in err and "3.11, 3.13, 3.14, 3.15" in err
    assert err.count("\n") == 1
    assert host_state() == before and not (tmp_path / "cache").exists()


def test_fetch_python_for_a_target_debian_lacks(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("PYRUST_CACHE", str(tmp_path / "cache"))
    (tmp_path / "tree").mkdir()
    assert cli.main(["check", "--machine", "qemuppc", "--fetch-python", str(tmp_path / "tree")]) == 2
    err = capsys.readouterr().err
    assert "--fetch-python" in err and "give --sysroot DIR" in err
    assert not (tmp_path / "cache").exists()
