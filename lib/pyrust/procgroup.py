"""Kill a whole process group: an emulated interpreter (:mod:`pyrust.qemurun`) runs in a
session of its own, and killing only the direct child on a timeout or Ctrl-C would leave
its children running. Standard library only.
"""

from __future__ import annotations

import os
import signal


def kill_group(pgid: int) -> None:
    """SIGKILL process group ``pgid`` (a session leader's pid); no error if it is gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
