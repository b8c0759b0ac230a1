"""``pyrust check``: the QA check on wheels, directories or .so files, outside BitBake.

Same functions as the bbclass (:mod:`pyrust.check`), plus what a standalone user needs:
unpacking wheels. Without ``--sysroot`` the check is static and says how to get the
import check; nothing on the host changes.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

from pyrust.check import Finding, find_interpreter, import_check, static_check
from pyrust.errors import InputError
from pyrust.resolve import resolve_abi
from pyrust.target import Target, target_from_vars


def _stage(path: Path, scratch: Path, index: int) -> Path:
    """A directory to check for ``path``: wheels unpacked, single files copied."""
    if not path.exists():
        raise InputError("PATH", str(path), "an existing .whl, directory or .so file")
    if path.is_dir():
        return path
    dest = scratch / f"input{index}"
    dest.mkdir()
    if path.suffix == ".whl":
        try:
            with zipfile.ZipFile(path) as wheel:
                wheel.extractall(dest)
        except (zipfile.BadZipFile, OSError) as err:
            raise InputError("PATH", str(path), f"a readable wheel (zip) file ({err})") from None
        return dest
    shutil.copy2(path, dest / path.name)
    return dest


def _interpreter(target: Target, sysroot: Path | None, no_import: bool) -> tuple[Path | None, str | None]:
    """(sysroot, note): the given sysroot, or a note saying how to get the import check."""
    if sysroot is not None or no_import:
        return sysroot, None
    return None, "no --sysroot: give --sysroot DIR (a target root with python3) for the import check under qemu-user"


def run_check(args: argparse.Namespace, values: dict[str, str], release: str) -> int:
    """Run ``pyrust check``; prints one verdict per module and each finding.

    Args:
        args: the parsed ``check`` options (:func:`pyrust.cli.build_parser`).
        values: the BitBake variables (:func:`pyrust.cli.collect_vars`).
        release: the release whose rules apply (:func:`pyrust.cli.release_of`).

    Returns:
        The number of findings (the CLI exits 1 when there is any, else 0).

    Raises:
        InputError: bad input (the CLI prints it and exits 2).
    """
    target = target_from_vars(values)
    sysroot, note = _interpreter(target, args.sysroot, args.no_import)
    resolution = resolve_abi(target, args.python, args.abiflags, sysroot,
                             require_sysroot_abi=args.sysroot is not None, release=release)
    for warning in resolution.warnings:
        print(f"pyrust: warning: {warning}", file=sys.stderr)
    abi = resolution.abi
    print(f"target: {target.target_arch}/{target.target_os}, CPython {abi.version}{abi.abiflags}, "
          f"EXT_SUFFIX {abi.ext_suffix} ({abi.source})")
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="pyrust-check-") as tmp:
        trees = [_stage(p, Path(tmp), i) for i, p in enumerate(args.paths)]
        modules = []
        shown = {}
        for original, tree in zip(args.paths, trees):
            found, problems = static_check(tree, target, abi, shown_root=str(original))
            findings += problems
            modules += found
            shown.update({m.name: f"{original}:{m.name}" for m in found})
        imported: tuple[str, ...] = ()
        if args.no_import:
            print("import check: skipped (--no-import)")
        elif note:
            print(f"import check: skipped: {note}")
        else:
            python = args.python_path or find_interpreter(sysroot, abi.version) if sysroot else None
            outcome = import_check(modules, target, sysroot if python else None, python or "",
                                   timeout=args.timeout, shown=shown)
            findings += outcome.findings
            imported = outcome.imported
            for line in outcome.notes:
                print(f"import check: {line}")
        for module in modules:
            bad = any(f.path == shown[module.name] or f.path.endswith("/" + module.path.name) for f in findings)
            verdict = "FAIL" if bad else ("ok (imported)" if module.name in imported else "ok (static)")
            print(f"{verdict:14} {module.name}  {module.path.name}")
    for finding in findings:
        print(f"FINDING {finding}")
    print(f"{len(modules)} module(s), {len(findings)} finding(s)")
    return len(findings)
