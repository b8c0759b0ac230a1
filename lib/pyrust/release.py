"""What an openembedded-core release's python3 recipe adds to CPython's own rules.

CPython's configure takes PLATFORM_TRIPLET from its compiler probe; where the probe
fails (``#error``), it keeps the value it was given, and SOABI then has no triplet at
all when none was given (configure.ac: ``SOABI='cpython-'...${PLATFORM_TRIPLET:+-$PLATFORM_TRIPLET}``).
oe-core's python3 recipe passes ``PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS}`` on wrynose
and master; scarthgap's passes none. Whether a release's recipe does is a fact of that
release's table (:func:`pyrust.machines.release_facts`,
generated from its real BitBake by tests/tools/gen-oe-facts).

Standard library only: BitBake imports this module.
"""

from __future__ import annotations

from pyrust import machines
from pyrust.pyabi import PythonABI, python_abi
from pyrust.target import Target


def release_abi(target: Target, version: str | None = None, abiflags: str = "",
                release: str = machines.DEFAULT_RELEASE) -> tuple[PythonABI, tuple[str, ...]]:
    """:func:`pyrust.pyabi.python_abi` as ``release``'s python3 recipe configures it.

    Args:
        target: from :func:`pyrust.target.target_from_vars`.
        version: "3.X"; None means the target's PYTHON_BASEVERSION.
        abiflags: "", "d", "t" (3.13+) or "td".
        release: "master", "wrynose" or "scarthgap".

    Returns:
        (ABI, notes). Where CPython's probe finds no triplet for the target (e.g. MIPS
        soft float before 3.13) and the release's recipe presets none, the ABI has no
        platform triplet (EXT_SUFFIX ".cpython-312.so") and one note says so; else the
        rules' ABI unchanged and no note.

    Raises:
        InputError: an unknown release, or what :func:`pyrust.pyabi.python_abi` raises.

    Example:
        >>> from pyrust.machines import machine_vars
        >>> from pyrust.target import target_from_vars
        >>> v = machine_vars("qemumips", release="scarthgap")
        >>> v.update(TUNE_FEATURES="o32 bigendian mipsisa32r2 fpu-soft", TARGET_FPU="soft",
        ...          TUNE_CCARGS="-march=mips32r2 -meb -mabi=32 -msoft-float")
        >>> release_abi(target_from_vars(v), release="scarthgap")[0].ext_suffix
        '.cpython-312.so'
    """
    abi = python_abi(target, version, abiflags,
                     triplet_preset=bool(machines.release_facts(release)["platform_triplet_preset"]))
    if abi.platform_triplet:
        return abi, ()
    note = (f"no platform triplet: CPython {abi.version}'s configure probe has none for "
            f"{target.target_arch}/{target.target_os} ({target.float_abi} float) and {release}'s python3 recipe "
            f"passes no PLATFORM_TRIPLET, so SOABI is {abi.soabi!r} (EXT_SUFFIX {abi.ext_suffix!r})")
    return abi, (note,)
