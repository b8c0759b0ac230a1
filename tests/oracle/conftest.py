"""Oracle tier fixtures: CPython's own platform-triplet probe, fetched from Debian.

``tests/tools/fetch-cpython-probe`` is run once per session (it is idempotent and offline
once its cache is filled); its ``platform_triplet-3.X.c <path>`` lines tell which
probes exist. The 3.11 probe is required (:func:`testbed.missing` otherwise).
Newer ones are fetched best effort, and fetch-cpython-probe caches "unavailable" when a
fetch fails (``platform_triplet-3.X.c.unavailable``, its error as the text): the
fixture :func:`probe_gaps` gives that cached answer per version and the terminal
summary prints it, so a gap is never silent. Which gaps are expected (Debian has no
source for 3.12 and 3.14) and which probes must exist (3.11, 3.13: their tests fail
under CI without them) is said in ``test_platform_triplet.py`` (``EXPECTED_GAPS``).

The tests record an outcome per configuration (see ``record_outcome``); the terminal
summary prints compared / skipped / failed counts per TARGET_ARCH and every
disagreement between the oracle and the library.
"""

from __future__ import annotations

import collections
import subprocess
from pathlib import Path

import pytest

from testbed import REPO, cache_dir, missing

FETCH = REPO / "tests" / "tools" / "fetch-cpython-probe"
PROBE_DIR_NAME = "cpython-src"

_OUTCOMES = pytest.StashKey[list]()
_GAPS = pytest.StashKey[dict]()


def _run_fetch() -> tuple[dict[str, Path], str]:
    proc = subprocess.run([str(FETCH)], capture_output=True, text=True, timeout=1800, check=False)
    probes: dict[str, Path] = {}
    for line in proc.stdout.splitlines():
        name, _, path = line.partition(" ")
        if name.startswith("platform_triplet-") and name.endswith(".c") and Path(path).is_file():
            probes[name[len("platform_triplet-"):-2]] = Path(path)
    detail = f"exit {proc.returncode}: " + "\n".join(proc.stderr.strip().splitlines()[-15:])
    return probes, detail


@pytest.fixture(scope="session")
def cpython_probes() -> dict[str, Path]:
    """{"3.11": Path, ...}: every probe fetch-cpython-probe could provide (3.11 always)."""
    if not FETCH.is_file():
        missing(f"{FETCH} not found")
    probes, detail = _run_fetch()
    if "3.11" not in probes:
        missing(f"tests/tools/fetch-cpython-probe did not provide the CPython 3.11 probe ({detail})")
    return probes


@pytest.fixture(scope="session")
def probe_311(cpython_probes) -> Path:
    """The CPython 3.11 configure.ac conftest.c, unchanged."""
    return cpython_probes["3.11"]


def probe_marker(version: str) -> Path:
    """fetch-cpython-probe's cached "unavailable" answer for CPython ``version``."""
    return cache_dir() / PROBE_DIR_NAME / f"platform_triplet-{version}.c.unavailable"


@pytest.fixture(scope="session")
def probe_gaps(cpython_probes, request) -> dict[str, str]:
    """{"3.12": why there is no probe, ...} for 3.12-3.14: fetch-cpython-probe's cached
    answer, quoted with the file it is cached in (the terminal summary prints them)."""
    gaps = {}
    for version in ("3.12", "3.13", "3.14"):
        if version in cpython_probes:
            continue
        marker = probe_marker(version)
        try:
            gaps[version] = f"cached answer in {marker}: {marker.read_text(encoding='utf-8').strip()}"
        except OSError:
            gaps[version] = f"not provided by tests/tools/fetch-cpython-probe (no {marker})"
    request.config.stash[_GAPS] = gaps
    return gaps


@pytest.fixture
def record_outcome(request):
    """record_outcome(version, arch, outcome, detail=""): outcome is compared, skipped,
    failed (a disagreement or an error) -- for the terminal summary."""
    store = request.config.stash.setdefault(_OUTCOMES, [])

    def record(version: str, arch: str, outcome: str, detail: str = "") -> None:
        store.append((version, arch, outcome, request.node.name, detail))

    return record


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    outcomes = config.stash.get(_OUTCOMES, [])
    gaps = config.stash.get(_GAPS, {})
    if not outcomes and not gaps:
        return
    tr = terminalreporter
    tr.section("platform-triplet oracle")
    for version, reason in sorted(gaps.items()):
        tr.write_line(f"no CPython {version} probe: {reason}")
    counts: dict[tuple[str, str], collections.Counter] = collections.defaultdict(collections.Counter)
    for version, arch, outcome, _name, _detail in outcomes:
        counts[(version, arch)][outcome] += 1
    tr.write_line(f"{'python':<7}{'TARGET_ARCH':<15}{'compared':>9}{'skipped':>9}{'failed':>8}")
    totals: collections.Counter = collections.Counter()
    for (version, arch), c in sorted(counts.items()):
        tr.write_line(f"{version:<7}{arch:<15}{c['compared']:>9}{c['skipped']:>9}{c['failed']:>8}")
        totals.update(c)
    tr.write_line(f"{'total':<22}{totals['compared']:>9}{totals['skipped']:>9}{totals['failed']:>8}")
    failed = [o for o in outcomes if o[2] == "failed"]
    for _version, _arch, _outcome, name, detail in failed:
        tr.write_line(f"FAILED {name}: {detail}")
    reasons = collections.Counter(f"{o[0]} {o[4]}" for o in outcomes if o[2] == "skipped")
    for reason, n in reasons.most_common():
        tr.write_line(f"skipped x{n}: {reason}")
