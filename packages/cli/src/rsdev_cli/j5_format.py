"""`j5-format`: lay out JSON5 files in one style, keeping every comment (json5format).

Formats each FILE (or stdin for `-`) to stdout, or back into the file with --in-place; --check
writes nothing and lists the files that would change (exit 1 if any), like formatjson5's.
Style: --indent, --no-trailing-commas, --one-element-lines, --sort-arrays, and --options FILE, a
JSON5 object with the same choices and a property order:

    { indent: 2, trailing_commas: false, one_element_lines: true, sort_arrays: false,
      property_order: { "": ["name", "version"], "services.*": ["name", "command"] } }

Flags given on the command line win over the options file, which is read as every rsdev config
is (lib_common.config, docs/config.md, but with no RSDEV__ variables): each problem on its own
line as `FILE:LINE:COL: path: message`, all of them at once (exit 1). Every file is parsed
before any is rewritten: one bad file means none changes.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from dataclasses import dataclass, field

import json5format
from json5format import FormatOptions
from lib_common.config import Section, parse_config
from rsdev_cli.common import STDIN, error, label, read_text, run, write_file, write_stdout
from rsdev_cli.errors import CliError


@dataclass(frozen=True, slots=True)
class Style:
    """What an options file (`--options`) chooses; the flags given win over it."""

    indent: int = 4
    trailing_commas: bool = True
    one_element_lines: bool = False
    sort_arrays: bool = False
    property_order: dict[str, list[str]] = field(default_factory=dict)


def read_style(root: Section) -> Style:
    """An options file, read as every rsdev config is (lib_common.config): each problem with its
    file:line:col, all of them at once."""
    root.only(["indent", "trailing_commas", "one_element_lines", "sort_arrays", "property_order"])
    default = Style()
    order = root.section("property_order")
    paths = order.keys()  # each a path in the document: the names that come first there
    return Style(
        indent=root.integer("indent", default.indent, minimum=0, maximum=16),
        trailing_commas=root.flag("trailing_commas", default.trailing_commas),
        one_element_lines=root.flag("one_element_lines", default.one_element_lines),
        sort_arrays=root.flag("sort_arrays", default.sort_arrays),
        property_order={path: names for path in paths if (names := order.optional_str_list(path)) is not None},
    )


def load_style(name: str | None) -> Style:
    """The options file `name` (`-`: stdin; None: no file, the defaults). No RSDEV__ variables:
    the file alone says what it chooses."""
    if name is None:
        return Style()
    return parse_config(read_text(name), read_style, source=label(name), env={})


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


def options_from(args: argparse.Namespace) -> FormatOptions:
    style = load_style(args.options)
    indent = args.indent if args.indent is not None else style.indent
    if indent < 0:
        raise CliError("--indent", f"expected 0 or more spaces, found {indent}")
    return FormatOptions(
        indent=indent,
        trailing_commas=not args.no_trailing_commas and style.trailing_commas,
        collapse_containers_of_one=args.one_element_lines or style.one_element_lines,
        sort_arrays=args.sort_arrays or style.sort_arrays,
        property_order=style.property_order,
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
