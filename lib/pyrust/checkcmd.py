"""``pyrust check``: the QA check on wheels, directories or .so files, outside BitBake.

Same functions as the bbclass (:mod:`pyrust.check`), plus what a standalone user needs:
unpacking wheels. Without ``--sysroot`` the check is static and says in one line how to
get the import check; ``--fetch-python`` unpacks Debian's interpreter of the target's Python
version into the user's cache (:mod:`pyrust.debianpython`: no root, the host's dpkg and apt
untouched). Nothing else is written outside a temporary directory.
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


def stage(path: Path, scratch: Path, index: int) -> Path:
    """A directory for ``path``: a directory as it is, a wheel unpacked into
    ``scratch/input<index>``, a single file copied there (``pyrust check`` and ``pyrust test``).

    Raises:
        InputError: ``path`` does not exist, or is a wheel that is not a readable zip file.
    """
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


#: What ``pyrust check`` says when it checks statically because it has no interpreter.
HOW_TO_IMPORT = ("give --sysroot DIR (a target root with the target's python3), or --fetch-python to unpack Debian's "
                 "interpreter of the target's Python version into the cache (no root, the host's apt untouched)")


def target_sysroot(target: Target, args: argparse.Namespace, release: str) -> tuple[Path | None, str | None]:
    """(sysroot, note): ``--sysroot``, or with ``--fetch-python`` Debian's interpreter of the
    target's Python version (:func:`pyrust.debianpython.fetch_python`), or a note how to get one.

    Raises:
        InputError: ``--fetch-python`` cannot give the target's version or architecture
            (the message names them and the fix), or the fetch failed.
    """
    if args.sysroot is not None or getattr(args, "no_import", False):
        return args.sysroot, None
    if not args.fetch_python:
        return None, f"no --sysroot: {HOW_TO_IMPORT}"
    from pyrust import debianpython

    rules = resolve_abi(target, args.python, args.abiflags, None, release=release).abi
    if rules.abiflags:
        raise InputError("--abiflags", rules.abiflags, "'' with --fetch-python (Debian's release builds); else give --sysroot DIR")
    try:
        arch = debianpython.debian_arch(rules.platform_triplet, target.float_abi)
    except InputError:
        raise InputError("--fetch-python", f"{target.target_arch}/{target.target_os} ({rules.platform_triplet})",
                         "a target Debian builds python3 for; give --sysroot DIR with the target's python3") from None
    try:
        return debianpython.fetch_python(arch, rules.version, progress=lambda line: print(f"pyrust: {line}", file=sys.stderr)), None
    except debianpython.FetchError as err:
        raise InputError("--fetch-python", f"python{rules.version} for {arch}", f"a fetch that works: {err}") from None


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
    sysroot, note = target_sysroot(target, args, release)
    resolution = resolve_abi(target, args.python, args.abiflags, sysroot, require_sysroot_abi=sysroot is not None, release=release)
    for warning in resolution.warnings:
        print(f"pyrust: warning: {warning}", file=sys.stderr)
    abi = resolution.abi
    print(f"target: {target.target_arch}/{target.target_os}, CPython {abi.version}{abi.abiflags}, "
          f"EXT_SUFFIX {abi.ext_suffix} ({abi.source})")
    findings: list[Finding] = []
    with tempfile.TemporaryDirectory(prefix="pyrust-check-") as tmp:
        trees = [stage(p, Path(tmp), i) for i, p in enumerate(args.paths)]
        modules = []
        shown = {}
        for original, tree in zip(args.paths, trees):
            found, problems = static_check(tree, target, abi, shown_root=str(original))
            findings += problems
            modules += found
            shown.update({m.name: f"{original}:{m.name}" for m in found})
        imported: tuple[str, ...] = ()
        needs: dict[str, str] = {}
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
            needs = dict(outcome.needs)
            for line in outcome.notes:
                print(f"import check: {line}")
        for module in modules:
            bad = any(f.path == shown[module.name] or f.path.endswith("/" + module.path.name) for f in findings)
            verdict = "FAIL" if bad else ("ok (imported)" if module.name in imported else "ok (loaded)" if module.name in needs
                                          else "ok (static)")
            print(f"{verdict:14} {module.name}  {module.path.name}")
    for finding in findings:
        print(f"FINDING {finding}")
    print(f"{len(modules)} module(s), {len(findings)} finding(s)")
    return len(findings)
