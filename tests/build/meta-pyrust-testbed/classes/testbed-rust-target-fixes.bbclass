# Not a stand-in: corrections that oe-core lacks, found by the build test bed. They make
# oe-core's own target JSON load in rustc; oe-core's original stays in
# ${WORKDIR}/rust-targets-oe-core/ (tests/build/test_build.py shows rustc refusing it).
#
# 1. rust-target-config.bbclass (rust_gen_target) writes "abi": "n64" next to
#    "llvm-abiname": "n64" for a mips64 n64 tune (qemumips64). rustc 1.96 and newer refuse
#    the pair ("invalid MIPS ABI name and `cfg(target_abi)` combination"): with n64,
#    cfg(target_abi) must be "abi64", as in Rust's own mips64-unknown-linux-gnuabi64
#    (compiler/rustc_target/src/spec/mod.rs, Target::check_consistency).
# 2. Its DATA_LAYOUT table gives mips64 "E-m:e-i8:8:32-i16:16:32-i64:64-n32:64-S128",
#    while LLVM (20 and newer) lays i128 out at 128 bits; rustc refuses a data-layout
#    that differs from LLVM's own for the target and names LLVM's: that one is used.
# So no Rust recipe, libstd-rs first, builds for qemumips64 with rustc >= 1.96 as oe-core
# writes the JSON. Drop this class once oe-core's JSON loads.

python testbed_rust_target_fixes () {
    import json
    import os
    import re
    import subprocess
    wd = d.getVar("RUST_TARGETS_DIR")
    keep = d.expand("${WORKDIR}/rust-targets-oe-core")
    for name in sorted(os.listdir(wd)):
        path = os.path.join(wd, name)
        if not name.endswith(".json"):
            continue
        with open(path) as f:
            original = f.read()
        spec = json.loads(original)
        changes = []
        if spec.get("llvm-abiname") == "n64" and spec.get("abi") == "n64":
            spec["abi"] = "abi64"
            changes.append('"abi": "n64" -> "abi64"')
            with open(path, "w") as f:
                json.dump(spec, f, indent=4)
        # rustc checks the data-layout against LLVM's when it sets up code generation:
        # compile an empty no_core crate for the target to have it say so
        probe_dir = d.expand("${WORKDIR}/rust-targets-probe")
        bb.utils.mkdirhier(probe_dir)
        with open(os.path.join(probe_dir, "empty.rs"), "w") as f:
            f.write("#![feature(no_core)]\n#![no_core]\n")
        probe = subprocess.run([d.getVar("RUSTC"), "--target", path, "--crate-type", "lib", "--emit=obj",
                                "-o", os.path.join(probe_dir, "empty.o"), os.path.join(probe_dir, "empty.rs")],
                               capture_output=True, text=True)
        m = re.search(r"data-layout for target `[^`]*`, `([^`]*)`, differs from LLVM target's `[^`]*` default layout, `([^`]*)`", probe.stderr)
        if m:
            spec["data-layout"] = m.group(2)
            changes.append('"data-layout": "%s" -> "%s" (LLVM\'s own)' % (m.group(1), m.group(2)))
            with open(path, "w") as f:
                json.dump(spec, f, indent=4)
        if changes:
            bb.utils.mkdirhier(keep)
            with open(os.path.join(keep, name), "w") as f:
                f.write(original)
            bb.note("testbed: %s: %s" % (name, "; ".join(changes)))
}
do_rust_gen_targets[postfuncs] += "testbed_rust_target_fixes"
