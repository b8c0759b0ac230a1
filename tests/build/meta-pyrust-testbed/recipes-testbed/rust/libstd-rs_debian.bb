SUMMARY = "Test-bed stand-in for libstd-rs: Rust's standard library built for oe-core's target JSON"
DESCRIPTION = "oe-core builds libstd-rs from the Rust release's source, which this test \
machine cannot reach. This recipe builds the same standard library crates (std with the \
features oe-core's libstd-rs enables) for RUST_TARGET_SYS, from the target JSON that \
rust-target-config's do_rust_gen_targets writes, and installs the rlibs into rustlibdir as \
oe-core's recipe does. The sources are the library/ of Debian's rust-web-src \
(TESTBED_RUST_SRC_URI, fetched from Debian's archive with its checksum), built by Debian's \
rustc of the same version."
LICENSE = "Apache-2.0 OR MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

# PREFERRED_VERSION_libstd-rs (tests/build/build_testbed.py) selects this recipe over oe-core's.
PV = "${TESTBED_RUST_VERSION}"

SRC_URI = "${TESTBED_RUST_SRC_URI}"
RUSTSRC = "${UNPACKDIR}/rust-src/usr/src/rustc-${PV}"
S = "${RUSTSRC}/library"
B = "${WORKDIR}/build"

RUSTLIB_DEP = ""
inherit cargo

# As oe-core's libstd-rs recipe (meta/recipes-devtools/rust/libstd-rs_*.bb).
RUSTFLAGS += "-Cembed-bitcode=yes"
RUSTFLAGS += "-Zforce-unstable-if-unmarked"
CARGO_FEATURES ?= "panic-unwind backtrace"
# Debian keeps the standard library's vendored crates in library/vendor (the Rust release
# tarball oe-core uses has them in vendor/).
CARGO_VENDORING_DIRECTORY = "${RUSTSRC}/library/vendor"
CARGO_HOME = "${WORKDIR}/cargo_home"
EXCLUDE_FROM_WORLD = "1"

# oe-core builds library/sysroot directly; Debian's vendor directory lacks std's
# dev-dependencies (rand...), which that workspace's resolution needs. cargo's build-std
# resolves only what std needs, so it builds the same crates from the same sources for an
# empty crate; __CARGO_TESTS_ONLY_SRC_ROOT points it at the fetched library/ instead of
# the host rustc's own sysroot. library/Cargo.toml's profile compiles panic_abort with
# -Cpanic=abort whatever the rest of the sysroot uses (a crate whose profile says
# panic = "abort", such as oe-core's python3-uv-build, links only against such a
# panic_abort); that profile is the workspace's, so the empty crate repeats it.
CARGO_MANIFEST_PATH = "${B}/testbed-std/Cargo.toml"
# do_install copies every artefact of the target dir: a rebuild with other flags must not
# leave the previous build's std beside the new one (rustc: "multiple candidates for
# `rmeta` dependency `std`").
do_compile[cleandirs] += "${B}/target"
do_compile () {
    export RUSTC_BOOTSTRAP="1"
    export __CARGO_TESTS_ONLY_SRC_ROOT="${RUSTSRC}/library"
    crate=$(dirname ${CARGO_MANIFEST_PATH})
    mkdir -p $crate/src
    printf 'cargo-features = ["profile-rustflags"]\n\n[package]\nname = "testbed-std"\nversion = "0.0.0"\nedition = "2021"\n\n[profile.release.package.panic_abort]\nrustflags = ["-Cpanic=abort"]\n' > $crate/Cargo.toml
    printf 'version = 4\n\n[[package]]\nname = "testbed-std"\nversion = "0.0.0"\n' > $crate/Cargo.lock
    : > $crate/src/lib.rs
    cargo_do_compile -Zbuild-std=std,panic_unwind -Zbuild-std-features="$(echo ${CARGO_FEATURES} | tr ' ' ',')"
}

do_install () {
    mkdir -p ${D}${rustlibdir}
    rm -f ${B}/target/${RUST_TARGET_SYS}/${BUILD_DIR}/deps/*.d ${B}/target/${RUST_TARGET_SYS}/${BUILD_DIR}/deps/libtestbed_std*
    cp ${B}/target/${RUST_TARGET_SYS}/${BUILD_DIR}/deps/* ${D}${rustlibdir}
}
