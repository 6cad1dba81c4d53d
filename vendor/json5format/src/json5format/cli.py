"""`formatjson5`: format JSON5 files in one style, keeping comments (after Google's formatjson5).

Files are read as UTF-8 (`-` is stdin). The formatted text goes to stdout, or back into each
file with --replace; --check and --diff only report. Exit status: 0 done (or nothing would
change), 1 a file would change (--check) or could not be read or parsed, 2 bad usage.
"""

from __future__ import annotations

import argparse
import difflib
import sys
from collections.abc import Sequence
from pathlib import Path

from . import __version__
from .errors import ParseError
from .formatter import format as format_text
from .options import FormatOptions


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="formatjson5", description="Format JSON5 documents to a consistent style, preserving comments."
    )
    parser.add_argument("files", nargs="+", metavar="FILE", help='files to format ("-" for stdin)')
    parser.add_argument("-r", "--replace", action="store_true", help="write the result back into each file")
    parser.add_argument("-i", "--indent", type=int, default=4, metavar="N", help="indent by N spaces (default 4)")
    parser.add_argument(
        "-n", "--no_trailing_commas", action="store_true", help="no comma after the last item of an object or array"
    )
    parser.add_argument(
        "-o",
        "--one_element_lines",
        action="store_true",
        help="write an object or array holding one string, number or literal on one line",
    )
    parser.add_argument(
        "-s", "--sort_arrays", action="store_true", help="sort arrays of strings, numbers and literals by text"
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="write nothing; list files that would change, exit 1 if any")
    mode.add_argument("--diff", action="store_true", help="write nothing; print a unified diff of the changes")
    parser.add_argument("-V", "--version", action="version", version=f"%(prog)s {__version__}")
    return parser


def _read(name: str) -> str:
    if name == "-":
        return sys.stdin.buffer.read().decode("utf-8")
    return Path(name).read_bytes().decode("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.indent < 0:
        parser.error(f"argument -i/--indent: expected 0 or more spaces, found {args.indent}")
    if args.replace and (args.check or args.diff):
        parser.error("argument -r/--replace: not allowed with --check or --diff")
    options = FormatOptions(
        indent=args.indent,
        trailing_commas=not args.no_trailing_commas,
        collapse_containers_of_one=args.one_element_lines,
        sort_arrays=args.sort_arrays,
    )
    status = 0
    # Parse everything first, as upstream does: one bad file means no file is rewritten.
    results: list[tuple[str, str, str]] = []
    for name in args.files:
        label = "<stdin>" if name == "-" else name
        try:
            original = _read(name)
            results.append((name, original, format_text(original, options, source=label)))
        except ParseError as exc:
            print(exc, file=sys.stderr)
            status = 1
        except (OSError, UnicodeDecodeError) as exc:
            print(f"{label}: cannot read: {exc}", file=sys.stderr)
            status = 1
    if status:
        return status
    out = sys.stdout
    several = len(results) > 1
    for index, (name, original, formatted) in enumerate(results):
        label = "<stdin>" if name == "-" else name
        if args.check:
            if formatted != original:
                print(f"would reformat {label}", file=out)
                status = 1
        elif args.diff:
            out.writelines(
                difflib.unified_diff(
                    original.splitlines(keepends=True),
                    formatted.splitlines(keepends=True),
                    fromfile=f"{label} (original)",
                    tofile=f"{label} (formatted)",
                )
            )
        elif args.replace and name != "-":
            if formatted != original:
                Path(name).write_bytes(formatted.encode("utf-8"))
        else:
            if several:
                # Upstream's layout for several files: a blank line, the name, a rule.
                if index:
                    out.write("\n")
                out.write(f"{label}:\n{'=' * len(label)}\n")
            out.write(formatted)
    out.flush()
    return status


if __name__ == "__main__":
    raise SystemExit(main())
