"""Wheels and requirements for a target, with the host's pip: which wheels fit the target,
what a wheel requires on it, and installing pure-Python requirements into a directory
the target interpreter puts on ``sys.path``.

The host's pip installs *for the target* (``pip install --target DIR --only-binary=:all:
--implementation cp --python-version X.Y --abi cpXY --abi abi3 --abi none --platform
linux_<machine>``, pip's documented cross-install options): wheels tagged ``py3-none-any``
(or ``cpXY-abi3-any``...) match, and so do wheels built for the target itself
(``linux_<machine>``, from a ``--find-links`` directory; PyPI accepts no ``linux_`` wheel).
PyPI's ``manylinux`` wheels are not taken: whether one fits a Yocto target's libc and
libraries is not knowable from the tag, so a requirement with no pure-Python wheel is an
error naming it (:func:`install_for_target`), never a silent host or manylinux build.

pip's own resolver evaluates the environment markers of the requirements' *dependencies*
with the host's values (pip's ``--python-version`` covers tags and Requires-Python only);
the requirements given here, and the wheel's own Requires-Dist, are evaluated for the
target (:func:`target_marker_environment`) before pip sees them.

pip's cache is ``<pyrust cache>/pip`` unless ``PIP_CACHE_DIR`` is set; nothing else is
written outside the target directory.
"""

from __future__ import annotations

import email.parser
import os
import re
import subprocess
import sys
import zipfile
from collections.abc import Mapping, Sequence
from pathlib import Path

from pyrust.errors import InputError
from pyrust.pyabi import PythonABI, wheel_tags

# manylinux (PEP 600, and the legacy PEP 513/571/599 aliases) and musllinux (PEP 656) tags
# name the machine after the libc family: which libc a tag needs.
_LIBC_TAG = re.compile(r"^(?P<family>manylinux|musllinux)(?:_\d+_\d+|1|2010|2014)_(?P<machine>.+)$")


def target_machine(abi: PythonABI) -> str:
    """The target's machine as wheel tags and ``platform.machine()`` name it, from the
    ABI's platform tag (``"linux_armv7l"`` -> ``"armv7l"``).

    Raises:
        InputError: the platform tag is not ``linux_<machine>``.
    """
    if not abi.platform_tag.startswith("linux_"):
        raise InputError("platform tag", abi.platform_tag, "linux_<machine> (a Linux target)")
    return abi.platform_tag[len("linux_"):]


def wheel_fits(filename: str, abi: PythonABI, libc: str) -> str | None:
    """Why the wheel ``filename`` does not fit the target, or None when it fits.

    Args:
        filename: a wheel file name, e.g. ``"rpds_py-2026.9.1-cp314-cp314-manylinux_2_17_s390x.manylinux2014_s390x.whl"``.
        abi: the target's ABI (:func:`pyrust.resolve.resolve_abi`).
        libc: ``"glibc"`` or ``"musl"`` (``Target.libc``).

    A tag fits when its interpreter and ABI are among those a pip on the device accepts
    (:func:`pyrust.pyabi.wheel_tags`) and its platform is ``any``, the target's own
    ``linux_<machine>``, or a ``manylinux`` (glibc targets) / ``musllinux`` (musl targets)
    tag of the same machine. The libc version a ``manylinux_2_28`` tag asks for is not
    checked (a too-old libc shows as an import error in the run).

    Raises:
        InputError: ``filename`` is not a valid wheel name (names it).

    Example:
        >>> wheel_fits("x-1-cp314-cp314-manylinux_2_17_aarch64.whl", abi_of_armv7l_314, "glibc")  # doctest: +SKIP
        'built for aarch64 (manylinux_2_17_aarch64), the target is armv7l'
    """
    from packaging.utils import InvalidWheelFilename, parse_wheel_filename

    try:
        _name, _version, _build, tags = parse_wheel_filename(Path(filename).name)
    except InvalidWheelFilename as err:
        raise InputError("wheel", filename, f"a wheel file name (name-version-python-abi-platform.whl): {err}") from None
    machine = target_machine(abi)
    accepted = set(wheel_tags(abi))
    family = "manylinux" if libc == "glibc" else "musllinux"
    reasons = []
    for tag in sorted(tags, key=str):
        libc_tag = _LIBC_TAG.match(tag.platform)
        if tag.platform in ("any", abi.platform_tag):
            platform = tag.platform
        elif libc_tag and libc_tag["machine"] == machine and libc_tag["family"] == family:
            platform = abi.platform_tag
        elif libc_tag and libc_tag["machine"] == machine:
            reasons.append(f"built for {libc_tag['family']} ({tag.platform}), the target's C library is {libc}")
            continue
        else:
            built = libc_tag["machine"] if libc_tag else tag.platform
            reasons.append(f"built for {built} ({tag.platform}), the target is {machine}")
            continue
        if f"{tag.interpreter}-{tag.abi}-{platform}" in accepted:
            return None
        reasons.append(f"built for {tag.interpreter}-{tag.abi}, the target runs CPython {abi.version}{abi.abiflags} "
                       f"(cp{abi.version.replace('.', '')}{abi.abiflags})")
    return reasons[0] if reasons else "no tag"


def target_marker_environment(abi: PythonABI) -> dict[str, str]:
    """The PEP 508 marker environment of the target CPython (the values its
    ``packaging.markers.default_environment()`` would return), for evaluating Requires-Dist.

    ``python_full_version`` is ``X.Y.0`` and ``platform_release``/``platform_version`` are
    empty: the target's patch level and kernel are not known here.

    Example:
        >>> target_marker_environment(abi_of_s390x_311)["platform_machine"]  # doctest: +SKIP
        's390x'
    """
    return {
        "implementation_name": "cpython",
        "implementation_version": f"{abi.version}.0",
        "os_name": "posix",
        "platform_machine": target_machine(abi),
        "platform_python_implementation": "CPython",
        "platform_release": "",
        "platform_system": "Linux",
        "platform_version": "",
        "python_full_version": f"{abi.version}.0",
        "python_version": abi.version,
        "sys_platform": "linux",
    }


def wheel_metadata(path: Path) -> email.message.Message:
    """The ``*.dist-info/METADATA`` of the wheel at ``path`` (core metadata, RFC 822 style).

    Raises:
        InputError: not a readable wheel, or no METADATA in it (names the file).
    """
    try:
        with zipfile.ZipFile(path) as wheel:
            names = [n for n in wheel.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
            if len(names) != 1:
                raise InputError("wheel", str(path), "a wheel with one *.dist-info/METADATA")
            text = wheel.read(names[0]).decode("utf-8", "replace")
    except (zipfile.BadZipFile, OSError) as err:
        raise InputError("wheel", str(path), f"a readable wheel (zip) file ({err})") from None
    return email.parser.Parser().parsestr(text)


def wheel_requirements(path: Path, abi: PythonABI, extras: Sequence[str] = ()) -> list[str]:
    """The wheel's Requires-Dist that apply on the target, markers evaluated for it.

    Args:
        path: the wheel.
        abi: the target's ABI (:func:`target_marker_environment`).
        extras: the wheel's extras whose requirements count too, e.g. ``["test"]``.

    Returns:
        Requirement strings without markers, e.g. ``["attrs>=22.2.0", "referencing>=0.28.4"]``.

    Raises:
        InputError: not a readable wheel, an unparsable Requires-Dist, an extra the wheel
            does not declare, or a Requires-Python the target's version does not meet.
    """
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.specifiers import SpecifierSet
    from packaging.utils import canonicalize_name

    meta = wheel_metadata(path)
    requires_python = meta.get("Requires-Python")
    if requires_python and abi.version + ".0" not in SpecifierSet(requires_python):
        raise InputError("wheel", Path(path).name, f"a wheel for CPython {abi.version}: it requires Python {requires_python}")
    declared = {canonicalize_name(e) for e in meta.get_all("Provides-Extra") or []}
    unknown = [e for e in extras if canonicalize_name(e) not in declared]
    if unknown:
        raise InputError("--extra", unknown[0], f"one of the wheel's extras ({', '.join(sorted(declared)) or 'it declares none'})")
    env = target_marker_environment(abi)
    out = []
    for line in meta.get_all("Requires-Dist") or []:
        try:
            req = Requirement(line)
        except InvalidRequirement as err:
            raise InputError("Requires-Dist", line, f"a PEP 508 requirement ({err})") from None
        if req.marker is not None and not any(req.marker.evaluate({**env, "extra": e}) for e in ["", *extras]):
            continue
        req.marker = None
        out.append(str(req))
    return out


def pip_command(abi: PythonABI, site: Path, requirements: Sequence[str], requirement_files: Sequence[Path] = (),
                find_links: Sequence[Path] = (), no_index: bool = False) -> list[str]:
    """The host pip's command line that installs ``requirements`` for the target into ``site``.

    Example, for CPython 3.14 on aarch64::

        [sys.executable, "-m", "pip", "install", ..., "--target", "<site>", "--only-binary=:all:",
         "--implementation", "cp", "--python-version", "3.14", "--abi", "cp314", "--abi", "abi3",
         "--abi", "none", "--platform", "linux_aarch64", "pytest"]
    """
    cmd = [sys.executable, "-m", "pip", "install", "--disable-pip-version-check", "--no-input", "--no-compile",
           "--no-warn-script-location", "--target", str(site), "--only-binary=:all:", "--implementation", "cp",
           "--python-version", abi.version, "--abi", f"cp{abi.version.replace('.', '')}{abi.abiflags}", "--abi", "abi3",
           "--abi", "none", "--platform", abi.platform_tag]
    for directory in find_links:
        cmd += ["--find-links", str(directory)]
    if no_index:
        cmd.append("--no-index")
    for file in requirement_files:
        cmd += ["--requirement", str(file)]
    return cmd + list(requirements)


# pip's messages when nothing fits (pip 23 to 26: resolvelib's factory):
#   ERROR: Could not find a version that satisfies the requirement numpy (from versions: none)
#   ERROR: Could not find a version that satisfies the requirement bar>=2 (from foo) (from versions: 1.0)
_NO_VERSION = re.compile(r"Could not find a version that satisfies the requirement (?P<req>.+?)"
                         r"(?: \(from (?P<parent>[^)]*)\))? \(from versions: (?P<versions>[^)]*)\)")


def unsatisfied(pip_output: str) -> list[tuple[str, str, str]]:
    """The requirements pip found no fitting wheel for, from its output.

    Returns:
        ``(requirement, required_by, versions)`` triples, e.g. ``("bar>=2", "foo", "1.0")``
        (``required_by`` "" for a requirement given directly, ``versions`` "none" when no
        version has a fitting wheel). Empty when pip failed for another reason.
    """
    return [(m["req"], m["parent"] or "", m["versions"] or "none") for m in _NO_VERSION.finditer(pip_output)]


def install_for_target(abi: PythonABI, site: Path, requirements: Sequence[str], requirement_files: Sequence[Path] = (), *,
                       find_links: Sequence[Path] = (), no_index: bool = False, origins: Mapping[str, str] | None = None,
                       timeout: float = 600.0, cache: Path | None = None) -> list[str]:
    """Install ``requirements`` (and ``requirement_files``) for the target into ``site`` with the host's pip.

    Args:
        abi: the target's ABI: its version, ABI flags and platform tag go to pip (:func:`pip_command`).
        site: the directory to install into (created; pip's ``--target``).
        requirements: PEP 508 strings, e.g. ``["pytest", "hypothesis>=6"]``.
        requirement_files: pip requirements files (``-r``).
        find_links: directories of wheels, e.g. wheels built for the target (``linux_<machine>``).
        no_index: PyPI (or the user's configured index) is not asked.
        origins: where each requirement came from, for the error (``{"pytest": "the test runner"}``).
        timeout: seconds pip may take; then it is killed.
        cache: pip's cache directory (default: ``PIP_CACHE_DIR``, else ``<pyrust cache>/pip``).

    Returns:
        The distributions installed, as pip names them (``["iniconfig-2.3.1", "pytest-9.2.0", ...]``).

    Raises:
        InputError: a requirement has no pure-Python wheel (nor one built for the target) for
            the target's CPython: ``"requirement='numpy (--with)': expected ...: there is no
            pure-Python wheel of numpy for CPython 3.14 on linux_s390x; build it for the target
            (--find-links DIR) or drop it"``; or pip failed otherwise (its last
            error line), timed out, or is not installed.
    """
    from pyrust.cache import cache_dir

    env = dict(os.environ)
    if "PIP_CACHE_DIR" not in env:
        env["PIP_CACHE_DIR"] = str(cache or cache_dir() / "pip")
    cmd = pip_command(abi, site, requirements, requirement_files, find_links, no_index)
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise InputError("requirements", " ".join(requirements), f"a pip install that finishes within {timeout:g} s "
                         "(check the network or give --find-links DIR --no-index)") from None
    output = proc.stdout + proc.stderr
    if proc.returncode == 0:
        installed = re.findall(r"^Successfully installed (.*)$", proc.stdout, re.MULTILINE)
        return installed[-1].split() if installed else []
    if "No module named pip" in output:
        raise InputError("pip", sys.executable, "an interpreter with pip installed (python -m pip), to install the test requirements")
    target = f"CPython {abi.version}{abi.abiflags} on {abi.platform_tag}"
    missing = unsatisfied(output)
    if missing:
        req, parent, versions = missing[0]
        origin = (origins or {}).get(req) or (f"required by {parent}" if parent else "")
        fitting = "" if versions == "none" else f"; versions with a fitting wheel: {versions}"
        raise InputError("requirement", req + (f" ({origin})" if origin else ""),
                         f"a pure-Python wheel (py3-none-any) or one built for the target: there is no pure-Python wheel of {req} "
                         f"for {target}{fitting}; build it for the target (--find-links DIR) or drop it")
    errors = [line for line in output.splitlines() if line.startswith("ERROR:")]
    raise InputError("requirements", " ".join(requirements), f"a pip install for {target} that works; pip said: "
                     + (errors[-1] if errors else (output.strip().splitlines() or ["nothing"])[-1]))
