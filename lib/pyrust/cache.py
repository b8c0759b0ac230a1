"""The user's cache directory: the one rule for where meta-pyrust may write.

``pyrust check --fetch-python`` unpacks interpreters there; the test bed (tests/, its
set-up tools) keeps its downloads there too and asks this function for it. Standard
library only.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """``$PYRUST_CACHE``, else ``~/.cache/meta-pyrust`` (not created here)."""
    env = os.environ.get("PYRUST_CACHE")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "meta-pyrust"


if __name__ == "__main__":  # for shell tools: CACHE=$(python3 -m pyrust.cache)
    print(cache_dir())
