"""Each release's maturin, measured again, against its tables in docs/maturin-guess.md.

tests/tools/maturin-guess --release R runs that openembedded-core release's maturin
(tests/tools/release-maturin: scarthgap's 1.4.0 built from the sdist with the recipe's
patches, wrynose's 1.12.4, master's 1.14.1) the way oe-core's python_pyo3.bbclass does
(PYO3_CONFIG_FILE without ext_suffix=, CARGO_BUILD_TARGET) with a stand-in cargo, and
reads the module's filename from the wheel. Here every row of each release's two tables
(the 12 machines x glibc/musl, and the tune rows that are not ok) is measured again and
the rendered table must equal the document's line for line, with the same ok/WRONG/
refused counts: a maturin that names any module differently fails. Independently of the
script's verdicts, every row the document calls WRONG must differ from the library's
suffix for that release (pyrust.release.release_abi) and every ok row must equal it; with
the ``ext_suffix=`` line pyrust.bbclass adds, the release's maturin names every WRONG
row's module with the library's suffix. A last test checks the method per release: for
the host target, the stand-in cargo and a real compile give maturin the same name.

Needs cargo, rustc and the release's maturin in the cache (tests/tools/release-maturin R, run
by the tier's set-up); skipped without them, failed under CI=true. Tiers: wrynose and
master in e2e; scarthgap, whose maturin the set-up compiles, in its own tier
scarthgap_maturin (in the default run: scripts/run-tests shows its cost apart).
"""

from __future__ import annotations

import difflib
import importlib
import json
import re
import subprocess
import time

import pytest

from pyrust.errors import InputError
from pyrust.machines import machine_names, machine_vars, release_facts
from pyrust.release import release_abi
from pyrust.target import target_from_vars
from testbed import REPO, missing, require_tool

DOC = REPO / "docs" / "maturin-guess.md"
RELEASES = ("scarthgap", "wrynose", "master")
# wrynose's and master's maturin are PyPI wheels (seconds to fetch): tier e2e. scarthgap's
# is compiled by the tier's set-up (tests/tools/release-maturin scarthgap; over 10 min cold on
# 2 cores, docs/maturin-guess.md): its own tier scarthgap_maturin, in the default run.
TIER = {"scarthgap": pytest.mark.scarthgap_maturin, "wrynose": pytest.mark.e2e, "master": pytest.mark.e2e}
PARAMS = [pytest.param(r, marks=TIER[r], id=r) for r in RELEASES]


def load(name: str):
    """tests/tools/<name>'s module (testbed_support.<name with underscores>)."""
    return importlib.import_module("testbed_support." + name.replace("-", "_"))


@pytest.fixture(scope="module")
def mg():
    return load("maturin-guess")


def doc_section(mg, release: str, tunes: bool) -> tuple[str, list[str]]:
    """(summary line, table lines) that follow the script's marker for ``release`` in the document."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    marker = mg.release_marker(release, True, tunes, tunes)
    assert marker in lines, f"{DOC.name}: no table after {marker}"
    i = lines.index(marker)
    summary = next((lines[j] for j in range(i - 1, -1, -1) if re.match(r"^\d+ rows, Python ", lines[j])), "")
    table = []
    for line in lines[i + 1:]:
        if not line.startswith("|"):
            break
        table.append(line)
    return summary, table


def doc_rows(table: list[str]) -> list[dict[str, str]]:
    """Markdown table lines -> one dict per row, column header -> cell without backticks."""
    parsed = [[c.strip().strip("`").replace("\\|", "|") for c in re.split(r"(?<!\\)\|", line.strip())[1:-1]] for line in table]
    header = parsed[0]
    return [dict(zip(header, cells)) for cells in parsed[2:]]


def counts(summary: str) -> str:
    """"24 rows, Python 3.12: 13 ok, 11 WRONG, 0 maturin refused (...)" -> the part before " (" """
    return summary.split(" (", maxsplit=1)[0]


class Measured:
    """One release's maturin measured over its machine table and every tune."""

    def __init__(self, mg, release: str) -> None:
        for tool in ("cargo", "rustc"):
            require_tool(tool)
        rm = load("release-maturin")
        try:
            exe = rm.find(release)
        except InputError as e:
            missing(f"{release}'s maturin: {e}")
        version = release_facts(release)["maturin"]
        if exe is None:
            missing(f"{release}'s maturin {version} is not in the cache (get it: tests/tools/release-maturin {release})")
        self.release = release
        self.version = mg.release_python(release)
        self.harness = mg.Harness(str(exe))
        start = time.monotonic()
        self.machines = mg.machine_rows(self.harness, self.version, None, True, release)
        self.tunes, self.skipped = mg.tune_rows(self.harness, self.version, True, release)
        self.seconds = time.monotonic() - start

    def machine_table(self, mg) -> list[str]:
        return mg.render(self.machines, True, True, False).splitlines()

    def tune_table(self, mg) -> list[str]:
        not_ok = [r for r in self.tunes if r.verdict != "ok" or (r.maturin_oe is not None and r.maturin_oe.suffix != r.pyrust)]
        return mg.render(not_ok, True, True, True).splitlines()


_MEASURED: dict[str, Measured] = {}


@pytest.fixture(params=PARAMS)
def measured(request, mg) -> Measured:
    release = request.param
    if release not in _MEASURED:
        _MEASURED[release] = Measured(mg, release)
    yield _MEASURED[release]


@pytest.fixture(scope="module", autouse=True)
def _close_harnesses():
    yield
    for m in _MEASURED.values():
        m.harness.close()
    _MEASURED.clear()


def drift(doc: list[str], now: list[str]) -> str:
    """'' when equal, else a unified diff document -> measured."""
    if doc == now:
        return ""
    return "\n".join(difflib.unified_diff(doc, now, "docs/maturin-guess.md", "measured now", lineterm="", n=0))


def hint(m: Measured, tunes: bool) -> str:
    cmd = f"tests/tools/maturin-guess --release {m.release} --oe-triple --markdown" + (" --tunes --not-ok" if tunes else "")
    return (f"{m.release}'s maturin ({m.harness.versions()['maturin']}) names modules differently from {DOC.name}, "
            f"or the library changed its answer: check, re-run `{cmd}` and update the document\n")


def test_machine_table_matches_measurement(mg, measured):
    summary, table = doc_section(mg, measured.release, tunes=False)
    diff = drift(table, measured.machine_table(mg))
    assert not diff, hint(measured, False) + diff
    assert counts(summary) == counts(mg.summary(measured.machines, measured.version, 0, measured.harness.versions())), \
        hint(measured, False)


def test_tune_rows_match_measurement(mg, measured):
    summary, table = doc_section(mg, measured.release, tunes=True)
    diff = drift(table, measured.tune_table(mg))
    assert not diff, hint(measured, True) + diff
    # The table lists only the rows that are not ok; the counts cover every tune.
    assert counts(summary) == counts(mg.summary(measured.tunes, measured.version, 0, measured.harness.versions(), True)), \
        hint(measured, True)


def test_measured_with_names_the_release_maturin(mg, measured):
    """The document's "Measured ..." line of each table names the release's maturin version."""
    text = DOC.read_text(encoding="utf-8").splitlines()
    for tunes in (False, True):
        i = text.index(mg.release_marker(measured.release, True, tunes, tunes))
        line = next(text[j] for j in range(i - 1, -1, -1) if text[j].startswith("Measured "))
        assert f"with maturin {release_facts(measured.release)['maturin']} " in line, line


def test_verdicts_agree_with_the_library(mg, measured):
    """WRONG rows differ from the release's python3 suffix computed here; ok rows equal it."""
    _, table = doc_section(mg, measured.release, tunes=False)
    by_key = {r.key: r for r in measured.machines}
    for row in doc_rows(table):
        key = f"{row['machine']}/{row['TCLIBC']}"
        target = target_from_vars(machine_vars(row["machine"], row["TCLIBC"], release=measured.release))
        library = release_abi(target, measured.version, release=measured.release)[0].ext_suffix
        got = by_key[key].maturin
        if row["verdict"] == "WRONG":
            assert got.suffix is not None and got.suffix != library, f"{measured.release} {key}: the document says WRONG"
        elif row["verdict"] == "ok":
            assert got.suffix == library, f"{measured.release} {key}: the document says ok, maturin names {got.suffix}"
        else:
            assert got.suffix is None, f"{measured.release} {key}: the document says refused, maturin names {got.suffix}"


def test_ext_suffix_line_makes_maturin_name_the_wrong_rows_right(mg, measured):
    """What the class does for each WRONG row (every machine row, and one tune of each tune
    row): with ``ext_suffix=<the release's python3 suffix>`` in oe-core's pyo3.config, the
    release's maturin names the module with it. A refused row stays refused."""
    tunes = json.loads(mg.tunes_file(measured.release).read_text())["tunes"]
    # (key, variables, verdict, also with oe-core's own triple RUST_HOST_SYS, which oe-core passes)
    cases = [(r.key, machine_vars(r.machine, r.libc, release=measured.release), r.verdict, True)
             for r in measured.machines if r.verdict != "ok"]
    cases += [(r.key.split()[0] + "/" + r.libc, tunes[r.key.split()[0] + "/" + r.libc], r.verdict, False)
              for r in measured.tunes if r.verdict != "ok"]
    assert any(verdict == "WRONG" for _, _, verdict, _ in cases), f"{measured.release}: no WRONG row to check"
    for key, variables, verdict, oe_triple in cases:
        target = target_from_vars(variables)
        library = release_abi(target, measured.version, release=measured.release)[0].ext_suffix
        for triple in (target.rust_target_upstream, target.rust_target) if oe_triple else (target.rust_target_upstream,):
            got = measured.harness.measure(triple, measured.version, target.bits, ext_suffix=library)
            if verdict == "WRONG":
                assert got.suffix == library, f"{measured.release} {key} ({triple}): {got.suffix or got.error}"
            else:
                assert got.suffix is None, f"{measured.release} {key}: refused without ext_suffix=, names {got.suffix} with it"


def test_a_changed_guess_is_caught(mg, measured):
    """The comparison above fails when maturin answers differently for a single row."""
    rows = measured.machines
    changed = next(r for r in rows if r.maturin.suffix)
    saved = changed.maturin.suffix
    try:
        changed.maturin.suffix = saved.replace("-linux-", "-linux-x")
        _, table = doc_section(mg, measured.release, tunes=False)
        assert drift(table, measured.machine_table(mg))
    finally:
        changed.maturin.suffix = saved


@pytest.mark.e2e
def test_doc_tables_cover_every_machine(mg):
    for release in RELEASES:
        _, table = doc_section(mg, release, tunes=False)
        keys = [f"{r['machine']}/{r['TCLIBC']}" for r in doc_rows(table)]
        expected = [f"{m}/{libc}" for m in machine_names(release) for libc in ("glibc", "musl")]
        assert keys == expected, f"{DOC.name}: {release}'s machine table misses or has extra rows"


def test_stand_in_cargo_names_the_module_like_a_real_build(mg, measured):
    """For the host target (its standard library is installed) a real compile gives the same name."""
    host = re.search(r"^host: (\S+)$", subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout, re.M)
    assert host is not None
    if "-linux-" not in host.group(1):
        pytest.skip(f"host {host.group(1)} is not Linux")
    fake = measured.harness.measure(host.group(1), measured.version, 64)
    real = measured.harness.measure(host.group(1), measured.version, 64, real_cargo=True)
    assert real.error is None, real.error
    assert fake.suffix == real.suffix
    assert fake.wheel == real.wheel
