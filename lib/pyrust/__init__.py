"""meta-pyrust's helper library: a Yocto target's Python ABI for Rust extension modules.

Importable from BitBake (``addpylib ${LAYERDIR}/lib pyrust`` in conf/layer.conf) and as
a pip-installed package with the ``pyrust`` command. Modules listed in BBIMPORTS use
the standard library only, so BitBake can import them and track their functions in
task signatures (see oe-core's meta/lib/oe/__init__.py).
"""

# Exactly the modules the classes import (classes/*.bbclass; tests/unit/test_bbimports.py):
# BitBake hashes the source of the pyrust.<module>.<function> a task calls.
BBIMPORTS = [
    "cargolock",
    "check",
    "datastore",
    "errors",
    "export",
    "ptest",
    "resolve",
]

__version__ = "0.1.0"
