SUMMARY = "Test-bed stand-in for the target openssl: Debian's libssl3 and libssl-dev"
DESCRIPTION = "oe-core's openssl recipe fetches its source from a host this test machine \
cannot reach. This recipe provides 'openssl' (PREFERRED_PROVIDER_openssl = testbed-openssl) \
from Debian bookworm's libssl3 and libssl-dev for the target architecture, fetched from \
Debian's archive with their checksums (TESTBED_OPENSSL_SRC_URI, written per architecture by \
tests/build/build_testbed.py). python3-cryptography links it."
LICENSE = "Apache-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/Apache-2.0;md5=89aea4e17d99a7cacdbeed46a0096b10"

PROVIDES += "openssl"
TESTBED_DEBIAN_LIB = "openssl"
TESTBED_OPENSSL_SRC_URI ??= ""
SRC_URI = "${TESTBED_OPENSSL_SRC_URI}"

require testbed-debian-lib.inc
