"""``pyrust test``: run a wheel's test suite with the target's interpreter under qemu-user.

For standalone users (no BitBake), the step after ``pyrust check``: given the wheel built
for the target (or a project directory holding it) and the target (``--machine``,
``--env-file``, ``--var``; the interpreter from ``--sysroot`` or ``--fetch-python``)::

    pyrust test --machine qemuarm64 --fetch-python --tests rpds_py-2026.9.1.tar.gz \\
        rpds_py-2026.9.1-cp314-cp314-manylinux_2_17_aarch64.manylinux2014_aarch64.whl

What it does, in this order (every set-up problem is one line and exit status 2 before
anything slow runs):

1. The emulator: a target the host cannot run natively needs ``Target.qemu_binary`` on
   PATH; its absence is reported at once (before any fetch or pip run), never a hang.
   No binfmt_misc and no container: the interpreter runs as ``qemu-<arch> -L <sysroot>``
   (:func:`pyrust.qemurun.run_target_python`).
2. The interpreter: ``--sysroot`` or ``--fetch-python``, as for ``pyrust check``
   (:func:`pyrust.checkcmd.target_sysroot`); the target's ABI then comes from that root.
3. The wheels: each PATH is a ``.whl`` or a project directory (its newest wheel in
   ``dist/`` or maturin's ``target/wheels/`` that fits the target). A wheel whose tags do
   not fit the target's CPython version, ABI, machine or C library is an error naming why
   (:func:`pyrust.targetpip.wheel_fits`). Wheels are unpacked into a scratch directory.
4. The tests: ``--tests`` is a directory or an sdist (``.tar.gz``) whose top-level
   ``tests/`` (or ``test/``) is used; default: a project directory's ``tests/``, else
   ``./tests``.
5. The requirements, installed for the target into the scratch directory with the host's
   pip (:func:`pyrust.targetpip.install_for_target`): ``pytest``, each wheel's
   Requires-Dist (markers evaluated for the target; ``--extra NAME`` adds an extra's),
   ``--with REQ`` (repeatable) and ``--requirement/-r FILE`` (repeatable). Only
   pure-Python wheels (``py3-none-any``) from the index, or wheels built for the target
   from ``--find-links DIR``; a requirement with neither is an error naming it.
6. The run: pytest, imported by the target interpreter in one process under qemu-user,
   through :func:`pyrust.ptest.run_pytest`, the same code path as BitBake's ptest task;
   ``--pytest-args "ARGS"`` (one shell-quoted string) are passed to it, ``--timeout``
   seconds bound the run (the whole process group is killed at the limit).

Only pytest runs (not an arbitrary command): an emulated Python cannot start another
process of itself without binfmt_misc, so ``python -m unittest`` in a subprocess is not an
option; pytest collects ``unittest.TestCase`` suites too.

Exit status: pytest's (0 passed, 1 failed, 5 no tests collected, ...), 1 when the run was
killed (timeout, signal) or pytest could not run, 2 for bad input or a missing
emulator/interpreter. Nothing is written outside a temporary directory but the cache
(``--fetch-python``'s interpreter, pip's downloads).
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
import tarfile
import tempfile
from pathlib import Path, PurePosixPath

from pyrust.errors import InputError
from pyrust.pyabi import PythonABI
from pyrust.target import Target

#: Where a project directory's wheels are looked for: setuptools/build, then maturin.
WHEEL_DIRS = ("dist", "target/wheels")
#: The sdist directories taken as the test suite, first found wins.
SDIST_TEST_DIRS = ("tests", "test")
#: Exit status when pytest gave none (killed at the time limit or by a signal, no pytest).
EXIT_NOT_RUN = 1


def needs_emulator(target: Target) -> bool:
    """True unless the host runs the target's binaries natively (:func:`pyrust.qemurun.host_runs`:
    same ELF machine, class and byte order; an i686 target on an x86_64 host needs qemu-i386)."""
    from pyrust.qemurun import host_runs

    return not host_runs(target.elf.machine, target.elf.elfclass, target.elf.endian)


def require_emulator(target: Target) -> None:
    """Fail at once when the target needs qemu-user and its binary is not on PATH.

    Raises:
        InputError: names the binary and how to install it (Debian: qemu-user), e.g.
            ``"qemu='qemu-s390x': expected qemu-s390x on PATH ..."``.
    """
    if needs_emulator(target) and shutil.which(target.qemu_binary) is None:
        raise InputError("qemu", target.qemu_binary, f"{target.qemu_binary} on PATH to run the target's interpreter "
                         "(Debian/Ubuntu: apt-get install qemu-user; no binfmt_misc or root needed)")


def pycache_prefix() -> Path:
    """Where the target interpreter writes its bytecode: ``<pyrust cache>/pycache``
    (``PYTHONPYCACHEPREFIX``; the tree mirrors the sources' absolute paths).

    Debian's interpreters come without ``.pyc`` files (dpkg's postinst compiles them, and
    ``--fetch-python`` only unpacks), and the emulated interpreter compiling the standard
    library and pytest from source is most of a run's start-up: measured on this test
    bed's 2 shared cores, ``import pytest`` under qemu-aarch64 took 57 s cold and 6.7 s
    with the cache. CPython checks each ``.pyc`` against its source's mtime and size, so
    a stale entry is recompiled, never used. The sysroot itself is never written.
    """
    from pyrust.cache import cache_dir

    return cache_dir() / "pycache"


def forget_scratch_bytecode(prefix: Path, scratch: Path) -> None:
    """Remove the bytecode of a run's scratch copies (tests, wheels, requirements) from
    the cache below ``prefix``: their paths are temporary, the entries would never be used
    again. :func:`pyrust.ptest.run_pytest` copies into its own ``pyrust-ptest-*``
    temporary directories beside ``scratch``; all of those go too (a concurrent run only
    loses bytecode it would throw away: CPython ignores a ``.pyc`` it cannot write)."""
    shutil.rmtree(prefix / scratch.resolve().relative_to("/"), ignore_errors=True)
    for old in (prefix / Path(tempfile.gettempdir()).resolve().relative_to("/")).glob("pyrust-ptest-*"):
        shutil.rmtree(old, ignore_errors=True)


def find_wheel(path: Path, abi: PythonABI, libc: str) -> Path:
    """The wheel to test for PATH: the file itself when it fits the target, else for a
    project directory the newest fitting wheel in :data:`WHEEL_DIRS`.

    Raises:
        InputError: PATH is missing, not a wheel, or a wheel that does not fit (why, from
            :func:`pyrust.targetpip.wheel_fits`); a directory without a fitting wheel (lists
            the wheels seen).
    """
    from pyrust.targetpip import wheel_fits

    what = f"a wheel for CPython {abi.version}{abi.abiflags} on {abi.platform_tag}"
    if path.is_file() and path.suffix == ".whl":
        why = wheel_fits(path.name, abi, libc)
        if why:
            raise InputError("PATH", str(path), f"{what}: this one is {why}")
        return path
    if not path.is_dir():
        raise InputError("PATH", str(path), "an existing .whl file or a project directory with the wheel in dist/ or target/wheels/")
    seen = [w for d in WHEEL_DIRS for w in sorted((path / d).glob("*.whl"))]
    fitting = [w for w in seen if not wheel_fits(w.name, abi, libc)]
    if not fitting:
        found = ", ".join(w.name for w in seen) if seen else "none"
        raise InputError("PATH", str(path), f"a project directory with {what} in {' or '.join(WHEEL_DIRS)} (found: {found}); "
                         "build it for the target (pyrust build-env) or give the .whl")
    return max(fitting, key=lambda w: w.stat().st_mtime)


def tests_from_sdist(sdist: Path, scratch: Path) -> Path:
    """Unpack the test directory of an sdist (``<name>-<version>/tests/...``) into ``scratch``.

    Only regular files and directories below the top-level ``tests/`` (or ``test/``) are
    written, and only inside ``scratch`` (no links, no absolute or ``..`` paths).

    Raises:
        InputError: not a readable tar archive, or no ``tests/`` or ``test/`` in it.
    """
    try:
        with tarfile.open(sdist) as archive:
            members = archive.getmembers()
            tops = {PurePosixPath(m.name).parts[1] for m in members if len(PurePosixPath(m.name).parts) > 2}
            wanted = next((d for d in SDIST_TEST_DIRS if d in tops), None)
            if wanted is None:
                raise InputError("--tests", str(sdist), f"an sdist with a top-level {' or '.join(d + '/' for d in SDIST_TEST_DIRS)}")
            for member in members:
                parts = PurePosixPath(member.name).parts
                if len(parts) < 3 or parts[1] != wanted or ".." in parts or member.name.startswith("/"):
                    continue
                dest = scratch.joinpath(*parts[1:])
                if member.isdir():
                    dest.mkdir(parents=True, exist_ok=True)
                elif member.isfile():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    source = archive.extractfile(member)
                    assert source is not None
                    dest.write_bytes(source.read())
    except (tarfile.TarError, OSError) as err:
        raise InputError("--tests", str(sdist), f"a directory or a readable sdist (.tar.gz) ({err})") from None
    return scratch / wanted


def tests_to_run(tests: Path | None, paths: list[Path], scratch: Path) -> Path:
    """The directory of tests to run: ``--tests`` (a directory, or an sdist unpacked by
    :func:`tests_from_sdist`), else the first project directory's ``tests/``, else ``./tests``.

    Raises:
        InputError: none of them exists (names what was tried and the fix).
    """
    if tests is not None:
        if tests.is_dir():
            return tests
        if tests.is_file():
            return tests_from_sdist(tests, scratch / "sdist")
        raise InputError("--tests", str(tests), "an existing test directory or sdist (.tar.gz)")
    default = next((p / "tests" for p in paths if p.is_dir()), Path("tests"))
    if not default.is_dir():
        raise InputError("--tests", None, f"the test directory, or the sdist whose tests/ to run ({default} does not exist)")
    return default


def run_test(args: argparse.Namespace, values: dict[str, str], release: str) -> int:
    """Run ``pyrust test`` (steps in the module docstring); prints what it installed, pytest's
    output and a summary line.

    Args:
        args: the parsed ``test`` options (:func:`pyrust.cli.build_parser`).
        values: the BitBake variables (:func:`pyrust.cli.collect_vars`).
        release: the release whose rules apply (:func:`pyrust.cli.release_of`).

    Returns:
        The exit status: pytest's, or :data:`EXIT_NOT_RUN` when it gave none.

    Raises:
        InputError: bad input, a missing emulator or interpreter, a wheel that does not
            fit, a requirement without a pure-Python wheel (the CLI prints it, exits 2).
    """
    from pyrust import ptest, qemurun
    from pyrust.check import find_interpreter
    from pyrust.checkcmd import HOW_TO_IMPORT, stage, target_sysroot
    from pyrust.resolve import resolve_abi
    from pyrust.target import target_from_vars
    from pyrust.targetpip import install_for_target, wheel_requirements

    if args.timeout <= 0:
        raise InputError("--timeout", args.timeout, "a positive number of seconds")
    try:
        pytest_args = shlex.split(args.pytest_args or "")
    except ValueError as err:
        raise InputError("--pytest-args", args.pytest_args, f"one shell-quoted string, e.g. \"-k 'not slow' -x\" ({err})") from None
    target = target_from_vars(values)
    require_emulator(target)
    sysroot, _note = target_sysroot(target, args, release)
    if sysroot is None:
        raise InputError("--sysroot", None, f"the target's interpreter to run the tests: {HOW_TO_IMPORT}")
    resolution = resolve_abi(target, args.python, args.abiflags, sysroot, require_sysroot_abi=True, release=release)
    for warning in resolution.warnings:
        print(f"pyrust: warning: {warning}", file=sys.stderr)
    abi = resolution.abi
    python = args.python_path or find_interpreter(sysroot, abi.version)
    if python is None or not (sysroot / python.lstrip("/")).is_file():
        raise InputError("--python-path" if args.python_path else "--sysroot", args.python_path or str(sysroot),
                         f"a target root with /usr/bin/python3 or /usr/bin/python{abi.version} (or --python-path PATH inside it)")
    wheels = [find_wheel(p, abi, target.libc) for p in args.paths]
    emulator = f"under {target.qemu_binary}" if needs_emulator(target) else "natively"
    print(f"target: {target.target_arch}/{target.target_os}, CPython {abi.version}{abi.abiflags} {abi.platform_tag}, "
          f"{python} in {sysroot} ({emulator})")
    with tempfile.TemporaryDirectory(prefix="pyrust-test-") as tmp:
        scratch = Path(tmp)
        tests = tests_to_run(args.tests, args.paths, scratch)
        origins = {"pytest": "the test runner", **{r: "--with" for r in args.with_}}
        requirements = ["pytest", *args.with_]
        for wheel in wheels:
            needs = wheel_requirements(wheel, abi, args.extra)
            origins.update({r: f"Requires-Dist of {wheel.name}" for r in needs})
            requirements += needs
            print(f"wheel: {wheel}" + (f" (requires {', '.join(needs)})" if needs else ""))
        site = scratch / "site"
        installed = install_for_target(abi, site, requirements, args.requirement, find_links=args.find_links,
                                       no_index=args.no_index, origins=origins, timeout=args.timeout)
        print(f"installed for the target: {' '.join(installed) or 'nothing'}")
        modules = [stage(wheel, scratch, index) for index, wheel in enumerate(wheels)]
        print(f"tests: {args.tests or tests}; running pytest {emulator} (time limit {args.timeout:g} s)", flush=True)
        prefix = pycache_prefix()
        try:
            run = ptest.run_pytest(target, sysroot, python, tests, args=pytest_args,
                                   module_dirs=modules, extra_paths=[str(site)], timeout=args.timeout,
                                   extra_env={"PYTHONPYCACHEPREFIX": str(prefix), "PYTHONDONTWRITEBYTECODE": ""})
        except qemurun.TargetRunError as err:
            raise InputError("target interpreter", python, f"one that starts: {err}") from None
        finally:
            forget_scratch_bytecode(prefix, scratch)
    print(run.output.rstrip())
    print(f"pyrust test: {ptest.summary(run)}")
    if run.problem or run.timed_out or run.returncode < 0:
        return EXIT_NOT_RUN
    return run.returncode
