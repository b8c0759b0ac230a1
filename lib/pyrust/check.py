"""The checks: are the built extension modules right for the target?

Static (always): every ELF shared object below the import roots is named with a
suffix the target CPython accepts (when it is an extension module, i.e. exports
``PyInit_<name>``) and carries the target's ELF header. Dynamic: all extension modules
imported in one target-interpreter run under qemu-user, from a scratch copy.

Findings carry QA names users can list in ERROR_QA / WARN_QA / INSANE_SKIP:
``pyrust-ext-suffix``, ``pyrust-elf``, ``pyrust-import``. Nothing here writes into the
tree it checks. Standard library plus :mod:`pyrust.elfinfo` (pyelftools, lazily; or,
inside BitBake, oe.qa.ELFFile and readelf through an :class:`pyrust.elfinfo.ElfTools`).
"""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from pyrust import tables
from pyrust.elfinfo import ElfTools, NotElfError, is_elf, read_elfs
from pyrust.pyabi import PythonABI
from pyrust.target import Target

QA_EXT_SUFFIX = "pyrust-ext-suffix"
QA_ELF = "pyrust-elf"
QA_IMPORT = "pyrust-import"
QA_NAMES = (QA_EXT_SUFFIX, QA_ELF, QA_IMPORT)

# Suffixes that say "I am a CPython extension module" whatever the target accepts:
# a tagged one (".cpython-312-<triplet>.so", ".cpython-312t-....so") or the stable ABI.
_TAGGED_SUFFIX = re.compile(r"\.(cpython-[0-9]+[a-z]*(-[A-Za-z0-9_]+)*|abi3)\.so$")


@dataclasses.dataclass(frozen=True)
class Finding:
    """One problem: ``qa`` (QA name), ``path`` (as shown to the user), ``message``."""

    qa: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message} [{self.qa}]"


@dataclasses.dataclass(frozen=True)
class Module:
    """An extension module found: ``name`` ("rpds.rpds"), its file, the import root,
    whether its file name carries a suffix the target accepts (a wrongly named one is
    still imported by :func:`import_check`, to show the ModuleNotFoundError the device
    would give), and whether its ELF header fits the target (``header_ok``; one that does
    not is a ``pyrust-elf`` finding and is not imported: the target's loader refuses it,
    saying "No such file or directory" about a file that exists). ``shown``: its path as
    findings show it (``${D}/usr/lib/...`` inside BitBake; empty: ``path``)."""

    name: str
    path: Path
    root: Path
    accepted_name: bool = True
    header_ok: bool = True
    shown: str = ""


@dataclasses.dataclass(frozen=True)
class ImportOutcome:
    """Findings and one-line notes (e.g. why the dynamic check was skipped) of a run;
    ``imported``: the modules that imported; ``needs``: (module, missing module) for the
    modules whose file loaded and whose initialisation then imported a module that is not
    in the target root, i.e. a runtime dependency (RDEPENDS) the build's sysroot does not
    hold (oe-core's python3-cryptography: its ``_rust`` imports cffi's ``_cffi_backend``)."""

    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    imported: tuple[str, ...]
    needs: tuple[tuple[str, str], ...] = ()


def import_roots(tree: Path) -> list[Path]:
    """The sys.path entries inside ``tree``: its site-packages / dist-packages
    directories, or ``tree`` itself when it has none (a wheel's or a plain directory).
    """
    found = sorted({p for pattern in ("**/site-packages", "**/dist-packages") for p in tree.glob(pattern) if p.is_dir()})
    return found or [tree]


def _dotted_name(root: Path, path: Path) -> str:
    rel = path.relative_to(root)
    stem = rel.name.split(".", 1)[0]
    return ".".join([*rel.parent.parts, stem])


def _elf_header_findings(info, target: Target, shown: str) -> list[Finding]:
    want = target.elf
    problems = []
    if info.machine != want.machine:
        problems.append(f"e_machine {tables.ELF_MACHINE_NAMES.get(info.machine, info.machine)}, "
                        f"expected {tables.ELF_MACHINE_NAMES.get(want.machine, want.machine)}")
    if info.elfclass != want.elfclass:
        problems.append(f"ELFCLASS{info.elfclass}, expected ELFCLASS{want.elfclass}")
    if info.endian != want.endian:
        problems.append(f"{info.endian}-endian, expected {want.endian}-endian")
    if not problems:  # flag bits only mean something for the right machine
        for rule in want.flag_rules:
            if info.flags & rule.mask != rule.value:
                problems.append(f"e_flags 0x{info.flags:08x} lacks {rule.what}")
    if not problems:
        return []
    return [Finding(QA_ELF, shown, f"built for another target: {'; '.join(problems)} "
                                   f"(target {target.target_arch}/{target.target_os}, {target.float_abi} float)")]


def _gil_stable_abi_on_free_threaded(suffix: str, abi: PythonABI) -> bool:
    """True when ``suffix`` (one ``abi`` accepts) names a GIL-build stable-ABI module and
    ``abi`` is free-threaded: found by the import, but not runnable
    (:data:`pyrust.tables.GIL_STABLE_ABI_SUFFIXES`)."""
    if "t" not in abi.abiflags:
        return False
    return suffix in {t.format(platform=abi.platform_triplet) for t in tables.GIL_STABLE_ABI_SUFFIXES}


def static_check(tree: Path, target: Target, abi: PythonABI, shown_root: str | None = None,
                 elf_tools: ElfTools | None = None) -> tuple[list[Module], list[Finding]]:
    """Check names and ELF headers of the shared objects below ``tree``.

    Args:
        tree: a directory (e.g. a recipe's ${D}, an unpacked wheel, a rootfs).
        target: the target description.
        abi: the target's Python ABI (its ``extension_suffixes`` are the accepted names).
        shown_root: how to show ``tree`` in findings (e.g. "${D}"); default its path.
        elf_tools: how to read ELF files (:func:`pyrust.elfinfo.read_elf`); None: pyelftools.

    Returns:
        (extension modules found, findings). Modules whose names the target does not
        accept are included with ``accepted_name=False``, those built for another
        target with ``header_ok=False``.

    Rules: a file exporting ``PyInit_<name>`` whose suffix is not in
    EXTENSION_SUFFIXES is a ``pyrust-ext-suffix`` finding naming the expected suffix;
    one named ``<name>.<accepted suffix>`` exporting only other PyInit names is one too
    (Python/importdl.c looks up ``PyInit_<name>``); so is a stable-ABI ``.abi3.so``
    module on a free-threaded (ABI flags "t") 3.13/3.14 target, which lists the suffix
    but cannot run such a module (the module is still imported, to show what the
    target does with it); every ELF file below the import
    roots whose e_machine, class, endianness or ABI e_flags differ from the target's is a
    ``pyrust-elf`` finding; a file named like an extension module that is not ELF, or
    is damaged, is a ``pyrust-elf`` finding. Shared objects exporting no PyInit (plain
    libraries) are only header-checked.
    """
    modules: list[Module] = []
    findings: list[Finding] = []
    base = shown_root if shown_root is not None else str(tree)
    candidates = [(root, path) for root in import_roots(tree) for path in sorted(root.rglob("*"))
                  if not path.is_symlink() and path.is_file()
                  and (path.name.endswith(".so") or ".so." in path.name or is_elf(path))]
    # All files in one read: inside BitBake one readelf process for many files.
    infos = read_elfs([path for _root, path in candidates], elf_tools)
    for (root, path), info in zip(candidates, infos):
        name = path.name
        modname = name.split(".", 1)[0]
        suffix = name[len(modname):]
        named_like_module = suffix in abi.extension_suffixes or bool(_TAGGED_SUFFIX.search(name))
        shown = os.path.join(base, str(path.relative_to(tree)))
        if isinstance(info, NotElfError):
            if named_like_module:
                findings.append(Finding(QA_ELF, shown, f"named like an extension module but {info}"))
            continue
        header = _elf_header_findings(info, target, shown)
        findings += header
        dotted = _dotted_name(root, path)
        if modname in info.pyinit:
            if suffix in abi.extension_suffixes:
                modules.append(Module(dotted, path, root, header_ok=not header, shown=shown))
                if _gil_stable_abi_on_free_threaded(suffix, abi):
                    findings.append(Finding(
                        QA_EXT_SUFFIX, shown,
                        f"extension module '{dotted}' has suffix '{suffix}': free-threaded CPython {abi.version}"
                        f"{abi.abiflags} finds it, but a stable-ABI (abi3) module is built for the GIL build's "
                        f"object layout, which a free-threaded build cannot run (the import crashes or fails); "
                        f"expected '{abi.ext_suffix}'"))
            else:
                modules.append(Module(dotted, path, root, accepted_name=False, header_ok=not header, shown=shown))
                findings.append(Finding(
                    QA_EXT_SUFFIX, shown,
                    f"extension module '{dotted}' has suffix '{suffix}', which CPython {abi.version}{abi.abiflags} on "
                    f"the target does not load; expected '{abi.ext_suffix}' (accepted: {', '.join(abi.extension_suffixes)})"))
        elif info.pyinit and suffix in abi.extension_suffixes:
            findings.append(Finding(
                QA_EXT_SUFFIX, shown,
                f"file is named for module '{modname}' but exports PyInit_{', PyInit_'.join(sorted(info.pyinit))}; "
                f"the import would fail (expected PyInit_{modname})"))
    return modules, findings


def find_interpreter(sysroot: Path, version: str) -> str | None:
    """The target interpreter inside ``sysroot`` as the target sees it, or None.

    Tries ``/usr/bin/python3`` then ``/usr/bin/python<version>`` (Debian's
    python3.11-minimal ships only the versioned name).
    """
    for candidate in ("/usr/bin/python3", f"/usr/bin/python{version}"):
        if (Path(sysroot) / candidate.lstrip("/")).exists():
            return candidate
    return None


# Each module is found as the target's import system finds a submodule in its package
# directory (a FileFinder over that directory with the interpreter's own
# EXTENSION_SUFFIXES: what PathFinder does for the package's __path__, so a wrongly named
# file gives the device's ModuleNotFoundError) and then loaded from that spec, without
# running its parent packages' __init__.py: those import the package's runtime
# dependencies (RDEPENDS, e.g. python3-hypothesis needs sortedcontainers), which a recipe
# sysroot does not hold at do_install. The roots stay on sys.path for what a module's
# own initialisation imports.
IMPORT_SCRIPT = """\
import importlib.machinery as m, importlib.util as u, sys
sys.path[:0] = {roots!r}
for name, where, stem in {items!r}:
    print("PYRUST-START", name, flush=True)
    try:
        spec = m.FileFinder(where, (m.ExtensionFileLoader, m.EXTENSION_SUFFIXES)).find_spec(name)
        if spec is None:
            raise ModuleNotFoundError("No module named %r (no %s<suffix> for any of %s)"
                                      % (name, stem, " ".join(m.EXTENSION_SUFFIXES)), name=name)
        module = u.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    except ModuleNotFoundError as err:
        if err.name and err.name != name and not name.startswith(err.name + "."):
            print("PYRUST-NEEDS", name, err.name, flush=True)  # loaded; its init imports what is not here
        else:
            print("PYRUST-FAIL", name, ("ModuleNotFoundError: " + str(err)).replace("\\n", " ")[:400], flush=True)
    except BaseException as err:
        text = (type(err).__name__ + ": " + str(err)).replace("\\n", " ")[:400]
        print("PYRUST-FAIL", name, text, flush=True)
    else:
        print("PYRUST-OK", name, flush=True)
"""


def _tail(text: str, lines: int = 6) -> str:
    kept = [line for line in text.splitlines() if line.strip() and not line.startswith("PYRUST-")]
    return " | ".join(kept[-lines:])


def _unscratch(text: str, modules: Sequence[Module], copies: dict[Path, Path]) -> str:
    """``text`` (the target interpreter's output) with the scratch copies' paths, which are
    gone once the check ends, put back as the checked tree's: a loader error names
    ``${D}/.../m.so``, not ``/tmp/pyrust-import-XXXX/root0/.../m.so``."""
    for m in modules:
        text = text.replace(str(copies[m.root] / m.path.relative_to(m.root)), m.shown or str(m.path))
    for root, copy in copies.items():
        text = text.replace(str(copy), str(root))
    return text


def _copy_roots(modules: Sequence[Module], scratch: Path) -> dict[Path, Path]:
    copies: dict[Path, Path] = {}
    for index, root in enumerate(sorted({m.root for m in modules})):
        dest = scratch / f"root{index}"
        shutil.copytree(root, dest, symlinks=True)
        copies[root] = dest
    return copies


def import_check(modules: Sequence[Module], target: Target, sysroot: Path | None, python: str,
                 timeout: float = 120.0, shown: dict[str, str] | None = None,
                 extra_paths: Iterable[str] = (), elf_tools: ElfTools | None = None) -> ImportOutcome:
    """Import every module in one target-interpreter run under qemu-user.

    Args:
        modules: from :func:`static_check`.
        target: gives qemu_binary, qemu_options and qemu_usermode.
        sysroot: the target root holding the interpreter (e.g. a Debian sysroot from
            ``pyrust check --fetch-python``, a recipe sysroot, an image rootfs); None skips.
        python: the interpreter's path as the target sees it, e.g. "/usr/bin/python3".
        timeout: seconds for the whole run; on expiry the process group is killed and
            the module being imported gets a finding.
        shown: module name -> how to show its path in findings.
        extra_paths: further sys.path entries (target paths inside ``sysroot``).
        elf_tools: how to read the interpreter's ELF header (None: pyelftools).

    Returns:
        :class:`ImportOutcome`. Skips (with a one-line note, no finding) when there is
        nothing to import, the machine opts out of qemu-usermode, or no interpreter.
        Modules with ``header_ok=False`` are left out with a note: their ``pyrust-elf``
        finding already names the fault, and the loader's refusal would only repeat it.
        When qemu-user is missing or cannot run the interpreter (wrong qemu, no loader),
        every module gets a ``pyrust-import`` finding saying so.
        A crash (signal) or timeout during one import names that module; the modules
        after it are retried in a fresh interpreter, so each gets its own verdict.

    The modules are imported from a scratch copy in a temporary directory with an
    empty working directory and no bytecode writes: the checked tree is never written.
    """
    # One fault, one finding: a module for another machine, byte order or float ABI
    # cannot load on the target, and the loader says so misleadingly ("No such file or
    # directory" about the scratch copy), so it is not tried.
    foreign = [m.name for m in modules if not m.header_ok]
    outcome = _import_on_target([m for m in modules if m.header_ok], target, sysroot, python, timeout, shown or {},
                                extra_paths, elf_tools)
    if not foreign:
        return outcome
    note = f"not imported (ELF header for another target, see {QA_ELF}): {', '.join(foreign)}"
    return dataclasses.replace(outcome, notes=(note, *outcome.notes))


def _import_on_target(modules: Sequence[Module], target: Target, sysroot: Path | None, python: str, timeout: float,
                      shown: dict[str, str], extra_paths: Iterable[str], elf_tools: ElfTools | None) -> ImportOutcome:
    """:func:`import_check` for modules whose headers fit the target."""
    from pyrust import qemurun  # standard library only; kept local so static use stays light

    if not modules:
        return ImportOutcome((), ("no extension modules to import",), ())
    if sysroot is None:
        return ImportOutcome((), ("dynamic import check skipped: no target interpreter (give a sysroot with python3)",), ())
    if not target.qemu_usermode and not qemurun.host_can_run(Path(sysroot) / python.lstrip("/"), elf_tools):
        return ImportOutcome((), (f"dynamic import check skipped: {target.target_arch} opts out of qemu-usermode "
                                  f"(MACHINE_FEATURES_OPTED_OUT)",), ())
    findings: list[Finding] = []
    imported: list[str] = []
    needs: list[tuple[str, str]] = []
    with tempfile.TemporaryDirectory(prefix="pyrust-import-") as tmp:
        scratch = Path(tmp)
        copies = _copy_roots(modules, scratch)
        workdir = scratch / "cwd"
        workdir.mkdir()
        roots = [str(copies[r]) for r in sorted(copies)] + list(extra_paths)
        pending = [m.name for m in modules]
        # (name, its package directory in the scratch copy, its file name without suffix as the root shows it)
        items = {m.name: (m.name, str(copies[m.root] / m.path.parent.relative_to(m.root)),
                          (m.path.parent.relative_to(m.root) / m.name.rsplit(".", 1)[-1]).as_posix()) for m in modules}
        while pending:
            code = IMPORT_SCRIPT.format(roots=roots, items=[items[name] for name in pending])
            try:
                result = qemurun.run_target_python(target.qemu_binary, target.qemu_options, sysroot, python, code,
                                                   cwd=workdir, timeout=timeout, elf_tools=elf_tools)
            except (qemurun.TargetRunError, FileNotFoundError) as err:
                # No qemu, the wrong qemu, no loader: the modules could not be tried, and a
                # check that could not run must not look like a pass.
                findings += [Finding(QA_IMPORT, shown.get(name, name), f"could not import '{name}' on the target: {err} "
                                     f"(install qemu-user, or skip the import check)") for name in pending]
                return ImportOutcome(tuple(findings), (), tuple(imported))
            started = None
            done = set()
            for line in result.stdout.splitlines():
                parts = line.split(" ", 2)
                if parts[0] == "PYRUST-START":
                    started = parts[1]
                elif parts[0] == "PYRUST-OK":
                    imported.append(parts[1])
                    done.add(parts[1])
                elif parts[0] == "PYRUST-NEEDS" and len(parts) == 3:
                    needs.append((parts[1], parts[2]))
                    done.add(parts[1])
                elif parts[0] == "PYRUST-FAIL":
                    done.add(parts[1])
                    findings.append(Finding(QA_IMPORT, shown.get(parts[1], parts[1]),
                                            f"import of '{parts[1]}' failed on the target: "
                                            + _unscratch(parts[2] if len(parts) > 2 else "", modules, copies)))
            if started is not None and started not in done:
                if result.timed_out:
                    how = f"did not finish within {timeout:g} s (killed)"
                elif result.signal:
                    how = f"killed the interpreter with signal {result.signal}"
                else:
                    how = f"ended the interpreter with exit status {result.returncode}"
                last = _unscratch(_tail(result.stderr + "\n" + result.stdout), modules, copies)
                findings.append(Finding(QA_IMPORT, shown.get(started, started),
                                        f"import of '{started}' {how}" + (f"; last output: {last}" if last else "")))
                done.add(started)
            elif started is None and result.returncode != 0:
                last = _unscratch(_tail(result.stderr + "\n" + result.stdout), modules, copies)
                return ImportOutcome(tuple(findings), (f"dynamic import check skipped: the target interpreter failed to start "
                                                       f"(exit status {result.returncode}): {last}",), tuple(imported),
                                     tuple(needs))
            if not done:
                last = _unscratch(_tail(result.stderr + "\n" + result.stdout), modules, copies)
                return ImportOutcome(tuple(findings), (f"dynamic import check incomplete: the interpreter gave no verdict "
                                                       f"(exit status {result.returncode}): {last}",), tuple(imported),
                                     tuple(needs))
            pending = [name for name in pending if name not in done]
    notes = tuple(f"'{name}' loaded; its initialisation imports '{dep}', which the target root does not hold "
                  f"(a runtime dependency, RDEPENDS: not staged at build time)" for name, dep in needs)
    return ImportOutcome(tuple(findings), notes, tuple(imported), tuple(needs))


@dataclasses.dataclass(frozen=True)
class RootfsReport:
    """What :func:`check_rootfs` found: the ABI used, modules, findings, notes."""

    abi: PythonABI
    warnings: tuple[str, ...]
    modules: tuple[Module, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...]
    imported: tuple[str, ...]


def check_rootfs(rootfs: Path, target: Target, timeout: float = 300.0, python_version: str | None = None,
                 elf_tools: ElfTools | None = None, release: str | None = None) -> RootfsReport:
    """Check every extension module of an image's root filesystem with its own python3.

    Args:
        rootfs: the image root (``${IMAGE_ROOTFS}``, or any assembled tree) holding
            ``usr/bin/python3*`` and the standard library's ``_sysconfigdata*.py``.
        target: the image's target.
        timeout: seconds for the one interpreter run.
        python_version: "3.X" to choose among several interpreters in the image.
        elf_tools: how to read ELF files (None: pyelftools; BitBake: see
            :func:`pyrust.datastore.elf_tools`).
        release: the openembedded-core release the image is built with (BitBake:
            :func:`pyrust.datastore.release`); its python3's rules are what the image's
            own ABI is compared with (:func:`pyrust.resolve.resolve_abi`). None: master's.

    Returns:
        :class:`RootfsReport`: the static findings over the whole tree, then one
        import run of every extension module with the image's interpreter under
        qemu-user (each failure named per module).

    Raises:
        InputError: the image has no or several Python ABIs (see
            :func:`pyrust.resolve.resolve_abi`).
    """
    from pyrust.resolve import resolve_abi

    resolution = resolve_abi(target, python_version, None, rootfs, require_sysroot_abi=True, release=release)
    abi = resolution.abi
    modules, findings = static_check(rootfs, target, abi, shown_root="", elf_tools=elf_tools)
    python = find_interpreter(rootfs, abi.version)
    if python is None:
        outcome = ImportOutcome((), (f"dynamic import check skipped: no usr/bin/python3 in {rootfs}",), ())
    else:
        outcome = import_check(modules, target, rootfs, python, timeout=timeout, elf_tools=elf_tools)
        # An image holds the runtime dependencies: one it lacks fails the import on the device.
        findings += [Finding(QA_IMPORT, name, f"import of '{name}' failed on the target: ModuleNotFoundError: "
                                              f"No module named '{dep}' (a runtime dependency the image lacks)")
                     for name, dep in outcome.needs]
    return RootfsReport(abi, resolution.warnings, tuple(modules), tuple(findings) + outcome.findings,
                        tuple(n for n in outcome.notes if not n.endswith("not staged at build time)")), outcome.imported)
