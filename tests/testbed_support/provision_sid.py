"""Provision every Debian sid interpreter of tests/e2e/sid.py (SID_INTERPRETERS) into the cache.

The e2e tier's set-up (scripts/run-tests). Idempotent: cached sysroots return at once
(no apt call); prints one line per sysroot and the wall time. Also unpacks sid's
static qemu-user when a row needs it (loong64), and sid's loong64 C library and libgcc
with a clang-19 wrapper named loongarch64-linux-gnu-gcc (no cross gcc in bookworm).
Exit 0, or 1 naming what failed.

    tests/tools/provision-sid            # everything in the table
    tests/tools/provision-sid --list     # what it would provision
"""

from __future__ import annotations

import sys
import time

from e2e.sid import SID_INTERPRETERS, loong64_cc_dir, sid_qemu_dir
from testbed import cache_dir
from testbed_support.provision import ProvisionError, find_sysroot, provision_debian_python, provision_debian_tool


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--list":
        for label, entry in SID_INTERPRETERS.items():
            print(label, entry.debian_arch, entry.version, entry.abiflags or "-")
        return 0
    t0 = time.monotonic()
    status = 0

    def progress(line: str) -> None:
        print(f"provision-sid: {line}", file=sys.stderr, flush=True)

    for label, entry in SID_INTERPRETERS.items():
        try:
            if find_sysroot(entry.debian_arch, cache_dir(), entry.version, entry.abiflags) is None:
                provision_debian_python(entry.debian_arch, cache_dir(), progress, entry.version, entry.abiflags)
            print(f"{label}: {find_sysroot(entry.debian_arch, cache_dir(), entry.version, entry.abiflags)}")
        except ProvisionError as err:
            print(f"provision-sid: {label}: {err}", file=sys.stderr)
            status = 1
    if any(e.qemu_from_sid for e in SID_INTERPRETERS.values()) and sid_qemu_dir() is None:
        try:
            print(f"qemu-user (sid): {provision_debian_tool('qemu-user', cache_dir=cache_dir(), progress=progress)}")
        except ProvisionError as err:
            print(f"provision-sid: qemu-user: {err}", file=sys.stderr)
            status = 1
    if any(e.debian_arch == "loong64" for e in SID_INTERPRETERS.values()):
        try:
            print(f"loongarch64 linker wrapper: {loong64_cc_dir(provision=True)}")
        except ProvisionError as err:
            print(f"provision-sid: loong64 C development files: {err}", file=sys.stderr)
            status = 1
    print(f"provision-sid: {time.monotonic() - t0:.1f} s", file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
