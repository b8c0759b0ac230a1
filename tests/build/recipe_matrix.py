#!/usr/bin/env python3
"""The recipe matrix: oe-core's and meta-python's PyO3 recipes built unmodified in the build
test bed with ``INHERIT += "pyrust"``, with the layer's fix and without it
(``PYRUST_FIX = "0"``: the class only checks, so the modules are named as oe-core and the
build tool name them alone), and ``docs/recipes.md`` generated from what the builds left.

Every fact of a cell comes from the build itself, never from the pyrust library: the
target CPython's EXT_SUFFIX from the ``_sysconfigdata`` oe-core's python3 (here the test
bed's) stages into the recipe sysroot; the modules from ${D} (shared objects exporting
``PyInit_<name>``, read with binutils' nm); failed tasks and QA findings from BitBake's
output; the import check's line and the binding from the do_install log; times from
buildstats and the task logs.

    tests/build/recipe_matrix.py run [--machine KEY]... [--recipe NAME]... [--fix on|off|both]
        build the cells (one build dir per machine and fix setting, ``matrix-<key>-fix``
        or ``-nofix``), print each cell's drift from its committed record (exit 1 if any, as
        the opt-in tier ``matrix`` would fail), write one JSON record per cell to docs/recipes/results/
    tests/build/recipe_matrix.py doc [--check]
        write docs/recipes.md from those records (--check: exit 1 if it differs)

Run as root (BitBake runs as the test bed's build user). The set-up is the build tier's
(scripts/run-tests build). Times: see tests/build/README.md.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import build_testbed as tb  # noqa: E402

RESULTS = tb.REPO / "docs" / "recipes" / "results"
DOC = tb.REPO / "docs" / "recipes.md"

#: Cell key -> (MACHINE, DEFAULTTUNE): the original report's machines (qemuarm, qemuppc,
#: qemumips64), qemuarm64, and qemumips with the mips32r2el tune, where maturin names
#: modules for "mips" (docs/maturin-guess.md).
MACHINES: dict[str, tuple[str, str]] = {
    "qemuarm": ("qemuarm", ""),
    "qemuarm64": ("qemuarm64", ""),
    "qemuppc": ("qemuppc", ""),
    "qemumips64": ("qemumips64", ""),
    "qemumips-mips32r2el": ("qemumips", "mips32r2el"),
}

CLASS_ON = ('INHERIT += "pyrust"', 'PYRUST_STAGE_TARGET_PYTHON = "1"')

#: Recipes of the releases that carry a Rust part but are not built by this test bed, and
#: why (each reason checked against the recipe by tests/build/test_recipe_matrix.py where
#: it is a fact of the recipe). Keys: (recipe, layer).
NOT_BUILT: dict[tuple[str, str], str] = {}

#: Cells that fail with and without the layer for a reason of the recipe itself, and that
#: reason (each checked against the recipe and the cell's record by
#: tests/unit/test_recipes_doc.py). Keys: (recipe, machine key).
RECIPE_FAILURES: dict[tuple[str, str], str] = {
    ("python3-orjson", "qemuarm"):
        "the crate xxhash-rust 0.8.15 (the recipe's crates.inc locks it) compiles its NEON code path "
        "whenever the target has the `neon` feature, and that path names `core::arch::aarch64`, which "
        "32-bit arm has not; qemuarm's tune (cortexa15t2hf-neon) has neon. oe-core alone stops there too",
    ("python3-pyruvate", "qemuarm"):
        "rust-cpython 0.7.1 (its python3-sys crate, which the recipe's crates.inc locks) calls "
        "`_PyUnicode_Ready`, which CPython removed in 3.12 (PEP 623); qemuarm's target Python is 3.14, "
        "oe-core master's own, so the module cannot load there. The class's import check finds it in "
        "do_install (`PYRUST_FIX = \"0\"` keeps the check); oe-core alone installs the module and "
        "the device fails at import. The other machines' test-bed Python is 3.11, where it loads",
    ("python3-pyruvate", "qemumips-mips32r2el"):
        "meta-python's patch for this very error (0001-check-for-mips-targets-for-stat.st_dev-definitions.patch, "
        "`#[cfg(target_arch = \"mips\")]`) is added with `SRC_URI:append:mips` only; qemumips with "
        "DEFAULTTUNE mips32r2el has the override `mipsel`, not `mips`, while rustc's target_arch is "
        "\"mips\" for both, so the patch would apply",
}


# ---------------------------------------------------------------------------- what a build left

def sysconfig_vars(sysroot: Path) -> dict:
    """build_time_vars of the ``_sysconfigdata.py`` oe-core's python3 stages into the recipe
    sysroot (``${libdir}/python-sysconfigdata``): the target CPython's own configure result."""
    tree = ast.parse((sysroot / "usr/lib/python-sysconfigdata/_sysconfigdata.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "build_time_vars":
            return ast.literal_eval(node.value)
    raise ValueError(f"no build_time_vars in {sysroot}'s _sysconfigdata.py")


def accepted_suffixes(config: dict) -> list[str]:
    """The suffixes the target's import system tries, in order, from its configure result:
    ``.<SOABI>.so``, the stable ABI's ``.abi3.so`` (not on a free-threaded build, whose
    3.13/3.14 cannot run such a module), and ``.so`` (CPython's Python/dynload_shlib.c,
    _PyImport_DynLoadFiletab)."""
    stable = [] if config.get("Py_GIL_DISABLED") else [".abi3.so"]
    return [config["EXT_SUFFIX"], *stable, ".so"]


def extension_modules(image: Path) -> list[Path]:
    """Shared objects under ``image`` (${D}) that export PyInit_<name> (binutils' nm)."""
    found = []
    for so in sorted(image.rglob("*.so")):
        syms = subprocess.run(["nm", "-D", "--defined-only", str(so)], text=True, capture_output=True).stdout
        stem = so.name.split(".")[0]
        if re.search(rf"\bPyInit_{re.escape(stem)}\b", syms):
            found.append(so)
    return found


def file_digests(image: Path) -> dict[str, str]:
    """{path relative to ${D}: sha256 of its content, or "-> target" for a symlink}."""
    found = {}
    for path in sorted(image.rglob("*")):
        rel = path.relative_to(image).as_posix()
        if path.is_symlink():
            found[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            found[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found


def compare_images(without: Path, with_fix: Path) -> dict | None:
    """What ${D} of the build without the fix and of the build with it hold differently:
    {"files": number of paths in either, "differ": the paths whose content differs or that
    only one has}. None when either build installed nothing."""
    if not without.is_dir() or not with_fix.is_dir():
        return None
    a, b = file_digests(without), file_digests(with_fix)
    return {"files": len(a.keys() | b.keys()), "differ": sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))}


def dotted(module: str) -> str:
    """The import name of a module installed under site-packages, from its path:
    usr/lib/python3.11/site-packages/bcrypt/_bcrypt.cpython-311-mipsel-linux-gnu.so -> bcrypt._bcrypt"""
    rel = Path(module.split("-packages/", 1)[1])
    return ".".join([*rel.parent.parts, rel.name.split(".", 1)[0]])


def bitbake_env(builddir: str, recipe: str, names: tuple[str, ...]) -> dict[str, str]:
    """``names`` as ``bitbake -e RECIPE`` prints them (one parse for all of them)."""
    out = tb.oe_run(builddir, "bitbake", "-e", recipe, timeout=1800).stdout
    values = {}
    for name in names:
        m = re.search(rf'^{re.escape(name)}="(.*)"$', out, re.M)
        if m:
            values[name] = m.group(1)
    return values


def backend(inherits: str) -> str:
    """The build backend from the classes a recipe inherited (oe-core's class names)."""
    for cls, name in (("python_maturin", "maturin"), ("python_setuptools3_rust", "setuptools-rust")):
        if f"/{cls}.bbclass" in inherits:
            return name
    return "python_pyo3"


def task_seconds(stats_base: Path, pf: str, task: str) -> float | None:
    found = sorted(stats_base.glob(f"*/{pf}/{task}"), key=lambda p: p.stat().st_mtime)
    if not found:
        return None
    m = re.search(r"Elapsed time: ([0-9.]+) seconds", found[-1].read_text())
    return float(m.group(1)) if m else None


CLASS_TIMED = re.compile(r"pyrust: (?:pyrust_export_environment|pyrust_amend_pyo3_config) took ([0-9.]+) s")
CLASS_QA = re.compile(r"pyrust: QA check of \d+ module\(s\): \d+ finding\(s\) in ([0-9.]+) s")


def class_seconds(logs: Path) -> float:
    """What the class's own functions took, as their task logs time them (seconds)."""
    total = 0.0
    for task in ("do_configure", "do_compile", "do_install"):
        log = logs / f"log.{task}"
        if log.is_file():
            text = log.read_text(errors="replace")
            total += sum(float(s) for s in CLASS_TIMED.findall(text)) + sum(float(s) for s in CLASS_QA.findall(text))
    return total


def failed_tasks(output: str, recipe_file: Path) -> list[str]:
    """Tasks of ``recipe_file`` BitBake reports failed ("Task (<file>:do_x) failed")."""
    return re.findall(rf"Task \({re.escape(str(recipe_file))}:(do_\w+)\) failed", output)


COMPILER_ERROR = re.compile(r"^(error(?:\[E\d+\])?: .*)$")
ERROR_AT = re.compile(r"^\s*--> (\S+)$")
ERROR_NOTE = re.compile(r"^\s*\|\s*\^+ (.*)$")


def first_compiler_error(log: str) -> str | None:
    """The first rustc/cargo error of a task log, with where it points and what it says:
    ``error[E0308]: mismatched types at libsystemd-0.5.0/src/logging.rs:295:25: expected `u64`, found `u32```
    (the path shortened to the crate directory)."""
    lines = log.splitlines()
    for i, line in enumerate(lines):
        m = COMPILER_ERROR.match(line)
        if not m:
            continue
        text = m.group(1)
        for follow in lines[i + 1:i + 12]:
            at, note = ERROR_AT.match(follow), ERROR_NOTE.match(follow)
            if at:
                text += " at " + re.sub(r"^.*/(cargo_home/bitbake|sources)/", "", at.group(1))
            elif note:
                text += ": " + note.group(1)
                break
        return text
    return None


def qa_lines(output: str, recipe: str) -> list[str]:
    """BitBake's ERROR/WARNING lines of pyrust's QA names for ``recipe``."""
    return [line for line in output.splitlines()
            if line.startswith(("ERROR:", "WARNING:")) and f" {recipe}-" in line and "[pyrust-" in line]


# ---------------------------------------------------------------------------- cells

def cell_recipes(machine: str) -> list[tb.Recipe]:
    """The recipes under test built for ``machine`` (build dependencies are not cells)."""
    return [r for r in tb.RECIPES if not r.dependency and (r.machines is None or machine in r.machines)]


def builddir_name(machine: str, fix: bool) -> str:
    return f"matrix-{machine}-{'fix' if fix else 'nofix'}"


def run_cells(machine: str, fix: bool, recipes: list[tb.Recipe]) -> list[dict]:
    """Build ``recipes`` through do_install in one build dir (``bitbake -k``) and read one
    record per recipe from what the build left."""
    mach, tune = MACHINES[machine]
    name = builddir_name(machine, fix)
    tb.init(name, mach, tune, (*CLASS_ON, *(() if fix else ('PYRUST_FIX = "0"',))))
    started = time.monotonic()
    proc = tb.oe_run(name, "bitbake", "-k", "-c", "install", *(r.name for r in recipes), check=False, timeout=4 * 3600)
    wall = time.monotonic() - started
    output = proc.stdout + proc.stderr
    records = []
    for recipe in recipes:
        env = bitbake_env(name, recipe.name, ("PV", "FILE", "D", "T", "PF", "RECIPE_SYSROOT", "BUILDSTATS_BASE", "__inherit_cache", "BBINCLUDED"))
        # a recipe that failed before do_prepare_recipe_sysroot has no sysroot to read
        staged = (Path(env["RECIPE_SYSROOT"]) / "usr/lib/python-sysconfigdata/_sysconfigdata.py").is_file()
        config = sysconfig_vars(Path(env["RECIPE_SYSROOT"])) if staged else {}
        image = Path(env["D"])
        modules = extension_modules(image) if image.is_dir() else []
        suffixes = accepted_suffixes(config) if staged else []
        install_log = Path(env["T"]) / "log.do_install"
        log = install_log.read_text(errors="replace") if install_log.is_file() else ""
        imported = re.search(r"pyrust: imported under (qemu-\S+) with \S+: (.*)", log)
        loaded = re.search(r"pyrust: loaded under (qemu-\S+) with \S+ up to a runtime dependency: (.*)", log)
        needs = dict(re.findall(r"(\S+) \(imports (\S+)\)", loaded.group(2))) if loaded else {}
        binding = re.search(r"pyrust: binding (\S+)(?: (\S+))? \(", log)
        stats = Path(env["BUILDSTATS_BASE"])
        build_s = [task_seconds(stats, env["PF"], t) for t in ("do_compile", "do_install")]
        failed = failed_tasks(output, Path(env["FILE"]))
        failure = None
        if failed and (Path(env["T"]) / f"log.{failed[0]}").is_file():
            failure = first_compiler_error((Path(env["T"]) / f"log.{failed[0]}").read_text(errors="replace"))
        records.append({
            "recipe": recipe.name,
            "layer": recipe.layer,
            "version": env["PV"],
            "machine": machine,
            "fix": fix,
            "backend": backend(env.get("__inherit_cache", "") + env.get("BBINCLUDED", "")),
            "binding": f"{binding.group(1)} {binding.group(2)}" if binding and binding.group(2) else (binding.group(1) if binding else None),
            "ext_suffix": config.get("EXT_SUFFIX"),
            "python": config.get("VERSION") or config.get("py_version_short"),
            "modules": [m.relative_to(image).as_posix() for m in modules],
            "accepted": bool(modules) and all(any(m.name.endswith(s) for s in suffixes[:-1]) for m in modules),
            "failed_tasks": failed,
            **({"failure": failure} if failure else {}),
            "findings": sorted({re.sub(r"^(ERROR|WARNING): \S+ ", "", line) for line in qa_lines(output, recipe.name)}),
            "imported": ({"qemu": (imported or loaded).group(1),  # type: ignore[union-attr]
                          "modules": sorted(imported.group(2).split()) if imported else [],
                          **({"needs": needs} if needs else {})} if imported or loaded else None),
            # the build without the fix runs second: ${D} against the one the build with it left
            **({"image_vs_fix": compare_images(image, Path(str(image).replace(f"/{name}/", f"/{builddir_name(machine, True)}/")))
                if image.is_dir() and not failed else None} if not fix else {}),
            "build_s": round(sum(build_s), 1) if all(s is not None for s in build_s) else None,  # type: ignore[misc]
            "class_s": round(class_seconds(Path(env["T"])), 3),
            "bitbake_wall_s": round(wall, 1),
        })
    return records


def record_path(record: dict) -> Path:
    return RESULTS / f"{record['recipe']}--{record['machine']}--{'fix' if record['fix'] else 'nofix'}.json"


def write_record(record: dict) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    record_path(record).write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")


#: Fields that a new run must reproduce (the rest are times).
STABLE_FIELDS = ("recipe", "layer", "version", "machine", "fix", "backend", "binding", "ext_suffix", "python",
                 "modules", "accepted", "failed_tasks", "failure", "findings", "imported")


def drift(record: dict) -> list[str]:
    """Differences between ``record`` (a new run) and the committed record of its cell."""
    path = record_path(record)
    if not path.is_file():
        return [f"{path.name}: no committed record (run recipe_matrix.py run and doc)"]
    old = json.loads(path.read_text())
    return [f"{path.name}: {k}: committed {old.get(k)!r}, now {record.get(k)!r}" for k in STABLE_FIELDS if old.get(k) != record.get(k)]


# ---------------------------------------------------------------------------- the document

def verdict(record: dict | None) -> str:
    if record is None:
        return "not run"
    if not record["modules"]:
        return "no module" if not record["failed_tasks"] else f"fails: {', '.join(record['failed_tasks'])}"
    right = "right" if record["accepted"] else "WRONG"
    if record["failed_tasks"]:
        return f"{right}; fails {', '.join(record['failed_tasks'])}"
    return right


def render(records: list[dict]) -> str:
    """docs/recipes.md from the cell records (and NOT_BUILT): a summary, one row per
    recipe and machine, the findings without the layer, the recipes not built and why."""
    cells: dict[tuple[str, str], dict[bool, dict]] = {}
    for r in records:
        cells.setdefault((r["recipe"], r["machine"]), {})[r["fix"]] = r
    built = sorted(cells, key=lambda k: (k[0], list(MACHINES).index(k[1])))
    both = [c for c in built if len(cells[c]) == 2]
    wrong_without = [c for c in both if cells[c][False]["modules"] and not cells[c][False]["accepted"]]
    right_with = [c for c in both if not cells[c][True]["failed_tasks"]
                  and (cells[c][True]["accepted"] or not cells[c][True]["modules"])]
    compared = [c for c in both if cells[c][False].get("image_vs_fix") and not cells[c][True]["failed_tasks"]]
    same_image = [c for c in compared if not cells[c][False]["image_vs_fix"]["differ"]]
    imported_with = [c for c in both if cells[c][True]["imported"]]
    failing_both = [c for c in both if cells[c][True]["failed_tasks"] and cells[c][False]["failed_tasks"]]
    standins = [r for r in tb.RECIPES if r.source_standin and any(c[0] == r.name for c in built)]
    lines = [
        "# PyO3 recipes of oe-core and meta-python with meta-pyrust",
        "",
        "Generated by `tests/build/recipe_matrix.py doc` from the records in `docs/recipes/results/`,",
        "which `tests/build/recipe_matrix.py run` reads from real BitBake builds in the build test bed",
        "(tests/build/README.md: what is stood in for and why). Do not edit by hand.",
        "",
        "Each cell is one recipe, unmodified from its release archive (oe-core and meta-openembedded",
        "master; where its source host cannot be reached here, the release's PyPI sdist stands in for",
        "the download: *Source stand-ins* below), built through do_install for one machine with",
        "`INHERIT += \"pyrust\"`, once with the",
        "layer's fix and once with `PYRUST_FIX = \"0\"` (the class only checks: the module is named as",
        "oe-core and the build tool name it without the layer). *Right* means every extension module",
        "in `${D}` ends with the target CPython's EXT_SUFFIX or `.abi3.so`, read from the",
        "`_sysconfigdata` in the recipe sysroot, not from this layer's library.",
        "",
        "Every build stops at do_install: do_package and do_package_qa need the packaging tools",
        "(rpm-native, opkg-utils-native, assumed provided and never run here) and the package split",
        "of oe-core's python3, which the test bed stands in for with prebuilt interpreters (see",
        "tests/build/README.md). Runtime dependencies (RDEPENDS) are therefore not in the sysroot",
        "the import check runs in; a module whose initialisation imports one is *loaded* (its file",
        "found and its shared object initialised up to that import), as a real build would show too.",
        "",
        "The column `${D}` without vs with compares, file by file, what the two builds of a cell",
        "installed (cells built by this script since it records that; blank otherwise). The two builds",
        "run in different build dirs (`matrix-<machine>-fix`, `-nofix`), and maturin's SBOM",
        "(`*.cyclonedx.json`) records the source path, which contains the build dir's name.",
        "",
        "## Summary",
        "",
        f"- cells built with and without the fix: {len(both)} ({len({c[0] for c in both})} recipes, "
        f"{len({c[1] for c in both})} machines)",
        f"- wrong without the layer: {len(wrong_without)}" + (f" ({', '.join(f'{r} on {m}' for r, m in wrong_without)})" if wrong_without else ""),
        f"- right with the layer, through do_install: {len(right_with)} of {len(both)}",
        f"- imported under qemu-user after do_install, with the layer: {len(imported_with)} of {len(both)}",
        f"- `${{D}}` the same with and without the fix (every file's path and content): {len(same_image)} of the "
        f"{len(compared)} cells where both installed and were compared (the column `${{D}}` without vs with names "
        f"the files that differ)",
        *(f"- {r.name} is built for {', '.join(r.machines)} only: {r.fewer_machines_why}" for r in tb.RECIPES if r.machines and not r.dependency),
        f"- failing with and without the layer, for a reason of the recipe: {len(failing_both)}"
        + (f" ({', '.join(f'{r} on {m}' for r, m in failing_both)}; below)" if failing_both else ""),
        f"- built from a source stand-in: {len(standins)} (below)",
        f"- recipes not built here: {len(NOT_BUILT)}" + (" (below, with the reason)" if NOT_BUILT else ""),
        "",
        "## Cells",
        "",
        "| recipe | layer | version | backend | binding | machine | target EXT_SUFFIX | modules "
        "| without the layer | with the layer | imported (with) | `${D}` without vs with | compile+install s | class s |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for key in built:
        pair = cells[key]
        with_fix, without = pair.get(True), pair.get(False)
        any_r = with_fix or without
        assert any_r is not None
        mods = " ".join(f"`{Path(m).name}`" for m in (with_fix or any_r)["modules"]) or "none"
        imp = "no"
        if with_fix and with_fix["imported"]:
            needs = with_fix["imported"].get("needs", {})
            imp = (f"loaded ({with_fix['imported']['qemu']}; its init imports {', '.join(sorted(set(needs.values())))}, "
                   f"a runtime dependency)" if needs else f"yes ({with_fix['imported']['qemu']})")
        image = ""
        if with_fix and not with_fix["failed_tasks"] and without and without.get("image_vs_fix"):
            cmp = without["image_vs_fix"]
            image = (f"same ({cmp['files']} files)" if not cmp["differ"] else
                     f"{len(cmp['differ'])} of {cmp['files']} files differ: " + ", ".join(f"`{Path(f).name}`" for f in cmp["differ"]))
        lines.append(f"| {any_r['recipe']} | {any_r['layer']} | {any_r['version']} | {any_r['backend']} | {any_r['binding'] or 'none'} "
                     f"| {any_r['machine']} | `{any_r['ext_suffix']}` | {mods} | {verdict(without)} | {verdict(with_fix)} | {imp} | {image} "
                     f"| {with_fix['build_s'] if with_fix else ''} | {with_fix['class_s'] if with_fix else ''} |")
    findings = [(c, f) for c in both for f in cells[c][False]["findings"]]
    lines += ["", "## What the QA check said without the layer (`PYRUST_FIX = \"0\"`)", ""]
    lines += [f"- {r} on {m}: `{f}`" for (r, m), f in findings] or ["- nothing"]
    lines += ["", "## Failing with and without the layer", ""]
    for key in failing_both:
        rec = cells[key][True]
        said = rec.get("failure") or "; ".join(rec["findings"]) or "no compiler error in the task log"
        lines.append(f"- {key[0]} on {key[1]} (Python {rec['python']}): {', '.join(rec['failed_tasks'])} fails with and "
                     f"without the fix: `` {said} ``"
                     + (f". Why: {RECIPE_FAILURES[key]}." if key in RECIPE_FAILURES else ""))
    if not failing_both:
        lines.append("- none")
    lines += ["", "## Source stand-ins", "",
              "Test bed only (tests/build/README.md): a bbappend of tests/build/meta-pyrust-testbed replaces the",
              "recipe's download with the release's sdist from PyPI (python3-orjson's also deletes the sdist's",
              "`.cargo/config.toml`, which only points cargo at crates vendored into the sdist, so that the",
              "recipe's own crates are built); nothing else of the recipe changes.", ""]
    lines += [f"- {r.name} ({r.layer}): {r.source_standin}" for r in standins] or ["- none"]
    lines += ["", "## Not built here", ""]
    lines += (["| recipe | layer | why |", "|---|---|---|"] + [f"| {r} | {layer} | {why} |" for (r, layer), why in sorted(NOT_BUILT.items())]
              if NOT_BUILT else ["- none: every Rust-for-Python recipe of oe-core and meta-python has cells above"])
    return "\n".join(lines) + "\n"


def load_records() -> list[dict]:
    return [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="recipe_matrix.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_run = sub.add_parser("run")
    p_run.add_argument("--machine", action="append", choices=list(MACHINES))
    p_run.add_argument("--recipe", action="append", choices=[r.name for r in tb.RECIPES])
    p_run.add_argument("--fix", choices=("on", "off", "both"), default="both")
    p_doc = sub.add_parser("doc")
    p_doc.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    if args.cmd == "doc":
        text = render(load_records())
        if args.check:
            return 0 if DOC.is_file() and DOC.read_text() == text else 1
        DOC.write_text(text)
        return 0
    tb.setup()
    fixes = {"on": (True,), "off": (False,), "both": (True, False)}[args.fix]
    drifted = 0
    for machine in args.machine or list(MACHINES):
        recipes = [r for r in cell_recipes(machine) if not args.recipe or r.name in args.recipe]
        if not recipes:
            continue
        for fix in fixes:
            started = time.monotonic()
            for record in run_cells(machine, fix, recipes):
                # what the opt-in tier would report, before the record is replaced
                for problem in drift(record) if record_path(record).is_file() else ():
                    print(f"recipe-matrix: drift: {problem}", flush=True)
                    drifted += 1
                write_record(record)
                print(f"{record['recipe']:24} {machine:20} fix={'on ' if fix else 'off'} {verdict(record):30} "
                      f"imported={'yes' if record['imported'] else 'no'} build_s={record['build_s']}", flush=True)
            print(f"recipe-matrix: {machine} fix={'on' if fix else 'off'}: {time.monotonic() - started:.0f} s", flush=True)
    return 1 if drifted else 0


if __name__ == "__main__":
    sys.exit(main())
