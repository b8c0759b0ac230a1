#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Tinfoil worker for tests/bitbake: runs as the test bed's build user, inside a build
dir, with BitBake's own python3 (``oe-testbed run <builddir> -- python3 <this file>``).

Reads a JSON job on stdin, prints one JSON answer on stdout (BitBake's chatter goes to
stderr). Job::

    {"recipe": "python3-rpds-py",
     "set": {"PYRUST_RPDS_PY": "1"},          # set in the configuration before parsing
     "variables": ["TARGET_ARCH", ...],       # getVar() of the parsed recipe
     "expand": {"show_env": "${@pyrust_show_env_json(d)}"},   # d.expand() of the recipe
     "variants": [{"key": "qemuarm/glibc", "MACHINE": "qemuarm", "TCLIBC": "glibc",
                   "DEFAULTTUNE": ""}, ...]}

Answer: ``{"values": {key: {var: value-or-null}}, "expanded": {key: {name: text}},
"failed": {key: message}, "timings": {key: seconds}, "appends": [the recipe's .bbappends]}``.

Method (measured in tests/tools/gen-oe-facts to equal a real ``bitbake -e``): one tinfoil
``prepare(config_only=True)`` per MACHINE/TCLIBC, then ``parse_recipe_file()`` with a
copy of the configuration datastore holding DEFAULTTUNE and the "set" values. The
recipe datastore lives in BitBake's server, so ``d.expand("${@...}")`` runs the
expression there, with the functions the recipe's classes define.
"""

import glob
import json
import logging
import os
import shutil
import sys
import time


def _find_recipe(config_data, recipe):
    for layer in (config_data.getVar("BBLAYERS") or "").split():
        hits = sorted(glob.glob(os.path.join(layer, "recipes-*", "*", f"{recipe}_*.bb")))
        if hits:
            return hits[-1]
    raise RuntimeError(f"{recipe}_*.bb not found in BBLAYERS")


def _appends(config_data, fn):
    """The .bbappend files BitBake applies to ``fn``: CookerCollectFiles.get_file_appends()
    over the BBFILES globs. A config-only tinfoil has not collected them (its cooker
    fills that list during a full parse), so they are passed explicitly."""
    found = []
    for pattern in (config_data.getVar("BBFILES") or "").split():
        if pattern.endswith(".bbappend"):
            found += sorted(glob.glob(pattern))
    name = os.path.basename(fn)
    appends = []
    for path in dict.fromkeys(found):
        base = os.path.basename(path).replace(".bbappend", ".bb")
        if base == name or ("%" in base and base.startswith(name[:base.index("%")])):
            appends.append(path)
    return appends


class _ErrorLog(logging.Handler):
    """BitBake ERROR records (a failed parse often raises a bare BBHandledException)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append(record.getMessage().strip().splitlines()[-1])
        except Exception:  # never break BitBake's logging
            pass


def main():
    job = json.load(sys.stdin)
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    bitbake = shutil.which("bitbake")
    if bitbake:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(bitbake))), "lib"))
    import bb.tinfoil  # noqa: PLC0415 (importable only in the test bed)

    bblogger = logging.getLogger("BitBake")
    base_handlers = bblogger.handlers[:]
    errors = _ErrorLog()
    result = {"values": {}, "expanded": {}, "failed": {}, "timings": {}, "appends": []}

    groups = {}
    for variant in job["variants"]:
        groups.setdefault((variant["MACHINE"], variant["TCLIBC"]), []).append(variant)
    for (machine, libc), variants in groups.items():
        os.environ["MACHINE"] = machine
        os.environ["TCLIBC"] = libc
        t0 = time.monotonic()
        bblogger.handlers = [*base_handlers, errors]
        errors.messages.clear()
        try:
            with bb.tinfoil.Tinfoil(output=sys.stderr) as tinfoil:
                tinfoil.prepare(config_only=True, quiet=2)
                fn = _find_recipe(tinfoil.config_data, job["recipe"])
                appends = _appends(tinfoil.config_data, fn)
                result["appends"] = appends
                result["timings"][f"prepare:{machine}/{libc}"] = round(time.monotonic() - t0, 2)
                for variant in variants:
                    t1 = time.monotonic()
                    key = variant["key"]
                    errors.messages.clear()
                    try:
                        cfg = tinfoil.config_data.createCopy()
                        if variant.get("DEFAULTTUNE"):
                            cfg.setVar("DEFAULTTUNE", variant["DEFAULTTUNE"])
                        for name, value in job.get("set", {}).items():
                            cfg.setVar(name, value)
                        # the same file parsed again with other metadata: keep siggen quiet
                        cfg.setVar("BB_HASH_IGNORE_MISMATCH", "1")
                        d = tinfoil.parse_recipe_file(fn, appendlist=appends, config_data=cfg)
                        result["values"][key] = {var: d.getVar(var) for var in job.get("variables", [])}
                        result["expanded"][key] = {name: d.expand(text) for name, text in job.get("expand", {}).items()}
                    except Exception as exc:  # report per variant, keep going
                        msgs = [m for m in errors.messages if m] + [str(exc).strip().splitlines()[-1] if str(exc).strip() else type(exc).__name__]
                        result["failed"][key] = " / ".join(dict.fromkeys(msgs))
                    result["timings"][key] = round(time.monotonic() - t1, 2)
        except Exception as exc:
            for variant in variants:
                result["failed"].setdefault(variant["key"], f"{type(exc).__name__}: {exc} {errors.messages[-3:]}")

    json.dump(result, out, sort_keys=True)
    out.write("\n")
    out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
