"""Fixtures for tests that run real BitBake over real openembedded-core.

The test bed comes from ``tests/tools/oe-testbed``: the archives in ``$PYRUST_UPSTREAM``
(default ``<repo>/../shared/upstream``) are verified and unpacked once into
``$PYRUST_CACHE`` (default ``~/.cache/meta-pyrust``), and BitBake runs as an
unprivileged build user in build dirs kept in that cache (so a second run is fast).

Every test taking ``oe_testbed`` runs once per openembedded-core release in
``$PYRUST_RELEASES`` (default "master wrynose scarthgap"; each release is its own
pinned oe-core + BitBake pair, unpacked and with its own build dirs: ``oe-testbed
--release``). Test ids carry the release first, e.g. ``test_x[scarthgap-qemuarm/glibc]``.

Outside CI the tests skip, with the reason, when the archives or the host tools are
missing; with ``CI=true`` that is a failure instead.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TESTBED = REPO / "tests" / "tools" / "oe-testbed"
GEN_OE_FACTS = REPO / "tests" / "tools" / "gen-oe-facts"
TINFOIL_WORKER = Path(__file__).resolve().parent / "tinfoil_worker.py"
# same rule as tests/conftest.py: under CI a missing test bed is a failure, not a skip
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
SETUP_TIMEOUT = 1800  # first setup may install host packages


def unavailable(reason: str) -> None:
    """Skip (developer machine) or fail (CI=true) because the test bed cannot exist."""
    if IN_CI:
        pytest.fail(f"BitBake test bed unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"BitBake test bed unavailable: {reason}")


# release -> (openembedded-core archive, BitBake archive), as tests/tools/oe-testbed pairs them
ARCHIVES = {
    "master": ("openembedded-core.tar.xz", "bitbake.tar.xz"),
    "wrynose": ("openembedded-core-wrynose.tar.xz", "bitbake-2.18.tar.xz"),
    "scarthgap": ("openembedded-core-scarthgap.tar.xz", "bitbake-2.8.tar.xz"),
}
RELEASES = tuple(os.environ.get("PYRUST_RELEASES", "master wrynose scarthgap").split())


def _upstream_dir() -> Path:
    return Path(os.environ.get("PYRUST_UPSTREAM", REPO.parent / "shared" / "upstream"))


def _worker_tag() -> str:
    # pytest-xdist workers need their own build dirs: one BitBake server per build dir
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@dataclass
class OETestbed:
    """A ready test bed. ``paths`` is what ``oe-testbed setup`` printed (OECORE, BITBAKE,
    OECORE_COMMIT, BITBAKE_COMMIT, BUILDS, BUILD_USER, LAYER...)."""

    paths: dict[str, str]
    release: str = "master"
    tag: str = field(default_factory=_worker_tag)

    def builddir(self, name: str) -> str:
        """A build dir name private to this pytest worker."""
        return f"pytest-{self.tag}-{name}"

    def run(
        self,
        builddir: str,
        *command: str,
        env: dict[str, str] | None = None,
        with_layer: bool = False,
        input: str | None = None,
        timeout: float = 1800,
        check: bool = True,
        verb: str = "run",
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` as the build user inside ``builddir`` (see ``builddir()``);
        ``verb="write"`` is ``oe-testbed write`` (``command`` is then the file's path),
        other verbs (``drop-recipe-cache``) take no command."""
        args = [str(TESTBED), verb, "--release", self.release, builddir]
        if with_layer:
            args.append("--with-layer")
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
        if command:
            args += ["--", *command]
        proc = subprocess.run(args, input=input, text=True, capture_output=True, timeout=timeout)
        if check and proc.returncode != 0:
            pytest.fail(
                f"{' '.join(command)} in {builddir} failed (rc {proc.returncode}):\n"
                f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}",
                pytrace=False,
            )
        return proc

    def init(self, builddir: str, with_layer: bool = False) -> Path:
        """Initialise ``builddir`` (see ``builddir()``) and return its path."""
        args = [str(TESTBED), "init", "--release", self.release, *(["--with-layer"] if with_layer else []), builddir]
        proc = subprocess.run(args, text=True, capture_output=True, timeout=SETUP_TIMEOUT)
        if proc.returncode != 0:
            pytest.fail(f"oe-testbed init {builddir} failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}", pytrace=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("BUILDDIR=")]
        return Path(lines[-1].split("=", 1)[1])

    def write_file(self, builddir: str, relpath: str, text: str, with_layer: bool = False) -> None:
        """Write ``text`` to ``relpath`` inside ``builddir`` as the build user; the file is
        rewritten only when its content changes (its mtime is in BitBake's config hash)."""
        self.run(builddir, relpath, input=text, with_layer=with_layer, timeout=300, verb="write")

    def drop_recipe_cache(self, builddir: str, with_layer: bool = False) -> None:
        """Remove BitBake's recipe cache in ``builddir`` (wherever its CACHE points), so the
        next ``bitbake -p`` parses every recipe again."""
        self.run(builddir, with_layer=with_layer, timeout=600, verb="drop-recipe-cache")

    def tinfoil(self, builddir: str, job: dict, with_layer: bool = True, timeout: float = 1800) -> dict:
        """Run tests/bitbake/tinfoil_worker.py on ``job`` in ``builddir``; its JSON answer."""
        proc = self.run(builddir, "python3", str(TINFOIL_WORKER), input=json.dumps(job),
                        with_layer=with_layer, timeout=timeout, check=False)
        lines = proc.stdout.strip().splitlines()
        if proc.returncode != 0 or not lines:
            pytest.fail(f"tinfoil worker failed in {builddir} (rc {proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
        return json.loads(lines[-1])

    def chown_to_build_user(self, path: Path) -> None:
        """Give ``path`` (recursively) to the build user, when running as root."""
        if os.geteuid() != 0:
            return
        user = self.paths.get("BUILD_USER") or "pyrust"
        subprocess.run(["chown", "-R", f"{user}:", str(path)], check=True)

    def gen_oe_facts(self, *args: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        """Run tests/tools/gen-oe-facts (host side; it drives BitBake through oe-testbed)."""
        # a shim (tests/tools/_pymodule) that runs the module with $PYTHON: this interpreter
        return subprocess.run(
            [str(GEN_OE_FACTS), "--release", self.release, *args],
            text=True,
            capture_output=True,
            timeout=timeout,
            env={**os.environ, "PYTHON": sys.executable},
        )


_TESTBEDS: dict[str, OETestbed] = {}


def testbed_for(release: str) -> OETestbed:
    """The test bed of one release, set up once per session (skips/fails when impossible)."""
    if release in _TESTBEDS:
        return _TESTBEDS[release]
    if release not in ARCHIVES:
        pytest.fail(f"PYRUST_RELEASES names {release!r}: expected some of {', '.join(ARCHIVES)}", pytrace=False)
    if not sys.platform.startswith("linux"):
        unavailable(f"needs Linux, not {sys.platform}")
    upstream = _upstream_dir()
    for name in ("SHA256SUMS", *ARCHIVES[release]):
        if not (upstream / name).is_file():
            unavailable(f"{upstream / name} not found (set PYRUST_UPSTREAM to the directory with the archives)")
    for tool in ("bash", "tar", "xz", "sha256sum", "flock", "git"):
        if shutil.which(tool) is None:
            unavailable(f"host tool {tool!r} not found")
    try:
        proc = subprocess.run([str(TESTBED), "--release", release, "setup"], text=True, capture_output=True,
                              timeout=SETUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"oe-testbed setup took more than {SETUP_TIMEOUT} s", pytrace=False)
    if proc.returncode == 3:  # prerequisites missing (tools not installable as non-root...)
        unavailable(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "oe-testbed: prerequisites missing")
    if proc.returncode != 0:
        pytest.fail(f"oe-testbed setup failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
    paths = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    _TESTBEDS[release] = OETestbed(paths=paths, release=release)
    return _TESTBEDS[release]


@pytest.fixture(scope="session", name="testbed_for")
def _testbed_for_fixture():
    """``testbed_for(release)`` for tests parametrized over releases themselves."""
    return testbed_for


def pytest_configure(config):
    # registered here, beside the only tests that use it (pyproject.toml lists the others)
    config.addinivalue_line("markers", "checklayer: yocto-check-layer for the non-master releases and the "
                                       "INHERIT signature comparison (opt-in tier: 10 to 15 min each)")


def pytest_generate_tests(metafunc):
    # yocto-check-layer (test_check_layer.py): master's in the bitbake tier, the other
    # releases' in the opt-in checklayer tier (about 10 min each)
    # INHERIT signature comparison (test_signatures.py, opt-in checklayer tier): master's
    # only (`bitbake -S lockedsigs world` twice, about 15 min on 2 cores)
    if "signature_release" in metafunc.fixturenames:
        metafunc.parametrize("signature_release", [release for release in RELEASES if release == "master"])
    if "check_layer_release" in metafunc.fixturenames:
        metafunc.parametrize("check_layer_release", [
            pytest.param(release, marks=pytest.mark.bitbake if release == "master" else pytest.mark.checklayer)
            for release in RELEASES])


@pytest.fixture(scope="session", params=RELEASES)
def oe_testbed(request) -> OETestbed:
    """The BitBake + openembedded-core test bed of each release in $PYRUST_RELEASES."""
    return testbed_for(request.param)


@pytest.fixture(scope="session")
def cpython_probes() -> dict[str, Path]:
    """{"3.11": configure.ac's conftest, "3.13": Misc/platform_triplet.c} from
    tests/tools/fetch-cpython-probe (idempotent; offline once cached). Which probe stands
    for which python3 version: ``oracle.test_platform_triplet.PROBE_FOR``."""
    from testbed import cache_dir, missing  # noqa: PLC0415

    paths = {version: cache_dir() / "cpython-src" / f"platform_triplet-{version}.c" for version in ("3.11", "3.13")}
    if not all(path.is_file() for path in paths.values()):
        subprocess.run([str(REPO / "tests" / "tools" / "fetch-cpython-probe")], text=True, capture_output=True,
                       timeout=1800, check=False)
    for version, path in paths.items():
        if not path.is_file():
            missing(f"{path} not found (tests/tools/fetch-cpython-probe could not provide the CPython {version} probe)")
    return paths
