#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Extract machine/tune facts from real BitBake + openembedded-core, per release.

For --release master (the default) writes lib/pyrust/data/machines.json (every oe-core
qemu machine x glibc/musl, plus a "release" block: LAYERSERIES_CORENAMES, the versions
of python3, maturin, setuptools-rust and rpds-py, and whether the target python3 recipe
passes PLATFORM_TRIPLET to configure) and tests/data/oe_tunes.json (every tune in
AVAILTUNES of those machines, glibc, plus musl for MUSL_TUNE_SUBSET; and the tunes of
EXTRA_TUNE_INCLUDES) from what BitBake gives for the python3-rpds-py recipe; for
--release scarthgap / wrynose the same into machines-<release>.json and
oe_tunes-<release>.json, from that release's own BitBake and openembedded-core. Values are verbatim getVar() results, "" when unset;
QEMU_EXTRAOPTIONS is `QEMU_EXTRAOPTIONS:tune-${TUNE_PKGARCH}` (what qemu.bbclass uses).
A tune listed by several machines is keyed under the first machine of MACHINES listing
it, except that each machine's own default tune stays with that machine. Tunes that do
not parse (or leave `${...}` unexpanded) go to "failed" with the error's last line.
Output is sorted JSON, so reruns diff cleanly.

The test bed comes from tests/tools/oe-testbed (see there for PYRUST_UPSTREAM and
PYRUST_CACHE); BitBake itself runs as the test bed's build user through
`oe-testbed run`, with this same file as the worker (`--worker`, internal), in build
dirs named <prefix>-<n> (one per --jobs).

Method ("copy", measured with --verify to equal both "fresh" and a real `bitbake -e`):
one tinfoil `prepare(config_only=True)` per MACHINE/TCLIBC, then `parse_recipe_file()`
of the recipe, for tunes with `config_data=` a copy of the configuration datastore with
DEFAULTTUNE set. "fresh" is a new config-only tinfoil per variant with DEFAULTTUNE
passed through the environment (BB_ENV_PASSTHROUGH_ADDITIONS).

Usage:
  gen-oe-facts [--release master|wrynose|scarthgap] [--machines-only | --tunes-only] [--jobs N] [--musl-tunes all|subset|none]
  gen-oe-facts --verify KEY... [--verify-methods copy,fresh,bitbake-e]
      KEY is MACHINE/LIBC or MACHINE/TUNE/LIBC; prints differences, exit 1 on any
  gen-oe-facts --extract KEY...   print the extracted variables as JSON
"""

import argparse
import concurrent.futures
import glob
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time

RECIPE = "python3-rpds-py"

MACHINES = (
    "qemuarm", "qemuarmv5", "qemuarm64", "qemux86", "qemux86-64", "qemumips",
    "qemumips64", "qemuppc", "qemuppc64", "qemuriscv32", "qemuriscv64", "qemuloongarch64",
)
LIBCS = ("glibc", "musl")

VARIABLES = (
    "MACHINE", "TCLIBC", "DEFAULTTUNE", "TARGET_ARCH", "TARGET_OS", "TARGET_SYS",
    "TARGET_VENDOR", "HOST_ARCH", "HOST_OS", "HOST_SYS", "TUNE_FEATURES", "TUNE_CCARGS",
    "TUNE_PKGARCH", "TARGET_FPU", "ABIEXTENSION", "SITEINFO_BITS", "SITEINFO_ENDIANNESS",
    "RUST_TARGET_SYS", "RUST_HOST_SYS", "PYTHON_BASEVERSION", "OLDEST_KERNEL",
    "MACHINE_FEATURES", "QEMU_EXTRAOPTIONS", "MACHINEOVERRIDES",
)

# musl tunes when --musl-tunes=subset: one or two per architecture family, chosen for
# the ABI corners (hard/soft float, big endian, x32, n32, spe, ilp32, r6)
MUSL_TUNE_SUBSET = (
    "armv4t", "armv5te", "armv5tehf-vfp", "armv6thf", "armv7at-neon", "armv7athf-neon",
    "armv7athfb-neon", "armv7vethf-neon-vfpv4", "cortexa15thf-neon",
    "aarch64", "aarch64_be", "armv8a", "cortexa57",
    "x86", "i586", "i686", "core2-32", "corei7-32", "x86-64", "x86-64-x32", "corei7-64",
    "x86-64-v3", "x86-64-v3-x32",
    "mips", "mipsel", "mips-nf", "mips32r2", "mips32r2el-nf", "mips64", "mips64el",
    "mips64-n32", "mips64el-n32", "mips64-o32", "mips64r2", "mips64r2el-n32",
    "mipsisa32r6", "mipsisa32r6el", "mipsisa64r6el", "mipsisa64r6-n32",
    "powerpc", "powerpc-nf", "powerpcle", "ppc7400", "ppce500v2", "ppce500", "ppce500mc",
    "powerpc64", "powerpc64le", "ppc64p9le", "ppc64e5500",
    "riscv32", "riscv32nf", "riscv64", "riscv64nf", "riscv64nc",
    "loongarch64",
)

# Tunes no qemu machine lists in AVAILTUNES but whose ABI corners matter (SPE, MIPS r6,
# 64-bit e5500): the machine's configuration plus `require <inc>` as a BitBake
# post-configuration file (bitbake -R), then DEFAULTTUNE set as for the others.
EXTRA_TUNE_INCLUDES = (
    ("qemuppc", "conf/machine/include/powerpc/tune-ppce500v2.inc"),
    ("qemuppc", "conf/machine/include/powerpc/tune-ppce500.inc"),
    ("qemuppc", "conf/machine/include/powerpc/tune-ppce500mc.inc"),
    ("qemuppc64", "conf/machine/include/powerpc/tune-ppce5500.inc"),
    ("qemumips", "conf/machine/include/mips/tune-mips32r6.inc"),
    ("qemumips64", "conf/machine/include/mips/tune-mips64r6.inc"),
)

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TESTBED = os.path.join(REPO, "tests", "tools", "oe-testbed")
RELEASES = ("master", "wrynose", "scarthgap")

# Per-release facts: recipe -> variables read from its target parse (qemuarm, glibc).
RELEASE_RECIPES = {
    "python3": ("PV", "EXTRA_OECONF"),
    "python3-maturin": ("PV",),
    "python3-setuptools-rust": ("PV",),
    "python3-rpds-py": ("PV",),
}


def machines_json(release):
    name = "machines.json" if release == "master" else f"machines-{release}.json"
    return os.path.join(REPO, "lib", "pyrust", "data", name)


def tunes_json(release):
    name = "oe_tunes.json" if release == "master" else f"oe_tunes-{release}.json"
    return os.path.join(REPO, "tests", "data", name)


def log(msg):
    print(f"gen-oe-facts: {msg}", file=sys.stderr, flush=True)


def last_line(text):
    lines = [ln.strip() for ln in str(text).strip().splitlines() if ln.strip()]
    return lines[-1] if lines else str(text)


# --------------------------------------------------------------------------- worker
# Runs as the build user inside an initialised build dir (via oe-testbed run).

def _find_recipe(config_data, recipe):
    for layer in (config_data.getVar("BBLAYERS") or "").split():
        hits = sorted(glob.glob(os.path.join(layer, "recipes-*", "*", f"{recipe}_*.bb")))
        if hits:
            return hits[-1]
    raise RuntimeError(f"{recipe}_*.bb not found in BBLAYERS")


def _extract(d, variables):
    vals = {}
    for var in variables:
        if var == "QEMU_EXTRAOPTIONS":
            pkgarch = d.getVar("TUNE_PKGARCH") or ""
            val = d.getVar(f"QEMU_EXTRAOPTIONS:tune-{pkgarch}")
        else:
            val = d.getVar(var)
        vals[var] = "" if val is None else str(val)
    unexpanded = sorted(var for var, val in vals.items() if "${" in val)
    if unexpanded:  # e.g. a tune the configuration does not define
        raise ValueError("unexpanded references: " + ", ".join(f"{v}={vals[v]!r}" for v in unexpanded))
    return vals


def _set_env(variant):
    os.environ["MACHINE"] = variant["MACHINE"]
    os.environ["TCLIBC"] = variant["TCLIBC"]
    passthrough = os.environ.get("BB_ENV_PASSTHROUGH_ADDITIONS", "").split()
    if variant.get("DEFAULTTUNE"):
        os.environ["DEFAULTTUNE"] = variant["DEFAULTTUNE"]
        if "DEFAULTTUNE" not in passthrough:
            passthrough.append("DEFAULTTUNE")
    else:
        os.environ.pop("DEFAULTTUNE", None)
    os.environ["BB_ENV_PASSTHROUGH_ADDITIONS"] = " ".join(passthrough)


class _ErrorLog(logging.Handler):
    """Collects BitBake ERROR records (a failed parse often raises a bare BBHandledException)."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages = []

    def emit(self, record):
        try:
            self.messages.append(last_line(record.getMessage()))
        except Exception:  # never break BitBake's logging
            pass


class _ShadowMachine:
    """For tunes no qemu machine offers: `conf/machine/<MACHINE>.conf` in the build dir
    (first in BBPATH), oe-core's machine file with its tune `require` swapped."""

    def __init__(self, machine, text):
        self.path = os.path.join(os.environ["BUILDDIR"], "conf", "machine", f"{machine}.conf") if text else None
        self.text = text

    def __enter__(self):
        if self.path:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            with open(self.path, "w") as f:
                f.write(self.text)
        return self

    def __exit__(self, *exc):
        if self.path and os.path.exists(self.path):
            os.unlink(self.path)


def _remove_stale_shadows():
    for path in glob.glob(os.path.join(os.environ["BUILDDIR"], "conf", "machine", "*.conf")):
        os.unlink(path)


def _tinfoil_error(exc, errors):
    msgs = list(dict.fromkeys(m for m in errors.messages if m))
    text = last_line(exc)
    if text and text not in (type(exc).__name__, "") and text not in msgs:
        msgs.append(text)
    return " / ".join(msgs[-3:]) or type(exc).__name__


def worker_main():
    job = json.load(sys.stdin)
    # Keep the real stdout for the JSON answer; BitBake's chatter goes to stderr.
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)
    sys.stdout = sys.stderr

    bitbake = shutil.which("bitbake")
    if bitbake:
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.realpath(bitbake))), "lib"))
    import bb.tinfoil  # noqa: PLC0415 (BitBake is importable only in the worker)

    _remove_stale_shadows()
    bblogger = logging.getLogger("BitBake")
    base_handlers = bblogger.handlers[:]
    errors = _ErrorLog()

    def session():
        bblogger.handlers = [*base_handlers, errors]  # Tinfoil adds handlers per session
        return bb.tinfoil.Tinfoil(output=sys.stderr)

    def prepare(tinfoil):
        tinfoil.prepare(config_only=True, quiet=2)

    method = job["method"]
    recipe = job.get("recipe", RECIPE)
    variables = job.get("variables", VARIABLES)
    result = {"values": {}, "failed": {}, "availtunes": {}, "timings": {}}

    def record(variant, fn_values, t0):
        key = variant["key"]
        errors.messages.clear()
        try:
            result["values"][key] = fn_values()
        except Exception as exc:  # a variant that does not parse
            result["failed"][key] = _tinfoil_error(exc, errors)
        result["timings"][key] = round(time.monotonic() - t0, 3)
        log(f"{key}: {result['timings'][key]:.2f} s{' FAILED' if key in result['failed'] else ''}")

    if method == "release":
        _set_env({"MACHINE": "qemuarm", "TCLIBC": "glibc"})
        with session() as tinfoil:
            prepare(tinfoil)
            facts = {"LAYERSERIES_CORENAMES": tinfoil.config_data.getVar("LAYERSERIES_CORENAMES") or ""}
            for name, names in job["recipes"].items():
                d = tinfoil.parse_recipe_file(_find_recipe(tinfoil.config_data, name))
                facts[name] = {var: d.getVar(var) or "" for var in names}
        json.dump(facts, out, sort_keys=True)
        out.write("\n")
        out.close()
        return 0
    if method == "fresh":
        for variant in job["variants"]:
            t0 = time.monotonic()
            _set_env(variant)
            errors.messages.clear()
            try:
                with _ShadowMachine(variant["MACHINE"], variant.get("machine_conf")), session() as tinfoil:
                    prepare(tinfoil)
                    fn = _find_recipe(tinfoil.config_data, recipe)
                    record(variant, lambda fn=fn, tinfoil=tinfoil: _extract(tinfoil.parse_recipe_file(fn), variables), t0)
            except Exception as exc:
                result["failed"][variant["key"]] = _tinfoil_error(exc, errors)
    elif method == "copy":
        groups = {}
        for variant in job["variants"]:
            group = (variant["MACHINE"], variant["TCLIBC"], variant.get("machine_conf", ""))
            groups.setdefault(group, []).append(variant)
        for (machine, libc, machine_conf), variants in groups.items():
            t0 = time.monotonic()
            _set_env({"MACHINE": machine, "TCLIBC": libc})
            gname = f"{machine}/{libc}" + (f"+{variants[0]['tune_include']}" if machine_conf else "")
            errors.messages.clear()
            try:
                with _ShadowMachine(machine, machine_conf), session() as tinfoil:
                    prepare(tinfoil)
                    result["availtunes"][gname] = tinfoil.config_data.getVar("AVAILTUNES") or ""
                    fn = _find_recipe(tinfoil.config_data, recipe)
                    result["timings"][f"prepare:{gname}"] = round(time.monotonic() - t0, 3)
                    for variant in variants:
                        t0 = time.monotonic()

                        def values(variant=variant, fn=fn, tinfoil=tinfoil):
                            if variant.get("DEFAULTTUNE"):
                                cfg = tinfoil.config_data.createCopy()
                                cfg.setVar("DEFAULTTUNE", variant["DEFAULTTUNE"])
                                # the same recipe file is parsed again with other
                                # metadata: keep siggen's determinism check quiet
                                cfg.setVar("BB_HASH_IGNORE_MISMATCH", "1")
                                d = tinfoil.parse_recipe_file(fn, config_data=cfg)
                            else:
                                d = tinfoil.parse_recipe_file(fn)
                            return _extract(d, variables)

                        record(variant, values, t0)
            except Exception as exc:
                for variant in variants:
                    result["failed"].setdefault(variant["key"], _tinfoil_error(exc, errors))
    else:
        raise SystemExit(f"unknown method {method}")

    json.dump(result, out, sort_keys=True)
    out.write("\n")
    out.close()
    return 0


# --------------------------------------------------------------------------- host side

def testbed(*args, capture=True, input=None):
    # the release travels in the environment (oe-testbed reads PYRUST_RELEASE)
    proc = subprocess.run([TESTBED, *args], check=False, input=input, text=True,
                          stdout=subprocess.PIPE if capture else None)
    if proc.returncode != 0:
        raise SystemExit(f"gen-oe-facts: oe-testbed {args[0]} failed (rc {proc.returncode})")
    return proc.stdout


def testbed_paths():
    out = testbed("setup")
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def run_worker(builddir, method, variants, variables=VARIABLES):
    job = json.dumps({"method": method, "recipe": RECIPE, "variables": list(variables),
                      "variants": variants})
    out = testbed("run", builddir, "--", "python3", os.path.abspath(__file__), "--worker", input=job)
    return json.loads(out.strip().splitlines()[-1])


def run_workers(method, variants, jobs, prefix="facts"):
    """Split variants (keeping MACHINE/TCLIBC groups together) over `jobs` build dirs."""
    groups = {}
    for v in variants:
        groups.setdefault((v["MACHINE"], v["TCLIBC"], v.get("machine_conf", "")), []).append(v)
    buckets = [[] for _ in range(max(1, jobs))]
    for group in sorted(groups.values(), key=len, reverse=True):
        min(buckets, key=len).extend(group)
    buckets = [b for b in buckets if b]
    merged = {"values": {}, "failed": {}, "availtunes": {}, "timings": {}}
    with concurrent.futures.ThreadPoolExecutor(len(buckets)) as pool:
        futures = [pool.submit(run_worker, f"{prefix}-{i}", method, b) for i, b in enumerate(buckets)]
        for fut in futures:
            res = fut.result()
            for k, values in merged.items():
                values.update(res.get(k, {}))
    return merged


def timing_summary(res):
    prep = sorted(v for k, v in res["timings"].items() if k.startswith("prepare:"))
    var = sorted(v for k, v in res["timings"].items() if not k.startswith("prepare:"))

    def stats(xs):
        return f"n={len(xs)} median {xs[len(xs) // 2]:.2f} s, max {xs[-1]:.2f} s" if xs else "n=0"

    return f"config-only prepare: {stats(prep)}; per variant parse: {stats(var)}"


def parse_bitbake_env(text):
    """Parse `bitbake -e` output into {name: value} (assignments only)."""
    values = {}
    lines = text.splitlines()
    i = 0
    assign = re.compile(r'^(?:export )?([A-Za-z0-9_][^ =]*)="(.*)$')
    while i < len(lines):
        m = assign.match(lines[i])
        i += 1
        if not m:
            continue
        name, rest = m.group(1), m.group(2)
        parts = []
        while rest.endswith(" \\") and not rest.endswith('"'):
            parts.append(rest[:-2])
            rest = lines[i] if i < len(lines) else '"'
            i += 1
        if not rest.endswith('"'):
            continue
        parts.append(rest[:-1])
        val = "\n".join(parts)
        val = val.replace('\\"', '"').replace("\\`", "`").replace("\\$", "$")
        values[name] = val
    return values


def bitbake_e(builddir, variant, variables=VARIABLES):
    env = ["--env", f"MACHINE={variant['MACHINE']}", "--env", f"TCLIBC={variant['TCLIBC']}"]
    if variant.get("DEFAULTTUNE"):
        env += ["--env", f"DEFAULTTUNE={variant['DEFAULTTUNE']}",
                "--env", "BB_ENV_PASSTHROUGH_ADDITIONS=DEFAULTTUNE"]
    cmd = ["bitbake", "-e", RECIPE]
    if variant.get("machine_conf"):  # the same shadow machine file the worker uses
        script = ('f="conf/machine/$1.conf"; mkdir -p conf/machine && printf "%s" "$2" > "$f" && '
                  'trap \'rm -f "$f"\' EXIT && bitbake -e "$3"')
        cmd = ["sh", "-c", script, "sh", variant["MACHINE"], variant["machine_conf"], RECIPE]
    proc = subprocess.run([TESTBED, "run", builddir, *env, "--", *cmd], check=False, text=True, capture_output=True)
    if proc.returncode != 0:
        raise RuntimeError(last_line(proc.stdout + proc.stderr))
    env_vals = parse_bitbake_env(proc.stdout)
    vals = {}
    for var in variables:
        if var == "QEMU_EXTRAOPTIONS":
            name = f"QEMU_EXTRAOPTIONS:tune-{env_vals.get('TUNE_PKGARCH', '')}"
            vals[var] = env_vals.get(name, "")
        else:
            vals[var] = env_vals.get(var, "")
    return vals


def extra_tune_sources(oecore):
    """{tune: {"MACHINE", "tune_include", "machine_conf"}} for EXTRA_TUNE_INCLUDES: the tunes
    an include's `AVAILTUNES +=` lines add, and the machine file with its tune swapped."""
    found = {}
    tune_require = re.compile(r"^require\s+conf/machine/include/\S*/tune-\S+\.inc\s*$", re.M)
    for machine, inc in EXTRA_TUNE_INCLUDES:
        with open(os.path.join(oecore, "meta", inc)) as f:
            tunes = " ".join(re.findall(r'^AVAILTUNES\s*\+=\s*"([^"]*)"', f.read(), re.M)).split()
        with open(os.path.join(oecore, "meta", "conf", "machine", f"{machine}.conf")) as f:
            conf = f.read()
        header = f"# generated by meta-pyrust tests/tools/gen-oe-facts: {machine}.conf with {inc}\n"
        conf, n = tune_require.subn(f"require {inc}", conf, count=1)
        if n != 1:
            raise SystemExit(f"gen-oe-facts: no tune require line in {machine}.conf")
        for tune in tunes:
            found.setdefault(tune, {"MACHINE": machine, "tune_include": inc, "machine_conf": header + conf})
    return found


def parse_key(key, extra_tunes=None):
    parts = key.split("/")
    if len(parts) == 2:
        return {"key": key, "MACHINE": parts[0], "TCLIBC": parts[1]}
    if len(parts) == 3:
        variant = {"key": key, "MACHINE": parts[0], "DEFAULTTUNE": parts[1], "TCLIBC": parts[2]}
        extra = (extra_tunes or {}).get(parts[1])
        if extra and extra["MACHINE"] == parts[0]:  # a tune only an extra include provides
            variant.update(extra)
        return variant
    raise SystemExit(f"bad key {key!r}: MACHINE/LIBC or MACHINE/TUNE/LIBC")


def write_json(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)
    log(f"wrote {os.path.relpath(path, REPO)}")


def generated_from(paths, command):
    return {
        "release": paths.get("RELEASE", "master"),
        "oe-core commit": paths.get("OECORE_COMMIT", "unknown"),
        "bitbake commit": paths.get("BITBAKE_COMMIT", "unknown"),
        "recipe": RECIPE,
        "command": command,
    }


def release_facts(prefix):
    """The release block of machines*.json, from the recipes' own target parses."""
    job = json.dumps({"method": "release", "recipes": {k: list(v) for k, v in RELEASE_RECIPES.items()}})
    out = testbed("run", f"{prefix}-release", "--", "python3", os.path.abspath(__file__), "--worker", input=job)
    raw = json.loads(out.strip().splitlines()[-1])
    oeconf = raw["python3"]["EXTRA_OECONF"].split()
    preset = [arg for arg in oeconf if arg.startswith("PLATFORM_TRIPLET=")]
    return {
        "LAYERSERIES_CORENAMES": raw["LAYERSERIES_CORENAMES"],
        "python3": raw["python3"]["PV"],
        "maturin": raw["python3-maturin"]["PV"],
        "setuptools-rust": raw["python3-setuptools-rust"]["PV"],
        "rpds-py": raw["python3-rpds-py"]["PV"],
        # python3's EXTRA_OECONF for qemuarm: "PLATFORM_TRIPLET=arm-linux-gnueabi" or absent
        "platform_triplet_preset": bool(preset),
        "platform_triplet_preset_qemuarm": preset[-1].split("=", 1)[1] if preset else "",
    }


def verify(keys, methods, jobs, prefix="", extra_tunes=None):
    variants = [parse_key(k, extra_tunes) for k in keys]
    results = {}
    for method in methods:
        t0 = time.monotonic()
        if method == "bitbake-e":
            res = {"values": {}, "failed": {}}
            for v in variants:
                t1 = time.monotonic()
                try:
                    res["values"][v["key"]] = bitbake_e(f"{prefix or 'verify'}-e", v)
                except RuntimeError as exc:
                    res["failed"][v["key"]] = str(exc)
                log(f"bitbake -e {v['key']}: {time.monotonic() - t1:.1f} s")
        else:
            res = run_workers(method, variants, jobs, prefix=f"{prefix or 'verify'}-{method}")
        log(f"method {method}: {time.monotonic() - t0:.1f} s for {len(variants)} variants")
        results[method] = res
    ref = methods[0]
    bad = 0
    for v in variants:
        key = v["key"]
        a = results[ref]["values"].get(key)
        for other in methods[1:]:
            b = results[other]["values"].get(key)
            if a is None or b is None:
                print(f"{key}: {ref}={results[ref]['failed'].get(key)!r} {other}={results[other]['failed'].get(key)!r}")
                bad += (a is None) != (b is None)
                continue
            diffs = {var: (a[var], b[var]) for var in a if a[var] != b.get(var)}
            if diffs:
                bad += 1
                for var, (x, y) in diffs.items():
                    print(f"{key}: {var}: {ref}={x!r} {other}={y!r}")
            else:
                print(f"{key}: {ref} == {other}")
    return 1 if bad else 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--machines-only", action="store_true")
    ap.add_argument("--tunes-only", action="store_true")
    ap.add_argument("--musl-tunes", choices=("all", "subset", "none"), default="subset")
    ap.add_argument("--jobs", type=int, default=min(2, os.cpu_count() or 1),
                    help="concurrent BitBake sessions (separate build dirs)")
    ap.add_argument("--method", choices=("copy", "fresh"), default="copy")
    ap.add_argument("--verify", nargs="+", metavar="KEY")
    ap.add_argument("--verify-methods", default="copy,fresh,bitbake-e")
    ap.add_argument("--extract", nargs="+", metavar="KEY")
    ap.add_argument("--builddir-prefix", default="",
                    help="prefix of the build dir names (default facts/verify/extract)")
    ap.add_argument("--release", choices=RELEASES, default=os.environ.get("PYRUST_RELEASE") or "master",
                    help="which pinned openembedded-core + BitBake (default $PYRUST_RELEASE or master)")
    args = ap.parse_args(argv)

    if args.worker:
        return worker_main()
    os.environ["PYRUST_RELEASE"] = args.release

    paths = testbed_paths()
    extra_tunes = extra_tune_sources(paths["OECORE"])
    if args.verify:
        return verify(args.verify, args.verify_methods.split(","), args.jobs, args.builddir_prefix, extra_tunes)
    if args.extract:
        res = run_workers(args.method, [parse_key(k, extra_tunes) for k in args.extract], args.jobs,
                          prefix=args.builddir_prefix or "extract")
        json.dump({k: res[k] for k in ("values", "failed", "availtunes", "timings")},
                  sys.stdout, indent=1, sort_keys=True)
        print()
        return 1 if res["failed"] else 0

    command = "tests/tools/gen-oe-facts" + (f" --release {args.release}" if args.release != "master" else "") \
        + (f" --musl-tunes {args.musl_tunes}" if args.musl_tunes != "subset" else "")
    t_start = time.monotonic()

    # 1. machines x libcs (also yields AVAILTUNES per machine)
    variants = [{"key": f"{m}/{c}", "MACHINE": m, "TCLIBC": c} for m in MACHINES for c in LIBCS]
    prefix = args.builddir_prefix or "facts"
    res = run_workers(args.method, variants, args.jobs, prefix)
    if res["failed"]:
        for k, err in sorted(res["failed"].items()):
            log(f"FAILED {k}: {err}")
        raise SystemExit("gen-oe-facts: machine variants must not fail")
    log(f"machines: {len(variants)} variants in {time.monotonic() - t_start:.1f} s ({timing_summary(res)})")
    if not args.tunes_only:
        machines = {m: {c: res["values"][f"{m}/{c}"] for c in LIBCS} for m in MACHINES}
        write_json(machines_json(args.release), {"generated_from": generated_from(paths, command),
                                                 "release": release_facts(prefix), "machines": machines})
    if args.machines_only:
        return 0

    # 2. every tune of every machine, glibc (+ musl). A tune listed by several machines
    #    is keyed under the first of MACHINES listing it, except that every machine's
    #    own DEFAULTTUNE stays with that machine. Then the extra includes' tunes.
    t_tunes = time.monotonic()
    tune_machine = {}
    for m in MACHINES:
        tune_machine.setdefault(res["values"][f"{m}/glibc"]["DEFAULTTUNE"], m)
    for m in MACHINES:
        for tune in res["availtunes"].get(f"{m}/glibc", "").split():
            tune_machine.setdefault(tune, m)
    extra_keys = {}
    for tune, extra in extra_tunes.items():
        if tune not in tune_machine:
            tune_machine[tune] = extra["MACHINE"]
    variants = []
    for tune, m in tune_machine.items():
        libcs = ["glibc"]
        if args.musl_tunes == "all" or (args.musl_tunes == "subset" and tune in MUSL_TUNE_SUBSET):
            libcs.append("musl")
        for c in libcs:
            v = parse_key(f"{m}/{tune}/{c}", extra_tunes)
            if v.get("tune_include"):
                extra_keys[v["key"]] = v["tune_include"]
            variants.append(v)
    res = run_workers(args.method, variants, args.jobs, prefix)
    log(f"tunes: {len(variants)} variants ({len(res['values'])} ok, {len(res['failed'])} failed) "
        f"in {time.monotonic() - t_tunes:.1f} s ({timing_summary(res)})")
    write_json(tunes_json(args.release), {
        "generated_from": generated_from(paths, command),
        "tunes": res["values"],
        "failed": res["failed"],
        # tunes no qemu machine offers: the machine file's tune `require` swapped for this
        "extra_includes": extra_keys,
    })
    return 0


if __name__ == "__main__":
    sys.exit(main())
