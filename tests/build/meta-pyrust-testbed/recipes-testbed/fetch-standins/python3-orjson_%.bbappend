# Test bed only (tests/build/README.md, "The stand-ins"): meta-python fetches orjson's
# release tag from github.com (PYPI_SRC_URI = "git://github.com/ijl/orjson;...;tag=${PV}"),
# which this network cannot reach. The release's sdist on PyPI (maturin's sdist of that tag)
# stands in for the checkout; everything else of the recipe is unchanged. The checksum is
# PyPI's index entry for orjson-3.11.9.tar.gz.
PYPI_SRC_URI = "https://files.pythonhosted.org/packages/source/o/orjson/orjson-${PV}.tar.gz"
SRC_URI[sha256sum] = "4fef17e1f8722c11587a6ef18e35902450221da0028e65dbaaa543619e68e48f"

# The sdist also carries .cargo/config.toml, whose only content points cargo at the crates
# the sdist vendors (include/cargo; pyproject.toml's [tool.maturin] include lists both for
# the sdist format only), so cargo would not build the recipe's own crates
# (python3-orjson-crates.inc, the same versions). Removed after unpacking, so that cargo
# builds the crates the recipe fetched, as a build of the checkout does.
do_unpack[postfuncs] += "testbed_drop_sdist_vendoring"
testbed_drop_sdist_vendoring() {
    rm -f ${S}/.cargo/config.toml
}
