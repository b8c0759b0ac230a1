"""tests/tools/bench-check runs and reports every figure: the shape of its JSON, not the sizes
(timings depend on the machine and its load; the script is a tool, not a timed test)."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest

from testbed import REPO, require_tool

pytestmark = pytest.mark.e2e


def numbers(value: object) -> list[float]:
    """Every int/float inside nested dicts and lists."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers(v)]
    return [float(value)] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def test_bench_check_json_shape(sysroot_of):
    require_tool("qemu-arm")
    require_tool("arm-linux-gnueabihf-gcc")
    sysroot = sysroot_of("armhf")
    # Generous: 200 cross compilations plus a few qemu starts, on a machine others load too.
    result = subprocess.run([str(REPO / "tests" / "tools" / "bench-check"), "--repeat", "1", "--json",
                             "--sysroot", str(sysroot)], capture_output=True, text=True, timeout=900,
                            env=dict(os.environ, PYTHON=sys.executable))
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)

    assert report["machine"] == "qemuarm" and report["repeat"] == 1
    assert set(report["dynamic_seconds"]) == set(report["dynamic_ratio"]) == {"1", "20"}
    for stat in [report["baseline_seconds"], *report["dynamic_seconds"].values(), report["static"]["seconds"]]:
        assert set(stat) == {"median", "min", "samples"} and len(stat["samples"]) == 1
    for ratio in report["dynamic_ratio"].values():
        assert set(ratio) == {"median", "min"}
    assert report["static"]["modules"] == 200
    assert set(report["static"]["modules_per_second"]) == {"median", "max"}
    figures = numbers([report[key] for key in ("baseline_seconds", "dynamic_seconds", "dynamic_ratio", "static")])
    assert all(math.isfinite(n) and n > 0 for n in figures), figures


def test_bench_check_help():
    result = subprocess.run([str(REPO / "tests" / "tools" / "bench-check"), "--help"], capture_output=True, text=True,
                            env=dict(os.environ, PYTHON=sys.executable),
                            timeout=60)
    assert result.returncode == 0
    assert "--repeat" in result.stdout and "--json" in result.stdout
