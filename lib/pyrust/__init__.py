"""meta-pyrust's helper library: a Yocto target's Python ABI for Rust extension modules.

Importable from BitBake (``addpylib ${LAYERDIR}/lib pyrust`` in conf/layer.conf) and as
a pip-installed package with the ``pyrust`` command. Modules listed in BBIMPORTS use
the standard library only, so BitBake can import them and track their functions in
task signatures (see oe-core's meta/lib/oe/__init__.py).
"""

BBIMPORTS = [
    "errors",
    "tables",
    "bbenv",
    "machines",
    "target",
    "triplet",
    "pyabi",
    "sysconfigdata",
    "release",
    "resolve",
    "cargolock",
    "export",
    "datastore",
]

__version__ = "0.1.0"
