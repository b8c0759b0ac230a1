"""How a crate binds to CPython, read from the Cargo.lock shapes of real recipes.

Each lock below lists the binding crates (and pyo3-build-config) exactly as the recipe's
``-crates.inc`` of oe-core / meta-openembedded master locks them (the rest of the lock
does not matter to the reader); the expected values are those versions, read off the
``crate://crates.io/<name>/<version>`` lines.
"""

from __future__ import annotations

import pytest

from pyrust.cargolock import Binding, find_cargo_lock, pyo3_version, python_binding
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
