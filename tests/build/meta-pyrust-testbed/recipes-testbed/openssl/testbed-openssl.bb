SUMMARY = "Test-bed stand-in for the target openssl: Debian's libssl3 and libssl-dev"
DESCRIPTION = "oe-core's openssl recipe fetches its source from a host this test machine \
cannot reach. This recipe provides 'openssl' (PREFERRED_PROVIDER_openssl = testbed-openssl) \
from Debian bookworm's libssl3 and libssl-dev for the target architecture, fetched from \
Debian's archive with their checksums (TESTBED_OPENSSL_SRC_URI, written per architecture by \
tests/build/build_testbed.py): the headers, libssl/libcrypto and their pkg-config files, in \
Debian's multiarch layout (Debian's cross gcc searches /usr/include/<triplet> in the sysroot; \
the .pc files are linked into ${libdir}/pkgconfig, where oe-core's PKG_CONFIG_PATH looks)."
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

PROVIDES += "openssl"

# Only the architectures Debian has packages for (not powerpc, mips64): skipped elsewhere.
TESTBED_OPENSSL_SRC_URI ??= ""
SRC_URI = "${TESTBED_OPENSSL_SRC_URI}"
python () {
    if not d.getVar("TESTBED_OPENSSL_SRC_URI"):
        raise bb.parse.SkipRecipe("the test bed has no Debian openssl for %s" % d.getVar("TRANSLATED_TARGET_ARCH"))
}
S = "${UNPACKDIR}/sysroot"

INHIBIT_DEFAULT_DEPS = "1"
INHIBIT_SYSROOT_STRIP = "1"
EXCLUDE_FROM_WORLD = "1"
do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    cp -a --no-preserve=ownership ${S}/usr ${D}/
    install -d ${D}${libdir}/pkgconfig
    for pc in ${D}${libdir}/*/pkgconfig/*.pc; do
        ln -s $(realpath --relative-to=${D}${libdir}/pkgconfig "$pc") ${D}${libdir}/pkgconfig/
    done
    rm -rf ${D}${datadir}/doc
}

INSANE_SKIP:${PN} += "already-stripped"
