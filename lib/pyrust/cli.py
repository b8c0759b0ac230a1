"""The ``pyrust`` command line: a thin shell over the library.

``pyrust abi`` prints a target's Python ABI; ``pyrust check`` checks built extension
modules; ``pyrust test`` runs a wheel's tests on the target (:mod:`pyrust.testcmd`).
Exit status: 0 success, 1 findings (check) or failed tests (test: pytest's status), 2 bad input (one line on stderr
naming the input, its value and what was expected).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

from pyrust.bbenv import parse_assignment, parse_bitbake_env
from pyrust.errors import InputError
from pyrust.export import build_environment
from pyrust.machines import DEFAULT_RELEASE, RELEASES, machine_vars, release_from_corenames
from pyrust.resolve import Resolution, resolve_abi
from pyrust.sysconfigdata import abi_from_sysroot
from pyrust.target import Target, target_from_vars

EXIT_OK, EXIT_FINDINGS, EXIT_BAD_INPUT = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        # argparse's own errors are bad input too: one line, exit 2.
        self.exit(EXIT_BAD_INPUT, f"{self.prog}: error: {message}\n")


def _add_target_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--machine", help="an oe-core qemu machine from the embedded table, e.g. qemuarm")
    parser.add_argument("--release", choices=RELEASES,
                        help="openembedded-core release: its machine table and its python3's rules "
                             "(default: the env file's LAYERSERIES_CORENAMES, else master)")
    parser.add_argument("--env-file", type=Path, help="a file with `bitbake -e <recipe>` output")
    parser.add_argument("--var", action="append", default=[], metavar="NAME=VALUE",
                        help="set one BitBake variable (repeatable; wins over --machine and --env-file)")
    parser.add_argument("--sysroot", type=Path, help="a target sysroot whose _sysconfigdata*.py / build-details.json wins over the rules")
    parser.add_argument("--python", help="target CPython version X.Y (default: PYTHON_BASEVERSION or the sysroot's)")
    parser.add_argument("--abiflags", help="ABI flags: '', d, t (3.13+) or td")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for documentation and tests)."""
    parser = _Parser(prog="pyrust", description="A Yocto target's Python ABI for Rust extension modules.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    abi = sub.add_parser("abi", help="print the target's platform triplet, SOABI, EXT_SUFFIX, wheel tag, Rust target, qemu")
    _add_target_options(abi)
    abi.add_argument("--format", choices=("json", "shell", "text"), default="text")
    env = sub.add_parser("build-env", help="write pyo3.config and cargo-config.toml for a standalone cross build; print its environment")
    _add_target_options(env)
    env.add_argument("--out", type=Path, required=True, help="directory for the generated files")
    env.add_argument("--linker", help="cross linker (default: Debian's <triplet>-gcc)")
    env.add_argument("--zig", nargs="?", const="maturin", metavar="TOOL",
                     help="link with zig from PyPI's ziglang, no cross gcc: for `maturin build --zig` (TOOL maturin, the default) "
                          "or `cargo zigbuild` (TOOL cargo-zigbuild); a name on PATH or a path")
    env.add_argument("--cargo-lock", type=Path, help="the crate's Cargo.lock, to read its PyO3 version")
    env.add_argument("--build-std", choices=("auto", "yes", "no"), default="auto",
                     help="build Rust's std from source (auto: when $RUSTC has no std for the target)")
    env.add_argument("--format", choices=("json", "shell"), default="shell")
    check = sub.add_parser("check", help="check wheels, directories or .so files: suffix, ELF header, import under qemu-user")
    _add_target_options(check)
    check.add_argument("--no-import", action="store_true", help="static checks only (no target interpreter run)")
    check.add_argument("--fetch-python", action="store_true",
                       help="without --sysroot: unpack Debian's interpreter of the target's Python version into the cache "
                            "($PYRUST_CACHE or ~/.cache/meta-pyrust; no root, the host's dpkg and apt untouched) for the import check")
    check.add_argument("--python-path", default=None, help="the interpreter inside --sysroot (default: /usr/bin/python3)")
    check.add_argument("--timeout", type=float, default=120.0, help="seconds for the import run (default 120)")
    check.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="a .whl, a directory or a .so file")
    test = sub.add_parser("test", help="run a wheel's tests (pytest) with the target's interpreter under qemu-user")
    _add_target_options(test)
    test.add_argument("--fetch-python", action="store_true",
                      help="without --sysroot: unpack Debian's interpreter of the target's Python version into the cache")
    test.add_argument("--python-path", default=None, help="the interpreter inside --sysroot (default: /usr/bin/python3)")
    test.add_argument("--tests", type=Path, help="the test directory, or an sdist whose tests/ to run (default: PATH/tests, else ./tests)")
    test.add_argument("--with", dest="with_", action="append", default=[], metavar="REQ",
                      help="a test requirement (PEP 508, repeatable); pytest and the wheel's Requires-Dist are always installed")
    test.add_argument("-r", "--requirement", action="append", default=[], type=Path, metavar="FILE", help="a pip requirements file (repeatable)")
    test.add_argument("--extra", action="append", default=[], metavar="NAME", help="also install the requirements of the wheel's extra NAME")
    test.add_argument("--find-links", action="append", default=[], type=Path, metavar="DIR",
                      help="a directory of wheels for pip (pure-Python, or built for the target)")
    test.add_argument("--no-index", action="store_true", help="install from --find-links only, not from the package index")
    test.add_argument("--pytest-args", default="", metavar="ARGS", help="arguments for pytest, one shell-quoted string, e.g. \"-k 'not slow' -x\"")
    test.add_argument("--timeout", type=float, default=900.0, help="seconds for the pip install and for the test run, each (default 900)")
    test.add_argument("paths", nargs="+", type=Path, metavar="PATH",
                      help="a .whl built for the target, or a project directory (dist/, target/wheels/)")
    return parser


def collect_vars(machine: str | None, env_file: Path | None, assignments: Sequence[str],
                 release: str | None = None) -> dict[str, str]:
    """Merge the three sources of BitBake variables: machine table < env file < --var.

    ``--var TCLIBC=musl`` with ``--machine`` picks the table's musl variant of the
    machine rather than contradicting its TARGET_OS. ``release`` picks the machine
    table (default master).

    Raises:
        InputError: none of the three given, an unreadable env file, a bad NAME=VALUE.
    """
    overrides = dict(parse_assignment(a) for a in assignments)
    if machine is None and env_file is None and not overrides:
        raise InputError("target", None, "--machine NAME, --env-file FILE or --var NAME=VALUE")
    values: dict[str, str] = {}
    if machine is not None:
        values.update(machine_vars(machine, overrides.get("TCLIBC") or "glibc", release or DEFAULT_RELEASE))
    if env_file is not None:
        try:
            text = env_file.read_text(encoding="utf-8", errors="replace")
        except OSError as err:
            raise InputError("--env-file", str(env_file), f"a readable file ({err.strerror})") from None
        values.update(parse_bitbake_env(text, f"--env-file {env_file}"))
    values.update(overrides)
    return values


def release_of(values: dict[str, str], release: str | None) -> str:
    """The release whose rules apply: ``--release``, else the variables'
    LAYERSERIES_CORENAMES (``bitbake -e`` prints it), else master.

    Raises:
        InputError: LAYERSERIES_CORENAMES names a release without a table.
    """
    if release is not None:
        return release
    if values.get("LAYERSERIES_CORENAMES"):
        return release_from_corenames(values["LAYERSERIES_CORENAMES"])
    return DEFAULT_RELEASE


def check_sysroot_version(target: Target, args: argparse.Namespace, release: str) -> None:
    """An interpreter of another Python version than the target's never decides the suffix.

    The target's version is ``--python``, else PYTHON_BASEVERSION, else the release's
    python3. A ``--sysroot`` stating another version is bad input naming both, unless
    ``--python`` asked for the sysroot's version.

    Raises:
        InputError: the versions differ.
    """
    if args.sysroot is None:
        return
    truth = abi_from_sysroot(args.sysroot, args.python, args.abiflags)
    if truth is None:
        return  # resolve_abi says the sysroot states no ABI
    wanted = args.python or target.python_version or resolve_abi(target, None, args.abiflags, None, release=release).abi.version
    if truth.version != wanted:
        raise InputError("--sysroot", str(args.sysroot),
                         f"the target's Python {wanted}, not {truth.version} ({truth.path}): give a sysroot with Python {wanted}, "
                         f"or --python {truth.version} if the target runs {truth.version}")


def resolve_target(args: argparse.Namespace) -> tuple[Target, Resolution]:
    """The target and its resolved ABI from parsed ``abi``/``check``/``build-env`` options."""
    values = collect_vars(args.machine, args.env_file, args.var, args.release)
    target = target_from_vars(values)
    check_sysroot_version(target, args, release_of(values, args.release))
    resolution = resolve_abi(target, args.python, args.abiflags, args.sysroot, require_sysroot_abi=args.sysroot is not None,
                             release=release_of(values, args.release))
    return target, resolution


def abi_report(target: Target, resolution: Resolution) -> dict[str, object]:
    """The JSON object ``pyrust abi --format json`` prints."""
    abi = resolution.abi
    report: dict[str, object] = dict(abi.as_dict())
    report.update({
        "python_version": abi.version,
        "rust_target": target.rust_target,
        "rust_target_upstream": target.rust_target_upstream,
        "qemu": {"binary": target.qemu_binary, "options": list(target.qemu_options), "usermode": target.qemu_usermode},
        "elf": target.as_dict()["elf"],
        "target": target.as_dict(),
        "environment": build_environment(target, abi),
        "warnings": list(resolution.warnings),
    })
    return report


def _print_abi(report: dict[str, object], fmt: str) -> None:
    if fmt == "json":
        print(json.dumps(report.get("environment") if set(report) == {"environment"} else report, indent=2, sort_keys=True))
    elif fmt == "shell":
        env = report["environment"]
        assert isinstance(env, dict)
        for name, value in env.items():
            print(f"export {name}={shlex.quote(value)}")
    else:
        qemu = report["qemu"]
        assert isinstance(qemu, dict)
        rows = [
            ("platform triplet", report["platform_triplet"]),
            ("SOABI", report["soabi"]),
            ("EXT_SUFFIX", report["ext_suffix"]),
            ("extension suffixes", " ".join(report["extension_suffixes"])),  # type: ignore[arg-type]
            ("platform tag", report["platform_tag"]),
            ("Rust target", f"{report['rust_target']} (upstream: {report['rust_target_upstream']})"),
            ("qemu-user", " ".join([qemu["binary"], *qemu["options"]]) + ("" if qemu["usermode"] else " (opted out of qemu-usermode)")),
            ("source", f"{report['source']} {report['source_file']}".strip()),
        ]
        for key, value in rows:
            print(f"{key + ':':20} {value}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        if args.command == "abi":
            target, resolution = resolve_target(args)
            for warning in resolution.warnings:
                print(f"pyrust: warning: {warning}", file=sys.stderr)
            _print_abi(abi_report(target, resolution), args.format)
            return EXIT_OK
        if args.command == "build-env":
            from pyrust.cargolock import pyo3_version
            from pyrust.standalone import has_prebuilt_std, prepare_standalone_build

            if args.sysroot is None:
                raise InputError("--sysroot", None, "the target sysroot whose usr/lib becomes PYO3_CROSS_LIB_DIR")
            target, resolution = resolve_target(args)
            for warning in resolution.warnings:
                print(f"pyrust: warning: {warning}", file=sys.stderr)
            version = pyo3_version(args.cargo_lock) if args.cargo_lock else None
            build_std = args.build_std == "yes" or (args.build_std == "auto" and not has_prebuilt_std(target.rust_target_upstream))
            zig = None
            if args.zig is not None:
                from pyrust.zig import zig_environment

                zig = zig_environment(args.zig, target)
            env = prepare_standalone_build(target, resolution.abi, args.sysroot, args.out,
                                           args.linker, version, build_std, zig)
            _print_abi({"environment": env}, args.format)
            return EXIT_OK
        if args.command == "check":
            from pyrust.checkcmd import run_check

            values = collect_vars(args.machine, args.env_file, args.var, args.release)
            release = release_of(values, args.release)
            check_sysroot_version(target_from_vars(values), args, release)
            findings = run_check(args, values, release)
            return EXIT_FINDINGS if findings else EXIT_OK
        if args.command == "test":
            from pyrust.testcmd import run_test

            values = collect_vars(args.machine, args.env_file, args.var, args.release)
            release = release_of(values, args.release)
            check_sysroot_version(target_from_vars(values), args, release)
            return run_test(args, values, release)
    except InputError as err:
        print(f"pyrust: error: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
