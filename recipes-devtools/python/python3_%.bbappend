# Opt-in: stage the target python3 interpreter into the sysroots of recipes that
# depend on python3, so pyrust.bbclass can import the modules it built under qemu-user.
# oe-core stages only libpython, the standard library and python-sysconfigdata/.
#
# Enable with PYRUST_STAGE_TARGET_PYTHON = "1" in local.conf. Unset (the default),
# this append changes nothing: the anonymous function below only edits the datastore
# when enabled, so python3's task signatures stay as oe-core makes them.
python () {
    if d.getVar("PYRUST_STAGE_TARGET_PYTHON") == "1" and d.getVar("CLASSOVERRIDE") == "class-target":
        d.appendVar("SYSROOT_DIRS", " ${bindir}")
}
