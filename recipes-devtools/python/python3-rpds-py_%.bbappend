# Opt-in: apply pyrust.bbclass to oe-core's python3-rpds-py (the package of the
# original report: rpds.cpython-312-armv7l-linux-gnueabihf.so on qemuarm).
#
# Enable with PYRUST_RPDS_PY = "1" in local.conf (or cover every PyO3 recipe at once
# with INHERIT += "pyrust"). Unset, this append changes nothing: the class is only
# inherited when enabled, so the recipe's signatures stay as oe-core makes them.
inherit_defer ${@'pyrust' if d.getVar('PYRUST_RPDS_PY') == '1' else ''}
