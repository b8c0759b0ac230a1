"""maturin's own suffix guess, measured, against the table in docs/maturin-guess.md.

scripts/maturin-guess runs the installed maturin the way oe-core's python_pyo3.bbclass
does (PYO3_CONFIG_FILE without ext_suffix=, CARGO_BUILD_TARGET) with a stand-in cargo,
and reads the module's filename from the wheel. Here a few rows are measured again and
compared with the committed table, so the document cannot drift from what maturin does;
rows the document marks WRONG must really differ from the library's (oe-core python3's)
suffix. A last test checks the method: for the host target, the stand-in cargo and a
real compile give maturin the same name.

Needs maturin, cargo and rustc; skipped without them, failed under CI=true.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import re
import subprocess
import sys

import pytest

from pyrust.machines import machine_vars
from pyrust.pyabi import python_abi
from pyrust.target import target_from_vars
from testbed import REPO, require_tool

pytestmark = pytest.mark.e2e

DOC = REPO / "docs" / "maturin-guess.md"
SCRIPT = REPO / "scripts" / "maturin-guess"

# (Python version, MACHINE/TCLIBC) rows measured again; the 3.14 table is oe-core's version.
ROWS = [
    ("3.14", "qemuarm/glibc"),
    ("3.14", "qemuarm/musl"),
    ("3.14", "qemumips64/glibc"),
    ("3.14", "qemumips64/musl"),
    ("3.14", "qemux86/glibc"),
    ("3.14", "qemux86/musl"),
    ("3.11", "qemuarm64/musl"),
    ("3.11", "qemuloongarch64/glibc"),
]


def load_script():
    loader = importlib.machinery.SourceFileLoader("maturin_guess", str(SCRIPT))
    spec = importlib.util.spec_from_loader("maturin_guess", loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["maturin_guess"] = module  # dataclasses look their module up there
    loader.exec_module(module)
    return module


def doc_table(version: str) -> dict[str, dict[str, str]]:
    """The document's table for ``version`` (after ``<!-- maturin-guess --python X.Y ... -->``),
    as MACHINE/TCLIBC -> {column header: cell without backticks}."""
    lines = DOC.read_text(encoding="utf-8").splitlines()
    marker = next((i for i, line in enumerate(lines) if line.startswith(f"<!-- maturin-guess --python {version} ")), None)
    assert marker is not None, f"{DOC.name}: no table marked <!-- maturin-guess --python {version} ... -->"
    i = marker + 1
    while not lines[i].startswith("|"):
        i += 1
    table = []
    while i < len(lines) and lines[i].startswith("|"):
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", lines[i].strip())[1:-1]]
        table.append([c.strip("`").replace("\\|", "|") for c in cells])
        i += 1
    header, rows = table[0], table[2:]
    return {f"{r[0]}/{r[1]}": dict(zip(header, r)) for r in rows}


@pytest.fixture(scope="module")
def mg():
    return load_script()


@pytest.fixture(scope="module")
def harness(mg):
    for tool in ("maturin", "cargo", "rustc"):
        require_tool(tool)
    h = mg.Harness()
    yield h
    h.close()


@pytest.fixture(scope="module")
def measured(mg, harness):
    """(version, key) -> the script's Row, measured with both the upstream and oe-core's triple."""
    out = {}
    for version in sorted({v for v, _ in ROWS}):
        keys = {k for v, k in ROWS if v == version}
        for row in mg.machine_rows(harness, version, keys, oe_triple=True):
            out[(version, row.key)] = row
    return out


@pytest.mark.parametrize(("version", "key"), ROWS, ids=[f"{v}-{k}" for v, k in ROWS])
def test_doc_row_matches_measurement(mg, harness, measured, version, key):
    doc = doc_table(version)[key]
    row = measured[(version, key)]
    hint = (f"maturin changed its guess ({harness.versions()['maturin']}) or the library its answer: "
            f"re-run `scripts/maturin-guess --python {version} --oe-triple --markdown` and update {DOC.name}")
    assert doc["Rust target"] == row.rust_target, hint
    assert doc["maturin's suffix"] == (row.maturin.suffix or "-"), hint
    assert doc["with RUST_HOST_SYS"] == mg._oe_cell(row), hint
    assert doc["oe-core python3's suffix (pyrust)"] == row.pyrust, hint
    assert doc["verdict"] == row.verdict, hint


@pytest.mark.parametrize(("version", "key"), ROWS, ids=[f"{v}-{k}" for v, k in ROWS])
def test_wrong_rows_differ_from_the_library(measured, version, key):
    doc = doc_table(version)[key]
    machine, libc = key.split("/")
    library = python_abi(target_from_vars(machine_vars(machine, libc)), version).ext_suffix
    row = measured[(version, key)]
    if doc["verdict"] == "WRONG":
        assert row.maturin.suffix is not None
        assert row.maturin.suffix != library, f"{key}: the document says WRONG, maturin now names {library}"
        assert row.maturin_oe is not None and row.maturin_oe.suffix != library
    elif doc["verdict"] == "ok":
        assert row.maturin.suffix == library


def test_doc_tables_cover_every_machine():
    from pyrust.machines import machine_names

    expected = {f"{m}/{libc}" for m in machine_names() for libc in ("glibc", "musl")}
    for version in ("3.14", "3.11"):
        assert set(doc_table(version)) == expected, f"{DOC.name}: the {version} table misses or has extra rows"


def test_stand_in_cargo_names_the_module_like_a_real_build(harness):
    """For the host target (its standard library is installed) a real compile gives the same name."""
    host = re.search(r"^host: (\S+)$", subprocess.run(["rustc", "-vV"], capture_output=True, text=True, check=True).stdout, re.M)
    assert host is not None
    if "-linux-" not in host.group(1):
        pytest.skip(f"host {host.group(1)} is not Linux")
    fake = harness.measure(host.group(1), "3.14", 64)
    real = harness.measure(host.group(1), "3.14", 64, real_cargo=True)
    assert real.error is None, real.error
    assert fake.suffix == real.suffix
    assert fake.wheel == real.wheel
