"""The one error type the library raises for bad input.

Every function that reads user-supplied data (BitBake variables, a Python version, a
sysroot, a file path) raises :class:`InputError` when the data cannot be used. Its
message is one line that names the input, the value seen and what was expected, so
the command line can print it as it is and BitBake can report it without a traceback.
"""

from __future__ import annotations


class InputError(ValueError):
    """Bad input: names the variable, its value and what was expected.

    Args:
        variable: the input's name as the user knows it, e.g. ``"TARGET_ARCH"``,
            ``"--python"`` or ``"sysroot"``.
        value: the value that was given (``None`` when it was missing).
        expected: what would have been accepted, phrased to complete
            "expected ...", e.g. ``"one of arm, aarch64, mips"``.

    Example:
        >>> str(InputError("TARGET_ARCH", "sparc", "one of arm, aarch64"))
        "TARGET_ARCH='sparc': expected one of arm, aarch64"
    """

    def __init__(self, variable: str, value: object, expected: str) -> None:
        self.variable = variable
        self.value = value
        self.expected = expected
        if value is None:
            shown = f"{variable} is not set"
        else:
            shown = f"{variable}={value!r}"
        super().__init__(f"{shown}: expected {expected}")
