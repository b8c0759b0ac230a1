"""Fixtures for tests that run real BitBake over real openembedded-core.

The test bed comes from ``scripts/oe-testbed``: the archives in ``$PYRUST_UPSTREAM``
(default ``<repo>/../shared/upstream``) are verified and unpacked once into
``$PYRUST_CACHE`` (default ``~/.cache/meta-pyrust``), and BitBake runs as an
unprivileged build user in build dirs kept in that cache (so a second run is fast).

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
TESTBED = REPO / "scripts" / "oe-testbed"
GEN_OE_FACTS = REPO / "scripts" / "gen-oe-facts"
TINFOIL_WORKER = Path(__file__).resolve().parent / "tinfoil_worker.py"
# same rule as tests/conftest.py: under CI a missing test bed is a failure, not a skip
IN_CI = os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")
SETUP_TIMEOUT = 1800  # first setup may install host packages


def unavailable(reason: str) -> None:
    """Skip (developer machine) or fail (CI=true) because the test bed cannot exist."""
    if IN_CI:
        pytest.fail(f"BitBake test bed unavailable in CI: {reason}", pytrace=False)
    pytest.skip(f"BitBake test bed unavailable: {reason}")


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
    ) -> subprocess.CompletedProcess[str]:
        """Run ``command`` as the build user inside ``builddir`` (see ``builddir()``)."""
        args = [str(TESTBED), "run", builddir]
        if with_layer:
            args.append("--with-layer")
        for key, value in (env or {}).items():
            args += ["--env", f"{key}={value}"]
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
        args = [str(TESTBED), "init", *(["--with-layer"] if with_layer else []), builddir]
        proc = subprocess.run(args, text=True, capture_output=True, timeout=SETUP_TIMEOUT)
        if proc.returncode != 0:
            pytest.fail(f"oe-testbed init {builddir} failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}", pytrace=False)
        lines = [line for line in proc.stdout.splitlines() if line.startswith("BUILDDIR=")]
        return Path(lines[-1].split("=", 1)[1])

    def write_file(self, builddir: str, relpath: str, text: str, with_layer: bool = False) -> None:
        """Write ``text`` to ``relpath`` inside ``builddir`` as the build user; the file is
        rewritten only when its content changes (its mtime is in BitBake's config hash)."""
        script = ('f=$1; mkdir -p "$(dirname "$f")"; t=$(mktemp "$f.XXXXXX"); cat > "$t"; '
                  'if cmp -s "$t" "$f"; then rm -f "$t"; else mv "$t" "$f"; fi')
        self.run(builddir, "sh", "-c", script, "sh", relpath, input=text, with_layer=with_layer, timeout=300)

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
        """Run scripts/gen-oe-facts (host side; it drives BitBake through oe-testbed)."""
        return subprocess.run(
            [sys.executable, str(GEN_OE_FACTS), *args],
            text=True,
            capture_output=True,
            timeout=timeout,
        )


@pytest.fixture(scope="session")
def oe_testbed() -> OETestbed:
    """Bring up the BitBake + openembedded-core test bed (skips/fails when impossible)."""
    if not sys.platform.startswith("linux"):
        unavailable(f"needs Linux, not {sys.platform}")
    upstream = _upstream_dir()
    for name in ("SHA256SUMS", "bitbake.tar.xz", "openembedded-core.tar.xz"):
        if not (upstream / name).is_file():
            unavailable(f"{upstream / name} not found (set PYRUST_UPSTREAM to the directory with the archives)")
    for tool in ("bash", "tar", "xz", "sha256sum", "flock", "git"):
        if shutil.which(tool) is None:
            unavailable(f"host tool {tool!r} not found")
    try:
        proc = subprocess.run([str(TESTBED), "setup"], text=True, capture_output=True, timeout=SETUP_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"oe-testbed setup took more than {SETUP_TIMEOUT} s", pytrace=False)
    if proc.returncode == 3:  # prerequisites missing (tools not installable as non-root...)
        unavailable(proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "oe-testbed: prerequisites missing")
    if proc.returncode != 0:
        pytest.fail(f"oe-testbed setup failed (rc {proc.returncode}):\n{proc.stderr[-4000:]}", pytrace=False)
    paths = dict(line.split("=", 1) for line in proc.stdout.splitlines() if "=" in line)
    return OETestbed(paths=paths)


@pytest.fixture(scope="session")
def cpython_probe() -> Path:
    """CPython's Misc/platform_triplet.c as 3.13 ships it (3.14, oe-core's python3, uses
    the same file), from scripts/fetch-cpython-probe (idempotent; offline once cached)."""
    from testbed import cache_dir, missing  # noqa: PLC0415

    path = cache_dir() / "cpython-src" / "platform_triplet-3.13.c"
    if not path.is_file():
        subprocess.run([str(REPO / "scripts" / "fetch-cpython-probe")], text=True, capture_output=True,
                       timeout=1800, check=False)
    if not path.is_file():
        missing(f"{path} not found (scripts/fetch-cpython-probe could not provide the CPython 3.13 probe)")
    return path
