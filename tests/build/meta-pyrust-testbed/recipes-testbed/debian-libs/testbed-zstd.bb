SUMMARY = "Test-bed stand-in for the target zstd: Debian's libzstd1 and libzstd-dev"
DESCRIPTION = "oe-core's zstd recipe fetches its source from a host this test machine \
cannot reach. This recipe provides 'zstd' (PREFERRED_PROVIDER_zstd = testbed-zstd) from \
Debian bookworm's libzstd1 and libzstd-dev for the target architecture, fetched from \
Debian's archive with their checksums (TESTBED_ZSTD_SRC_URI, written per architecture by \
tests/build/build_testbed.py). oe-core's python3-uv-build DEPENDS on it."
LICENSE = "BSD-3-Clause | GPL-2.0-only"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/BSD-3-Clause;md5=550794465ba0ec5312d6919e203a55f9"

PROVIDES += "zstd"
TESTBED_DEBIAN_LIB = "zstd"
TESTBED_ZSTD_SRC_URI ??= ""
SRC_URI = "${TESTBED_ZSTD_SRC_URI}"

require testbed-debian-lib.inc
