PYRUST_FAULT = "segv"
require python3-pyrust-fault.inc
