PYRUST_FAULT = "hang"
require python3-pyrust-fault.inc
