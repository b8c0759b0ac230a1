#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Get the maturin an openembedded-core release ships, built the way it builds it, cached.

tests/tools/maturin-guess --release R measures what *that release's* maturin guesses, so it
needs that maturin, not the newest one from PyPI:

  release    maturin  how                                                    source of truth
  master     1.14.1   PyPI wheel (the recipe applies no patch)               recipe in ../shared/upstream
  wrynose    1.12.4   PyPI wheel (the recipe applies no patch)               recipe in ../shared/upstream
  scarthgap  1.4.0    PyPI sdist + the recipe's patches, built with cargo    recipe in ../shared/upstream

The version comes from the library's release table (pyrust.machines.release_facts, made
from real BitBake) and is checked against the recipe file name in the release's
openembedded-core archive ($PYRUST_UPSTREAM, default ../shared/upstream; its SHA256SUMS
is verified). From that recipe the script also reads SRC_URI[sha256sum] (the sdist's
checksum, which pip must match) and the ``file://`` patches in SRC_URI order (``=`` and
``+=`` lines first, then ``:append``, as BitBake finalises them). A release whose recipe
has patches is built from the sdist; one without patches takes PyPI's wheel, whose
checksum (x86_64 manylinux wheel) is pinned below.

The sdist build: pip downloads the sdist (``--require-hashes`` with the recipe's
checksum); each patch is applied with ``patch -p1 --fuzz=0`` in order (a patch whose
reverse applies is reported "already upstream" and skipped; one that applies neither
way is an error); then cargo builds what the recipe's setup.py builds:
``cargo build --release --locked --no-default-features --bin maturin`` (setup.py passes
``--no-default-features`` and ``--locked``; oe-core sets no MATURIN_SETUP_ARGS).

The sdist's Cargo.lock is used as shipped (``--locked``): 1.4.0's lock builds with
rustc 1.95 (rustup) and 1.96 (Debian's rustc-web), measured, ``time`` 0.3.30 included
(the crate older rustc releases from 1.80 on were reported to refuse). Should a future
rustc refuse a locked crate, LOCK_FIXES names the smallest ``cargo update -p CRATE@OLD
--precise NEW`` per maturin version; the changes are part of the cache key and the
build record. ``--no-lock-fix`` skips them.

Cache: ``$PYRUST_CACHE/maturin/<version>-<key>/`` (default ~/.cache/meta-pyrust), key =
first 12 hex digits of the SHA-256 over the version, the artifact's checksum, each
patch's name and checksum, and the lock fix. It holds ``bin/maturin``, ``build.json``
(what was done: source, checksums, patches and their result, lock changes, rustc and
cargo versions, build seconds, date) and for a build ``build.log``. The directory is
staged as ``.tmp-<pid>`` and appears by one rename once ``maturin --version`` answered.

Usage:
  tests/tools/release-maturin scarthgap wrynose master  # get (download/build) if needed; one path per line
  tests/tools/release-maturin --find scarthgap          # look up only: path, or exit 1 if not cached
  tests/tools/release-maturin --info scarthgap          # the build record (JSON) of the cached one
  options: --cache DIR  --upstream DIR  --jobs N (cargo -j, default: cargo's)  --force  --no-lock-fix

Progress, with seconds, goes to stderr; stdout gets only the executables' paths (or the
JSON). Run a build under ``nice -n 10`` on a shared machine.

Exit status: 0 done; 1 not cached (--find, --info) or a download, patch or build
failed; 2 bad input or a missing tool/archive (the message names it and the fix).

Measured (2 cores, nice 10): see docs/maturin-guess.md ("How each release's maturin was
obtained") for the 1.4.0 build time; a wheel takes a few seconds; a cached run < 2 s
(most of it reading the recipe from the archive).
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

from pyrust.cache import cache_dir as default_cache_dir
from pyrust.debianpython import file_sha256
from pyrust.errors import InputError
from pyrust.machines import RELEASES, check_release, release_facts

REPO = Path(__file__).resolve().parents[2]

# The openembedded-core archive of each release (../shared/README.md).
OE_ARCHIVES = {
    "master": "openembedded-core.tar.xz",
    "wrynose": "openembedded-core-wrynose.tar.xz",
    "scarthgap": "openembedded-core-scarthgap.tar.xz",
}
RECIPE_DIR = "openembedded-core/meta/recipes-devtools/python/"

# PyPI's x86_64 wheel of each version taken as a wheel (pip checks it: --require-hashes).
WHEEL_SHA256 = {
    "1.12.4": "88e09e6c386b08974fab0c7e4c07d7c7c50a0ba63095d31e930d80568488e1be",
    "1.14.1": "dfc54ae32e6fcb18302193ab9a30b0b25eefffba994ae13238974805533ef75e",
}

# Cargo.lock changes a version needs to build with today's rustc: version -> [(crate, from, to)].
# Empty: 1.4.0's lock builds as shipped with rustc 1.95 and 1.96 (measured).
LOCK_FIXES: dict[str, list[tuple[str, str, str]]] = {}

# What the recipe's setup.py (setuptools-rust RustBin) passes to cargo.
CARGO_ARGS = ["build", "--release", "--locked", "--no-default-features", "--bin", "maturin"]


class Failed(Exception):
    """A download, patch or build failed (exit 1)."""


def note(msg: str) -> None:
    print(f"release-maturin: {msg}", file=sys.stderr, flush=True)


def default_upstream() -> Path:
    env = os.environ.get("PYRUST_UPSTREAM")
    return Path(env).expanduser() if env else REPO.parent / "shared" / "upstream"


def tool_version(argv: list[str]) -> str:
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip() or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


# --------------------------------------------------------------------------- the recipe

class Recipe:
    """python3-maturin_<version>.bb of one release, with its patch files' bytes."""

    def __init__(self, release: str, archive: Path, version: str, sdist_sha256: str,
                 patches: list[tuple[str, bytes]]) -> None:
        self.release = release
        self.archive = archive
        self.version = version
        self.sdist_sha256 = sdist_sha256
        self.patches = patches

    def patch_sums(self) -> list[tuple[str, str]]:
        return [(name, hashlib.sha256(data).hexdigest()) for name, data in self.patches]


def srcuri_patches(text: str) -> list[str]:
    """The file:// entries of SRC_URI in the order BitBake applies them.

    Plain assignments and ``+=`` in file order, then ``:append`` (appended at finalisation).
    Continuation lines (``\\``) are joined first.
    """
    joined = re.sub(r"\\\n", " ", text)
    early: list[str] = []
    late: list[str] = []
    for line in joined.splitlines():
        m = re.match(r'\s*SRC_URI(:append)?\s*(\+=|=|\?=|\.=)\s*"([^"]*)"', line)
        if not m:
            continue
        files = [w[len("file://"):].split(";")[0] for w in m.group(3).split() if w.startswith("file://")]
        (late if m.group(1) else early).extend(files)
    return early + late


def read_recipe(release: str, upstream: Path) -> Recipe:
    """The maturin recipe of ``release`` from its openembedded-core archive (checksum verified)."""
    archive = upstream / OE_ARCHIVES[release]
    sums = upstream / "SHA256SUMS"
    if not archive.is_file() or not sums.is_file():
        raise InputError("--upstream/PYRUST_UPSTREAM", str(upstream), f"a directory with {archive.name} and SHA256SUMS "
                         "(default ../shared/upstream)")
    want = next((line.split()[0] for line in sums.read_text().splitlines()
                 if line.split()[-1:] in ([archive.name], ["*" + archive.name])), None)
    if want is None or file_sha256(archive) != want:
        raise InputError(str(archive), "checksum", f"the SHA-256 {archive.name} has in {sums} (a damaged or replaced archive)")
    files: dict[str, bytes] = {}
    with tarfile.open(archive, "r:xz") as tar:
        for member in tar:
            if member.isfile() and member.name.startswith(RECIPE_DIR + "python3-maturin"):
                f = tar.extractfile(member)
                assert f is not None
                files[member.name[len(RECIPE_DIR):]] = f.read()
    recipes = [n for n in files if re.fullmatch(r"python3-maturin_[0-9.]+\.bb", n)]
    if len(recipes) != 1:
        raise Failed(f"{archive.name}: expected one python3-maturin_<version>.bb, found {recipes or 'none'}")
    version = recipes[0][len("python3-maturin_"):-len(".bb")]
    table = str(release_facts(release)["maturin"])
    if version != table:
        raise Failed(f"{archive.name} has python3-maturin {version}, the library's {release} table says {table}: "
                     f"regenerate the table (tests/tools/gen-oe-facts --release {release})")
    text = files[recipes[0]].decode()
    m = re.search(r'^SRC_URI\[sha256sum\]\s*=\s*"([0-9a-f]{64})"', text, re.M)
    if not m:
        raise Failed(f"{recipes[0]} in {archive.name}: no SRC_URI[sha256sum]")
    patches = []
    for name in srcuri_patches(text):
        path = f"python3-maturin/{name}"
        if path not in files:
            raise Failed(f"{recipes[0]} names file://{name}, not in {archive.name}")
        patches.append((name, files[path]))
    return Recipe(release, archive, version, m.group(1), patches)


# --------------------------------------------------------------------------- the cache

def cache_key(recipe: Recipe, lock_fix: bool) -> tuple[str, dict]:
    source = ({"kind": "sdist", "sha256": recipe.sdist_sha256} if recipe.patches else
              {"kind": "wheel", "sha256": WHEEL_SHA256.get(recipe.version, "")})
    fixes = LOCK_FIXES.get(recipe.version, []) if (recipe.patches and lock_fix) else []
    inputs = {"version": recipe.version, "source": source, "patches": recipe.patch_sums(),
              "lock_fix": [list(f) for f in fixes]}
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()[:12]
    return key, inputs


def cached_dir(cache: Path, recipe: Recipe, lock_fix: bool) -> Path:
    key, _ = cache_key(recipe, lock_fix)
    return cache / "maturin" / f"{recipe.version}-{key}"


def find(release: str, cache: Path | None = None, upstream: Path | None = None, lock_fix: bool = True) -> Path | None:
    """The cached maturin executable of ``release``, or None (nothing is downloaded or built)."""
    recipe = read_recipe(check_release(release), upstream or default_upstream())
    exe = cached_dir(cache or default_cache_dir(), recipe, lock_fix) / "bin" / "maturin"
    return exe if exe.is_file() else None


def pip_download(spec: str, sha256: str, dest: Path, binary: bool) -> Path:
    req = dest / "requirements.txt"
    req.write_text(f"{spec} --hash=sha256:{sha256}\n")
    argv = [sys.executable, "-m", "pip", "download", "--disable-pip-version-check", "--no-deps", "--require-hashes",
            "--only-binary" if binary else "--no-binary", ":all:", "-r", str(req), "-d", str(dest / "dl")]
    proc = subprocess.run(argv, capture_output=True, text=True)
    files = sorted((dest / "dl").glob("maturin-*"))
    if proc.returncode != 0 or len(files) != 1:
        tail = (proc.stdout + proc.stderr).strip().splitlines()[-3:]
        raise Failed(f"pip download {spec} failed: {' / '.join(tail)}")
    if file_sha256(files[0]) != sha256:
        raise Failed(f"{files[0].name}: checksum differs from {sha256}")
    return files[0]


def get_wheel(recipe: Recipe, stage: Path) -> dict:
    sha = WHEEL_SHA256.get(recipe.version)
    if sha is None:
        raise Failed(f"no pinned wheel checksum for maturin {recipe.version} (add it to WHEEL_SHA256 in {__file__})")
    whl = pip_download(f"maturin=={recipe.version}", sha, stage, binary=True)
    member = f"maturin-{recipe.version}.data/scripts/maturin"
    with zipfile.ZipFile(whl) as z:
        if member not in z.namelist():
            raise Failed(f"{whl.name} has no {member}")
        (stage / "bin").mkdir()
        (stage / "bin" / "maturin").write_bytes(z.read(member))
    (stage / "bin" / "maturin").chmod(0o755)
    shutil.rmtree(stage / "dl")
    return {"source": f"PyPI wheel {whl.name}", "sha256": sha}


def run_logged(argv: list[str], cwd: Path, log: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    with open(log, "a") as f:
        f.write(f"$ {' '.join(argv)}\n")
        f.flush()
        return subprocess.run(argv, cwd=cwd, stdout=f, stderr=subprocess.STDOUT, env=env)


def lock_packages(lock: Path) -> dict[str, str]:
    text = lock.read_text()
    return {f"{m.group(1)} {m.group(2)}": m.group(2)
            for m in re.finditer(r'^name = "([^"]+)"\nversion = "([^"]+)"', text, re.M)}


def build_sdist(recipe: Recipe, stage: Path, lock_fix: bool, jobs: int | None) -> dict:
    cargo = shutil.which("cargo")
    if cargo is None or shutil.which("rustc") is None or shutil.which("patch") is None:
        raise InputError("PATH", None, "cargo, rustc and patch on PATH (tests/tools/rust-cross-setup or rustup; apt install patch)")
    log = stage / "build.log"
    sdist = pip_download(f"maturin=={recipe.version}", recipe.sdist_sha256, stage, binary=False)
    work = stage / "work"
    work.mkdir()
    with tarfile.open(sdist) as tar:
        if hasattr(tarfile, "data_filter"):  # Python 3.12, backported to 3.11.4 and 3.9.17
            tar.extractall(work, filter="data")
        else:
            tar.extractall(work)
    src = work / f"maturin-{recipe.version}"
    if not (src / "Cargo.lock").is_file():
        raise Failed(f"{sdist.name} does not unpack to maturin-{recipe.version}/ with a Cargo.lock")
    results = []
    for name, data in recipe.patches:
        pfile = stage / name
        pfile.write_bytes(data)
        base = ["patch", "-p1", "--batch", "--fuzz=0", "-i", str(pfile)]
        if run_logged([*base, "--dry-run"], src, log).returncode == 0:
            if run_logged(base, src, log).returncode != 0:
                raise Failed(f"patch {name} failed after a clean dry run (see {log})")
            results.append({"patch": name, "result": "applied"})
            note(f"patch {name}: applied")
        elif run_logged([*base, "-R", "--dry-run"], src, log).returncode == 0:
            results.append({"patch": name, "result": "already upstream (reverse applies; skipped)"})
            note(f"patch {name}: already in the sdist, skipped")
        else:
            raise Failed(f"patch {name} does not apply to maturin {recipe.version} with --fuzz=0 (see {log})")
    before = lock_packages(src / "Cargo.lock")
    fixes = LOCK_FIXES.get(recipe.version, []) if lock_fix else []
    for crate, old, new in fixes:
        if run_logged([cargo, "update", "-p", f"{crate}@{old}", "--precise", new], src, log).returncode != 0:
            raise Failed(f"cargo update -p {crate}@{old} --precise {new} failed (see {log})")
    after = lock_packages(src / "Cargo.lock")
    changes = sorted([f"- {p}" for p in before.keys() - after.keys()] + [f"+ {p}" for p in after.keys() - before.keys()])
    if changes:
        note("Cargo.lock: " + ", ".join(changes))
    argv = [cargo, *CARGO_ARGS] + ([f"-j{jobs}"] if jobs else [])
    env = dict(os.environ, CARGO_TARGET_DIR=str(work / "target"))
    note(f"building maturin {recipe.version}: {' '.join(argv[1:])} (log {log})")
    start = time.monotonic()
    proc = run_logged(argv, src, log, env)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        errors = [line for line in log.read_text().splitlines() if line.startswith("error")]
        raise Failed(f"cargo build of maturin {recipe.version} failed after {seconds:.0f} s: "
                     f"{errors[0] if errors else 'see ' + str(log)}")
    (stage / "bin").mkdir()
    shutil.copy2(work / "target" / "release" / "maturin", stage / "bin" / "maturin")
    shutil.rmtree(work)
    for name, _ in recipe.patches:
        (stage / name).unlink()
    (stage / "dl" / sdist.name).unlink()
    shutil.rmtree(stage / "dl")
    return {"source": f"PyPI sdist {sdist.name}", "sha256": recipe.sdist_sha256, "patches": results,
            "lock_changes": changes, "cargo_args": argv[1:], "build_seconds": round(seconds, 1),
            "rustc": tool_version(["rustc", "--version"]), "cargo": tool_version([cargo, "--version"])}


def get(release: str, cache: Path, upstream: Path, lock_fix: bool = True, force: bool = False,
        jobs: int | None = None) -> Path:
    """The maturin executable of ``release``: cached, else downloaded or built into the cache."""
    recipe = read_recipe(check_release(release), upstream)
    final = cached_dir(cache, recipe, lock_fix)
    exe = final / "bin" / "maturin"
    if exe.is_file() and not force:
        return exe
    final.parent.mkdir(parents=True, exist_ok=True)
    for stale in final.parent.glob(".tmp-*"):
        pid = stale.name.split("-")[1]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(stale, ignore_errors=True)
    stage = Path(tempfile.mkdtemp(prefix=f".tmp-{os.getpid()}-", dir=final.parent))
    start = time.monotonic()
    try:
        _, inputs = cache_key(recipe, lock_fix)
        record: dict = {"release": release, "version": recipe.version, "recipe": f"{recipe.archive.name}: "
                        f"python3-maturin_{recipe.version}.bb", "inputs": inputs}
        if recipe.patches:
            note(f"{release}: maturin {recipe.version} from the sdist with {len(recipe.patches)} patches of the recipe")
            record.update(build_sdist(recipe, stage, lock_fix, jobs))
        else:
            note(f"{release}: maturin {recipe.version} from PyPI's wheel (the recipe applies no patch)")
            record.update(get_wheel(recipe, stage))
        answer = tool_version([str(stage / "bin" / "maturin"), "--version"])
        if answer != f"maturin {recipe.version}":
            raise Failed(f"the new executable answers {answer!r} to --version, expected 'maturin {recipe.version}'")
        record["seconds"] = round(time.monotonic() - start, 1)
        record["date"] = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
        (stage / "build.json").write_text(json.dumps(record, indent=1) + "\n")
        if final.exists():
            shutil.rmtree(final)
        stage.rename(final)
    except BaseException:
        keep = stage / "build.log"
        if keep.is_file():
            shutil.copy2(keep, final.parent / f"build-{recipe.version}-failed.log")
            note(f"log kept: {final.parent / f'build-{recipe.version}-failed.log'}")
        shutil.rmtree(stage, ignore_errors=True)
        raise
    note(f"{release}: {exe} ({time.monotonic() - start:.1f} s)")
    return exe


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("releases", nargs="+", metavar="RELEASE", help="one of " + ", ".join(RELEASES))
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--find", action="store_true", help="look up only; exit 1 if a release's maturin is not cached")
    mode.add_argument("--info", action="store_true", help="print the build record of the cached maturin (JSON)")
    parser.add_argument("--cache", type=Path, help="cache root (default $PYRUST_CACHE or ~/.cache/meta-pyrust)")
    parser.add_argument("--upstream", type=Path, help="directory of the oe-core archives (default $PYRUST_UPSTREAM or ../shared/upstream)")
    parser.add_argument("--jobs", type=int, help="cargo -j (default: cargo's)")
    parser.add_argument("--force", action="store_true", help="download/build again even when cached")
    parser.add_argument("--no-lock-fix", dest="lock_fix", action="store_false", help="build the sdist's Cargo.lock as shipped")
    args = parser.parse_args(argv)
    cache = (args.cache or default_cache_dir()).expanduser()
    upstream = (args.upstream or default_upstream()).expanduser()
    status = 0
    try:
        for release in args.releases:
            check_release(release, "RELEASE")
        for release in args.releases:
            if args.find or args.info:
                exe = find(release, cache, upstream, args.lock_fix)
                if exe is None:
                    note(f"{release}: not cached (get it: tests/tools/release-maturin {release})")
                    status = 1
                elif args.info:
                    print((exe.parent.parent / "build.json").read_text(), end="")
                else:
                    print(exe)
            else:
                print(get(release, cache, upstream, args.lock_fix, args.force, args.jobs), flush=True)
    except InputError as e:
        print(f"release-maturin: {e}", file=sys.stderr)
        return 2
    except Failed as e:
        print(f"release-maturin: {e}", file=sys.stderr)
        return 1
    return status


if __name__ == "__main__":
    sys.exit(main())
