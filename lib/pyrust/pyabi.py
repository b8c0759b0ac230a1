"""Target + CPython version -> the Python ABI the target interpreter expects.

Standard library only (BitBake imports this module); the wheel tags that need
``packaging`` are computed by :func:`wheel_tags`, which imports it lazily.
"""

from __future__ import annotations

import dataclasses
import re

from pyrust.errors import InputError
from pyrust.tables import CPYTHON_VERSIONS
from pyrust.target import Target
from pyrust.triplet import platform_triplet

# The CPython versions whose configure rules this library mirrors: the rows of
# pyrust.tables.CPYTHON_VERSIONS, oldest first.
SUPPORTED_VERSIONS: tuple[tuple[int, int], ...] = tuple(sorted(CPYTHON_VERSIONS))
_RANGE = f"from {SUPPORTED_VERSIONS[0][0]}.{SUPPORTED_VERSIONS[0][1]} to {SUPPORTED_VERSIONS[-1][0]}.{SUPPORTED_VERSIONS[-1][1]}"


@dataclasses.dataclass(frozen=True)
class PythonABI:
    """What a target CPython accepts and reports.

    Fields: ``version`` ("3.12"), ``abiflags`` ("", "d", "t", "td"), ``platform_triplet``
    ("arm-linux-gnueabihf"; sysconfig's MULTIARCH), ``soabi``
    ("cpython-312-arm-linux-gnueabihf"), ``ext_suffix``
    (".cpython-312-arm-linux-gnueabihf.so"), ``extension_suffixes`` (what
    ``importlib.machinery.EXTENSION_SUFFIXES`` holds, in order), ``host_platform``
    ("linux-armv7l": the value for ``_PYTHON_HOST_PLATFORM``, i.e. the device's
    ``sysconfig.get_platform()``), ``platform_tag`` ("linux_armv7l"), ``source``
    ("table" or "sysroot"), ``source_file`` (the sysroot file read, or "") and
    ``sysconfigdata_name`` ("_sysconfigdata__linux_arm-linux-gnueabihf": the module the
    device's sysconfig imports, :func:`sysconfigdata_name_for`).
    """

    version: str
    abiflags: str
    platform_triplet: str
    soabi: str
    ext_suffix: str
    extension_suffixes: tuple[str, ...]
    host_platform: str
    platform_tag: str
    source: str = "table"
    source_file: str = ""
    sysconfigdata_name: str = ""

    @property
    def version_tuple(self) -> tuple[int, int]:
        major, minor = self.version.split(".")
        return int(major), int(minor)

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict of every field."""
        out = dataclasses.asdict(self)
        out["extension_suffixes"] = list(self.extension_suffixes)
        return out


def parse_version(text: object, variable: str = "PYTHON_BASEVERSION") -> tuple[int, int]:
    """Parse "3.12" into (3, 12), accepting only the versions this library knows.

    Args:
        text: the version as given, "X.Y".
        variable: the input's name for the error message ("--python", ...).

    Raises:
        InputError: not of the form X.Y, or not a row of :data:`pyrust.tables.CPYTHON_VERSIONS`
            (3.10 to 3.15).

    Example:
        >>> parse_version("3.13")
        (3, 13)
    """
    if not isinstance(text, str) or not re.fullmatch(r"[0-9]+\.[0-9]+", text.strip()):
        raise InputError(variable, text, f"a CPython version as X.Y, {_RANGE}")
    major, minor = (int(part) for part in text.strip().split("."))
    if (major, minor) not in SUPPORTED_VERSIONS:
        raise InputError(variable, text, f"a CPython version {_RANGE}")
    return major, minor


def check_abiflags(abiflags: object, version: tuple[int, int], variable: str = "--abiflags") -> str:
    """Validate ABI flags for a version and return them.

    Args:
        abiflags: "", "d" (debug), "t" (free-threaded, 3.13+) or "td".
        version: (major, minor).

    Raises:
        InputError: other letters, another order, or "t" before 3.13.

    Source: ABIFLAGS in CPython configure.ac (3.13: ``ABIFLAGS="${ABIFLAGS}t"`` for
    --disable-gil, then ``ABIFLAGS="${ABIFLAGS}d"`` for --with-pydebug).
    """
    row = CPYTHON_VERSIONS.get(version)
    allowed = ["", "d"] + (["t", "td"] if row is not None and row.free_threading else [])
    if not isinstance(abiflags, str) or abiflags not in allowed:
        raise InputError(variable, abiflags, "one of " + ", ".join(repr(a) for a in allowed)
                         + f" for Python {version[0]}.{version[1]}")
    return abiflags


def soabi_for(version: tuple[int, int], abiflags: str, triplet: str) -> str:
    """SOABI as configure.ac forms it: ``cpython-${VERSION_NO_DOTS}${ABIFLAGS}-${PLATFORM_TRIPLET}``.

    Example:
        >>> soabi_for((3, 13), "t", "aarch64-linux-gnu")
        'cpython-313t-aarch64-linux-gnu'
    """
    base = f"cpython-{version[0]}{version[1]}{abiflags}"
    return f"{base}-{triplet}" if triplet else base


def extension_suffixes_for(ext_suffix: str, abiflags: str) -> tuple[str, ...]:
    """``importlib.machinery.EXTENSION_SUFFIXES`` of a Linux CPython with this EXT_SUFFIX.

    The version and SOABI_PLATFORM are read from ``ext_suffix`` itself
    (``.cpython-<XY><flags>-<platform>.so``, as configure.ac forms SOABI), the rules
    from that version's row of :data:`pyrust.tables.CPYTHON_VERSIONS`.

    Source: ``_PyImport_DynLoadFiletab`` in Python/dynload_shlib.c: "." SOABI ".so",
    "." ALT_SOABI ".so" (debug builds only: SOABI without the "d" flag, configure.ac),
    the version's stable-ABI suffixes (".abi3.so" up to 3.14; 3.15 adds the
    SOABI_PLATFORM-tagged ones and abi3t, and a free-threaded 3.15 drops abi3: PEP 803),
    ".so".

    Raises:
        InputError: ``ext_suffix`` is not of the form above, or its version has no row.

    Example:
        >>> extension_suffixes_for(".cpython-314td-x86_64-linux-gnu.so", "td")
        ('.cpython-314td-x86_64-linux-gnu.so', '.cpython-314t-x86_64-linux-gnu.so', '.abi3.so', '.so')
        >>> extension_suffixes_for(".cpython-315t-aarch64-linux-gnu.so", "t")
        ('.cpython-315t-aarch64-linux-gnu.so', '.abi3t-aarch64-linux-gnu.so', '.abi3t.so', '.so')
    """
    match = re.fullmatch(r"\.cpython-(\d)(\d+)([a-z]*)(?:-(.+))?\.so", ext_suffix)
    row = CPYTHON_VERSIONS.get((int(match.group(1)), int(match.group(2)))) if match else None
    if match is None or row is None:
        raise InputError("EXT_SUFFIX", ext_suffix, f"a suffix like .cpython-314-arm-linux-gnueabihf.so of a CPython {_RANGE}")
    platform = match.group(4) or ""
    suffixes = [ext_suffix]
    if "d" in abiflags:
        suffixes.append(re.sub(r"^(\.cpython-[0-9]+[a-z]*?)d(-|\.)", r"\1\2", ext_suffix))
    stable = row.stable_abi_free_threaded if "t" in abiflags else row.stable_abi
    for template in stable:
        if "{platform}" in template and not platform:
            continue  # no SOABI_PLATFORM: configure leaves the tagged names out
        suffixes.append(template.format(platform=platform))
    return (*suffixes, ".so")


def sysconfigdata_name_for(abiflags: str, triplet: str) -> str:
    """The ``_sysconfigdata`` module name a Linux CPython imports.

    Source: ``_get_sysconfigdata_name()`` in Lib/sysconfig/__init__.py (3.10 to 3.15):
    ``_sysconfigdata_{sys.abiflags}_{sys.platform}_{sys.implementation._multiarch}``
    unless ``_PYTHON_SYSCONFIGDATA_NAME`` is set (as oe-core's python3targetconfig does
    for builds on the host; on the device it is not).

    Example:
        >>> sysconfigdata_name_for("d", "arm-linux-gnueabihf")
        '_sysconfigdata_d_linux_arm-linux-gnueabihf'
    """
    return f"_sysconfigdata_{abiflags}_linux_{triplet}"


def platform_tag_for(host_platform: str) -> str:
    """The wheel platform tag for a ``sysconfig.get_platform()`` value.

    Mirrors ``packaging.tags._normalize_string`` (``-`` and ``.`` become ``_``), which
    is what ``packaging.tags.platform_tags()`` does on the device for a plain linux tag.

    Example:
        >>> platform_tag_for("linux-armv7l")
        'linux_armv7l'
    """
    return host_platform.replace("-", "_").replace(".", "_")


def python_abi(target: Target, version: str | None = None, abiflags: str = "",
               triplet_preset: bool = True) -> PythonABI:
    """The Python ABI of oe-core's python3 for ``target`` (from rules, not a sysroot).

    Args:
        target: from :func:`pyrust.target.target_from_vars`.
        version: "3.10" to "3.15" (:data:`pyrust.tables.CPYTHON_VERSIONS`); None means
            the target's PYTHON_BASEVERSION.
        abiflags: "", "d", "t" (3.13+) or "td".
        triplet_preset: whether the python3 recipe passes
            ``PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS}`` (:func:`pyrust.triplet.platform_triplet`;
            False for scarthgap's, :func:`pyrust.release.release_abi`). Without it, where
            CPython's probe fails the ABI has no triplet: SOABI "cpython-312".

    Returns:
        A :class:`PythonABI` with ``source="table"``.

    Raises:
        InputError: no version given and no PYTHON_BASEVERSION, a malformed or
            unsupported version, or invalid ABI flags.

    Example:
        >>> from pyrust.target import target_from_vars
        >>> t = target_from_vars({"TARGET_ARCH": "mips64el", "TARGET_OS": "linux",
        ...                       "TUNE_FEATURES": "fpu-hard n64 mips64r2"})
        >>> python_abi(t, "3.11").ext_suffix
        '.cpython-311-mips64el-linux-gnuabi64.so'
    """
    variable = "--python"
    if version is None:
        version, variable = target.python_version, "PYTHON_BASEVERSION"
        if version is None:
            raise InputError("PYTHON_BASEVERSION", None, "a Python version (set PYTHON_BASEVERSION or pass --python X.Y)")
    vt = parse_version(version, variable)
    flags = check_abiflags(abiflags, vt)
    triplet = platform_triplet(target, vt, triplet_preset)
    soabi = soabi_for(vt, flags, triplet)
    ext_suffix = f".{soabi}.so"
    host_platform = f"linux-{target.uname_machine}"
    return PythonABI(
        version=f"{vt[0]}.{vt[1]}",
        abiflags=flags,
        platform_triplet=triplet,
        soabi=soabi,
        ext_suffix=ext_suffix,
        extension_suffixes=extension_suffixes_for(ext_suffix, flags),
        host_platform=host_platform,
        platform_tag=platform_tag_for(host_platform),
        # With no triplet the name keeps oe-core's preset, as release_abi gave it before
        # the preset became an input here; unverified against a scarthgap device (its
        # MULTIARCH comes from ``$CC --print-multiarch`` then, configure.ac).
        sysconfigdata_name=sysconfigdata_name_for(flags, triplet or target.host_sys_triplet),
    )


def wheel_tags(abi: PythonABI) -> list[str]:
    """Every wheel tag a pip on the device accepts, most specific first.

    Uses ``packaging.tags.cpython_tags`` and ``compatible_tags`` with the device's
    version, ABI and platform tag (the device's own pip computes the same from its
    sysconfig). Needs the ``packaging`` distribution.

    Raises:
        InputError: ``packaging`` is not installed.

    Example: for CPython 3.12 on linux_armv7l the first tag is "cp312-cp312-linux_armv7l".
    """
    try:
        from packaging import tags
    except ImportError:
        raise InputError("packaging", None, "the 'packaging' distribution installed (pip install packaging)") from None
    vt = abi.version_tuple
    abi_tag = f"cp{vt[0]}{vt[1]}{abi.abiflags}"
    platforms = [abi.platform_tag]
    out = [str(t) for t in tags.cpython_tags(vt, [abi_tag], platforms)]
    out += [str(t) for t in tags.compatible_tags(vt, f"cp{vt[0]}{vt[1]}", platforms)]
    return out
