# Test bed only (INHERITed by the site.conf of tests/build/build_testbed.py).
#
# python3-native is assumed provided here (a venv stands in, tests/build/README.md), so no
# recipe stages ${STAGING_LIBDIR_NATIVE}/${PYTHON_DIR}/site-packages into a native sysroot;
# nor does testbed-python3 from Debian's packages (dist-packages) into a target one, where
# oe-core's python3 stages site-packages/README.txt. oe-core's python_hatchling.bbclass runs
# hatchling_rm_emptydirs after do_prepare_recipe_sysroot: `find .../site-packages/* -empty
# -delete` in both, which fails when the glob matches nothing. Give each one empty
# directory, which the function then deletes itself, so the
# hatchling recipes (python3-pygments, python3-colorama: test dependencies that
# do_pyrust_ptest stages) run oe-core's function unchanged.
hatchling_rm_emptydirs:prepend () {
	install -d ${STAGING_LIBDIR_NATIVE}/${PYTHON_DIR}/site-packages/testbed-empty
	install -d ${STAGING_LIBDIR}/${PYTHON_DIR}/site-packages/testbed-empty
}

# The native Python must have the target's version (pypa/installer takes the install scheme,
# python3.X/site-packages, from the Python that runs it): the nativepython3 wrapper picks the
# venv by PYO3_CROSS_PYTHON_VERSION, which python_pyo3 exports, else by this, exported for
# the other target Python recipes only (the PyO3 recipes' signatures stay as they were).
python __anonymous() {
    if bb.data.inherits_class("python3-dir", d) and not bb.data.inherits_class("python_pyo3", d) \
            and not any(bb.data.inherits_class(c, d) for c in ("native", "nativesdk", "cross")):
        d.setVar("TESTBED_PYTHON_VERSION", d.getVar("PYTHON_BASEVERSION"))
        d.setVarFlag("TESTBED_PYTHON_VERSION", "export", "1")
}
