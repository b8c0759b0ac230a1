SUMMARY = "Test-bed stand-in for pseudo-native: Debian's pseudo binaries"
DESCRIPTION = "oe-core builds pseudo from its git repository, which this test machine \
cannot reach. BitBake runs every fakeroot task (do_install among them) under pseudo, so \
this recipe installs Debian's pseudo and libpseudo, fetched from Debian's archive with \
their checksums (TESTBED_PSEUDO_DEBS, written by tests/build/build_testbed.py), in the layout \
oe-core's FAKEROOTCMD and PSEUDO_LIBDIR expect (meta/conf/bitbake.conf). The suite is the one \
whose pseudo knows the release's path rule (build_testbed.pseudo_suite): sid's for \
PSEUDO_INCLUDE_PATHS (master, wrynose), bookworm's for PSEUDO_IGNORE_PATHS (scarthgap)."
LICENSE = "LGPL-2.1-only"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/LGPL-2.1-only;md5=1a6d268fd218675ffea8be556788b780"

PV = "${TESTBED_PSEUDO_VERSION}"
SRC_URI = "${TESTBED_PSEUDO_DEBS}"
S = "${UNPACKDIR}/deb"

inherit native
# ASSUME_PROVIDED cannot stand in for it: BitBake indexes the providers of every name in
# a task's [depends] (base.bbclass puts virtual/fakeroot-native in do_package_setscene's).
PROVIDES += "virtual/fakeroot-native"
INHIBIT_DEFAULT_DEPS = "1"
INHIBIT_SYSROOT_STRIP = "1"
INSANE_SKIP:${PN} += "already-stripped"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

do_install() {
    install -d ${D}${bindir} ${D}${prefix}/lib/pseudo/lib
    install -m 0755 ${S}/usr/bin/pseudo ${S}/usr/bin/pseudodb ${S}/usr/bin/pseudolog ${D}${bindir}/
    install -m 0644 ${S}/usr/lib/${BUILD_ARCH}-linux-gnu/pseudo/libpseudo.so ${D}${prefix}/lib/pseudo/lib/
}
