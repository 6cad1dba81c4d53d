"""`j5-format`: lay out JSON5 files in one style, keeping every comment (json5format).

Formats each FILE (or stdin for `-`) to stdout, or back into the file with --in-place; --check
writes nothing and lists the files that would change (exit 1 if any), like formatjson5's.
Style: --indent, --no-trailing-commas, --one-element-lines, --sort-arrays, and --options FILE, a
JSON5 object with the same choices and a property order:

    { indent: 2, trailing_commas: false, one_element_lines: true, sort_arrays: false,
      property_order: { "": ["name", "version"], "services.*": ["name", "command"] } }

Flags given on the command line win over the options file. Every file is parsed before any is
rewritten: one bad file means none changes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import json5format
from json5format import FormatOptions
from lib_common.schema import Array, Bool, Int, Object, Str, validate
from rsdev_cli.common import STDIN, error, label, read_text, run, write_file, write_stdout
from rsdev_cli.errors import CliError

OPTIONS_SCHEMA = Object(
    {
        "indent": Int(minimum=0, maximum=16),
        "trailing_commas": Bool(),
        "one_element_lines": Bool(),
        "sort_arrays": Bool(),
        "property_order": Object({}, extra=Array(Str())),
    }
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="j5-format", description="Format JSON5 files, keeping comments.")
    p.add_argument("files", nargs="+", metavar="FILE", help='files to format ("-" for stdin)')
    p.add_argument("--in-place", "-i", action="store_true", help="write the result back into each file")
    p.add_argument("--check", action="store_true", help="write nothing; list files that would change, exit 1 if any")
    p.add_argument("--indent", type=int, metavar="N", help="indent by N spaces (default 4)")
    p.add_argument("--no-trailing-commas", action="store_true", help="no comma after the last item")
    p.add_argument("--one-element-lines", action="store_true", help="an object or array of one scalar on one line")
    p.add_argument("--sort-arrays", action="store_true", help="sort arrays of scalars by text")
    p.add_argument("--options", metavar="FILE", help="a JSON5 options file (see the module help)")
    return p


def load_options(name: str) -> dict[str, object]:
    data = json5format.loads(read_text(name), source=label(name))
    problems = validate(data, OPTIONS_SCHEMA)
    if problems:
        raise CliError(label(name), "; ".join(f"{p.path or 'top level'}: {p.message}" for p in problems))
    assert isinstance(data, dict)
    return data


def options_from(args: argparse.Namespace) -> FormatOptions:
    chosen: dict[str, object] = load_options(args.options) if args.options else {}
    indent = args.indent if args.indent is not None else chosen.get("indent", 4)
    if not isinstance(indent, int) or indent < 0:
        raise CliError("--indent", f"expected 0 or more spaces, found {indent}")
    order = chosen.get("property_order", {})
    assert isinstance(order, dict)
    return FormatOptions(
        indent=indent,
        trailing_commas=not args.no_trailing_commas and bool(chosen.get("trailing_commas", True)),
        collapse_containers_of_one=args.one_element_lines or bool(chosen.get("one_element_lines", False)),
        sort_arrays=args.sort_arrays or bool(chosen.get("sort_arrays", False)),
        property_order=order,
    )


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.in_place and args.check:
        parser().error("--in-place and --check do not go together")
    options = options_from(args)
    results: list[tuple[str, str, str]] = []
    failed = False
    for name in args.files:
        try:
            original = read_text(name)
            results.append((name, original, json5format.format(original, options, source=label(name))))
        except (CliError, json5format.ParseError) as exc:
            error(exc)
            failed = True
    if failed:
        return 1
    status = 0
    several = len(results) > 1
    for index, (name, original, formatted) in enumerate(results):
        if args.check:
            if formatted != original:
                write_stdout(f"would reformat {label(name)}\n")
                status = 1
        elif args.in_place and name != STDIN:
            if formatted != original:
                write_file(name, formatted)
        elif several:
            # formatjson5's layout for several files: a blank line, the name, a rule.
            head = f"{label(name)}:\n{'=' * len(label(name))}\n"
            write_stdout(("\n" if index else "") + head + formatted)
        else:
            write_stdout(formatted)
    return status


def entry() -> int:
    return run(main)


if __name__ == "__main__":
    raise SystemExit(entry())
