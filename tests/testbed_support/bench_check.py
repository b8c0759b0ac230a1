#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""What pyrust's QA check costs, measured in one run on qemuarm.

Dynamic check: the wall time of :func:`pyrust.check.import_check` (scratch copy plus one
python3.11 run under qemu-arm importing every module) for 1 and for 20 extension
modules, against a bare ``python3.11 -c pass`` under the same qemu, as ratios computed
within this run. Static check: :func:`pyrust.check.static_check` (names, ELF headers,
PyInit symbols) over a tree of 200 modules, in modules per second, on both of its paths:
the CLI's (no ``elf_tools``: pyelftools, through the struct reader for well-formed
files) and BitBake's (an :class:`pyrust.elfinfo.ElfTools`: a header function and GNU
readelf; outside BitBake the header function is the one tests/unit/test_elf_tools.py
puts in place of oe.qa.ELFFile). Each path is also measured the way it read files before
``read_elfs`` (one pyelftools parse of every section and segment per file; one readelf
process per file), in the same rounds, so the speed-up is a ratio within this run.

The target is oe-core's qemuarm (pyrust.machines), the interpreter Debian's armhf
python3.11 from the cache (tests/tools/setup-testbed provisions it), the modules tiny C
extensions cross-compiled with arm-linux-gnueabihf-gcc by tests/e2e/cmodules.py (real
PyO3 modules are larger: they cost more to load and to read, so these figures are the
check's own overhead, a lower bound).

Each measurement is repeated ``--repeat`` times, interleaved (baseline, 1, 20, static
in every round) so that load from other jobs falls on all of them alike, after one
untimed warm-up start; the median and the minimum are printed. Wall times are in
seconds. The machine's load average is printed with them: the figures are only
comparable between runs on equally loaded machines.

``--static-only`` measures the static check alone: it needs only the cross gcc (no
qemu-arm, no sysroot; the ABI is pyrust's table's for Python 3.11 on qemuarm).

Usage:
  bench-check [--repeat N] [--json] [--static-modules N] [--sysroot DIR] [--timeout S] [--static-only]

Exit status: 0 measured, 1 a check gave findings (the figures would mean nothing),
2 something needed is missing (qemu-arm, the cross gcc, the sysroot).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pyrust.check
from e2e.cmodules import ARMHF, build_module  # the C modules the e2e fault matrix uses
from pyrust import elfinfo
from pyrust.check import Module, import_check, static_check
from pyrust.elfinfo import ElfTools
from pyrust.machines import machine_vars
from pyrust.pyabi import PythonABI, python_abi
from pyrust.qemurun import run_target_python
from pyrust.resolve import resolve_abi
from pyrust.target import Target, target_from_vars
from unit.test_elf_tools import struct_header  # the stand-in for oe.qa.ELFFile

MACHINE = "qemuarm"
DEBIAN_ARCH = "armhf"
PYTHON = "/usr/bin/python3.11"
DYNAMIC_COUNTS = (1, 20)
# The static check's paths: key -> (label, ElfTools or None, read the old way).
STATIC_PATHS = {
    "cli": ("CLI path (no elf_tools)", None),
    "bitbake": ("BitBake path (readelf)", ElfTools(struct_header)),
}


class Missing(RuntimeError):
    """Something the benchmark needs is not installed or provisioned; ``str()`` says what."""


class CheckFailed(RuntimeError):
    """A measured check gave findings or a note: its time is not the cost of a passing check."""


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench-check", description=__doc__.split("\n\n")[0],
        epilog="Prints median (min) wall seconds of each measurement, the ratios to the bare start, "
               "and the static check's throughput.")
    parser.add_argument("--repeat", type=int, default=5, help="rounds of measurements (default 5)")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--static-modules", type=int, default=200, help="modules in the static check's tree (default 200)")
    parser.add_argument("--sysroot", type=Path, help="Debian armhf python3.11 sysroot (default: the one in the cache)")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds allowed per interpreter run (default 300)")
    parser.add_argument("--static-only", action="store_true",
                        help="measure only the static check (needs only the cross gcc: no qemu-arm, no sysroot)")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.static_modules < max(DYNAMIC_COUNTS):
        parser.error(f"--repeat must be >= 1 and --static-modules >= {max(DYNAMIC_COUNTS)}")
    return args


def setup(sysroot: Path | None, static_only: bool = False) -> tuple[Target, PythonABI, Path | None]:
    """(qemuarm target, the ABI the sysroot's interpreter reports, the sysroot); raises :class:`Missing`.
    ``static_only``: the table's ABI for Python 3.11 and no sysroot; only the cross gcc is needed."""
    target = target_from_vars(machine_vars(MACHINE))
    if static_only:
        if shutil.which(ARMHF.gcc) is None:
            raise Missing(f"{ARMHF.gcc} is not installed (apt-get install gcc-arm-linux-gnueabihf)")
        return target, python_abi(target, "3.11"), None
    from testbed_support.provision import find_sysroot  # the test-bed's sysroots; not needed for --static-only

    for tool in (target.qemu_binary, ARMHF.gcc):
        if shutil.which(tool) is None:
            raise Missing(f"{tool} is not installed (tests/tools/setup-testbed installs it)")
    sysroot = sysroot or find_sysroot(DEBIAN_ARCH)
    if sysroot is None or not (sysroot / PYTHON.lstrip("/")).exists():
        raise Missing(f"no Debian {DEBIAN_ARCH} python3.11 sysroot (tests/tools/setup-testbed, or --sysroot)")
    abi = resolve_abi(target, None, None, sysroot, require_sysroot_abi=True).abi
    return target, abi, sysroot


def build_tree(root: Path, names: list[str], abi: PythonABI) -> None:
    """Working modules ``<name><EXT_SUFFIX>`` in ``root`` (gcc runs in parallel, one per core)."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        jobs = [pool.submit(build_module, "working", name, root / f"{name}{abi.ext_suffix}", ARMHF) for name in names]
        for job in jobs:
            job.result()


def subset(source: Path, dest: Path, names: list[str], abi: PythonABI) -> Path:
    """A tree at ``dest`` holding copies of the modules ``names`` of ``source``."""
    dest.mkdir(parents=True)
    for name in names:
        shutil.copy2(source / f"{name}{abi.ext_suffix}", dest)
    return dest


def timed(action: Callable[[], object]) -> tuple[float, object]:
    """(wall seconds, result) of ``action()``."""
    t0 = time.perf_counter()
    result = action()
    return time.perf_counter() - t0, result


def bare_start(target: Target, sysroot: Path, cwd: Path, timeout: float) -> Callable[[], object]:
    """``python3.11 -c pass`` under the target's qemu, with the same runner the check uses."""
    def run() -> object:
        result = run_target_python(target.qemu_binary, target.qemu_options, sysroot, PYTHON, "pass", cwd=cwd, timeout=timeout)
        if not result.ok:
            raise CheckFailed(f"python -c pass failed under {target.qemu_binary}: exit {result.returncode} {result.stderr[-300:]}")
        return result
    return run


def dynamic_check(modules: list[Module], target: Target, sysroot: Path, timeout: float) -> Callable[[], object]:
    """One :func:`import_check` of ``modules``; raises :class:`CheckFailed` unless all imported."""
    def run() -> object:
        outcome = import_check(modules, target, sysroot, PYTHON, timeout=timeout)
        if outcome.findings or len(outcome.imported) != len(modules):
            raise CheckFailed(f"import check of {len(modules)} module(s): {[str(f) for f in outcome.findings]} {outcome.notes}")
        return outcome
    return run


def read_one_by_one(paths, tools: ElfTools | None) -> list:
    """:func:`pyrust.elfinfo.read_elfs` as files were read before it: each file alone,
    with pyelftools parsing every section and segment, or with a readelf process of its own."""
    answers: list = []
    for path in paths:
        try:
            if tools is not None:
                answers.append(elfinfo.read_elf(path, tools))  # one file: one readelf run
            elif not elfinfo.is_elf(Path(path)):
                answers.append(elfinfo.NotElfError("not an ELF file (no \\x7fELF magic)"))
            else:
                answers.append(elfinfo._read_elf_pyelftools(Path(path)))
        except elfinfo.NotElfError as err:
            answers.append(err)
    return answers


def static(tree: Path, target: Target, abi: PythonABI, count: int, tools: ElfTools | None = None,
           old: bool = False) -> Callable[[], object]:
    """One :func:`static_check` of ``tree`` with ``tools`` (``old``: reading each file alone,
    as before :func:`pyrust.elfinfo.read_elfs`); raises :class:`CheckFailed` unless ``count``
    clean modules."""
    def run() -> object:
        saved = pyrust.check.read_elfs
        if old:
            pyrust.check.read_elfs = read_one_by_one  # type: ignore[assignment]
        try:
            modules, findings = static_check(tree, target, abi, elf_tools=tools)
        finally:
            pyrust.check.read_elfs = saved
        if findings or len(modules) != count:
            raise CheckFailed(f"static check: {len(modules)} module(s), findings {[str(f) for f in findings]}")
        return modules
    return run


def summary(samples: list[float]) -> dict:
    """``{"median", "min", "samples"}`` of wall times in seconds."""
    return {"median": statistics.median(samples), "min": min(samples), "samples": samples}


def measure(args: argparse.Namespace, work: Path) -> dict:
    """Build the trees in ``work``, run every measurement ``args.repeat`` times; the report as a dict."""
    target, abi, sysroot = setup(args.sysroot, args.static_only)
    names = [f"m{i:03d}" for i in range(args.static_modules)]
    t_build, _ = timed(lambda: build_tree(work / "all", names, abi))
    actions: dict[str, Callable[[], object]] = {}
    if sysroot is not None:
        cwd = work / "cwd"
        cwd.mkdir()
        actions["baseline"] = bare_start(target, sysroot, cwd, args.timeout)
        for count in DYNAMIC_COUNTS:
            tree = subset(work / "all", work / f"dyn{count}", names[:count], abi)
            modules, _ = static_check(tree, target, abi)
            actions[f"dynamic{count}"] = dynamic_check(modules, target, sysroot, args.timeout)
    for key, (_label, tools) in STATIC_PATHS.items():
        actions[f"static_{key}"] = static(work / "all", target, abi, len(names), tools)
        actions[f"static_{key}_old"] = static(work / "all", target, abi, len(names), tools, old=True)

    load_before = os.getloadavg()
    for key, action in actions.items():  # untimed: the first start of a cold interpreter is 2 to 3 times slower
        if key == "baseline" or key.startswith("static"):
            action()
    samples: dict[str, list[float]] = {key: [] for key in actions}
    for _ in range(args.repeat):
        for key, action in actions.items():  # interleaved: drift in load hits every measurement alike
            samples[key].append(timed(action)[0])
    return report(args, target, abi, sysroot, samples, t_build, load_before, os.getloadavg())


def throughput(modules: int, samples: list[float]) -> dict:
    """``{"modules", "seconds", "modules_per_second": {"median", "max"}}`` of a static check."""
    seconds = summary(samples)
    return {"modules": modules, "seconds": seconds,
            "modules_per_second": {"median": modules / seconds["median"], "max": modules / seconds["min"]}}


def report(args: argparse.Namespace, target: Target, abi: PythonABI, sysroot: Path | None, samples: dict[str, list[float]],
           t_build: float, load_before: tuple[float, ...], load_after: tuple[float, ...]) -> dict:
    """The JSON-able report; ratios are per statistic (median to median, min to min).
    ``static`` is the CLI path (as it always was); ``static_paths`` has both paths, each
    with ``old`` (files read one by one, as before read_elfs) and ``speedup`` (old time / new time)."""
    paths = {}
    for key, (label, _tools) in STATIC_PATHS.items():
        new, old = throughput(args.static_modules, samples[f"static_{key}"]), throughput(args.static_modules, samples[f"static_{key}_old"])
        paths[key] = {**new, "label": label, "old": old,
                      "speedup": {"median": old["seconds"]["median"] / new["seconds"]["median"],
                                  "min": old["seconds"]["min"] / new["seconds"]["min"]}}
    result: dict = {
        "machine": MACHINE,
        "ext_suffix": abi.ext_suffix,
        "repeat": args.repeat,
        "load_average": {"before": list(load_before), "after": list(load_after)},
        "cpus": os.cpu_count(),
        "build_seconds": t_build,
        "static": {key: value for key, value in paths["cli"].items() if key in ("modules", "seconds", "modules_per_second")},
        "static_paths": paths,
    }
    if sysroot is None:
        return result
    base = summary(samples["baseline"])
    dynamic = {str(n): summary(samples[f"dynamic{n}"]) for n in DYNAMIC_COUNTS}
    qemu = subprocess.run([target.qemu_binary, "--version"], capture_output=True, text=True).stdout.splitlines()
    return {
        **result,
        "interpreter": f"{sysroot}{PYTHON}",
        "qemu": qemu[0] if qemu else target.qemu_binary,
        "baseline_seconds": base,
        "dynamic_seconds": dynamic,
        "dynamic_ratio": {n: {k: d[k] / base[k] for k in ("median", "min")} for n, d in dynamic.items()},
    }


def print_table(r: dict) -> None:
    """The report as the human-readable table."""
    if "interpreter" in r:
        print(f"{r['machine']}: {r['interpreter']} ({r['ext_suffix']}) under {r['qemu']}")
    else:
        print(f"{r['machine']}: static check only ({r['ext_suffix']})")
    print(f"repeat {r['repeat']}, median (min) wall seconds; load average {r['load_average']['before'][0]:.2f} "
          f"-> {r['load_average']['after'][0]:.2f} (1 min), {r['cpus']} CPUs")
    if "baseline_seconds" in r:
        base = r["baseline_seconds"]
        print(f"  {'python -c pass under qemu':32} {base['median']:7.3f} ({base['min']:.3f})")
        for n, d in r["dynamic_seconds"].items():
            ratio = r["dynamic_ratio"][n]
            label = f"dynamic check, {n:>2} module{'s' if n != '1' else ''}"
            print(f"  {label:32} {d['median']:7.3f} ({d['min']:.3f})   {ratio['median']:.2f}x ({ratio['min']:.2f}x) the bare start")
    for s in r["static_paths"].values():
        for label, figures in ((s["label"], s), ("  the same, files read one by one", s["old"])):
            print(f"  {'static check, ' + str(s['modules']) + ' modules':32} {figures['seconds']['median']:7.3f} "
                  f"({figures['seconds']['min']:.3f})   {figures['modules_per_second']['median']:5.0f} modules/s "
                  f"(best {figures['modules_per_second']['max']:.0f})  {label}")
        print(f"  {'':32} {'':7}          speed-up {s['speedup']['median']:.1f}x ({s['speedup']['min']:.1f}x) over one by one")


def finite_positive(r: dict) -> bool:
    """True when every number in the report's timing sections is finite and > 0 (a sanity check)."""
    def numbers(x: object) -> list[float]:
        if isinstance(x, dict):
            return [n for v in x.values() for n in numbers(v)]
        if isinstance(x, list):
            return [n for v in x for n in numbers(v)]
        return [float(x)] if isinstance(x, (int, float)) else []
    keys = ("baseline_seconds", "dynamic_seconds", "dynamic_ratio", "static", "static_paths")
    return all(math.isfinite(n) and n > 0 for key in keys if key in r for n in numbers(r[key]))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        with tempfile.TemporaryDirectory(prefix="pyrust-bench-") as tmp:
            result = measure(args, Path(tmp))
    except Missing as err:
        print(f"bench-check: {err}", file=sys.stderr)
        return 2
    except CheckFailed as err:
        print(f"bench-check: {err}", file=sys.stderr)
        return 1
    if not finite_positive(result):
        print(f"bench-check: a figure is not a positive number: {result}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps(result, indent=1))
    else:
        print_table(result)
    return 0


if __name__ == "__main__":
    sys.exit(main())
