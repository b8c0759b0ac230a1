SUMMARY = "Example PyO3 extension module for meta-pyrust's suffix and import checks"
DESCRIPTION = "A small Rust extension built with maturin. It is deliberately not abi3, \
so its file name carries the full EXT_SUFFIX and a wrong suffix makes the import fail."
HOMEPAGE = "https://git.yoctoproject.org/meta-pyrust"
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

SRC_URI = "file://pyrust-example/"
S = "${UNPACKDIR}/pyrust-example"

require ${BPN}-crates.inc

inherit cargo-update-recipe-crates python_maturin pyrust

RDEPENDS:${PN} += "python3-core"
