"""Run a build in its own session and kill its whole process group when it must stop.

A build (``make -j2``, cargo, maturin) starts children; killing only the direct child on
a timeout or Ctrl-C leaves them running, writing into directories that are being
removed. Used by build_target_cpython and the e2e cross builds; standard library only.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from pyrust.procgroup import kill_group


def run_in_session(argv: Sequence[str], out: IO[bytes] | IO[str], *, env: Mapping[str, str], cwd: str | os.PathLike[str] | Path,
                   timeout: float | None = None) -> int:
    """Run ``argv`` in a new session with stdout and stderr to the open file ``out``.

    Args:
        argv: the command, e.g. ``["make", "-j2"]``.
        out: an open file (the caller's log); stdin is /dev/null.
        env: the whole environment of the command.
        cwd: its working directory.
        timeout: seconds, or None to wait as long as it runs.

    Returns:
        The exit status.

    Raises:
        subprocess.TimeoutExpired: after ``timeout`` seconds, once the whole process group
            is killed; KeyboardInterrupt and other exceptions in the caller likewise kill
            the group before they propagate.
    """
    proc = subprocess.Popen(list(argv), env=dict(env), cwd=cwd, stdin=subprocess.DEVNULL, stdout=out,
                            stderr=subprocess.STDOUT, start_new_session=True)
    try:
        return proc.wait(timeout=timeout)
    except BaseException:
        kill_group(proc.pid)
        proc.wait()
        raise
