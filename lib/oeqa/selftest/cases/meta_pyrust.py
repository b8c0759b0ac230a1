#
# SPDX-License-Identifier: MIT
#
# oe-selftest cases for meta-pyrust: build the example PyO3 recipe and python3-rpds-py
# for qemuarm, qemumips64 and qemuppc with pyrust.bbclass enabled, then check every
# installed extension module's name and ELF header and import it under qemu-user.
#
#   oe-selftest -r meta_pyrust
#   oe-selftest -r meta_pyrust.PyrustQemuUser.test_qemuarm
#
# The module is named after the layer, not "pyrust": oe-selftest imports case modules by
# their file name as top-level modules, and a case module called pyrust would shadow the
# pyrust library it checks ("No module named 'pyrust.check'; 'pyrust' is not a package").
#
# Needs a machine that can build (network for the fetches, a few hours of CPU): the
# modules' do_install already runs pyrust's QA check; these tests also re-check ${D}
# from outside the build with the same library, so a QA check that silently skipped
# cannot pass them. Each case also reads its own recipes' do_install logs (${T}/log.do_install):
# the class's QA check must say it imported exactly those modules under the machine's
# qemu-user binary.
#
# The cases build up to do_install, not do_build: the class's fix and its QA check are
# complete when do_install ends, while do_build adds packaging and the recipes' runtime
# dependency closure (ptest packages, the whole target python3), which prove nothing more
# about the modules' names and cost hours on a build machine. It also keeps the cases
# runnable in meta-pyrust's build test bed (tests/build/README.md), where a site.conf
# stands in for the toolchain: the cases themselves are the same in both places.

import os
import pathlib
import re

from oeqa.selftest.case import OESelftestTestCase
from oeqa.utils.commands import bitbake, get_bb_vars

RECIPES = ("python3-pyrust-example", "python3-rpds-py")


class PyrustQemuUser(OESelftestTestCase):
    """The recipes build, and their modules carry the right suffix and import on the target."""

    def _check_machine(self, machine, qemu_binary):
        self.write_config(f'MACHINE = "{machine}"\nINHERIT += "pyrust"\nPYRUST_STAGE_TARGET_PYTHON = "1"\n')
        bitbake("-c install " + " ".join(RECIPES))
        import pyrust.check
        import pyrust.elfinfo
        import pyrust.resolve
        import pyrust.target

        # ELF headers through oe-core's oe.qa.ELFFile and symbols through readelf, as the
        # class reads them inside BitBake: no pyelftools needed in BitBake's Python
        elf_tools = pyrust.elfinfo.ElfTools(pyrust.elfinfo.oe_qa_header)

        for recipe in RECIPES:
            # each name once: get_bb_vars removes a found name from its list once and sets
            # whatever is left to None at the end (a second QEMU_OPTIONS lost -cpu 7400)
            names = dict.fromkeys([*pyrust.target.BITBAKE_VARIABLES, "D", "RECIPE_SYSROOT", "STAGING_BINDIR_NATIVE",
                                   "QEMU_OPTIONS", "PYTHON_SITEPACKAGES_DIR", "bindir", "T"])
            values = get_bb_vars(names, recipe)
            target = pyrust.target.target_from_vars({k: v for k, v in values.items()
                                                     if k in pyrust.target.BITBAKE_VARIABLES and v is not None})
            resolution = pyrust.resolve.resolve_abi(target, values["PYTHON_BASEVERSION"], None, values["RECIPE_SYSROOT"])
            self.assertEqual(resolution.abi.source, "sysroot", resolution.warnings)
            modules, findings = pyrust.check.static_check(pathlib.Path(values["D"]), target, resolution.abi, elf_tools=elf_tools)
            self.assertTrue(modules, f"{recipe} installed no extension module in ${{D}}")
            self.assertEqual([str(f) for f in findings], [])
            os.environ["PATH"] = values["STAGING_BINDIR_NATIVE"] + os.pathsep + os.environ["PATH"]
            python = values["bindir"] + "/python3"
            outcome = pyrust.check.import_check(modules, target, values["RECIPE_SYSROOT"], python,
                                                extra_paths=[values["RECIPE_SYSROOT"] + values["PYTHON_SITEPACKAGES_DIR"]],
                                                elf_tools=elf_tools)
            self.assertEqual([str(f) for f in outcome.findings], [])
            self.assertEqual(sorted(outcome.imported), sorted(m.name for m in modules), outcome.notes)
            # what this build's own QA check said in its do_install log (the class's bb.note)
            log = (pathlib.Path(values["T"]) / "log.do_install").read_text(errors="replace")
            imported = re.search(r"pyrust: imported under (qemu-\S+) with \S+: (.*)", log)
            self.assertTrue(imported, f"{recipe}: no 'pyrust: imported under' line in its do_install log:\n{log[-3000:]}")
            self.assertEqual((imported.group(1), sorted(imported.group(2).split())),
                             (qemu_binary, sorted(m.name for m in modules)), imported.group(0))
            self.assertIn(f"pyrust: QA check of {len(modules)} module(s): 0 finding(s)", log)

    # qemu-user binaries: qemu_target_binary() in oe-core's meta/lib/oe/qemu.py
    def test_qemuarm(self):
        self._check_machine("qemuarm", "qemu-arm")

    def test_qemumips64(self):
        self._check_machine("qemumips64", "qemu-mips64")

    def test_qemuppc(self):
        self._check_machine("qemuppc", "qemu-ppc")
