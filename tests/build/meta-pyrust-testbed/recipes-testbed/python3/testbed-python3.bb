SUMMARY = "Test-bed stand-in for the target python3: a prebuilt target CPython"
DESCRIPTION = "oe-core cross-builds python3 from python.org's source, which this test machine \
cannot reach (nor can it build gcc and glibc first). This recipe provides 'python3' \
(PREFERRED_PROVIDER_python3 = testbed-python3) from a prebuilt target interpreter: Debian's \
packages fetched from Debian's archive with their checksums, or a CPython cross-built from \
Debian's source by meta-pyrust's tests/tools/build-target-cpython. tests/build/build_testbed.py writes \
TESTBED_PYTHON3_SRC_URI per architecture. It stages what oe-core's python3 stages for \
dependent recipes (libpython, the standard library, python-sysconfigdata/_sysconfigdata.py), \
plus the C library and loader the prebuilt interpreter needs, because glibc is assumed \
provided in the test bed."
LICENSE = "PSF-2.0"
LIC_FILES_CHKSUM = "file://${COMMON_LICENSE_DIR}/PSF-2.0;md5=76c1502273262a5ebefb50dfb20d7c4f"

# A different PN from oe-core's python3 on purpose: oe-core's recipe keeps providing the
# runtime names (python3-core ...) that the parsed graph mentions.
PROVIDES += "python3"

SRC_URI = "${TESTBED_PYTHON3_SRC_URI}"
S = "${UNPACKDIR}/sysroot"

# PYTHON_BASEVERSION, PYTHON_DIR as every python3 user sees them (tests/build/build_testbed.py
# sets PYTHON_BASEVERSION:<arch> where the prebuilt interpreter is not oe-core's version).
inherit python3-dir

INHIBIT_DEFAULT_DEPS = "1"
INHIBIT_SYSROOT_STRIP = "1"
EXCLUDE_FROM_WORLD = "1"

do_configure[noexec] = "1"
do_compile[noexec] = "1"

# The interpreter is staged only when meta-pyrust's switch asks for it, as meta-pyrust's
# python3_%.bbappend does for oe-core's python3. /lib and /lib64 hold the loader of the
# prebuilt binaries (PT_INTERP /lib/ld-*.so*, /lib64/ld.so.1 for mips64 n64), which with
# usrmerge (base_libdir = /usr/lib) are not in SYSROOT_DIRS; an oe-core glibc would put
# its loader where oe-core's binaries look.
SYSROOT_DIRS += "/lib /lib64 ${@'${bindir}' if d.getVar('PYRUST_STAGE_TARGET_PYTHON') == '1' else ''}"

do_install() {
    cp -a --no-preserve=ownership ${S}/. ${D}/
    # Debian's packages hold absolute symbolic links (e.g. /lib64/ld*.so*), which point
    # out of any sysroot: make them relative, pointing at the same file inside ${D}.
    find ${D} -type l | while read link; do
        dest=$(readlink "$link")
        case $dest in
            /*) ln -sfn "$(realpath -m --relative-to="$(dirname "$link")" "${D}$dest")" "$link" ;;
        esac
    done
    # Merged-/usr packages (Debian sid) ship the loader in /usr/lib only; the binaries'
    # PT_INTERP names /lib/ld-*.so* (base-files' /lib -> usr/lib link on a real system).
    if [ ! -e ${D}/lib ]; then
        install -d ${D}/lib
        for loader in ${D}${libdir}/ld-*.so*; do
            if [ -e "$loader" ]; then ln -s ../usr/lib/$(basename $loader) ${D}/lib/; fi
        done
    fi
    version=${PYTHON_BASEVERSION}
    [ -x ${D}${bindir}/python$version ] || bbfatal "no python$version in the prebuilt sysroot (PYTHON_BASEVERSION=$version)"
    ln -sf python$version ${D}${bindir}/python3
    # What oe-core's python3 do_install:append:class-target stages for python3targetconfig.
    sysconfig=$(ls ${D}${libdir}/python$version/_sysconfigdata_*.py | head -n 1)
    [ -n "$sysconfig" ] || bbfatal "no _sysconfigdata_*.py in ${libdir}/python$version"
    install -d ${D}${libdir}/python-sysconfigdata
    cp $sysconfig ${D}${libdir}/python-sysconfigdata/_sysconfigdata.py
}

INSANE_SKIP:${PN} += "already-stripped"

# The runtime name the recipes under test RDEPEND on (python3-core); BitBake resolves
# runtime providers for every task of a recipe, so without it oe-core's python3 and its
# whole runtime closure would have to be parsed (PREFERRED_RPROVIDER in site.conf).
RPROVIDES:${PN} += "python3-core"
