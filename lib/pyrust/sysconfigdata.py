"""Read a target sysroot's own Python ABI: the truth, when it exists.

Two sources, both read as data (``ast`` and ``json``; target files are never imported
or executed):

- ``_sysconfigdata*.py``: the ``build_time_vars`` dict CPython's build writes
  (Lib/sysconfig/__init__.py ``_generate_posix_vars``); oe-core also stages a copy as
  ``${STAGING_LIBDIR}/python-sysconfigdata/_sysconfigdata.py`` (python3 recipe
  ``do_install:append:class-target``); Debian installs
  ``/usr/lib/python3.X/_sysconfigdata__<multiarch>.py``.
- PEP 739 ``build-details.json`` (CPython 3.14+), installed as
  ``${prefix}/lib/python3.X/build-details.json``.

Standard library only: BitBake imports this module.
"""

from __future__ import annotations

import ast
import dataclasses
import json
import re
from pathlib import Path

from pyrust.errors import InputError

# Where to look below a sysroot (or below a STAGING_LIBDIR given directly), in order.
# _sysconfigdata comes first: in cross builds CPython 3.14 writes build-details.json's
# abi.flags and suffixes.extensions from the *build* machine's interpreter
# (python/cpython#136267), and abi.extension_suffix only for --enable-shared builds.
SYSCONFIGDATA_GLOBS: tuple[str, ...] = (
    "usr/lib/python-sysconfigdata/_sysconfigdata*.py",
    "python-sysconfigdata/_sysconfigdata*.py",
    "usr/lib*/python3.*/_sysconfigdata*.py",
    "lib*/python3.*/_sysconfigdata*.py",
    "python3.*/_sysconfigdata*.py",
)
BUILD_DETAILS_GLOBS: tuple[str, ...] = (
    "usr/lib*/python3.*/build-details.json",
    "lib*/python3.*/build-details.json",
    "python3.*/build-details.json",
)


@dataclasses.dataclass(frozen=True)
class SysrootABI:
    """The ABI facts one sysroot file states.

    ``version`` ("3.11"), ``abiflags``, ``soabi``, ``ext_suffix``, ``multiarch`` (the
    platform triplet; "" when the file has none), ``extension_suffixes`` (only
    build-details.json lists them; empty otherwise) and ``path`` (the file read).
    """

    version: str
    abiflags: str
    soabi: str
    ext_suffix: str
    multiarch: str
    extension_suffixes: tuple[str, ...]
    path: str

    @property
    def platform_triplet(self) -> str:
        """MULTIARCH, or the part of SOABI after ``cpython-XY<flags>-``."""
        if self.multiarch:
            return self.multiarch
        match = re.fullmatch(r"cpython-[0-9]+[a-z]*-(.+)", self.soabi)
        return match.group(1) if match else ""


def _literal_build_time_vars(path: Path) -> dict:
    try:
        tree = ast.parse(path.read_text(encoding="utf-8", errors="replace"), filename=str(path))
    except (OSError, SyntaxError, ValueError) as err:
        raise InputError("sysconfigdata", str(path), f"a readable Python file ({err})") from None
    for node in tree.body:
        if not isinstance(node, ast.Assign):
            continue
        if any(isinstance(t, ast.Name) and t.id == "build_time_vars" for t in node.targets):
            try:
                value = ast.literal_eval(node.value)
            except ValueError:
                break
            if isinstance(value, dict):
                return value
    raise InputError("sysconfigdata", str(path), "a file assigning a literal dict to build_time_vars")


def read_sysconfigdata(path: str | Path) -> SysrootABI:
    """Read one ``_sysconfigdata*.py`` file's ABI facts without executing it.

    Args:
        path: the file, e.g. "sysroot/usr/lib/python3.11/_sysconfigdata__arm-linux-gnueabihf.py".

    Raises:
        InputError: unreadable, not a literal ``build_time_vars`` dict, or missing
            VERSION / SOABI / EXT_SUFFIX.
    """
    path = Path(path)
    bvars = _literal_build_time_vars(path)
    missing = [key for key in ("VERSION", "SOABI", "EXT_SUFFIX") if not isinstance(bvars.get(key), str)]
    if missing:
        raise InputError("sysconfigdata", str(path), "build_time_vars with " + ", ".join(missing))
    return SysrootABI(
        version=bvars["VERSION"],
        abiflags=str(bvars.get("ABIFLAGS") or ""),
        soabi=bvars["SOABI"],
        ext_suffix=bvars["EXT_SUFFIX"],
        multiarch=str(bvars.get("MULTIARCH") or ""),
        extension_suffixes=(),
        path=str(path),
    )


def read_build_details(path: str | Path) -> SysrootABI:
    """Read a PEP 739 ``build-details.json``'s ABI facts.

    Keys used: ``language.version``, ``abi.flags`` (list of letters),
    ``abi.extension_suffix`` (or, for a static build that has none, the first
    ``suffixes.extensions`` entry when it is ``.cpython-<XY><flags>-<_multiarch>.so``),
    ``suffixes.extensions`` (optional), ``implementation._multiarch`` (optional),
    ``implementation.name`` must be "cpython".

    Raises:
        InputError: not JSON, not CPython, or keys missing.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        version = data["language"]["version"]
        flags = "".join(data["abi"].get("flags", []))
        name = data.get("implementation", {}).get("name", "cpython")
        multiarch = str(data.get("implementation", {}).get("_multiarch") or "")
        suffixes = tuple(data.get("suffixes", {}).get("extensions", ()))
        # abi.extension_suffix is written only by --enable-shared builds; without it, the
        # first suffixes.extensions entry counts if it is SOABI as configure forms it from
        # the file's own version, flags and multiarch (not the build machine's: cpython#136267).
        ext_suffix = data["abi"].get("extension_suffix")
        if ext_suffix is None:
            own = f".cpython-{version.replace('.', '')}{flags}-{multiarch}.so"
            if not multiarch or not suffixes or suffixes[0] != own:
                raise KeyError("abi.extension_suffix")
            ext_suffix = own
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as err:
        raise InputError("build-details.json", str(path), f"a PEP 739 document with language.version and abi.extension_suffix ({err!r})") from None
    if name != "cpython":
        raise InputError("build-details.json", str(path), f"a CPython build (implementation.name is {name!r})")
    match = re.fullmatch(r"\.(cpython-[^.]+)\.so", ext_suffix)
    if not match:
        raise InputError("build-details.json", ext_suffix, "abi.extension_suffix like .cpython-314-x86_64-linux-gnu.so")
    if suffixes and suffixes[0] != ext_suffix:
        suffixes = ()  # the build machine's list (python/cpython#136267): not the target's
    return SysrootABI(version=version, abiflags=flags, soabi=match.group(1), ext_suffix=ext_suffix,
                      multiarch=multiarch, extension_suffixes=suffixes, path=str(path))


def find_abi_files(sysroot: str | Path) -> list[Path]:
    """The ABI files below ``sysroot``: its ``_sysconfigdata*.py`` files, or, when it has
    none, its ``build-details.json`` files (see :data:`SYSCONFIGDATA_GLOBS` for why).

    ``sysroot`` may also be one such file.
    """
    root = Path(sysroot)
    if root.is_file():
        return [root]
    for globs in (SYSCONFIGDATA_GLOBS, BUILD_DETAILS_GLOBS):
        found: list[Path] = []
        for pattern in globs:
            for path in sorted(root.glob(pattern)):
                if path not in found and path.is_file():
                    found.append(path)
        if found:
            return found
    return []


def read_abi_file(path: Path) -> SysrootABI:
    """Read either kind of file, chosen by its name."""
    if path.name == "build-details.json":
        return read_build_details(path)
    return read_sysconfigdata(path)


def abi_from_sysroot(sysroot: str | Path, version: str | None = None, abiflags: str | None = None) -> SysrootABI | None:
    """The one Python ABI a sysroot states, or None when it has no ABI file.

    Args:
        sysroot: a recipe sysroot, target rootfs, STAGING_LIBDIR, or one ABI file.
        version: "3.X" to pick among several interpreters, or None.
        abiflags: to pick among builds of one version (e.g. "" vs "d"), or None.

    Raises:
        InputError: ``sysroot`` does not exist, a file is malformed, or several files
            disagree and ``version``/``abiflags`` do not pick one.

    Example: ``abi_from_sysroot("tmp/work/.../recipe-sysroot").ext_suffix``
    gives ".cpython-314-arm-linux-gnueabihf.so" on qemuarm.
    """
    root = Path(sysroot)
    if not root.exists():
        raise InputError("--sysroot", str(sysroot), "an existing directory (a recipe sysroot or target rootfs) or ABI file")
    abis = [read_abi_file(path) for path in find_abi_files(root)]
    if version is not None:
        abis = [a for a in abis if a.version == version] or abis
    if abiflags is not None:
        abis = [a for a in abis if a.abiflags == abiflags] or abis
    if not abis:
        return None
    distinct = {(a.version, a.abiflags, a.ext_suffix) for a in abis}
    if len(distinct) > 1:
        listing = "; ".join(f"{a.path}: {a.ext_suffix}" for a in abis)
        raise InputError("--sysroot", str(sysroot), f"one Python ABI; found several ({listing}): pass --python/--abiflags or one file")
    best = abis[0]
    suffixes = next((a.extension_suffixes for a in abis if a.extension_suffixes), ())
    return dataclasses.replace(best, extension_suffixes=suffixes)
