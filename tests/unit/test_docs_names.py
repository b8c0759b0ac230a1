"""The docs cite only what exists.

docs/ARCHITECTURE.md: every backticked dotted name starting with ``pyrust.`` is a module of
the library or an attribute of one (the module imported, the rest looked up with getattr),
every backticked repository path exists, and every module of ``lib/pyrust`` is cited.
README.md, tests/README.md and docs/ARCHITECTURE.md: every backticked repository path and
every relative link target exists.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import re
from pathlib import Path

import pytest

from testbed import REPO

pytestmark = pytest.mark.unit

ARCHITECTURE = REPO / "docs" / "ARCHITECTURE.md"
DOCS = (REPO / "README.md", REPO / "tests" / "README.md", ARCHITECTURE)

_CODE = re.compile(r"`([^`\n]+)`")
_DOTTED = re.compile(r"(?<![\w./-])pyrust(?:\.[A-Za-z_]\w*)+")
#: the repository's top-level directories: a backticked word starting with one is a path
_TOP = ("lib", "classes", "conf", "recipes-devtools", "tests", "scripts", "docs", "kas", ".ci")
_TOP_ALTERNATIVES = "|".join(re.escape(t) for t in _TOP)
_PATH = re.compile(r"(?<![\w./$-])(?:" + _TOP_ALTERNATIVES + r")/[\w.%+-]+(?:/[\w.%+-]+)*")
#: files of a BitBake build directory, not of this repository
BUILD_DIR_FILES = frozenset({"conf/local.conf", "conf/site.conf", "conf/bblayers.conf"})
_LINK = re.compile(r"\]\(([^)\s#]+)(?:#[^)]*)?\)")


def code_spans(text: str) -> list[str]:
    return _CODE.findall(text)


def cited_names(text: str) -> list[str]:
    """Backticked dotted names starting with ``pyrust.``, in order, once each."""
    return list(dict.fromkeys(name for span in code_spans(text) for name in _DOTTED.findall(span)))


def cited_paths(text: str) -> list[str]:
    """Backticked repository paths (``lib/pyrust/check.py``, ``classes/pyrust.bbclass``)."""
    paths = (path.rstrip(".") for span in code_spans(text) for path in _PATH.findall(span))
    return list(dict.fromkeys(path for path in paths if path not in BUILD_DIR_FILES))


def resolves(name: str) -> bool:
    """Whether ``name`` is a module of the library or an attribute reached from one."""
    parts = name.split(".")
    module = None
    for end in range(len(parts), 0, -1):
        try:
            found = importlib.util.find_spec(".".join(parts[:end])) is not None
        except ModuleNotFoundError:  # a parent is not a package
            found = False
        if found:
            module = importlib.import_module(".".join(parts[:end]))
            break
    if module is None:
        return False
    obj: object = module
    for attr in parts[end:]:
        if hasattr(obj, attr):
            obj = getattr(obj, attr)
        elif dataclasses.is_dataclass(obj) and attr in {f.name for f in dataclasses.fields(obj)}:
            obj = None  # a field without a default: no class attribute, nothing below it
        else:
            return False
    return True


def unresolved(text: str, root: Path = REPO) -> list[str]:
    """The cited names and paths of ``text`` that do not exist."""
    return [n for n in cited_names(text) if not resolves(n)] + [p for p in cited_paths(text) if not (root / p).exists()]


def test_the_checker_catches_made_up_names():
    text = ("`pyrust.resolve.resolve_abi` `pyrust.resolve.resolve_abi_twice` `pyrust.nosuchmodule.f` "
            "`pyrust.check.Finding.qa` `lib/pyrust/check.py` `lib/pyrust/nosuch.py` `classes/nosuch.bbclass`")
    assert unresolved(text) == ["pyrust.resolve.resolve_abi_twice", "pyrust.nosuchmodule.f",
                                "lib/pyrust/nosuch.py", "classes/nosuch.bbclass"]


def test_architecture_cites_only_existing_names():
    text = ARCHITECTURE.read_text(encoding="utf-8")
    names = cited_names(text)
    assert len(names) > 50, names  # the parser found the citations
    assert [n for n in names if not resolves(n)] == []


def test_architecture_cites_every_module():
    cited = {n.split(".")[1] for n in cited_names(ARCHITECTURE.read_text(encoding="utf-8")) if n.count(".") >= 1}
    modules = {p.stem for p in (REPO / "lib" / "pyrust").glob("*.py") if p.stem != "__init__"}
    assert sorted(modules - cited) == [], "docs/ARCHITECTURE.md does not describe these modules"


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_cited_paths_exist(doc: Path):
    text = doc.read_text(encoding="utf-8")
    assert [p for p in cited_paths(text) if not (REPO / p).exists()] == []
    links = [link for link in _LINK.findall(text) if "://" not in link and not link.startswith("mailto:")]
    assert [link for link in links if not (doc.parent / link).exists()] == []
