#
# SPDX-License-Identifier: MIT
#
# pyrust.bbclass: give PyO3 extension modules the filename suffix the target CPython
# accepts, and prove after do_install that they load on the target.
#
# Opt-in. Either add "inherit pyrust" to a recipe that inherits python_maturin or
# python_setuptools3_rust, or put INHERIT += "pyrust" in local.conf: then every target
# recipe that inherits python_pyo3 is covered and no other recipe changes.
#
# All decisions are made by the pyrust library (lib/pyrust, see conf/layer.conf); this
# class only reads the datastore, calls it, exports the results and reports findings
# through oe.qa.handle_error under the QA names pyrust-ext-suffix, pyrust-elf, pyrust-import and, in
# do_pyrust_ptest, pyrust-ptest (usable in ERROR_QA, WARN_QA and INSANE_SKIP).

# Where the truth about the target's Python lives: oe-core's python3 stages
# ${libdir}/python-sysconfigdata/_sysconfigdata.py into dependent recipe sysroots.
# Set it to "" to use the library's rules only.
PYRUST_SYSROOT ?= "${RECIPE_SYSROOT}"
# The Cargo.lock that tells how the crate binds to CPython (PyO3, pyo3-ffi alone,
# rust-cpython) and which PyO3 reads pyo3.config (ext_suffix= needs >= 0.18.1). Empty:
# the one cargo uses, the nearest Cargo.lock from the directory of CARGO_MANIFEST_PATH
# (cargo_common: ${S}/${CARGO_SRC_DIR}) up to ${S}; python3-bcrypt's is in src/_bcrypt.
PYRUST_CARGO_LOCK ?= ""
# The dynamic check: "1" imports every module under qemu-user after do_install.
# It needs the target interpreter in the recipe sysroot: set
# PYRUST_STAGE_TARGET_PYTHON = "1" in local.conf (see recipes-devtools/python/python3_%.bbappend).
PYRUST_IMPORT_CHECK ?= "1"
PYRUST_TARGET_PYTHON ?= "${bindir}/python3"
# Seconds the whole import run may take before its process group is killed.
PYRUST_IMPORT_TIMEOUT ?= "120"
# The QA names the checks report (pyrust.check.QA_NAMES: pyrust-ext-suffix pyrust-elf pyrust-import;
# pyrust.ptest.QA_PTEST: pyrust-ptest).
PYRUST_QA ?= "${@' '.join(pyrust.check.QA_NAMES + (pyrust.ptest.QA_PTEST,))}"
# GNU readelf for the modules' dynamic symbols (the QA check needs no pyelftools: ELF
# headers come from oe.qa.ELFFile, as in insane.bbclass). HOSTTOOLS has readelf, and
# it reads the ELF files of every architecture (a host objdump does not).
PYRUST_READELF ?= "readelf"
# "1": fix (export the target's suffix, amend oe-core's pyo3.config) and check.
# "0": check only: export and amend nothing, so the build names its modules as oe-core and
# the build tool would without this layer, and the QA check after do_install says whether
# that is right for the target. Use it to audit a build without the layer's fix.
PYRUST_FIX ?= "1"
# Beyond "it imports": "1" runs the recipe's own test suite (what its run-ptest runs, from
# ${D}${PTEST_PATH}: pytest for oe-core's ptest-python-pytest recipes) with the target
# python3 under qemu-user after do_install, in do_pyrust_ptest (before do_package). Needs
# "ptest" in DISTRO_FEATURES (ptest.bbclass installs the tests) and the target interpreter
# (PYRUST_STAGE_TARGET_PYTHON = "1"); only then are the recipes of the runtime closure
# (RDEPENDS:${PN}-ptest: python3-pytest, ...) built for the target and staged for the task.
# Failing tests are pyrust-ptest findings; results go to ${T}/pyrust-ptest.json
# (testresults.json shape, read by resulttool) and the whole output to ${T}/pyrust-ptest.log.
PYRUST_PTEST ?= "0"
# Seconds the whole suite may take before its process group is killed.
PYRUST_PTEST_TIMEOUT ?= "900"

def pyrust_target(d):
    import pyrust.datastore
    return pyrust.datastore.target(d)

def pyrust_resolution(d):
    import pyrust.datastore
    import pyrust.errors
    import pyrust.resolve
    try:
        target = pyrust_target(d)
        # the release (LAYERSERIES_CORENAMES) decides the rules only where the sysroot
        # has no sysconfigdata: e.g. scarthgap's python3 presets no PLATFORM_TRIPLET
        return target, pyrust.resolve.resolve_abi(target, d.getVar("PYTHON_BASEVERSION"), None, d.getVar("PYRUST_SYSROOT") or None,
                                                  release=pyrust.datastore.release(d))
    except pyrust.errors.InputError as err:
        bb.fatal("pyrust: %s" % err)

python pyrust_export_environment() {
    import os
    import time
    import pyrust.export
    started = time.monotonic()
    target, resolution = pyrust_resolution(d)
    for warning in resolution.warnings:
        bb.warn("pyrust: %s" % warning)
    for name, value in pyrust.export.build_environment(target, resolution.abi).items():
        d.setVar(name, value)
        d.setVarFlag(name, "export", True)
    # The task's environment: exported datastore variables plus what bitbake-worker kept.
    env = {name: d.getVar(name) for name in pyrust.export.SCCACHE_SERVER_ONLY_VARIABLES if d.getVar(name)}
    env.update({name: os.environ[name] for name in pyrust.export.SCCACHE_SERVER_ONLY_VARIABLES if name in os.environ})
    for name in pyrust.export.wrapper_unexports(env):
        bb.note("pyrust: unsetting %s for the build (an sccache server-only switch: every wrapped rustc call would fail)" % name)
        d.delVar(name)
        os.environ.pop(name, None)
    strategy, _ = pyrust_pyo3_strategy(d)
    if strategy == "sysconfigdata":
        # PyO3 < 0.18.1 rejects ext_suffix=; let maturin read the target's
        # _sysconfigdata*.py below PYO3_CROSS_LIB_DIR instead of the config file.
        d.delVar("PYO3_CONFIG_FILE")
    # the class's own cost per task (tests/build/class-cost reads it from the task logs)
    bb.debug(1, "pyrust: pyrust_export_environment took %.3f s" % (time.monotonic() - started))
}
pyrust_export_environment[vardepsexclude] += "PYRUST_SYSROOT"

def pyrust_binding(d):
    """(Cargo.lock path or None, pyrust.cargolock.Binding or None) of the recipe's crate."""
    import os
    import pyrust.cargolock
    import pyrust.errors
    lock = d.getVar("PYRUST_CARGO_LOCK")
    try:
        if not lock:
            manifest = d.getVar("CARGO_MANIFEST_PATH") or d.expand("${S}/Cargo.toml")
            if bb.data.inherits_class("python_maturin", d):
                # maturin picks its crate itself (pyproject.toml, then rust/ or .), not
                # from CARGO_SRC_DIR: meta-python's python3-pendulum builds ${S}/rust
                manifest = str(pyrust.cargolock.maturin_manifest_path(d.getVar("PEP517_SOURCE_PATH") or d.getVar("S")) or manifest)
            lock = pyrust.cargolock.find_cargo_lock(os.path.dirname(manifest), d.getVar("S"))
        if not lock or not os.path.exists(lock):
            return None, None
        return str(lock), pyrust.cargolock.python_binding(lock)
    except pyrust.errors.InputError as err:
        bb.fatal("pyrust: %s" % err)

def pyrust_pyo3_strategy(d):
    import pyrust.export
    _, binding = pyrust_binding(d)
    version = binding.config_reader if binding else None
    return pyrust.export.pyo3_strategy(version), version

python pyrust_amend_pyo3_config() {
    import os
    import time
    import pyrust.export
    started = time.monotonic()
    strategy, version = pyrust_pyo3_strategy(d)
    config = d.getVar("PYO3_CONFIG_FILE")
    target, resolution = pyrust_resolution(d)
    lines = pyrust.export.pyo3_config_lines(resolution.abi, version)
    if lines is None:
        bb.note("pyrust: PyO3 %s predates ext_suffix= support; using maturin's sysconfigdata route" % ".".join(map(str, version)))
        return
    if not config or not os.path.exists(config):
        bb.fatal("pyrust: PYO3_CONFIG_FILE=%r does not exist after do_configure; expected oe-core's python_pyo3 to write it" % config)
    with open(config) as f:
        text = f.read()
    with open(config, "w") as f:
        f.write(pyrust.export.amend_pyo3_config(text, lines))
    bb.note("pyrust: %s: %s" % (config, ", ".join(lines)))
    bb.debug(1, "pyrust: pyrust_amend_pyo3_config took %.3f s" % (time.monotonic() - started))
}

def pyrust_show_env_json(d):
    """What pyrust_export_environment does to the environment of do_configure,
    do_compile and do_install, as JSON. It runs that very function on a copy of the
    datastore: "changed" and "unset" compare the exported variables before and after,
    "environment" lists the exported Python/Rust cross-build variables after it."""
    import json
    import os
    localdata = bb.data.createCopy(d)
    sysroot = localdata.getVar("PYRUST_SYSROOT")
    notes = []
    if sysroot and not os.path.isdir(sysroot):
        notes.append("%s does not exist yet (do_prepare_recipe_sysroot has not run): these are the rules' "
                     "values; a build reads the target's _sysconfigdata*.py there when python3 is staged" % sysroot)
        localdata.setVar("PYRUST_SYSROOT", "")
    before = dict(bb.data.exported_vars(localdata))
    bb.build.exec_func("pyrust_export_environment", localdata)
    after = dict(bb.data.exported_vars(localdata))
    prefixes = ("PYRUST_", "PYO3_", "SETUPTOOLS_", "_PYTHON_", "CARGO_", "RUST")
    return json.dumps({
        "recipe": d.getVar("PN"),
        "changed": {name: value for name, value in after.items() if before.get(name) != value},
        "unset": sorted(name for name in before if name not in after),
        "environment": {name: value for name, value in after.items() if name.startswith(prefixes)},
        "sysroot": localdata.getVar("PYRUST_SYSROOT") or None,
        "notes": notes,
    }, indent=1, sort_keys=True)

# A debugging aid: `bitbake -c pyrust_show_env <recipe>` prints what the class exports
# before do_configure, do_compile and do_install (and writes ${T}/pyrust-env.json).
# Python only, no dependencies: nothing is fetched or built for it.
python do_pyrust_show_env() {
    text = pyrust_show_env_json(d)
    path = d.expand("${T}/pyrust-env.json")
    bb.utils.mkdirhier(os.path.dirname(path))
    with open(path, "w") as f:
        f.write(text + "\n")
    bb.plain("pyrust: environment of %s (also in %s):\n%s" % (d.getVar("PN"), path, text))
}
do_pyrust_show_env[nostamp] = "1"
do_pyrust_show_env[vardepsexclude] += "PYRUST_SYSROOT"

def pyrust_insane_skip(d):
    """The QA names skipped for this recipe: as insane.bbclass combines them for package QA,
    the recipe-wide INSANE_SKIP and INSANE_SKIP:${PN}."""
    return set((d.getVar("INSANE_SKIP") or "").split() + (d.getVar("INSANE_SKIP:" + d.getVar("PN")) or "").split())

python pyrust_qa_check() {
    import os
    import pathlib
    import time
    import oe.qa
    import pyrust.check
    import pyrust.datastore
    started = time.monotonic()
    d_dir = d.getVar("D")
    target, resolution = pyrust_resolution(d)
    tools = pyrust.datastore.elf_tools(d)
    modules, findings = pyrust.check.static_check(pathlib.Path(d_dir), target, resolution.abi, shown_root="${D}", elf_tools=tools)
    if d.getVar("PYRUST_IMPORT_CHECK") == "1" and modules:
        sysroot = d.getVar("PYRUST_SYSROOT")
        python = d.getVar("PYRUST_TARGET_PYTHON")
        if not sysroot:
            bb.note("pyrust: dynamic import check skipped: PYRUST_SYSROOT is empty (no target root to run %s from)" % python)
        elif not os.path.exists(sysroot + python):
            bb.note("pyrust: dynamic import check skipped: no target interpreter %s in %s "
                    "(set PYRUST_STAGE_TARGET_PYTHON = \"1\" in local.conf)" % (python, sysroot))
        else:
            site = d.getVar("PYTHON_SITEPACKAGES_DIR")
            outcome = pyrust.check.import_check(modules, target, pathlib.Path(sysroot), python,
                                                timeout=float(d.getVar("PYRUST_IMPORT_TIMEOUT")),
                                                extra_paths=[sysroot + site] if site else [], elf_tools=tools)
            findings += outcome.findings
            for note in outcome.notes:
                bb.note("pyrust: %s" % note)
            if outcome.imported:
                bb.note("pyrust: imported under %s with %s: %s" % (target.qemu_binary, python, " ".join(outcome.imported)))
            if outcome.needs:
                bb.note("pyrust: loaded under %s with %s up to a runtime dependency: %s" % (
                    target.qemu_binary, python, " ".join("%s (imports %s)" % need for need in outcome.needs)))
    skip = pyrust_insane_skip(d)
    for finding in findings:
        if finding.qa in skip:
            continue
        oe.qa.handle_error(finding.qa, "%s: %s" % (finding.path, finding.message), d)
    lock, binding = pyrust_binding(d)
    bb.note("pyrust: binding %s (%s)" % ("%s %s" % (binding.crate, ".".join(map(str, binding.version))) if binding else "none", lock or "no Cargo.lock"))
    bb.note("pyrust: QA check of %d module(s): %d finding(s) in %.3f s" % (len(modules), len(findings), time.monotonic() - started))
    oe.qa.exit_if_errors(d)
}
pyrust_qa_check[vardepsexclude] += "PYRUST_SYSROOT"

python do_pyrust_ptest() {
    import json
    import os
    import pathlib
    import time
    import oe.qa
    import pyrust.datastore
    import pyrust.ptest
    pn = d.getVar("PN")
    ptest_dir = d.expand("${D}${PTEST_PATH}")
    script = os.path.join(ptest_dir, "run-ptest")
    if not os.path.isfile(script):
        bb.note("pyrust: no %s: nothing to run (the recipe ships no ptest)" % script)
        return
    with open(script) as f:
        args = pyrust.ptest.pytest_args_of_run_ptest(f.read())
    if args is None:
        bb.note("pyrust: %s runs more than pytest; only pytest suites run at build time" % script)
        return
    sysroot = d.getVar("PYRUST_SYSROOT")
    python = d.getVar("PYRUST_TARGET_PYTHON")
    skip = pyrust_insane_skip(d)
    if not sysroot or not os.path.exists(sysroot + python):
        if pyrust.ptest.QA_PTEST not in skip:
            oe.qa.handle_error(pyrust.ptest.QA_PTEST, "%s: tests not run: no target interpreter %s in %r "
                               "(set PYRUST_STAGE_TARGET_PYTHON = \"1\" in local.conf)" % (pn, python, sysroot), d)
        oe.qa.exit_if_errors(d)
        return
    target, _ = pyrust_resolution(d)
    site = d.getVar("PYTHON_SITEPACKAGES_DIR")
    modules = [pathlib.Path(d.getVar("D") + site)] if os.path.isdir(d.getVar("D") + site) else []
    timeout = float(d.getVar("PYRUST_PTEST_TIMEOUT"))
    run = pyrust.ptest.run_pytest(target, pathlib.Path(sysroot), python, pathlib.Path(ptest_dir), args=args,
                                  module_dirs=modules, extra_paths=[sysroot + site], timeout=timeout,
                                  elf_tools=pyrust.datastore.elf_tools(d))
    log = d.expand("${T}/pyrust-ptest.log")
    with open(log, "w") as f:
        f.write(run.output)
    results = d.expand("${T}/pyrust-ptest.json")
    configuration = {name: d.getVar(name) or "" for name in ("MACHINE", "DISTRO", "TCLIBC", "TUNE_PKGARCH", "PN", "PV")}
    configuration["PYRUST_QEMU"] = target.qemu_binary or ""
    result_id = "pyrust-ptest_%s_%s_%s" % (pn, d.getVar("MACHINE"), d.getVar("DATETIME"))
    with open(results, "w") as f:
        json.dump(pyrust.ptest.testresults(pn, run, configuration, result_id), f, indent=1, sort_keys=True)
    bb.note("pyrust: %s under %s with %s: %s (results: %s, output: %s)" % (
        pn, target.qemu_binary, python, pyrust.ptest.summary(run), results, log))
    if pyrust.ptest.QA_PTEST not in skip:
        for problem in pyrust.ptest.problems(run, timeout):
            oe.qa.handle_error(pyrust.ptest.QA_PTEST, "%s: %s" % (pn, problem), d)
    oe.qa.exit_if_errors(d)
}
do_pyrust_ptest[vardepsexclude] += "PYRUST_SYSROOT DATETIME"
# the test dependencies (python3-pytest, ...) for the target, in this task's recipe sysroot
do_pyrust_ptest[prefuncs] += "pyrust_ptest_extend_sysroot"

# oe-core's extend_recipe_sysroot on the task's dependencies minus the recipe's own
# do_populate_sysroot (${PN}-ptest RDEPENDS on ${PN}, so the closure holds the recipe itself):
# staged into its own sysroot, the recipe's files are hard links of ${D}'s, and the next
# do_install under pseudo aborts with "path mismatch" on them. The modules under test come
# from ${D} anyway.
pyrust_ptest_extend_sysroot[vardepsexclude] += "BB_TASKDEPDATA"
python pyrust_ptest_extend_sysroot() {
    import copy
    taskdepdata = copy.deepcopy(d.getVar("BB_TASKDEPDATA", False))
    own = {tid for tid, data in taskdepdata.items() if data[0] == d.getVar("PN") and data[1] == "do_populate_sysroot"}
    for tid in own:
        del taskdepdata[tid]
    for tid, data in taskdepdata.items():
        # BitBake 2.10+ (wrynose, master) gives a TaskData namedtuple, scarthgap's 2.8 a list
        deps = set(data[3]) - own
        taskdepdata[tid] = data._replace(deps=deps) if hasattr(data, "_replace") else [*data[:3], deps, *data[4:]]
    localdata = bb.data.createCopy(d)
    localdata.setVar("BB_TASKDEPDATA", taskdepdata)
    bb.build.exec_func("extend_recipe_sysroot", localdata)
}

# The runtime closure for do_pyrust_ptest. [recrdeptask] adds the named task of the direct
# DEPENDS and RDEPENDS, then recurses only along task edges; runtime edges between other
# recipes exist only from packaging (do_package_qa[rdeptask]), which a build may not have run.
# With PYRUST_PTEST = "1" every target recipe gets this no-op task, whose [rdeptask] edges
# follow RDEPENDS (python3-pytest -> python3-pluggy -> ...): do_pyrust_ptest depends on it,
# so each recipe of the closure lands in its recrdeptask's reach (bitbake/lib/bb/runqueue.py,
# "Resolve recursive 'recrdeptask' dependencies"). Without PYRUST_PTEST no task is added.
do_pyrust_runtime_closure() {
    :
}
do_pyrust_runtime_closure[noexec] = "1"
do_pyrust_runtime_closure[rdeptask] = "do_pyrust_runtime_closure"

# Once per build, on the console where users look (not only in each task log): the
# import check needs the target interpreter in the recipe sysroots, which oe-core's
# python3 does not stage unless PYRUST_STAGE_TARGET_PYTHON = "1" (python3_%.bbappend).
# An event handler: no task's signature depends on it.
addhandler pyrust_build_started
pyrust_build_started[eventmask] = "bb.event.BuildStarted"
python pyrust_build_started() {
    if e.data.getVar("PYRUST_IMPORT_CHECK") == "1" and e.data.getVar("PYRUST_STAGE_TARGET_PYTHON") != "1":
        bb.warn("pyrust: the import check after do_install is skipped in this build: no target python3 in the "
                "recipe sysroots. Set PYRUST_STAGE_TARGET_PYTHON = \"1\" in local.conf to run it, or "
                "PYRUST_IMPORT_CHECK = \"0\" to silence this (the suffix and ELF checks run either way).")
    if e.data.getVar("PYRUST_PTEST") == "1" and not bb.utils.contains("DISTRO_FEATURES", "ptest", True, False, e.data):
        bb.warn("pyrust: PYRUST_PTEST = \"1\" runs no test in this build: \"ptest\" is not in DISTRO_FEATURES, so no "
                "recipe installs its tests (add it: DISTRO_FEATURES:append = \" ptest\")")
}

python __anonymous() {
    if d.getVar("PYRUST_PTEST") == "1" and not any(bb.data.inherits_class(c, d) for c in ("native", "nativesdk", "cross")):
        bb.build.addtask("do_pyrust_runtime_closure", None, None, d)
    # Only target recipes that build with PyO3; everything else stays untouched.
    if not pyrust_covered(d):
        return
    if d.getVar("PYRUST_FIX") != "0":
        for task in ("do_configure", "do_compile", "do_install"):
            d.appendVarFlag(task, "prefuncs", " pyrust_export_environment")
        d.appendVarFlag("do_configure", "postfuncs", " pyrust_amend_pyo3_config")
    d.appendVarFlag("do_install", "postfuncs", " pyrust_qa_check")
    bb.build.addtask("do_pyrust_show_env", None, None, d)
    if d.getVar("PYRUST_PTEST") == "1" and d.getVar("PTEST_ENABLED") == "1":
        # after ptest.bbclass's do_install_ptest_base; the runtime closure (the recipe's own
        # RDEPENDS and RDEPENDS:${PN}-ptest, recursively) staged through do_populate_sysroot
        bb.build.addtask("do_pyrust_ptest", "do_package", "do_install_ptest_base do_install do_pyrust_runtime_closure", d)
        d.setVarFlag("do_pyrust_ptest", "recrdeptask", "do_populate_sysroot")
    for qa in (d.getVar("PYRUST_QA") or "").split():
        if qa not in (d.getVar("ERROR_QA") or "").split() and qa not in (d.getVar("WARN_QA") or "").split():
            d.appendVar("ERROR_QA", " " + qa)
    if d.getVar("PYRUST_IMPORT_CHECK") == "1" and bb.utils.contains("MACHINE_FEATURES", "qemu-usermode", True, False, d):
        d.appendVar("DEPENDS", " qemu-native")
}

# qemu.bbclass (QEMU_OPTIONS for the import check) lives in classes-recipe/: a class
# taken in through INHERIT is parsed with the configuration, where only classes-global/
# and classes/ are searched, so a plain "inherit qemu" would fail there. A deferred
# inherit is resolved while each recipe is finalised, in the recipe context, after the
# recipe's own inherits: only the covered recipes take qemu in. (Every recipe did before;
# scarthgap's insane.bbclass then warns "native/nativesdk class is not inherited last"
# [native-last] for each native recipe, and no other recipe needs the class.)
def pyrust_covered(d):
    """True for the recipes the class acts on: target recipes that inherit python_pyo3."""
    return bb.data.inherits_class("python_pyo3", d) and not any(
        bb.data.inherits_class(c, d) for c in ("native", "nativesdk", "cross"))

inherit_defer ${@'qemu' if pyrust_covered(d) else ''}
