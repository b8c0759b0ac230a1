"""The layer inside real BitBake over real openembedded-core, for each release.

* What pyrust.bbclass exports for python3-rpds-py (``pyrust_export_environment``, run by
  BitBake on the recipe's own datastore) equals what the library computes from that
  datastore's variables, for the 12 qemu machines, musl on qemuarm/qemuarm64 and four
  ABI-changing tunes; and its EXT_SUFFIX is the one oe-core's python3 gets from
  CPython's configure (the platform-triplet probe run by a Debian cross compiler with
  the tune's TUNE_CCARGS; where the probe fails, that release's python3 recipe: its
  PLATFORM_TRIPLET preset, or no triplet at all on scarthgap).
* ``bitbake -c pyrust_show_env python3-rpds-py`` runs that one python task alone.
* The QA check, run as a BitBake task on a prepared ${D}, reports a wrongly named module
  through oe.qa.handle_error and leaves the tree untouched.
* The layer parses without warnings; INHERIT += "pyrust" parses all of oe-core.
* oe-selftest lists the layer's cases.
(yocto-check-layer: test_check_layer.py.)

Each test runs once per release of ``$PYRUST_RELEASES`` (the ``oe_testbed`` fixture).

Build dirs (one BitBake server each, kept in the test bed cache of each release):
"layer" (layer added; config-only tinfoil sessions, the cold ``bitbake -p``, then
yocto-check-layer, which removes the layer from bblayers.conf first and so reuses that parse), "inherit" (layer +
INHERIT in conf/auto.conf) and "qa" (``bitbake -b`` of one recipe, config parse only).
"""

from __future__ import annotations

import glob
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import time
from pathlib import Path

import pytest

from pyrust.bbenv import parse_bitbake_env
from pyrust.export import build_environment
from pyrust.machines import machine_vars, release_from_corenames
from pyrust.resolve import resolve_abi
from pyrust.target import BITBAKE_VARIABLES, target_from_vars
from testbed import require_tool

pytestmark = pytest.mark.bitbake

REPO = Path(__file__).resolve().parents[2]
RECIPE = "python3-rpds-py"

MACHINES = (
    "qemuarm", "qemuarmv5", "qemuarm64", "qemux86", "qemux86-64", "qemumips",
    "qemumips64", "qemuppc", "qemuppc64", "qemuriscv32", "qemuriscv64", "qemuloongarch64",
)
# (MACHINE, TCLIBC, DEFAULTTUNE or "" for the machine's own)
CONFIGS = (
    *((machine, "glibc", "") for machine in MACHINES),
    ("qemuarm", "musl", ""),
    ("qemuarm64", "musl", ""),
    ("qemux86-64", "glibc", "x86-64-x32"),
    ("qemumips64", "glibc", "mips64-n32"),
    ("qemuarm", "glibc", "armv7athf"),
    ("qemuarm", "glibc", "armv7a"),
)


def _key(machine: str, libc: str, tune: str) -> str:
    return f"{machine}/{tune}/{libc}" if tune else f"{machine}/{libc}"


KEYS = [_key(*config) for config in CONFIGS]
SHOW_ENV = "${@pyrust_show_env_json(d)}"
EXTRA_VARIABLES = ("MACHINE", "DEFAULTTUNE", "AVAILTUNES", "PN", "PYRUST_SYSROOT", "LAYERSERIES_CORENAMES")


def library_environment(values: dict[str, str | None]) -> dict[str, str]:
    """The library's answer from a recipe's variables, the way the class asks for it."""
    variables = {name: values[name] for name in BITBAKE_VARIABLES if values.get(name) is not None}
    target = target_from_vars(variables)  # type: ignore[arg-type]
    sysroot = values.get("PYRUST_SYSROOT")
    resolution = resolve_abi(target, values["PYTHON_BASEVERSION"], None,
                             sysroot if sysroot and os.path.isdir(sysroot) else None,
                             release=release_from_corenames(values["LAYERSERIES_CORENAMES"]))
    return build_environment(target, resolution.abi)


# --------------------------------------------------------------------------- class env

@pytest.fixture(scope="module")
def class_env(oe_testbed) -> dict:
    """The class's exports for every configuration, through BitBake: one config-only
    tinfoil per MACHINE/TCLIBC, python3-rpds-py parsed with its bbappend and
    PYRUST_RPDS_PY = "1", then ``pyrust_show_env_json(d)`` expanded in BitBake's server:
    it runs the class's own ``pyrust_export_environment`` on (a copy of) the recipe's
    datastore. ~1 s per configuration, where a ``bitbake -c`` per configuration would
    be a full reparse (1.5 to 2.5 min) each."""
    variants = [{"key": _key(m, libc, tune), "MACHINE": m, "TCLIBC": libc, "DEFAULTTUNE": tune}
                for m, libc, tune in CONFIGS]
    job = {"recipe": RECIPE, "set": {"PYRUST_RPDS_PY": "1"},
           "variables": [*BITBAKE_VARIABLES, *EXTRA_VARIABLES, "HOST_ARCH", "HOST_OS"],
           "expand": {"show_env": SHOW_ENV}, "variants": variants}
    t0 = time.monotonic()
    result = oe_testbed.tinfoil(oe_testbed.builddir("layer"), job)
    print(f"tinfoil: {len(variants)} configurations in {time.monotonic() - t0:.1f} s")
    assert not result["failed"], result["failed"]
    assert any(path.startswith(str(REPO)) and path.endswith("python3-rpds-py_%.bbappend")
               for path in result["appends"]), result["appends"]
    return result


@pytest.mark.parametrize("key", KEYS)
def test_class_exports_what_the_library_computes(oe_testbed, class_env, key):
    values = class_env["values"][key]
    # the release really is the one under test
    assert release_from_corenames(values["LAYERSERIES_CORENAMES"]) == oe_testbed.release
    shown = json.loads(class_env["expanded"][key]["show_env"])
    machine, *rest = key.split("/")
    assert values["MACHINE"] == machine
    if len(rest) == 2:  # the tune really is the one asked for, and the machine offers it
        assert values["DEFAULTTUNE"] == rest[0]
        assert rest[0] in values["AVAILTUNES"].split()
    assert shown["recipe"] == RECIPE
    expected = library_environment(values)
    assert {name: shown["environment"].get(name) for name in expected} == expected
    # nothing else changed, nothing removed (no RUSTC_WRAPPER; the crate's PyO3 is new enough)
    assert set(shown["changed"]) <= set(expected), shown["changed"]
    assert shown["unset"] == []


# CPython's platform-triplet probe, by a Debian cross compiler standing in for oe-core's:
# the oracle tier's machinery (tests/oracle/test_platform_triplet.py).
@pytest.fixture(scope="module")
def probe_oracle(cpython_probes, tmp_path_factory):
    from oracle.test_platform_triplet import Oracle  # noqa: PLC0415

    return Oracle(cpython_probes, tmp_path_factory.mktemp("probe-oracle"))


def _recipe_presets_triplet(oe_testbed) -> bool:
    """Whether this release's target python3 passes PLATFORM_TRIPLET= to configure:
    its EXTRA_OECONF as BitBake expands it (qemuarm), read here, not from our tables."""
    job = {"recipe": "python3", "variables": ["EXTRA_OECONF"],
           "variants": [{"key": "qemuarm/glibc", "MACHINE": "qemuarm", "TCLIBC": "glibc", "DEFAULTTUNE": ""}]}
    result = oe_testbed.tinfoil(oe_testbed.builddir("layer"), job)
    assert not result["failed"], result["failed"]
    return any(arg.startswith("PLATFORM_TRIPLET=") for arg in result["values"]["qemuarm/glibc"]["EXTRA_OECONF"].split())


@pytest.fixture(scope="module")
def recipe_preset(oe_testbed) -> bool:
    return _recipe_presets_triplet(oe_testbed)


@pytest.mark.parametrize("key", KEYS)
def test_ext_suffix_is_oe_core_python3s(class_env, probe_oracle, recipe_preset, key):
    """EXT_SUFFIX as the release's python3 (PYTHON_BASEVERSION; PACKAGECONFIG without
    freethreading: ABIFLAGS "") configures it, computed without the library."""
    from oracle.test_platform_triplet import PROBE_FOR  # noqa: PLC0415

    values = class_env["values"][key]
    shown = json.loads(class_env["expanded"][key]["show_env"])
    # oe-core's PLATFORM_TRIPLET=${HOST_ARCH}-${HOST_OS} where the recipe passes it
    preset = f"{values['HOST_ARCH']}-{values['HOST_OS']}" if recipe_preset else ""
    probe = PROBE_FOR[values["PYTHON_BASEVERSION"]]
    if values["TCLIBC"] == "musl" and probe != "3.11":
        # the 3.13+ probe's libc detection fails with OE's musl gcc (#error unknown libc):
        # configure keeps the preset
        triplet, how = preset, "musl: the release's preset"
    else:
        # (up to 3.12 the conftest prints "gnu" names whatever the libc: its musl
        # rewrite looks at the build OS, glibc here)
        run = probe_oracle.run(probe, values)
        if run.kind == "no-debian-compiler":
            pytest.skip(f"{run.detail}: compared with the library only "
                        f"(test_class_exports_what_the_library_computes[{key}])")
        if run.kind == "no-compiler":
            require_tool(run.detail)
        assert run.kind in ("triplet", "probe-error"), f"{run.kind}: {run.detail} ({' '.join(run.command)})"
        triplet, how = (run.triplet, f"probe {probe}") if run.kind == "triplet" else (preset, "probe #error: the release's preset")
    version = values["PYTHON_BASEVERSION"].replace(".", "")
    expected = f".cpython-{version}-{triplet}.so" if triplet else f".cpython-{version}.so"
    assert shown["environment"]["SETUPTOOLS_EXT_SUFFIX"] == expected, how
    assert shown["environment"]["PYRUST_EXT_SUFFIX"] == expected, how


# --------------------------------------------------------------------------- QA check

QA_CLASS = """\
# test only (meta-pyrust tests/bitbake/test_layer.py): pyrust.bbclass's QA check as a
# task of its own, on whatever ${D} is
python do_pyrust_qa_probe() {
    import importlib.util, sys
    bb.plain("pyrust-qa-probe: BitBake's python %s, pyelftools importable: %s"
             % (sys.executable, importlib.util.find_spec("elftools") is not None))
    bb.build.exec_func("pyrust_qa_check", d)
}
addtask pyrust_qa_probe
do_pyrust_qa_probe[nostamp] = "1"
"""


def _build_module(compiler: str, name: str, out: Path) -> None:
    src = out.parent / f"{name}.c"
    src.write_text(f"void *PyInit_{name}(void) {{ return 0; }}\n")
    subprocess.run([compiler, "-shared", "-fPIC", "-nostdlib", "-o", str(out), str(src)], check=True)
    src.unlink()


def _snapshot(tree: Path) -> dict[str, tuple]:
    """Every entry below ``tree``: type, mode, mtime, size and content hash."""
    entries = {}
    for path in sorted([tree, *tree.rglob("*")]):
        st = path.lstat()
        digest = hashlib.sha256(path.read_bytes()).hexdigest() if stat.S_ISREG(st.st_mode) else ""
        entries[str(path.relative_to(tree))] = (stat.S_IFMT(st.st_mode), stat.S_IMODE(st.st_mode),
                                                st.st_mtime_ns, st.st_size, digest)
    return entries


@pytest.fixture(scope="module")
def python_without_pyelftools(oe_testbed) -> str:
    """A venv of the host's python3 without system site-packages (so without Debian's
    python3-pyelftools), as the build user: a build host set up by the Yocto manual's
    list, or with the buildtools tarball, has no pyelftools either. Its bin dir."""
    venv = f"{oe_testbed.paths['OE_DIR']}/python-without-pyelftools"
    oe_testbed.run(oe_testbed.builddir("qa"), "sh", "-c",
                   f'[ -x "{venv}/bin/python3" ] || /usr/bin/python3 -m venv --without-pip "{venv}"')
    proc = oe_testbed.run(oe_testbed.builddir("qa"), f"{venv}/bin/python3", "-c", "import elftools", check=False)
    assert proc.returncode != 0 and "No module named 'elftools'" in proc.stderr, proc.stderr
    return f"{venv}/bin"


def test_qa_check_reports_wrong_suffix(oe_testbed, python_without_pyelftools):
    """A ${D} with foo.cpython-314-armv7l-linux-gnueabihf.so (the original bug's name,
    PyInit_foo, ARM hard float), a correctly named bar, and a correctly named baz built
    for x86-64: BitBake, running on a Python without pyelftools, runs the class's
    pyrust_qa_check as a task of python3-rpds-py (qemuarm, ``bitbake -b``: one recipe
    parsed), which must fail with a pyrust-ext-suffix QA error naming the expected
    suffix and a pyrust-elf one naming baz's e_machine (oe.qa.ELFFile and readelf read
    them), report nothing about bar, and leave the tree as it was."""
    compiler = require_tool("arm-linux-gnueabihf-gcc")
    host_compiler = require_tool("x86_64-linux-gnu-gcc")
    version = machine_vars("qemuarm", release=oe_testbed.release)["PYTHON_BASEVERSION"]
    nodots = version.replace(".", "")
    builddir = oe_testbed.builddir("qa")
    bdir = oe_testbed.init(builddir, with_layer=True)
    probe = bdir / "pyrust-qa-probe"
    if probe.exists():
        shutil.rmtree(probe)
    site = probe / "image" / "usr" / "lib" / f"python{version}" / "site-packages"
    site.mkdir(parents=True)
    wrong = f"foo.cpython-{nodots}-armv7l-linux-gnueabihf.so"
    right = f"bar.cpython-{nodots}-arm-linux-gnueabihf.so"
    _build_module(compiler, "foo", site / wrong)
    _build_module(compiler, "bar", site / right)
    foreign = f"baz.cpython-{nodots}-arm-linux-gnueabihf.so"
    _build_module(host_compiler, "baz", site / foreign)
    (probe / "classes").mkdir()
    (probe / "classes" / "pyrust-qa-probe.bbclass").write_text(QA_CLASS)
    (probe / "qa.conf").write_text(
        f'BBPATH .= ":{probe}"\n'
        'INHERIT += "pyrust pyrust-qa-probe"\n'
        '# no target interpreter in this test: the static checks only; no recipe sysroot either\n'
        'PYRUST_IMPORT_CHECK = "0"\n'
        'PYRUST_SYSROOT = ""\n'
        f'D = "{probe / "image"}"\n')
    oe_testbed.chown_to_build_user(probe)
    before = _snapshot(probe / "image")

    recipe = sorted(glob.glob(os.path.join(oe_testbed.paths["OECORE"], "meta", "recipes-*", "*", f"{RECIPE}_*.bb")))[-1]
    t0 = time.monotonic()
    # BitBake itself runs on the Python without pyelftools (first on PATH: `bitbake`
    # starts with /usr/bin/env python3, and its server and workers use that interpreter)
    path = f"{python_without_pyelftools}:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    proc = oe_testbed.run(builddir, "bitbake", "-R", str(probe / "qa.conf"), "-b", recipe, "-c", "pyrust_qa_probe",
                          env={"MACHINE": "qemuarm", "PATH": path}, with_layer=True, check=False, timeout=1200)
    print(f"bitbake -b ... -c pyrust_qa_probe: {time.monotonic() - t0:.1f} s")
    output = proc.stdout + proc.stderr
    assert re.search(rf"pyrust-qa-probe: BitBake's python {re.escape(python_without_pyelftools)}/python3\S*, "
                     r"pyelftools importable: False", output), output[-3000:]
    issues = sorted((line for line in output.splitlines() if "QA Issue:" in line), key=lambda line: line.endswith("[pyrust-elf]"))
    assert proc.returncode != 0, output[-3000:]
    assert len(issues) == 2, output[-3000:]
    issue, elf = issues
    assert issue.startswith("ERROR:"), issue
    assert issue.endswith("[pyrust-ext-suffix]"), issue
    assert f"${{D}}/usr/lib/python{version}/site-packages/{wrong}" in issue, issue
    assert f"expected '.cpython-{nodots}-arm-linux-gnueabihf.so'" in issue, issue
    assert elf.startswith("ERROR:") and elf.endswith("[pyrust-elf]"), elf
    assert f"site-packages/{foreign}: built for another target: e_machine " in elf and "expected EM_ARM" in elf, elf
    assert "Fatal QA errors were found" in output, output[-3000:]
    assert _snapshot(probe / "image") == before


# --------------------------------------------------------------------------- oe-selftest

def test_oe_selftest_lists_the_layers_cases(oe_testbed):
    proc = oe_testbed.run(oe_testbed.builddir("qa"), "oe-selftest", "--list-tests", with_layer=True, timeout=600)
    listed = set(re.findall(r"\bmeta_pyrust\.PyrustQemuUser\.(test_\w+)", proc.stdout + proc.stderr))
    assert listed == {"test_qemuarm", "test_qemumips64", "test_qemuppc"}, (proc.stdout + proc.stderr)[-3000:]


# --------------------------------------------------------------------------- INHERIT

@pytest.fixture(scope="module")
def inherit_builddir(oe_testbed) -> str:
    """Layer added and INHERIT += "pyrust" (conf/auto.conf), all of oe-core parsed."""
    builddir = oe_testbed.builddir("inherit")
    oe_testbed.init(builddir, with_layer=True)
    oe_testbed.write_file(builddir, "conf/auto.conf", 'INHERIT += "pyrust"\n', with_layer=True)
    return builddir


def _problems(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.startswith(("WARNING:", "ERROR:"))]


def _cold_parse(oe_testbed, builddir, label: str) -> str:
    """``bitbake -p`` with the layer after removing the recipe cache (warnings show only
    while recipes are really parsed); asserts success and returns the output."""
    oe_testbed.drop_recipe_cache(builddir, with_layer=True)
    t0 = time.monotonic()
    proc = oe_testbed.run(builddir, "bitbake", "-p", with_layer=True, timeout=3600, check=False)
    print(f"bitbake -p ({label}): {time.monotonic() - t0:.1f} s in {builddir}")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-3000:]
    return output


def test_inherit_parses_all_of_oe_core(oe_testbed, inherit_builddir):
    """A real parse of every recipe (the recipe cache is removed first)."""
    output = _cold_parse(oe_testbed, inherit_builddir, "INHERIT += pyrust")
    assert re.search(r"Parsing of \d+ \.bb files complete \(0 cached, \d+ parsed\).* 0 errors\.", output), output[-3000:]
    assert _problems(output) == []


def test_show_env_task_runs_alone(oe_testbed, inherit_builddir, class_env):
    """The user-facing ``bitbake -c pyrust_show_env python3-rpds-py``: one python task,
    nothing fetched; what it prints is what the library computes from ``bitbake -e`` of
    the same recipe, and what the tinfoil route gave for the same machine."""
    proc = oe_testbed.run(inherit_builddir, "bitbake", "-c", "pyrust_show_env", RECIPE, with_layer=True, timeout=3600)
    output = proc.stdout + proc.stderr
    assert "Tasks Summary: Attempted 1 tasks of which 0 didn't need to be rerun and all succeeded." in output, output[-3000:]
    ran = re.findall(r"NOTE: Running task \d+ of \d+ \(\S+:(do_\w+)\)", output)
    assert ran == ["do_pyrust_show_env"], ran
    assert "do_fetch" not in output
    assert re.search(r"^pyrust: environment of python3-rpds-py \(also in \S+/pyrust-env\.json\):$", output, re.M), output[-3000:]
    # this build dir stages no target python3: the console says so once for the build
    skipped = [line for line in output.splitlines() if "pyrust: the import check after do_install is skipped in this build" in line]
    assert len(skipped) == 1 and skipped[0].startswith("WARNING:") and 'PYRUST_STAGE_TARGET_PYTHON = "1"' in skipped[0], skipped

    env = parse_bitbake_env(oe_testbed.run(inherit_builddir, "bitbake", "-e", RECIPE, with_layer=True, timeout=3600).stdout)
    shown = json.loads(Path(env["T"], "pyrust-env.json").read_text())
    expected = library_environment(env)  # type: ignore[arg-type]
    assert {name: shown["environment"].get(name) for name in expected} == expected
    assert set(shown["changed"]) <= set(expected) and shown["unset"] == []
    same = _key(env["MACHINE"], env["TCLIBC"], "")
    if same in class_env["expanded"]:
        assert shown["changed"] == json.loads(class_env["expanded"][same]["show_env"])["changed"]


# --------------------------------------------------------------------------- layer as is

def test_layer_parses_without_warnings(oe_testbed):
    """A cold parse (the recipe cache is removed first: warnings show only while
    recipes are really parsed) with the layer added and nothing enabled."""
    builddir = oe_testbed.builddir("layer")
    oe_testbed.init(builddir, with_layer=True)
    output = _cold_parse(oe_testbed, builddir, "layer added")
    assert re.search(r"Parsing of \d+ \.bb files complete \(0 cached, \d+ parsed\)", output), output[-3000:]
    assert _problems(output) == []
