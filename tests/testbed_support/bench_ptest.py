#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What do_pyrust_ptest costs: per recipe and machine, the test suite under qemu-user
against the same tests run natively, and the task's share of the recipe's build time.

Reads finished build-test-bed builds (tests/build/build_testbed.py; a build dir that ran
``bitbake -c pyrust_ptest RECIPE`` with ``PYRUST_PTEST = "1"``):

- emulated: the suite's wall time as do_pyrust_ptest measured it (its task log line
  "pyrust: <pn> under qemu-<arch> ...: N passed ... in S s"), and the number of tests;
- native: the same test files (the recipe's ``${D}${PTEST_PATH}``, i.e. ``image/.../ptest``)
  run here with this interpreter (x86-64) against PyPI's wheel of the same project and
  version for this host (``pip download --only-binary=:all:``), ``--repeat`` times, the
  median taken; recipes without a PyPI project (the test bed's own) get no native figure;
- the task's share: do_pyrust_ptest's elapsed seconds over the sum of every task of the
  recipe (buildstats, the newest record of each task), both printed.

Ratios are computed within this run; the emulated figure is the build's own, measured
when it ran: compare runs on equally loaded machines only. Wall times in seconds.

Usage:
  bench-ptest BUILDDIR:RECIPE [BUILDDIR:RECIPE ...] [--repeat N] [--json]

Exit status: 0 measured, 2 a build dir or a result is missing (the message names it).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "build"))
import build_testbed as tb  # noqa: E402  (tests/build is not a package)


def work_dir(builddir: str, recipe: str) -> Path:
    """The recipe's WORKDIR in the build dir (tmp/work/<arch>/<pn>/<pv>)."""
    found = sorted(Path(tb.oe_paths()["BUILDS"], builddir, "tmp", "work").glob(f"*/{recipe}/*/temp/pyrust-ptest.json"))
    if not found:
        raise SystemExit(f"bench-ptest: no pyrust-ptest.json of {recipe} in build dir {builddir} "
                         f"(run: build_testbed.py bitbake {builddir} -- -c pyrust_ptest {recipe})")
    return found[-1].parent.parent


def emulated(workdir: Path, recipe: str) -> tuple[str, int, float]:
    """(qemu binary, tests, seconds) from the newest do_pyrust_ptest log."""
    logs = sorted((workdir / "temp").glob("log.do_pyrust_ptest.*"), key=lambda p: p.stat().st_mtime)
    for log in reversed(logs):
        m = re.search(rf"pyrust: {re.escape(recipe)} under (\S+) with \S+: (\d+) passed, (\d+) failed, (\d+) skipped in ([0-9.]+) s",
                      log.read_text(errors="replace"))
        if m:
            return m.group(1), sum(int(m.group(i)) for i in (2, 3, 4)), float(m.group(5))
    raise SystemExit(f"bench-ptest: no result line in {workdir}/temp/log.do_pyrust_ptest.*")


def task_times(builddir: str, recipe: str) -> dict[str, float]:
    """Elapsed seconds per task, the newest buildstats record of each."""
    newest: dict[str, tuple[float, float]] = {}
    for stat in Path(tb.oe_paths()["BUILDS"], builddir, "tmp", "buildstats").glob(f"*/{recipe}-*/do_*"):
        m = re.search(r"Elapsed time: ([0-9.]+) seconds", stat.read_text(errors="replace"))
        if m and (stat.name not in newest or stat.stat().st_mtime > newest[stat.name][0]):
            newest[stat.name] = (stat.stat().st_mtime, float(m.group(1)))
    return {task: seconds for task, (_, seconds) in newest.items()}


def native(workdir: Path, recipe: str, repeat: int) -> tuple[int, float] | None:
    """(tests, median seconds) of the recipe's ptest files run here against PyPI's wheel."""
    project = next((r.pypi for r in tb.RECIPES if r.name == recipe), None)
    if project is None:
        return None
    version = workdir.name
    ptest = next((workdir / "image").glob("usr/lib/*/ptest"), None)
    if ptest is None:
        raise SystemExit(f"bench-ptest: no ptest directory in {workdir}/image")
    with tempfile.TemporaryDirectory(prefix="bench-ptest-") as tmp:
        site = Path(tmp) / "site"
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--root-user-action=ignore", "--no-deps",
                        "--only-binary=:all:", "--target", str(site), f"{project}=={version}"], check=True)
        times = []
        tests = 0
        for _ in range(repeat):
            copy = Path(tmp) / "ptest"
            shutil.rmtree(copy, ignore_errors=True)
            shutil.copytree(ptest, copy)
            junit = Path(tmp) / "junit.xml"
            env = {**os.environ, "PYTHONPATH": str(site), "PYTHONDONTWRITEBYTECODE": "1"}
            started = time.monotonic()
            proc = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
                                  cwd=copy, env=env, capture_output=True, text=True)
            times.append(time.monotonic() - started)
            if proc.returncode not in (0, 1):
                raise SystemExit(f"bench-ptest: native pytest of {recipe} failed ({proc.returncode}): {proc.stdout[-800:]}")
            tests = len(re.findall(r"<testcase ", junit.read_text()))
        return tests, statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench-ptest", description=__doc__.split("\n\n")[0])
    parser.add_argument("cells", nargs="+", metavar="BUILDDIR:RECIPE")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    rows = []
    for cell in args.cells:
        builddir, _, recipe = cell.partition(":")
        if not recipe:
            parser.error(f"{cell!r}: expected BUILDDIR:RECIPE, e.g. build-qemuppc-ptest:python3-rpds-py")
        workdir = work_dir(builddir, recipe)
        qemu, tests, emu_s = emulated(workdir, recipe)
        nat = native(workdir, recipe, args.repeat)
        tasks = task_times(builddir, recipe)
        task_s = tasks.get("do_pyrust_ptest", float("nan"))
        build_s = sum(tasks.values())
        rows.append({"build": builddir, "recipe": recipe, "qemu": qemu, "tests": tests, "emulated_s": round(emu_s, 2),
                     "native_tests": nat[0] if nat else None, "native_s": round(nat[1], 2) if nat else None,
                     "ratio": round(emu_s / nat[1], 1) if nat else None, "task_s": task_s,
                     "recipe_tasks_s": round(build_s, 1), "share_pct": round(100 * task_s / build_s, 1) if build_s else None})
    if args.json:
        print(json.dumps(rows, indent=1))
        return 0
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"{'recipe':30} {'build':22} {'qemu':9} {'tests':>5} {'emulated s':>10} {'native s':>9} {'ratio':>6} "
          f"{'task s':>7} {'recipe s':>9} {'share':>6}")
    for r in rows:
        print(f"{r['recipe']:30} {r['build']:22} {r['qemu']:9} {r['tests']:>5} {r['emulated_s']:>10} "
              f"{r['native_s'] if r['native_s'] is not None else '-':>9} {r['ratio'] if r['ratio'] is not None else '-':>6} "
              f"{r['task_s']:>7} {r['recipe_tasks_s']:>9} {str(r['share_pct']) + ' %':>6}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
