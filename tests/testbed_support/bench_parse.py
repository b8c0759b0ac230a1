#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parse time of all of openembedded-core with and without INHERIT += "pyrust".

Two build dirs of the BitBake test bed (tests/tools/oe-testbed), both with the layer
added: <prefix>-plain (nothing enabled) and <prefix>-inherit (INHERIT += "pyrust" in
conf/auto.conf). Each is warmed once (config and code-parser caches; not counted).
Then --runs rounds, alternating which one goes first: the recipe cache
(bb_cache.dat* in BitBake's CACHE, ``oe-testbed drop-recipe-cache``) is dropped and ``bitbake -p`` parses every recipe again; the
wall time of that command is one sample (seconds). Prints every sample, the median and
minimum per variant, and the ratio inherit/plain of the medians and of the minima,
all measured in this one run (the target: <= 1.01). The machine's load average is
printed before and after: other jobs on the machine make single samples noisy, the
alternation spreads that noise over both variants.

When run as root on a machine with a cpuacct cgroup (v1 ``/sys/fs/cgroup/cpuacct`` or a
writable cgroup v2 hierarchy), each parse also runs in a cgroup of its own and the CPU
time (user + system, seconds) of everything in it is a second sample: the BitBake
server daemonises and forks its parser processes, so it is not our child, but it stays
in the cgroup. CPU time varies far less than wall time when other jobs share the
cores, so its ratio is the steadier figure on a busy machine.

Usage:
  tests/tools/bench-parse [--runs N (default 4)] [--release master|wrynose|scarthgap] [--prefix NAME]
"""

import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED = os.path.join(REPO, "tests", "tools", "oe-testbed")


def testbed(release, *args, input=None):
    proc = subprocess.run([TESTBED, "--release", release, *args], text=True, capture_output=True, input=input)
    if proc.returncode != 0:
        sys.exit(f"bench-parse: oe-testbed {' '.join(args[:3])} failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
    return proc


def write_auto_conf(release, builddir, text):
    testbed(release, "write", "--with-layer", builddir, "--", "conf/auto.conf", input=text)


class CpuGroup:
    """A cgroup counting the CPU time of one process tree, daemons included.

    ``usage()`` is CPU seconds (user + system) used by every process that ever ran in it.
    cgroup v1's cpuacct controller (``cpuacct.usage``, nanoseconds) where mounted, else
    cgroup v2 (``cpu.stat`` usage_usec). ``CpuGroup.create(name)`` returns None when
    neither can be created (not root, no cgroup file system): the benchmark then
    reports wall time only.
    """

    def __init__(self, path, v1):
        self.path, self.v1 = path, v1

    @classmethod
    def create(cls, name):
        for root, v1 in ((Path("/sys/fs/cgroup/cpuacct"), True), (Path("/sys/fs/cgroup/unified"), False),
                         (Path("/sys/fs/cgroup"), False)):
            probe = root / ("cpuacct.usage" if v1 else "cgroup.procs")
            if not probe.exists():
                continue
            path = root / name
            try:
                path.mkdir(exist_ok=True)
            except OSError:
                continue
            group = cls(path, v1)
            if v1 or (path / "cpu.stat").exists():
                return group
            group.remove()
        return None

    def enter(self):
        """Move the calling process into the group (for subprocess's preexec_fn)."""
        (self.path / "cgroup.procs").write_text(f"{os.getpid()}\n")

    def wait_empty(self, timeout=120.0):
        """Wait until no process is left in it (BitBake's server exits after its client)."""
        deadline = time.monotonic() + timeout
        while (self.path / "cgroup.procs").read_text().strip():
            if time.monotonic() > deadline:
                sys.exit(f"bench-parse: processes still in {self.path} after {timeout:.0f} s: a BitBake server did not exit")
            time.sleep(0.2)

    def kill(self):
        """SIGTERM every process still in the group (an interrupted benchmark leaves no BitBake behind)."""
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), signal.SIGTERM)
            except ProcessLookupError:
                pass

    def usage(self):
        if self.v1:
            return int((self.path / "cpuacct.usage").read_text()) / 1e9
        stat = dict(line.split() for line in (self.path / "cpu.stat").read_text().splitlines())
        return int(stat["usage_usec"]) / 1e6

    def remove(self):
        try:
            self.path.rmdir()
        except OSError:
            pass


def parse_once(release, builddir):
    """One ``bitbake -p`` after dropping the recipe cache: (wall seconds, CPU seconds or None,
    recipes); checks every recipe was parsed."""
    testbed(release, "drop-recipe-cache", "--with-layer", builddir)
    group = CpuGroup.create(f"bench-parse-{os.getpid()}-{builddir}")
    try:
        t0 = time.monotonic()
        proc = subprocess.run([TESTBED, "--release", release, "run", "--with-layer", builddir, "--", "bitbake", "-p"],
                              text=True, capture_output=True, preexec_fn=group.enter if group else None)
        seconds = time.monotonic() - t0
        if proc.returncode != 0:
            sys.exit(f"bench-parse: bitbake -p in {builddir} failed (rc {proc.returncode}):\n{proc.stderr[-3000:]}")
        cpu = None
        if group:
            group.wait_empty()
            cpu = group.usage()
    except BaseException:
        if group:  # interrupted: stop this parse's bitbake and server before removing the group
            group.kill()
            group.wait_empty()
        raise
    finally:
        if group:
            group.remove()
    output = proc.stdout + proc.stderr
    m = re.search(r"Parsing of (\d+) \.bb files complete \((\d+) cached, (\d+) parsed\)", output)
    if not m or m.group(2) != "0":
        sys.exit(f"bench-parse: {builddir}: not a full parse:\n{output[-2000:]}")
    return seconds, cpu, int(m.group(1))


def report(kind, unit, samples):
    """Print per-variant samples, median and minimum, and the inherit/plain ratios.

    Besides the ratios of the medians and of the minima: the mean of the per-round ratios
    ("paired"). Each round parses both variants back to back, in alternating order, so a
    machine that drifts (measured: an idle machine's parses got 9% faster over six
    samples) biases odd and even rounds in opposite directions and an even number of
    rounds cancels it, which the ratio of the medians does not.
    """
    for name, xs in samples.items():
        print(f"  {kind} {name:8} median {statistics.median(xs):.1f} {unit}, min {min(xs):.1f} {unit}: "
              + " ".join(f"{x:.1f}" for x in xs))
    ratio_median = statistics.median(samples["inherit"]) / statistics.median(samples["plain"])
    ratio_min = min(samples["inherit"]) / min(samples["plain"])
    paired = [i / p for i, p in zip(samples["inherit"], samples["plain"])]
    print(f"ratio inherit/plain ({kind}): {statistics.mean(paired):.3f} (paired, mean of "
          + " ".join(f"{r:.3f}" for r in paired) + f"), {ratio_median:.3f} (medians), {ratio_min:.3f} (minima); "
          "target <= 1.01")


def _terminate(signum, frame):
    """SIGTERM: unwind like Ctrl-C."""
    raise KeyboardInterrupt


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=4, help="rounds (each parses both variants once; an even number cancels drift)")
    ap.add_argument("--release", default=os.environ.get("PYRUST_RELEASE") or "master")
    ap.add_argument("--prefix", default="rel-bench-parse", help="build dir name prefix")
    args = ap.parse_args()
    # SIGTERM unwinds like Ctrl-C, so an interrupted parse's processes and cgroup are cleaned up
    signal.signal(signal.SIGTERM, _terminate)
    variants = {"plain": "", "inherit": 'INHERIT += "pyrust"\n'}
    dirs = {name: f"{args.prefix}-{name}" for name in variants}
    for name, conf in variants.items():
        testbed(args.release, "init", "--with-layer", dirs[name])
        write_auto_conf(args.release, dirs[name], conf)
        seconds, cpu, recipes = parse_once(args.release, dirs[name])
        cpu_text = f", {cpu:.1f} s CPU" if cpu is not None else ""
        print(f"warm-up {name}: {seconds:.1f} s{cpu_text} ({recipes} recipes; not counted)", flush=True)
    load0 = os.getloadavg()[0]
    wall = {name: [] for name in variants}
    cpu = {name: [] for name in variants}
    for i in range(args.runs):
        order = list(variants) if i % 2 == 0 else list(reversed(variants))
        for name in order:
            seconds, cpu_seconds, _ = parse_once(args.release, dirs[name])
            wall[name].append(seconds)
            if cpu_seconds is not None:
                cpu[name].append(cpu_seconds)
            cpu_text = f", {cpu_seconds:.1f} s CPU" if cpu_seconds is not None else ""
            print(f"round {i + 1} {name}: {seconds:.1f} s{cpu_text}", flush=True)
    load1 = os.getloadavg()[0]
    print(f"release {args.release}, {args.runs} rounds, load average {load0:.2f} -> {load1:.2f} (1 min)")
    report("wall", "s", wall)
    if all(cpu.values()):
        report("CPU", "s", cpu)
    else:
        print("CPU time not measured (needs root and a cpuacct or cgroup v2 hierarchy)")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        sys.exit("bench-parse: interrupted (the running parse was stopped)")
