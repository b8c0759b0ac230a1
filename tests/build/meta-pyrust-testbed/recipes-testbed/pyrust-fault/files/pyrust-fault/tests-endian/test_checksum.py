"""python3-pyrust-ptest-endian's ptest: passes on little-endian targets, fails on big-endian
ones (pyrust_fault.checksum reads words in the machine's byte order)."""

import pyrust_fault


def test_checksum_of_nothing():
    assert pyrust_fault.checksum(b"") == 0


def test_checksum_reads_little_endian_words():
    assert pyrust_fault.checksum(b"\x01\x00\x00\x00\x02\x00\x00\x00") == 3
