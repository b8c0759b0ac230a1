# Test bed only (tests/build/README.md, "The stand-ins"): meta-python fetches pyruvate from
# gitlab.com (SRCREV on branch main, the recipe's 1.2.1), which this network cannot reach. The
# 1.2.1 sdist on PyPI stands in for the checkout, unpacked where the checkout would be (${S}
# is ${UNPACKDIR}/${BP}, the git fetcher's default destination); the crates, patches and
# everything else of the recipe are unchanged. The checksum is PyPI's index entry for
# pyruvate-1.2.1.tar.gz.
SRC_URI:remove = "git://gitlab.com/tschorr/pyruvate.git;protocol=https;branch=main"
SRC_URI =+ "https://files.pythonhosted.org/packages/source/p/pyruvate/pyruvate-${PV}.tar.gz;subdir=${BP};striplevel=1"
SRC_URI[sha256sum] = "72df10e27efca0b5a16049639629744afdb505960a7d88016c6440cb394b9b12"
