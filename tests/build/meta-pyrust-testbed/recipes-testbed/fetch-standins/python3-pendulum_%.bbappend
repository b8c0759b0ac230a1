# Test bed only (tests/build/README.md, "The stand-ins"): meta-python fetches pendulum's
# release tag from github.com (PYPI_SRC_URI = "git://github.com/python-pendulum/pendulum;...;tag=${PV}"),
# which this network cannot reach. The release's sdist on PyPI stands in for the checkout;
# everything else of the recipe is unchanged. The checksum is PyPI's index entry for
# pendulum-3.2.0.tar.gz.
PYPI_SRC_URI = "https://files.pythonhosted.org/packages/source/p/pendulum/pendulum-${PV}.tar.gz"
SRC_URI[sha256sum] = "e80feda2d10fa3ff8b1526715f7d33dcb7e08494b3088f2c8a3ac92d4a4331ce"
