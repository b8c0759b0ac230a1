"""Run a target Python interpreter under qemu-user (or natively when the host can).

One call runs one interpreter with ``-c CODE`` in a scrubbed environment, in its own
session, and kills the whole process group on timeout, so nothing is left behind::

    from pyrust.qemurun import run_target_python
    r = run_target_python("qemu-arm", (), sysroot, "/usr/bin/python3.11",
                          "import sysconfig; print(sysconfig.get_config_var('EXT_SUFFIX'))",
                          timeout=60)
    r.returncode, r.stdout   # (0, '.cpython-311-arm-linux-gnueabihf.so\\n')

Problems with the set-up (not with the code run) raise :class:`TargetRunError`
subclasses: :class:`QemuNotFoundError` (no such qemu binary),
:class:`ExecFormatError` (the host cannot run the binary and no qemu was given, or the
qemu binary is for another architecture), :class:`LoaderNotFoundError` (the sysroot
lacks the dynamic loader the interpreter asks for). A timeout is a result
(``Result.timed_out``), not an exception.

Measured facts (TESTBED.md): qemu-user start of python3.11 costs 0.3 to 0.5 s (first
cold start 1 to 1.5 s); an emulated Python cannot start child processes of itself when
binfmt_misc is not set up: keep a whole check in one ``code`` string; run imports from
an empty ``cwd`` (a same-named directory would be imported as a namespace package).

Standard library plus :mod:`pyrust.elfinfo` (pyelftools, imported lazily).
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from pyrust.elfinfo import ElfInfo, ElfTools, NotElfError
from pyrust.elfinfo import read_elf as _read_elf
from pyrust.procgroup import kill_group


class TargetRunError(RuntimeError):
    """The target interpreter could not be started at all; ``str()`` says why and what to do."""


class QemuNotFoundError(TargetRunError):
    """The qemu-user binary is not installed (not on PATH)."""


class ExecFormatError(TargetRunError):
    """The binary is for another architecture than the host or the qemu binary given."""


class LoaderNotFoundError(TargetRunError):
    """The dynamic loader (PT_INTERP) is not in the sysroot (missing libc6, or an absolute symlink)."""


class Result(NamedTuple):
    """What one run produced.

    ``returncode`` is Popen's (negative when killed by a signal), ``signal`` the signal
    number that ended it (or None), ``timed_out`` True when it was killed for exceeding
    ``timeout``; ``argv`` is the command line run and ``elapsed`` the wall time in seconds.
    """

    returncode: int
    signal: int | None
    stdout: str
    stderr: str
    timed_out: bool
    argv: tuple[str, ...] = ()
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.timed_out


def read_elf(path: str | os.PathLike[str], tools: ElfTools | None = None) -> ElfInfo | None:
    """:func:`pyrust.elfinfo.read_elf` (``tools``: None for pyelftools), or None when
    ``path`` is not (a readable) ELF file.

    Example:
        >>> read_elf("/bin/sh").machine   # doctest: +SKIP
        62
    """
    try:
        return _read_elf(Path(path), tools)
    except NotElfError:
        return None


def _host_elf(tools: ElfTools | None = None) -> ElfInfo | None:
    for exe in ("/proc/self/exe", os.path.realpath(shutil.which("python3") or "/bin/sh"), "/bin/sh"):
        info = read_elf(exe, tools)
        if info is not None:
            return info
    return None


def host_runs(machine: int, elfclass: int, endian: str, tools: ElfTools | None = None) -> bool:
    """True when ELF binaries of this kind (e_machine, class 32/64, byte order as
    :class:`pyrust.elfinfo.ElfInfo` spells them) are the host's own: no qemu-user needed.

    i386 binaries on an x86_64 host count as foreign (they need their own libraries).
    ``tools``: how to read the host's ELF header (None: pyelftools).
    """
    host = _host_elf(tools)
    return bool(host and (machine, elfclass, endian) == (host.machine, host.elfclass, host.endian))


def host_can_run(path: str | os.PathLike[str], tools: ElfTools | None = None) -> bool:
    """True when ``path`` is an ELF of the host's own kind (:func:`host_runs`).
    ``tools``: how to read ELF files (None: pyelftools).
    """
    target = read_elf(path, tools)
    return bool(target and host_runs(target.machine, target.elfclass, target.endian, tools))


def _interpreter_path(sysroot: Path, python_path: str | os.PathLike[str]) -> Path:
    p = Path(python_path)
    if p.is_absolute():
        try:
            p.relative_to(sysroot)
            return p
        except ValueError:
            return sysroot / p.relative_to("/")
    return sysroot / p


def _native_argv(sysroot: Path, python: Path, elf: ElfInfo) -> list[str]:
    """Run a host-arch interpreter with the sysroot's own loader and libraries."""
    loader = sysroot / elf.interpreter.lstrip("/") if elf.interpreter else None
    if loader is None or not loader.exists():
        return [str(python)]
    dirs = []
    for base in (sysroot, sysroot / "usr"):
        for d in sorted(base.glob("lib/*-linux-*")) + [base / n for n in ("lib", "lib64", "lib32", "libx32")]:
            if d.is_dir() and str(d) not in dirs:
                dirs.append(str(d))
    return [str(loader), "--library-path", ":".join(dirs), str(python)]


def _diagnose(qemu_name: str, stderr: str, returncode: int, argv: Sequence[str]) -> None:
    """Turn qemu's own start-up failures into exceptions (only lines qemu itself prints)."""
    for line in stderr.splitlines()[:5]:
        if not line.startswith(f"{qemu_name}:"):
            continue
        if "Invalid ELF image" in line:
            raise ExecFormatError(f"{qemu_name} cannot run {argv[-3]}: {line.split(': ', 1)[-1]} (wrong qemu binary for it)")
        if "Could not open" in line:
            raise LoaderNotFoundError(
                f"{line.strip()}: the sysroot lacks the dynamic loader (unpack libc6 into it, "
                "and make absolute symlinks such as lib64/ld*.so* relative)"
            )


def run_target_python(
    qemu_binary: str | None,
    qemu_options: Sequence[str],
    sysroot: str | os.PathLike[str],
    python_path: str | os.PathLike[str],
    code: str,
    *,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 120.0,
    extra_env: Mapping[str, str] | None = None,
    elf_tools: ElfTools | None = None,
) -> Result:
    """Run ``python -c code`` of a target sysroot, under qemu-user unless the host runs it natively.

    Args:
        qemu_binary: ``"qemu-arm"`` (looked up on PATH) or a path; ``None``/``""`` only for
            host-runnable interpreters. Ignored when the interpreter is host-native (then
            it runs with the sysroot's own loader and libraries).
        qemu_options: extra qemu options, e.g. ``("-cpu", "cortex-a15")`` (``Target.qemu_options``).
            ``-L <sysroot>`` is added unless present.
        sysroot: the target root (a recipe sysroot, an image rootfs, a ``--sysroot``).
        python_path: the interpreter as the target sees it (``"/usr/bin/python3.11"``) or a
            path relative to, or already inside, ``sysroot``.
        code: Python source run with ``-c``; print results (JSON is convenient).
        cwd: working directory (default: the sysroot's parent would leak files; give an
            empty temporary directory for import tests). Default: ``sysroot``.
        timeout: seconds; on expiry the whole process group is killed and
            ``Result.timed_out`` is True.
        extra_env: added to the scrubbed environment (e.g. ``{"PYTHONPATH": "/tmp/x"}``,
            ``{"QEMU_CPU": "..."}``).
        elf_tools: how to read the interpreter's ELF header (:func:`pyrust.elfinfo.read_elf`;
            None: pyelftools).

    The environment is only ``PATH=/usr/bin:/bin``, ``LANG=C.UTF-8``,
    ``PYTHONDONTWRITEBYTECODE=1`` (keeps a cached sysroot pristine), ``PYTHONNOUSERSITE=1``
    and ``extra_env``; PYTHONHOME, PYTHONPATH and QEMU_* from the caller are not passed.

    Returns:
        :class:`Result`.

    Raises:
        FileNotFoundError: sysroot or interpreter missing.
        TargetRunError: the interpreter is not executable.
        QemuNotFoundError: ``qemu_binary`` is not installed.
        ExecFormatError: foreign binary and no qemu, or the qemu binary is for another arch.
        LoaderNotFoundError: qemu could not open the loader inside the sysroot.
    """
    root = Path(sysroot).resolve()
    if not root.is_dir():
        raise FileNotFoundError(f"sysroot {root} does not exist (give an existing target sysroot)")
    python = _interpreter_path(root, python_path)
    if not python.is_file():
        raise FileNotFoundError(f"interpreter {python} does not exist in sysroot {root}")
    if not os.access(python, os.X_OK):
        # qemu-user exits 1 without a word on a file lacking the x bit.
        raise TargetRunError(f"interpreter {python} is not executable (chmod +x it, or unpack with dpkg-deb -x)")
    elf = read_elf(python, elf_tools)

    if elf is not None and host_can_run(python, elf_tools):
        argv = _native_argv(root, python, elf)
        qemu_name = ""
    else:
        if not qemu_binary:
            raise ExecFormatError(
                f"{python} is not a host binary ({elf}); give the qemu-user binary that runs it"
            )
        qemu = shutil.which(qemu_binary)
        if qemu is None:
            raise QemuNotFoundError(f"{qemu_binary} not found on PATH; install qemu-user (Debian: apt-get install qemu-user)")
        qemu_name = os.path.basename(qemu_binary)
        opts = list(qemu_options)
        if "-L" not in opts:
            opts = ["-L", str(root), *opts]
        # Under BitBake's pseudo (do_install) every exec gets LD_PRELOAD=libpseudo.so back,
        # scrubbed environment or not; qemu-user would hand it on to the target's loader,
        # which refuses the host library and prints an error into the check's output.
        argv = [qemu, "-U", "LD_PRELOAD", *opts, str(python)]
    argv += ["-c", code]

    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
    }
    if extra_env:
        env.update(extra_env)

    t0 = time.monotonic()
    try:
        proc = subprocess.Popen(
            argv,
            cwd=str(cwd) if cwd is not None else str(root),
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as e:
        if e.errno == errno.ENOEXEC:
            raise ExecFormatError(f"cannot execute {argv[0]}: Exec format error (a target binary without qemu?)") from None
        if e.errno == errno.ENOENT and not qemu_name:
            raise LoaderNotFoundError(f"cannot execute {argv[0]}: its loader {elf and elf.interpreter} is missing") from None
        raise
    timed_out = False
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        kill_group(proc.pid)
        out, err = proc.communicate()
    except BaseException:
        kill_group(proc.pid)
        proc.wait()
        raise
    finally:
        # Whatever the interpreter left running in its session goes too.
        kill_group(proc.pid)
    elapsed = time.monotonic() - t0
    stdout = out.decode("utf-8", "replace")
    stderr = err.decode("utf-8", "replace")
    rc = proc.returncode
    if qemu_name and rc != 0 and not timed_out:
        _diagnose(qemu_name, stderr, rc, argv)
    return Result(rc, -rc if rc < 0 else None, stdout, stderr, timed_out, tuple(argv), elapsed)


