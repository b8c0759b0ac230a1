"""Reading a BitBake datastore: the one place the classes turn ``d`` into library input.

Plain functions over ``d`` (like oe-core's meta/lib/oe/*.py); standard library only.
"""

from __future__ import annotations

from pyrust.elfinfo import ElfTools, oe_qa_header
from pyrust.machines import release_from_corenames
from pyrust.target import BITBAKE_VARIABLES, Target, target_from_vars


def variables(d) -> dict[str, str]:
    """The variables :func:`pyrust.target.target_from_vars` reads, as ``d`` expands them.

    QEMU_OPTIONS is read as qemu.bbclass defines it (empty when the class is absent).
    """
    values = {name: d.getVar(name) for name in BITBAKE_VARIABLES}
    values["QEMU_OPTIONS"] = d.getVar("QEMU_OPTIONS") or ""
    return {name: value for name, value in values.items() if value is not None}


def target(d) -> Target:
    """The :class:`pyrust.target.Target` of the recipe or image whose datastore ``d`` is.

    Raises:
        InputError: the datastore's variables are contradictory or unsupported.
    """
    return target_from_vars(variables(d))


def elf_tools(d) -> ElfTools:
    """How the QA checks read ELF files inside BitBake, with no pyelftools: headers with
    oe-core's oe.qa.ELFFile (as insane.bbclass), dynamic symbols with GNU readelf
    (PYRUST_READELF, default "readelf" from HOSTTOOLS) on the task's PATH."""
    return ElfTools(oe_qa_header, d.getVar("PYRUST_READELF") or "readelf", {"PATH": d.getVar("PATH") or ""})


def release(d) -> str:
    """The openembedded-core release of the configuration: "master", "wrynose" or
    "scarthgap", from LAYERSERIES_CORENAMES (set by oe-core's conf/layer.conf).

    Raises:
        InputError: a release the library has no table for.
    """
    return release_from_corenames(d.getVar("LAYERSERIES_CORENAMES"))
