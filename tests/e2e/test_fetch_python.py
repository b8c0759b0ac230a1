"""``pyrust check --fetch-python``: Debian's interpreter of the target's Python, fetched cold
into a fresh cache through a private apt configuration, imports a correct module; the
host's dpkg architectures and apt configuration are the same afterwards.

Needs network (Debian's archive), apt-get and dpkg-deb, qemu-arm and arm-linux-gnueabihf-gcc
(tests/tools/setup-testbed). Missing tools skip (fail under CI).
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from cmodules import ARMHF, build_module
from testbed import REPO, require_tool
from unit.test_check_no_host_change import host_state

pytestmark = pytest.mark.e2e



def test_fetch_python_imports_a_314_module_and_leaves_the_host_alone(tmp_path):
    for tool in ("apt-get", "dpkg-deb", "qemu-arm", ARMHF.gcc):
        require_tool(tool)
    tree = tmp_path / "tree"
    build_module("working", "fetched", tree / "fetched.cpython-314-arm-linux-gnueabihf.so")
    before = host_state()
    env = dict(os.environ, PYRUST_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(REPO / "lib"))
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "check", "--machine", "qemuarm", "--fetch-python", str(tree)],
                          capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "CPython 3.14" in proc.stdout and "(sysroot)" in proc.stdout
    assert "ok (imported)  fetched" in proc.stdout, proc.stdout
    assert host_state() == before
    sysroots = list((tmp_path / "cache" / "sysroots").glob("debian-armhf-python3.14-*"))
    assert len(sysroots) == 1 and (sysroots[0] / "usr/bin/python3.14").is_file()
    # everything written is under the cache (and the temporary check directory, gone)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["apt", "debs", "sysroots"]
