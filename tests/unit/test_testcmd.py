"""``pyrust test``'s set-up: which wheels fit a target, what a wheel requires there, pip
installing for the target (the host's real pip against a local --find-links directory of
wheels built here, --no-index: no network), the sdist's tests, and a missing qemu refused
in under a second before anything is fetched.

The test runs themselves (pytest under qemu-user) are in tests/e2e/test_pyrust_test.py.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from pyrust import testcmd
from pyrust.cli import main
from pyrust.errors import InputError
from pyrust.machines import machine_vars
from pyrust.resolve import resolve_abi
from pyrust.target import target_from_vars
from pyrust.targetpip import install_for_target, wheel_fits, wheel_requirements
from testbed import REPO

pytestmark = pytest.mark.unit

S390X = {"TARGET_ARCH": "s390x", "TARGET_OS": "linux", "TCLIBC": "glibc", "SITEINFO_BITS": "64", "SITEINFO_ENDIANNESS": "be"}
RPDS_AARCH64 = "rpds_py-2026.9.1-cp314-cp314-manylinux_2_17_aarch64.manylinux2014_aarch64.whl"
RPDS_S390X = "rpds_py-2026.9.1-cp314-cp314-manylinux_2_17_s390x.manylinux2014_s390x.whl"


def abi_of(values: dict[str, str], python: str = "3.14"):
    return resolve_abi(target_from_vars(values), python, "", None).abi


AARCH64 = abi_of(machine_vars("qemuarm64"))
S390X_ABI = abi_of(S390X)


def make_wheel(directory: Path, name: str, version: str, tag: str, requires: tuple[str, ...] = (),
               extras: tuple[str, ...] = (), requires_python: str = "") -> Path:
    """A minimal valid wheel (module, METADATA, WHEEL, RECORD) named for ``tag``."""
    path = directory / f"{name}-{version}-{tag}.whl"
    info = f"{name}-{version}.dist-info"
    meta = ["Metadata-Version: 2.1", f"Name: {name}", f"Version: {version}"]
    meta += [f"Requires-Python: {requires_python}"] if requires_python else []
    meta += [f"Provides-Extra: {e}" for e in extras] + [f"Requires-Dist: {r}" for r in requires]
    files = {
        f"{name}/__init__.py": f"VERSION = {version!r}\n",
        f"{info}/METADATA": "\n".join(meta) + "\n",
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: {'true' if tag.endswith('any') else 'false'}\nTag: {tag}\n",
    }
    files[f"{info}/RECORD"] = "".join(f"{n},,\n" for n in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as zf:
        for n, text in files.items():
            zf.writestr(n, text)
    return path


@pytest.mark.parametrize(("name", "abi", "fits"), [
    (RPDS_AARCH64, AARCH64, True),
    (RPDS_S390X, S390X_ABI, True),
    (RPDS_AARCH64, S390X_ABI, False),
    ("rpds_py-2026.9.1-cp311-cp311-manylinux_2_17_aarch64.manylinux2014_aarch64.whl", AARCH64, False),
    ("rpds_py-2026.9.1-cp314-cp314-musllinux_1_2_aarch64.whl", AARCH64, False),
    ("rpds_py-2026.9.1-cp314-cp314-linux_aarch64.whl", AARCH64, True),
    ("bcrypt-5.0.0-cp39-abi3-manylinux_2_34_s390x.whl", S390X_ABI, True),
    ("bcrypt-5.0.0-cp39-abi3-win_amd64.whl", S390X_ABI, False),
    ("attrs-25.1.0-py3-none-any.whl", S390X_ABI, True),
])
def test_wheel_fits_the_target_by_version_abi_machine_and_libc(name, abi, fits):
    assert (wheel_fits(name, abi, "glibc") is None) is fits


def test_wheel_fits_says_why_not():
    assert "aarch64" in wheel_fits(RPDS_AARCH64, S390X_ABI, "glibc") and "s390x" in wheel_fits(RPDS_AARCH64, S390X_ABI, "glibc")
    assert "musl" in wheel_fits("x-1-cp314-cp314-manylinux_2_17_aarch64.whl", AARCH64, "musl")
    assert "cp311" in wheel_fits("x-1-cp311-cp311-manylinux_2_17_aarch64.whl", AARCH64, "glibc")
    with pytest.raises(InputError, match="wheel file name"):
        wheel_fits("not-a-wheel.whl", AARCH64, "glibc")


def test_wheel_requirements_are_evaluated_for_the_target_not_the_host(tmp_path):
    wheel = make_wheel(tmp_path, "demo", "1.0", "cp314-cp314-manylinux_2_17_s390x", extras=("test",), requires=(
        'only-s390x; platform_machine == "s390x"',
        'only-x86; platform_machine == "x86_64"',
        'old-python; python_version < "3.11"',
        "always>=2",
        'for-tests; extra == "test"',
    ))
    assert wheel_requirements(wheel, S390X_ABI) == ["only-s390x", "always>=2"]
    assert wheel_requirements(wheel, S390X_ABI, ["test"]) == ["only-s390x", "always>=2", "for-tests"]
    with pytest.raises(InputError, match="--extra='docs'.*test"):
        wheel_requirements(wheel, S390X_ABI, ["docs"])


def test_a_wheel_for_a_newer_python_is_refused(tmp_path):
    wheel = make_wheel(tmp_path, "demo", "1.0", "py3-none-any", requires_python=">=3.15")
    with pytest.raises(InputError, match="requires Python >=3.15"):
        wheel_requirements(wheel, S390X_ABI)


@pytest.fixture
def links(tmp_path, monkeypatch):
    """A --find-links directory: pure wheels, a manylinux-only one, a target-built one;
    pip reads no user configuration and caches under the test's PYRUST_CACHE."""
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PYRUST_CACHE", str(tmp_path / "cache"))
    monkeypatch.delenv("PIP_CACHE_DIR", raising=False)
    d = tmp_path / "links"
    d.mkdir()
    make_wheel(d, "purepkg", "1.0", "py3-none-any")
    make_wheel(d, "platonly", "1.0", "cp314-cp314-manylinux_2_17_aarch64")
    make_wheel(d, "needsplat", "1.0", "py3-none-any", requires=("platonly",))
    make_wheel(d, "targetbuilt", "1.0", "cp314-cp314-linux_aarch64")
    return d


def test_pip_installs_pure_and_target_built_wheels_for_the_target(links, tmp_path):
    site = tmp_path / "site"
    installed = install_for_target(AARCH64, site, ["purepkg", "targetbuilt"], find_links=[links], no_index=True, timeout=120)
    assert sorted(installed) == ["purepkg-1.0", "targetbuilt-1.0"]
    assert (site / "purepkg" / "__init__.py").is_file() and (site / "targetbuilt" / "__init__.py").is_file()


def test_a_requirement_without_a_pure_wheel_is_named(links, tmp_path):
    with pytest.raises(InputError) as err:
        install_for_target(AARCH64, tmp_path / "site", ["purepkg", "platonly"], find_links=[links], no_index=True,
                           origins={"platonly": "--with"}, timeout=120)
    text = str(err.value)
    assert "platonly (--with)" in text and "pure-Python wheel" in text and "CPython 3.14" in text, text
    assert "\n" not in text


def test_a_dependency_without_a_pure_wheel_names_who_needs_it(links, tmp_path):
    with pytest.raises(InputError) as err:
        install_for_target(AARCH64, tmp_path / "site", ["needsplat"], find_links=[links], no_index=True, timeout=120)
    assert "platonly" in str(err.value) and "needsplat" in str(err.value), str(err.value)


def test_a_target_built_wheel_for_another_machine_is_not_installed(links, tmp_path):
    with pytest.raises(InputError, match="targetbuilt"):
        install_for_target(S390X_ABI, tmp_path / "site", ["targetbuilt"], find_links=[links], no_index=True, timeout=120)


def sdist(path: Path, members: dict[str, bytes], links: dict[str, str] | None = None) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, target
            tar.addfile(info)
    return path


def test_the_sdists_tests_are_unpacked_and_nothing_else(tmp_path):
    archive = sdist(tmp_path / "demo-1.0.tar.gz", {
        "demo-1.0/tests/test_a.py": b"def test_a(): pass\n",
        "demo-1.0/tests/data/x.txt": b"x",
        "demo-1.0/src/lib.rs": b"",
        "demo-1.0/tests/../../escape.py": b"",
    }, links={"demo-1.0/tests/passwd": "/etc/passwd"})
    out = tmp_path / "out"
    found = testcmd.tests_from_sdist(archive, out)
    assert found == out / "tests"
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*")) == ["tests", "tests/data", "tests/data/x.txt", "tests/test_a.py"]
    assert not (tmp_path / "escape.py").exists()


def test_an_sdist_without_tests_is_bad_input(tmp_path, monkeypatch):
    archive = sdist(tmp_path / "demo-1.0.tar.gz", {"demo-1.0/src/lib.rs": b""})
    with pytest.raises(InputError, match="--tests=.*tests/ or test/"):
        testcmd.tests_from_sdist(archive, tmp_path / "out")
    monkeypatch.chdir(tmp_path)  # no ./tests here
    with pytest.raises(InputError, match="--tests is not set"):
        testcmd.tests_to_run(None, [archive], tmp_path)
    (tmp_path / "proj" / "tests").mkdir(parents=True)
    assert testcmd.tests_to_run(None, [tmp_path / "proj"], tmp_path) == tmp_path / "proj" / "tests"


def test_a_project_directory_gives_its_fitting_wheel(tmp_path):
    project = tmp_path / "proj"
    (project / "dist").mkdir(parents=True)
    other = make_wheel(project / "dist", "demo", "1.0", "cp314-cp314-manylinux_2_17_aarch64")
    with pytest.raises(InputError, match=f"found: {other.name}"):
        testcmd.find_wheel(project, S390X_ABI, "glibc")
    (project / "target" / "wheels").mkdir(parents=True)
    right = make_wheel(project / "target" / "wheels", "demo", "1.0", "cp314-cp314-manylinux_2_17_s390x")
    assert testcmd.find_wheel(project, S390X_ABI, "glibc") == right
    with pytest.raises(InputError, match="built for aarch64"):
        testcmd.find_wheel(other, S390X_ABI, "glibc")


def test_missing_qemu_is_refused_in_under_a_second_before_any_fetch(tmp_path, monkeypatch, capsys):
    """The cibuildwheel failure was a hang; here: one line, exit 2, nothing fetched."""
    wheel = make_wheel(tmp_path, "demo", "1.0", "cp314-cp314-manylinux_2_17_s390x")
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))
    monkeypatch.setenv("PYRUST_CACHE", str(tmp_path / "cache"))
    argv = ["test", *(f"--var={k}={v}" for k, v in S390X.items()), "--fetch-python", "--tests", str(tmp_path), str(wheel)]
    start = time.monotonic()
    status = main(argv)
    elapsed = time.monotonic() - start
    err = capsys.readouterr().err
    assert status == 2
    assert elapsed < 1.0, elapsed
    assert err.startswith("pyrust: error: qemu='qemu-s390x'") and "apt-get install qemu-user" in err and err.count("\n") == 1, err
    assert not (tmp_path / "cache").exists()


def test_missing_qemu_from_the_command_line(tmp_path):
    """The same through the installed command's process: exit 2, one line, well under the limit."""
    wheel = make_wheel(tmp_path, "demo", "1.0", "cp314-cp314-manylinux_2_17_aarch64")
    env = dict(os.environ, PATH=str(tmp_path / "empty-bin"), PYRUST_CACHE=str(tmp_path / "cache"), PYTHONPATH=str(REPO / "lib"))
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "pyrust.cli", "test", "--machine", "qemuarm64", "--fetch-python", str(wheel)],
                          capture_output=True, text=True, env=env, timeout=30)
    elapsed = time.monotonic() - start
    assert proc.returncode == 2 and "qemu-aarch64" in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    assert elapsed < 5.0, elapsed  # interpreter start and imports included; the refusal itself is the test above


def test_unbalanced_pytest_args_are_bad_input(tmp_path, monkeypatch, capsys):
    """shlex refuses an unclosed quote: one line naming --pytest-args, exit 2, no traceback."""
    wheel = make_wheel(tmp_path, "demo", "1.0", "cp314-cp314-manylinux_2_17_s390x")
    monkeypatch.setenv("PYRUST_CACHE", str(tmp_path / "cache"))
    argv = ["test", *(f"--var={k}={v}" for k, v in S390X.items()), "--fetch-python", "--pytest-args", "-k 'not slow",
            "--tests", str(tmp_path), str(wheel)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("pyrust: error: --pytest-args=\"-k 'not slow\": expected one shell-quoted string") and err.count("\n") == 1, err
    assert not (tmp_path / "cache").exists()
