"""The test bed's own code, not shipped: the wheel and BitBake's ``addpylib`` see only lib/pyrust.

Provisioning of test sysroots, interpreters and tools (:mod:`.provision`, :mod:`.private_apt`),
CPython cross builds (:mod:`.build_target_cpython`), the maintainer's data generators and
benchmarks. The tools in tests/tools/ run these modules (see README.md).
"""
