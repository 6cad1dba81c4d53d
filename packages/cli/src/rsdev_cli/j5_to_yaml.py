"""`j5-to-yaml`: JSON5 to YAML (ruamel.yaml), comments and key order kept, safe for YAML 1.1 readers.

Strings a YAML 1.1 or 1.2 reader would take for booleans, nulls, numbers or dates (`yes`, `on`,
`n`, `012`, `1:20`, `2001-01-01`) are double-quoted; see rsdev_cli.yamlout. `--indent N`
(default 2) and `--width N` (default 80; longer strings fold).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import json5format
from rsdev_cli.common import convert_file, run
from rsdev_cli.yamlout import dump, from_document, yaml_writer


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="j5-to-yaml", description="Convert JSON5 to YAML, keeping comments.")
    p.add_argument("file", metavar="FILE", help='a JSON5 file ("-" for stdin)')
    p.add_argument("--indent", type=int, default=2, metavar="N", help="indent by N spaces (default 2, 2..9)")
    p.add_argument("--width", type=int, default=80, metavar="N", help="fold lines longer than N (default 80)")
    p.add_argument("--output", "-o", metavar="OUT", help="write to OUT instead of stdout")
    return p


def convert(text: str, source: str = "<input>", *, indent: int = 2, width: int = 80) -> str:
    value, head, tail = from_document(json5format.parse(text, source=source), indent)
    return dump(value, yaml_writer(indent, width), head, tail)


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    if not 2 <= args.indent <= 9:
        p.error(f"argument --indent: expected 2 to 9, found {args.indent}")
    if args.width < 20:
        p.error(f"argument --width: expected 20 or more, found {args.width}")
    return convert_file(
        args.file, args.output, lambda text, source: convert(text, source, indent=args.indent, width=args.width)
    )


def entry() -> int:
    return run(main)


if __name__ == "__main__":
    raise SystemExit(entry())
