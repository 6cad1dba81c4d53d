"""`dir-to-yaml`: a directory of config files (JSON5, JSON, YAML) as one YAML document.

Every `*.json5`, `*.json`, `*.yaml` and `*.yml` file below DIR becomes one entry keyed by its
path relative to DIR (`/`-separated), in sorted order, so the same tree always gives the same
document. JSON5/JSON comments are carried over as in j5-to-yaml, YAML comments as ruamel keeps
them; strings are quoted for YAML 1.1 readers. `--split OUTDIR` writes one YAML file per input
instead (`a/b.json5` to `OUTDIR/a/b.yaml`). Directories that are symlinks are not followed.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import MarkedYAMLError, YAMLError

import json5format
from rsdev_cli.common import read_text, run, write_file, write_stdout
from rsdev_cli.errors import CliError
from rsdev_cli.yamlout import dump, from_document, make_safe, safe_str, yaml_writer

SUFFIXES = (".json5", ".json", ".yaml", ".yml")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="dir-to-yaml", description="Collect a tree of config files into YAML.")
    p.add_argument("dir", metavar="DIR", help="the directory to read")
    p.add_argument("--split", metavar="OUTDIR", help="write one YAML file per input below OUTDIR")
    p.add_argument("--indent", type=int, default=2, metavar="N", help="indent by N spaces (default 2, 2..9)")
    p.add_argument("--width", type=int, default=80, metavar="N", help="fold lines longer than N (default 80)")
    return p


def config_files(root: Path) -> list[str]:
    """Relative `/` paths of the config files below `root`, sorted."""
    found: list[str] = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in files:
            if name.endswith(SUFFIXES):
                found.append(Path(folder, name).relative_to(root).as_posix())
    return sorted(found)


def load(path: Path, indent: int, column: int = 0) -> tuple[object, list[str], list[str]]:
    """A file's YAML value and the comment lines before and after it."""
    shown = str(path)
    text = read_text(shown)
    if path.suffix in (".json5", ".json"):
        return from_document(json5format.parse(text, source=shown), indent, column)
    try:
        documents = list(YAML(typ="rt").load_all(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{shown}:{mark.line + 1}:{mark.column + 1}" if mark else shown
        raise CliError(where, str(exc.problem or exc.context or "not YAML")) from None
    except YAMLError as exc:
        raise CliError(shown, f"not YAML: {exc}") from None
    if len(documents) != 1:
        raise CliError(shown, f"expected one YAML document, found {len(documents)}")
    return make_safe(documents[0]), [], []


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not 2 <= args.indent <= 9:
        p.error(f"argument --indent: expected 2 to 9, found {args.indent}")
    root = Path(args.dir)
    if not root.is_dir():
        raise CliError(args.dir, "not a directory")
    yaml = yaml_writer(args.indent, args.width)
    names = config_files(root)
    if args.split:
        outputs: dict[str, str] = {}
        for name in names:
            target = str(Path(name).with_suffix(".yaml").as_posix())
            if target in outputs:
                raise CliError(name, f"would write {target}, like {outputs[target]}")
            outputs[target] = name
        converted = [(target, load(root / name, args.indent)) for target, name in outputs.items()]
        for target, (value, head, tail) in converted:
            out = Path(args.split, target)
            out.parent.mkdir(parents=True, exist_ok=True)
            write_file(out, dump(value, yaml, head, tail))
        return 0
    document = CommentedMap()
    carried: list[str] = []
    for name in names:
        value, head, tail = load(root / name, args.indent, args.indent)
        key = safe_str(name)
        document[key] = value
        if carried + head:
            document.yaml_set_comment_before_after_key(key, before="\n".join(carried + head), indent=0)
        carried = tail
    write_stdout(dump(document, yaml, [], carried))
    return 0


def entry() -> int:
    return run(main)


if __name__ == "__main__":
    raise SystemExit(entry())
