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
