"""How a crate binds to CPython (PyO3, PyO3's FFI layer alone, rust-cpython), read from its Cargo.lock.

Standard library only: BitBake imports this module. ``tomllib`` is used where the
Python has it (3.11+); older BitBake hosts get a line scanner for the
``[[package]]`` tables Cargo writes (name and version on their own lines).
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

from pyrust.errors import InputError


def _packages(text: str, path: Path) -> list[dict]:
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        packages: list[dict] = []
        for line in text.splitlines():
            if line.strip() == "[[package]]":
                packages.append({})
            match = re.fullmatch(r'\s*(name|version)\s*=\s*"([^"]*)"\s*', line)
            if match and packages:
                packages[-1][match.group(1)] = match.group(2)
        return packages
    try:
        return list(tomllib.loads(text).get("package", []))
    except tomllib.TOMLDecodeError as err:
        raise InputError("Cargo.lock", str(path), f"valid TOML ({err})") from None


def parse_version_triple(text: str) -> tuple[int, int, int]:
    """"0.22.6" -> (0, 22, 6); pre-release and build tags are dropped."""
    match = re.match(r"([0-9]+)\.([0-9]+)\.([0-9]+)", text)
    if not match:
        raise InputError("pyo3 version", text, "a semantic version like 0.22.6")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


#: The crates that bind Rust to CPython, as Cargo.lock names them, in the order a lock is
#: classified by: PyO3 (``pyo3``: its FFI layer ``pyo3-ffi`` comes with it), PyO3's FFI
#: layer alone (orjson, meta-python), rust-cpython (``cpython``, with ``python3-sys``:
#: pyruvate, meta-python).
BINDING_CRATES = ("pyo3", "pyo3-ffi", "cpython")

#: The crate that reads PYO3_CONFIG_FILE (``pyo3-build-config``'s
#: ``InterpreterConfig::from_reader``), a build dependency of both ``pyo3`` and
#: ``pyo3-ffi`` at their own version; rust-cpython's ``python3-sys`` reads no such file.
CONFIG_READER_CRATE = "pyo3-build-config"


@dataclasses.dataclass(frozen=True)
class Binding:
    """How a crate binds to CPython, read from its Cargo.lock.

    ``crate``: one of :data:`BINDING_CRATES`; ``version``: that crate's locked version;
    ``config_reader``: the oldest locked ``pyo3-build-config`` (None for rust-cpython):
    the version whose tolerance of unknown PYO3_CONFIG_FILE keys decides the route
    (:func:`pyrust.export.pyo3_strategy`). A lock may carry two of them, e.g. meta-python's
    python3-cbor2 6.1.4 locks pyo3-build-config 0.28.2 and 0.29.0: both read the file.
    """

    crate: str
    version: tuple[int, int, int]
    config_reader: tuple[int, int, int] | None


def _locked_versions(packages: list[dict], name: str) -> list[tuple[int, int, int]]:
    return sorted({parse_version_triple(p.get("version", "")) for p in packages if p.get("name") == name})


def python_binding(lock_path: str | Path) -> Binding | None:
    """The CPython binding locked in ``lock_path``, or None when it locks none.

    Args:
        lock_path: a Cargo.lock file.

    Raises:
        InputError: the file cannot be read or parsed, or it locks several versions of
            the binding crate (the build would then be ambiguous).

    Examples (locks of real recipes, oe-core and meta-python master):
        python3-rpds-py: ``Binding("pyo3", (0, 29, 0), (0, 29, 0))``;
        python3-orjson (pyo3-ffi, no pyo3): ``Binding("pyo3-ffi", (0, 28, 3), (0, 28, 3))``;
        python3-cbor2: ``Binding("pyo3", (0, 29, 0), (0, 28, 2))``;
        python3-pyruvate (rust-cpython): ``Binding("cpython", (0, 7, 1), None)``;
        python3-ruff, python3-uv-build (no module): None.
    """
    path = Path(lock_path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise InputError("Cargo.lock", str(path), f"a readable file ({err.strerror})") from None
    packages = _packages(text, path)
    for crate in BINDING_CRATES:
        versions = _locked_versions(packages, crate)
        if not versions:
            continue
        if len(versions) > 1:
            raise InputError("Cargo.lock", str(path), f"one {crate} version, found "
                             + ", ".join(".".join(map(str, v)) for v in versions))
        readers = _locked_versions(packages, CONFIG_READER_CRATE)
        reader = readers[0] if readers else (versions[0] if crate != "cpython" else None)
        return Binding(crate, versions[0], reader)
    return None


def pyo3_version(lock_path: str | Path) -> tuple[int, int, int] | None:
    """The version of PyO3's configuration reader locked in ``lock_path`` (the oldest
    ``pyo3-build-config``, for ``pyo3`` and ``pyo3-ffi`` alike), or None when the crate
    binds CPython some other way or not at all: what :func:`pyrust.export.pyo3_strategy`
    takes.

    Raises:
        InputError: as :func:`python_binding`.

    Example: a lock with ``name = "pyo3"`` / ``version = "0.22.6"`` (and its
    pyo3-build-config 0.22.6) gives (0, 22, 6).
    """
    binding = python_binding(lock_path)
    return binding.config_reader if binding else None


def find_cargo_lock(manifest_dir: str | Path, top: str | Path) -> Path | None:
    """The Cargo.lock cargo uses for the package in ``manifest_dir``: the nearest one in
    that directory or above it, up to and including ``top`` (cargo writes the lock at the
    workspace root, which is the package itself or an ancestor). None when there is none.

    Args:
        manifest_dir: the directory of the package's Cargo.toml, e.g. oe-core's
            ``dirname(${CARGO_MANIFEST_PATH})`` = ``${S}/${CARGO_SRC_DIR}``.
        top: where to stop looking, e.g. ``${S}``.

    Example: python3-bcrypt 5.0.0 (``CARGO_SRC_DIR = "src/_bcrypt"``) has its lock at
    ``${S}/src/_bcrypt/Cargo.lock``, not ``${S}/Cargo.lock``.
    """
    here, stop = Path(manifest_dir).resolve(), Path(top).resolve()
    while True:
        if (here / "Cargo.lock").is_file():
            return here / "Cargo.lock"
        if here == stop or stop not in here.parents:
            return None
        here = here.parent


def _pyproject_fields(text: str, path: Path) -> dict:
    """The parts of a pyproject.toml maturin's manifest rule reads: ``[project] name`` and
    ``[tool.maturin]`` ``manifest-path``, ``python-source``, ``python-packages``.
    ``tomllib`` where the Python has it; older BitBake hosts get a scanner for one-line
    ``key = "value"`` and ``key = ["a", "b"]`` entries of those two tables."""
    try:
        import tomllib
    except ImportError:  # Python < 3.11
        tables: dict[str, dict] = {}
        table = None
        for line in text.splitlines():
            header = re.fullmatch(r"\s*\[([^\[\]]+)\]\s*(#.*)?", line)
            if header:
                table = tables.setdefault(header.group(1).strip(), {})
                continue
            entry = re.fullmatch(r'\s*([A-Za-z0-9_-]+)\s*=\s*(".*?"|\[.*?\])\s*(#.*)?', line)
            if entry and table is not None:
                table[entry.group(1)] = (entry.group(2)[1:-1] if entry.group(2).startswith('"')
                                         else re.findall(r'"([^"]*)"', entry.group(2)))
        project, maturin = tables.get("project", {}), tables.get("tool.maturin", {})
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as err:
            raise InputError("pyproject.toml", str(path), f"valid TOML ({err})") from None
        project, maturin = data.get("project", {}), data.get("tool", {}).get("maturin", {})
    return {"name": project.get("name"), **{k: maturin.get(k) for k in ("manifest-path", "python-source", "python-packages")}}


def maturin_manifest_path(project_dir: str | Path) -> Path | None:
    """The Cargo.toml maturin builds when run in ``project_dir`` (where oe-core's
    python_maturin runs it: ``${PEP517_SOURCE_PATH}``, i.e. ``${S}``), or None when it
    would find none.

    The rule is maturin's (src/project_layout.rs, ``resolve_manifest_path``, without
    ``--manifest-path``): ``[tool.maturin] manifest-path`` of ``pyproject.toml``; else
    ``rust/Cargo.toml`` in maturin's "Python first src-layout" (``python-source`` is set,
    or ``src/<project name>/__init__.py`` or ``src/<python-packages entry>/__init__.py``
    exists); else ``Cargo.toml``.

    Raises:
        InputError: pyproject.toml cannot be read or parsed.

    Example: meta-python's python3-pendulum 3.2.0 sets no CARGO_SRC_DIR and no
    manifest-path; its crate is ``${S}/rust/Cargo.toml`` (``src/pendulum/__init__.py``
    exists), so its lock is ``${S}/rust/Cargo.lock``, not ``${S}/Cargo.lock``.
    """
    top = Path(project_dir)
    pyproject = top / "pyproject.toml"
    if pyproject.is_file():
        try:
            fields = _pyproject_fields(pyproject.read_text(encoding="utf-8"), pyproject)
        except OSError as err:
            raise InputError("pyproject.toml", str(pyproject), f"a readable file ({err.strerror})") from None
        if fields["manifest-path"]:
            path = top / fields["manifest-path"]
            return path if path.is_file() else None
        rust = top / "rust" / "Cargo.toml"
        if rust.is_file():
            packages = [fields["name"].replace("-", "_")] if fields["name"] else []
            packages += list(fields["python-packages"] or [])
            if fields["python-source"] or any((top / "src" / p / "__init__.py").is_file() for p in packages):
                return rust
    path = top / "Cargo.toml"
    return path if path.is_file() else None
