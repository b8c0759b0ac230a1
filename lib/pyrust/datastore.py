"""Reading a BitBake datastore: the one place the classes turn ``d`` into library input.

Plain functions over ``d`` (like oe-core's meta/lib/oe/*.py); standard library only.
"""

from __future__ import annotations

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
