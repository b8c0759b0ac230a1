#
# SPDX-License-Identifier: MIT
#
# pyrust_image.bbclass: after the root filesystem is assembled, import every Python
# extension module in it with the image's own python3 under qemu-user (one interpreter
# run) and check each module's name and ELF header. Opt-in, in local.conf:
#
#   IMAGE_CLASSES += "pyrust_image"
#
# Findings are reported through oe.qa.handle_error as pyrust-ext-suffix, pyrust-elf and
# pyrust-import (ERROR_QA by default here too; move them to WARN_QA as usual). The
# rootfs is only read: modules are imported from a scratch copy. The image's own ABI
# (its sysconfigdata) is compared with the rules of the build's release
# (LAYERSERIES_CORENAMES), as pyrust.bbclass does.

inherit qemu

PYRUST_IMAGE_TIMEOUT ?= "300"
# The QA names the checks report (pyrust.check.QA_NAMES: pyrust-ext-suffix pyrust-elf pyrust-import).
PYRUST_QA ?= "${@' '.join(pyrust.check.QA_NAMES)}"

python pyrust_image_check() {
    import pathlib
    import oe.qa
    import pyrust.check
    import pyrust.datastore
    import pyrust.errors
    rootfs = pathlib.Path(d.getVar("IMAGE_ROOTFS"))
    if not any(rootfs.glob("usr/lib*/python3*/")):
        bb.note("pyrust: no Python in the image; nothing to check")
        return
    try:
        report = pyrust.check.check_rootfs(rootfs, pyrust.datastore.target(d),
                                           timeout=float(d.getVar("PYRUST_IMAGE_TIMEOUT")),
                                           elf_tools=pyrust.datastore.elf_tools(d),
                                           release=pyrust.datastore.release(d))
    except pyrust.errors.InputError as err:
        bb.fatal("pyrust: %s" % err)
    for line in report.warnings + report.notes:
        bb.note("pyrust: %s" % line)
    bb.note("pyrust: %d extension module(s), %d imported with %s" % (len(report.modules), len(report.imported), report.abi.ext_suffix))
    for finding in report.findings:
        oe.qa.handle_error(finding.qa, "%s: %s" % (finding.path, finding.message), d)
    oe.qa.exit_if_errors(d)
}

python () {
    for qa in (d.getVar("PYRUST_QA") or "").split():
        if qa not in (d.getVar("ERROR_QA") or "").split() and qa not in (d.getVar("WARN_QA") or "").split():
            d.appendVar("ERROR_QA", " " + qa)
    if bb.utils.contains("MACHINE_FEATURES", "qemu-usermode", True, False, d):
        d.appendVarFlag("do_rootfs", "depends", " qemu-native:do_populate_sysroot")
}

ROOTFS_POSTPROCESS_COMMAND += "pyrust_image_check"
