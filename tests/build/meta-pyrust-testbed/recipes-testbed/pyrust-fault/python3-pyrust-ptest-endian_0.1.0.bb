# A PyO3 module whose own tests (ptest-python-pytest) fail on big-endian targets only:
# do_pyrust_ptest (PYRUST_PTEST = "1") must fail naming the test there and pass elsewhere.
PYRUST_FAULT = ""
require python3-pyrust-fault.inc
SUMMARY = "meta-pyrust test bed: a PyO3 module whose tests fail on big-endian targets"
inherit ptest-python-pytest
PTEST_PYTEST_DIR = "tests-endian"
