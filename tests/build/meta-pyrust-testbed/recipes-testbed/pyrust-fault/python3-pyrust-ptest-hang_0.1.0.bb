# A PyO3 module one of whose own tests never returns: do_pyrust_ptest must kill the whole
# run at PYRUST_PTEST_TIMEOUT (short here) and name the test, leaving nothing running.
PYRUST_FAULT = ""
require python3-pyrust-fault.inc
SUMMARY = "meta-pyrust test bed: a PyO3 module with a test that never returns"
inherit ptest-python-pytest
PTEST_PYTEST_DIR = "tests-hang"
PYRUST_PTEST_TIMEOUT = "40"
