"""Table vs sysroot: the sysroot's own data wins, disagreements become warnings.

Standard library only: BitBake imports this module.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pyrust.errors import InputError
from pyrust.pyabi import PythonABI, check_abiflags, extension_suffixes_for, parse_version, python_abi
from pyrust.release import release_abi
from pyrust.sysconfigdata import abi_from_sysroot
from pyrust.target import Target


@dataclasses.dataclass(frozen=True)
class Resolution:
    """The ABI to use and the warnings met on the way (one line each)."""

    abi: PythonABI
    warnings: tuple[str, ...]


_COMPARED = ("version", "abiflags", "platform_triplet", "soabi", "ext_suffix", "extension_suffixes")


def _rules(target: Target, version: str | None, abiflags: str, release: str | None) -> tuple[PythonABI, tuple[str, ...]]:
    if release is None:
        return python_abi(target, version, abiflags), ()
    return release_abi(target, version, abiflags, release)


def resolve_abi(target: Target, version: str | None = None, abiflags: str | None = None,
                sysroot: str | Path | None = None, require_sysroot_abi: bool = False,
                release: str | None = None) -> Resolution:
    """The target's Python ABI: from the sysroot when it states one, else from the rules.

    Args:
        target: from :func:`pyrust.target.target_from_vars`.
        version: "3.X"; None means the sysroot's, else PYTHON_BASEVERSION.
        abiflags: "", "d", "t", "td"; None means the sysroot's, else "".
        sysroot: a recipe sysroot, rootfs, STAGING_LIBDIR or one ABI file; None for
            rules only.
        require_sysroot_abi: raise when ``sysroot`` states no ABI (the CLI's
            ``--sysroot``), instead of falling back to the rules with a warning (the
            bbclass, where python3 may not be in DEPENDS).
        release: the openembedded-core release whose python3 recipe the rules follow
            (:func:`pyrust.release.release_abi`: scarthgap's presets no
            PLATFORM_TRIPLET); None for CPython's rules with oe-core's preset.

    Returns:
        :class:`Resolution`; ``abi.source`` is "sysroot" or "table". Each field where
        the sysroot and the rules disagree gives a warning naming both values.

    Raises:
        InputError: bad version/abiflags, unreadable sysroot, or no ABI in a required
            sysroot.
    """
    warnings: list[str] = []
    truth = None
    if sysroot is not None:
        truth = abi_from_sysroot(sysroot, version, abiflags)
        if truth is None:
            if require_sysroot_abi:
                raise InputError("--sysroot", str(sysroot),
                                 "a directory with _sysconfigdata*.py or build-details.json below usr/lib*/python3.*/ or python-sysconfigdata/")
            warnings.append(f"no _sysconfigdata*.py or build-details.json below {sysroot}; using the rules for {target.target_arch}")
    if truth is None:
        abi, notes = _rules(target, version, abiflags or "", release)
        return Resolution(abi, (*warnings, *notes))

    # The table for the sysroot's own version and flags, so only real differences show.
    vt = parse_version(truth.version, f"VERSION in {truth.path}")
    flags = check_abiflags(truth.abiflags, vt, f"ABIFLAGS in {truth.path}")
    table, _ = _rules(target, truth.version, flags, release)
    asked = version or target.python_version  # --python, else PYTHON_BASEVERSION
    if asked is not None and asked != truth.version:
        warnings.append(f"Python version: sysroot {truth.path} has {truth.version}, asked for {asked}; using {truth.version}")
    if abiflags is not None and abiflags != truth.abiflags:
        warnings.append(f"ABI flags: sysroot {truth.path} has {truth.abiflags!r}, asked for {abiflags!r}; using {truth.abiflags!r}")
    abi = dataclasses.replace(
        table,
        platform_triplet=truth.platform_triplet,
        soabi=truth.soabi,
        ext_suffix=truth.ext_suffix,
        extension_suffixes=truth.extension_suffixes or extension_suffixes_for(truth.ext_suffix, flags),
        source="sysroot",
        source_file=truth.path,
    )
    for field in _COMPARED:
        ours, theirs = getattr(table, field), getattr(abi, field)
        if ours != theirs:
            warnings.append(
                f"{field.upper()}: sysroot {truth.path} says {theirs!r}, the rules for "
                f"{target.target_arch}/{target.target_os} say {ours!r}; using the sysroot's"
            )
    return Resolution(abi, tuple(warnings))
