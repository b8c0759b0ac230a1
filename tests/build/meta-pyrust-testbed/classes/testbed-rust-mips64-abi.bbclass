# Not a stand-in: a correction that oe-core lacks, found by the build test bed.
#
# oe-core's rust-target-config.bbclass (rust_gen_target) writes "abi": "n64" next to
# "llvm-abiname": "n64" into the target JSON of a mips64 n64 tune (qemumips64). rustc 1.96
# and newer check that pair and refuse it ("error loading target specification: invalid
# MIPS ABI name and `cfg(target_abi)` combination"): with the n64 ABI, cfg(target_abi) must
# be "abi64", as in Rust's own mips64-unknown-linux-gnuabi64 target
# (compiler/rustc_target/src/spec/mod.rs, Target::check_consistency). So every Rust recipe
# fails for qemumips64 with oe-core's own rust 1.97.1 too, std (libstd-rs) first.
#
# After do_rust_gen_targets this sets "abi" to "abi64" in such JSONs, keeping oe-core's
# original in ${WORKDIR}/rust-targets-oe-core/ (tests/build/test_build.py shows rustc
# refuses it). Drop this class once oe-core writes "abi64".

python testbed_rust_mips64_abi () {
    import json
    import os
    import shutil
    wd = d.getVar("RUST_TARGETS_DIR")
    keep = d.expand("${WORKDIR}/rust-targets-oe-core")
    for name in sorted(os.listdir(wd)):
        path = os.path.join(wd, name)
        if not name.endswith(".json"):
            continue
        with open(path) as f:
            spec = json.load(f)
        if spec.get("llvm-abiname") == "n64" and spec.get("abi") == "n64":
            bb.utils.mkdirhier(keep)
            shutil.copy2(path, os.path.join(keep, name))
            spec["abi"] = "abi64"
            with open(path, "w") as f:
                json.dump(spec, f, indent=4)
            bb.note("testbed: %s: \"abi\": \"n64\" -> \"abi64\" (rustc >= 1.96 refuses n64 with llvm-abiname n64)" % name)
}
do_rust_gen_targets[postfuncs] += "testbed_rust_mips64_abi"
