"""How a crate binds to CPython, read from the Cargo.lock shapes of real recipes.

Each lock below lists the binding crates (and pyo3-build-config) exactly as the recipe's
``-crates.inc`` of oe-core / meta-openembedded master locks them (the rest of the lock
does not matter to the reader); the expected values are those versions, read off the
``crate://crates.io/<name>/<version>`` lines.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from pyrust.cargolock import Binding, _pyproject_fields, find_cargo_lock, maturin_manifest_path, pyo3_version, python_binding
from pyrust.errors import InputError
from pyrust.export import pyo3_strategy

pytestmark = pytest.mark.unit


def lock(tmp_path, *packages: tuple[str, str]):
    text = "version = 4\n" + "".join(f'\n[[package]]\nname = "{n}"\nversion = "{v}"\n' for n, v in packages)
    path = tmp_path / "Cargo.lock"
    path.write_text(text)
    return path


# (recipe, its binding crates as locked, expected Binding)
REAL_LOCKS = [
    ("python3-rpds-py 2026.6.3 (oe-core)",
     [("pyo3", "0.29.0"), ("pyo3-build-config", "0.29.0"), ("pyo3-ffi", "0.29.0")],
     Binding("pyo3", (0, 29, 0), (0, 29, 0))),
    ("python3-orjson 3.11.9 (meta-python): pyo3-ffi, no pyo3",
     [("pyo3-build-config", "0.28.3"), ("pyo3-ffi", "0.28.3")],
     Binding("pyo3-ffi", (0, 28, 3), (0, 28, 3))),
    ("python3-cbor2 6.1.4 (meta-python): two pyo3-build-config",
     [("pyo3", "0.29.0"), ("pyo3-build-config", "0.28.2"), ("pyo3-build-config", "0.29.0"), ("pyo3-ffi", "0.29.0")],
     Binding("pyo3", (0, 29, 0), (0, 28, 2))),
    ("python3-pyruvate 1.2.1 (meta-python): rust-cpython",
     [("cpython", "0.7.1"), ("python3-sys", "0.7.1")],
     Binding("cpython", (0, 7, 1), None)),
    ("python3-guessing-game (meta-selftest): PyO3 0.19",
     [("pyo3", "0.19.2"), ("pyo3-build-config", "0.19.2"), ("pyo3-ffi", "0.19.2")],
     Binding("pyo3", (0, 19, 2), (0, 19, 2))),
]


@pytest.mark.parametrize(("recipe", "packages", "expected"), REAL_LOCKS, ids=[r[0].split()[0] for r in REAL_LOCKS])
def test_binding_of_real_recipes(tmp_path, recipe, packages, expected):
    assert python_binding(lock(tmp_path, *packages, ("serde", "1.0.228"))) == expected


def test_recipe_without_binding(tmp_path):
    """python3-ruff and python3-uv-build lock no binding crate: they ship a binary."""
    path = lock(tmp_path, ("serde", "1.0.228"), ("libc", "0.2.177"))
    assert python_binding(path) is None
    assert pyo3_version(path) is None


def test_config_reader_decides_the_route(tmp_path):
    """pyo3-ffi alone still reads PYO3_CONFIG_FILE (through pyo3-build-config): an old one
    takes maturin's sysconfigdata route, as an old pyo3 does."""
    assert pyo3_strategy(pyo3_version(lock(tmp_path, ("pyo3-ffi", "0.17.3"), ("pyo3-build-config", "0.17.3")))) == "sysconfigdata"
    assert pyo3_strategy(pyo3_version(lock(tmp_path, ("pyo3-ffi", "0.28.3"), ("pyo3-build-config", "0.28.3")))) == "config-file"
    # the oldest reader decides: one of two readers rejecting ext_suffix= is enough
    mixed = lock(tmp_path, ("pyo3", "0.29.0"), ("pyo3-build-config", "0.17.0"), ("pyo3-build-config", "0.29.0"))
    assert pyo3_strategy(pyo3_version(mixed)) == "sysconfigdata"
    # rust-cpython reads no pyo3.config: nothing to avoid
    assert pyo3_version(lock(tmp_path, ("cpython", "0.7.1"), ("python3-sys", "0.7.1"))) is None


def test_two_versions_of_the_binding_are_refused(tmp_path):
    with pytest.raises(InputError, match="one pyo3-ffi version, found 0.27.0, 0.28.3"):
        python_binding(lock(tmp_path, ("pyo3-ffi", "0.28.3"), ("pyo3-ffi", "0.27.0")))


def test_unreadable_lock_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="Cargo.lock"):
        python_binding(tmp_path / "absent" / "Cargo.lock")
    (tmp_path / "Cargo.lock").write_text("[[package]\n")
    with pytest.raises(InputError, match="valid TOML"):
        python_binding(tmp_path / "Cargo.lock")


def test_lock_below_the_source_root(tmp_path):
    """python3-bcrypt 5.0.0: CARGO_SRC_DIR = "src/_bcrypt", its lock beside that Cargo.toml."""
    crate = tmp_path / "src" / "_bcrypt"
    crate.mkdir(parents=True)
    (crate / "Cargo.lock").write_text("version = 4\n")
    (tmp_path / "Cargo.lock").write_text("version = 4\n")  # an unrelated one above is not taken
    assert find_cargo_lock(crate, tmp_path) == crate / "Cargo.lock"


def test_workspace_lock_above_the_member(tmp_path):
    member = tmp_path / "crates" / "py"
    member.mkdir(parents=True)
    (tmp_path / "Cargo.lock").write_text("version = 4\n")
    assert find_cargo_lock(member, tmp_path) == tmp_path / "Cargo.lock"


def test_no_lock_up_to_the_top(tmp_path):
    top = tmp_path / "S"
    (top / "rust").mkdir(parents=True)
    (tmp_path / "Cargo.lock").write_text("version = 4\n")  # above ${S}: not the recipe's
    assert find_cargo_lock(top / "rust", top) is None
    assert find_cargo_lock(tmp_path / "elsewhere", top) is None


# maturin's manifest rule (src/project_layout.rs, resolve_manifest_path), on the layouts of real
# projects: meta-python's python3-pendulum 3.2.0 (rust/ + src/pendulum, no manifest-path),
# oe-core's python3-rpds-py (Cargo.toml at the top), a manifest-path project.

def project(tmp_path, pyproject: str | None, files: tuple[str, ...]) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    if pyproject is not None:
        (tmp_path / "pyproject.toml").write_text(pyproject)
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("")
    return tmp_path


def test_maturin_src_layout_builds_rust_dir(tmp_path):
    top = project(tmp_path, '[project]\nname = "pendulum"\n[tool.maturin]\nmodule-name = "pendulum._pendulum"\n'
                  'python-packages = ["pendulum"]\n', ("rust/Cargo.toml", "src/pendulum/__init__.py"))
    assert maturin_manifest_path(top) == top / "rust" / "Cargo.toml"


def test_maturin_src_layout_by_python_source_or_package(tmp_path):
    top = project(tmp_path / "a", '[tool.maturin]\npython-source = "python"\n', ("rust/Cargo.toml",))
    assert maturin_manifest_path(top) == top / "rust" / "Cargo.toml"
    top = project(tmp_path / "b", '[project]\nname = "my-proj"\n', ("rust/Cargo.toml", "src/my_proj/__init__.py"))
    assert maturin_manifest_path(top) == top / "rust" / "Cargo.toml"


def test_maturin_rust_dir_without_src_package_is_not_taken(tmp_path):
    top = project(tmp_path, '[project]\nname = "x"\n', ("rust/Cargo.toml", "Cargo.toml"))
    assert maturin_manifest_path(top) == top / "Cargo.toml"
    (top / "Cargo.toml").unlink()
    assert maturin_manifest_path(top) is None


def test_maturin_manifest_path_wins(tmp_path):
    top = project(tmp_path, '[tool.maturin]\nmanifest-path = "crates/py/Cargo.toml"\n',
                  ("crates/py/Cargo.toml", "Cargo.toml", "rust/Cargo.toml", "src/x/__init__.py"))
    assert maturin_manifest_path(top) == top / "crates" / "py" / "Cargo.toml"


def test_maturin_top_level_crate_and_no_pyproject(tmp_path):
    top = project(tmp_path, None, ("Cargo.toml",))
    assert maturin_manifest_path(top) == top / "Cargo.toml"


def test_maturin_bad_pyproject_names_the_file(tmp_path):
    top = project(tmp_path, "[tool.maturin\n", ("Cargo.toml",))
    with pytest.raises(InputError, match="pyproject.toml"):
        maturin_manifest_path(top)


@pytest.mark.parametrize("text", [
    '[project]\nname = "pendulum"  # c\n[tool.maturin]\npython-packages = ["pendulum", "x"]\nmanifest-path = "rust/Cargo.toml"\n',
    '[build-system]\nrequires = ["maturin>=1,<2"]\n[tool.maturin]\npython-source = "python"\n[tool.other]\nname = "no"\n',
    '[project]\nname = "a-b"\n',
])
def test_pyproject_scanner_for_old_pythons_agrees_with_tomllib(text, monkeypatch):
    """BitBake hosts older than 3.11 have no tomllib: the line scanner must read what tomllib reads."""
    with_tomllib = _pyproject_fields(text, Path("pyproject.toml"))
    monkeypatch.setitem(sys.modules, "tomllib", None)  # import tomllib -> ImportError
    assert _pyproject_fields(text, Path("pyproject.toml")) == with_tomllib
