SUMMARY = "Test-bed stand-in for the runtime names the recipes under test RDEPEND on"
DESCRIPTION = "BitBake resolves a runtime provider for every RDEPENDS of a target it builds, \
even with -c install, where no package is made. The recipes that provide these names in a \
real build (oe-core's python3 and its package split, python3-cffi) are masked in the test bed \
(tests/build/README.md), which stops at do_install: this empty recipe gives the names so that \
oe-core's and meta-python's recipes parse unmodified. Nothing depends on its output."
LICENSE = "MIT"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/MIT;md5=0835ade698e0bcf8506ecda2f7b4f302"

INHIBIT_DEFAULT_DEPS = "1"
EXCLUDE_FROM_WORLD = "1"
ALLOW_EMPTY:${PN} = "1"
do_configure[noexec] = "1"
do_compile[noexec] = "1"

# python3's own packages (meta/recipes-devtools/python/python3/python3-manifest.json) and
# python3-cffi: what python3-bcrypt (python3-cffi python3-ctypes python3-shell),
# meta-python's python3-cbor2 (python3-datetime), python3-hypothesis and python3-cryptography
# (python3-cffi python3-numbers python3-threading) RDEPEND on; for do_pyrust_ptest's test
# dependencies: python3-pytest's (python3-debugger python3-doctest python3-json
# python3-tomllib python3-xml), python3-pygments' (python3-html), python3-packaging's
# (python3-profile), and python3-unittest-automake-output, which every ptest-python-pytest
# recipe's ${PN}-ptest RDEPENDS on: its git source (gitlab.com) cannot be reached here, and
# it only formats pytest's console output for ptest-runner (`pytest --automake`), which
# do_pyrust_ptest does not use (it reads pytest's JUnit XML); ptest-runner (RRECOMMENDS of
# every ${PN}-ptest), the runner on a booted image, which do_pyrust_ptest replaces; meta-python's
# python3-orjson's (python3-maturin python3-mypy) and python3-pendulum's (python3-dateutil
# python3-tzdata) pure-Python runtime dependencies (not in the import check's sysroot; see docs/recipes.md);
# oe-core's target python3-maturin's (cargo rust; RRECOMMENDS python3-ensurepip python3-pip python3-venv) and its build dependency python3-setuptools-rust's
# (python3-semantic-version python3-setuptools python3-setuptools-scm). python3-maturin itself is
# also built here (qemuarm64): site.conf's PREFERRED_RPROVIDER_python3-maturin keeps orjson's
# runtime dependency on this empty recipe, so that no build of orjson needs maturin's zstd.
RPROVIDES:${PN} = "python3-cffi python3-ctypes python3-shell python3-datetime python3-attrs python3-compression \
                   python3-json python3-sortedcontainers python3-statistics python3-unittest python3-zoneinfo \
                   python3-numbers python3-threading python3-debugger python3-doctest python3-tomllib python3-xml \
                   python3-html python3-profile python3-unittest-automake-output ptest-runner \
                   python3-maturin python3-mypy python3-dateutil python3-tzdata \
                   cargo rust python3-semantic-version python3-setuptools python3-setuptools-scm \
                   python3-ensurepip python3-pip python3-venv"
