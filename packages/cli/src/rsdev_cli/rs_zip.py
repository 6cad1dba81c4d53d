"""`rs_zip`: reproducible deployment bundles with a manifest, and their verification.

    rs_zip create OUT.zip DIR [--include GLOB ...] [--exclude GLOB ...] [--force]
    rs_zip verify OUT.zip        exit 1 naming every file that does not match the manifest
    rs_zip list OUT.zip          the manifest: size, sha256 and path of every file

The same files give a byte-identical zip: entries in sorted path order, every timestamp
1980-01-01 00:00:00 (the earliest a zip can hold), mode 0644 (0755 for files executable by
their owner), Unix as the creating system, deflate at level 9, no extra fields, and a
`MANIFEST.json` last (sorted keys) with the sha256 and size of every file. GLOBs match the
path relative to DIR (`/`-separated, fnmatch rules: `*` crosses `/`) or the file's name;
without --include every regular file is taken. Directories that are symlinks are not followed.
An existing OUT.zip is replaced only with --force; without it `create` exits 2 and writes nothing.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import io
import json
import os
import stat
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from rsdev_cli.common import error, run, write_stdout
from rsdev_cli.errors import CliError, UsageError

MANIFEST = "MANIFEST.json"
EPOCH = (1980, 1, 1, 0, 0, 0)
_UNIX = 3
_FILE_MODE = 0o100644
_EXEC_MODE = 0o100755


@dataclass(frozen=True, slots=True)
class Entry:
    path: str
    size: int
    sha256: str


def matches(path: str, patterns: Sequence[str]) -> bool:
    name = PurePosixPath(path).name
    return any(fnmatch.fnmatchcase(path, p) or fnmatch.fnmatchcase(name, p) for p in patterns)


def select(root: Path, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> list[str]:
    """Relative `/` paths of the regular files below `root` to bundle, sorted by their UTF-8 bytes."""
    chosen: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            full = Path(folder, name)
            if not full.is_file():
                continue  # sockets, fifos, dangling links
            rel = full.relative_to(root).as_posix()
            if (include and not matches(rel, include)) or matches(rel, exclude):
                continue
            chosen.append(rel)
    if MANIFEST in chosen:
        raise CliError(str(root / MANIFEST), f"{MANIFEST} is the bundle's own manifest; exclude it or rename it")
    return sorted(chosen, key=lambda p: p.encode("utf-8"))


def _info(name: str, mode: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=EPOCH)
    info.create_system = _UNIX
    info.external_attr = mode << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    return info


def manifest_bytes(entries: Sequence[Entry]) -> bytes:
    files = [{"path": e.path, "sha256": e.sha256, "size": e.size} for e in entries]
    return (json.dumps({"files": files, "version": 1}, indent=2, sort_keys=True) + "\n").encode("utf-8")


def _refuse_existing(out: str | Path) -> UsageError:
    return UsageError(str(out), "already exists; add --force to replace it")


def create(
    out: str | Path,
    root: Path,
    include: Sequence[str] = (),
    exclude: Sequence[str] = (),
    *,
    force: bool = False,
) -> list[Entry]:
    """Bundle `root` into `out`; an existing `out` is replaced only with `force`."""
    if not force and os.path.lexists(out):
        raise _refuse_existing(out)  # before the work, not only after it
    if not root.is_dir():
        raise CliError(str(root), "not a directory")
    entries: list[Entry] = []
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for rel in select(root, include, exclude):
            path = root / rel
            try:
                data = path.read_bytes()
                executable = bool(path.stat().st_mode & stat.S_IXUSR)
            except OSError as exc:
                raise CliError(str(path), f"cannot read: {exc.strerror or exc}") from None
            bundle.writestr(_info(rel, _EXEC_MODE if executable else _FILE_MODE), data, compresslevel=9)
            entries.append(Entry(rel, len(data), hashlib.sha256(data).hexdigest()))
        bundle.writestr(_info(MANIFEST, _FILE_MODE), manifest_bytes(entries), compresslevel=9)
    try:
        # "x": a file that appeared while the bundle was being built is still not replaced.
        with Path(out).open("wb" if force else "xb") as target:
            target.write(buffer.getvalue())
    except FileExistsError:
        raise _refuse_existing(out) from None
    except OSError as exc:
        raise CliError(str(out), f"cannot write: {exc.strerror or exc}") from None
    return entries


def read_manifest(bundle: zipfile.ZipFile, where: str) -> list[Entry]:
    try:
        data = json.loads(bundle.read(MANIFEST))
        return [Entry(str(f["path"]), int(f["size"]), str(f["sha256"])) for f in data["files"]]
    except KeyError:
        raise CliError(where, f"no {MANIFEST} in the bundle, or it lacks 'files'") from None
    except (ValueError, TypeError, zipfile.BadZipFile) as exc:
        raise CliError(f"{where}: {MANIFEST}", f"unreadable manifest: {exc}") from None


def _open(path: str) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except OSError as exc:
        raise CliError(path, f"cannot read: {exc.strerror or exc}") from None
    except zipfile.BadZipFile as exc:
        raise CliError(path, f"not a zip file: {exc}") from None


def verify(path: str) -> list[str]:
    """Every mismatch between the bundle's files and its manifest, one message each."""
    problems: list[str] = []
    with _open(path) as bundle:
        listed = {e.path: e for e in read_manifest(bundle, path)}
        present = [name for name in bundle.namelist() if name != MANIFEST]
        for name in present:
            entry = listed.get(name)
            if entry is None:
                problems.append(f"{path}: {name}: in the zip but not in {MANIFEST}")
                continue
            try:
                data = bundle.read(name)
            except (zipfile.BadZipFile, OSError, ValueError) as exc:
                problems.append(f"{path}: {name}: unreadable entry: {exc}")
                continue
            digest = hashlib.sha256(data).hexdigest()
            if len(data) != entry.size:
                problems.append(f"{path}: {name}: size {len(data)}, manifest says {entry.size}")
            if digest != entry.sha256:
                problems.append(f"{path}: {name}: sha256 {digest}, manifest says {entry.sha256}")
        for name in sorted(set(listed) - set(present)):
            problems.append(f"{path}: {name}: in {MANIFEST} but missing from the zip")
    return problems


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="rs_zip", description="Reproducible deployment bundles.")
    sub = p.add_subparsers(dest="command", required=True)
    make = sub.add_parser("create", help="bundle DIR into OUT.zip")
    make.add_argument("out", metavar="OUT.zip")
    make.add_argument("dir", metavar="DIR")
    make.add_argument("--include", action="append", default=[], metavar="GLOB", help="take only matching files")
    make.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="leave matching files out")
    make.add_argument("--force", action="store_true", help="replace OUT.zip if it exists (else: exit 2)")
    check = sub.add_parser("verify", help="check every file against MANIFEST.json; exit 1 on any mismatch")
    check.add_argument("zip", metavar="OUT.zip")
    show = sub.add_parser("list", help="print size, sha256 and path of every file")
    show.add_argument("zip", metavar="OUT.zip")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command == "create":
        entries = create(args.out, Path(args.dir), args.include, args.exclude, force=args.force)
        error(f"{args.out}: {len(entries)} files")
        return 0
    if args.command == "verify":
        problems = verify(args.zip)
        for problem in problems:
            error(problem)
        if not problems:
            error(f"{args.zip}: ok")
        return 1 if problems else 0
    with _open(args.zip) as bundle:
        entries = read_manifest(bundle, args.zip)
    write_stdout("".join(f"{e.size}\t{e.sha256}\t{e.path}\n" for e in entries))
    return 0


def entry() -> int:
    return run(main)


if __name__ == "__main__":
    raise SystemExit(entry())
