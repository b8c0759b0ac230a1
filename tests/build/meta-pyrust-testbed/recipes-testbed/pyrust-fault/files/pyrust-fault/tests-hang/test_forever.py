"""python3-pyrust-ptest-hang's ptest: the second test never returns; do_pyrust_ptest's time
limit must kill the whole run and name it."""

import pyrust_fault


def test_checksum_of_nothing():
    assert pyrust_fault.checksum(b"") == 0


def test_never_returns():
    pyrust_fault.forever()
