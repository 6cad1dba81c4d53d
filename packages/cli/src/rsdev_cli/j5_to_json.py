"""`j5-to-json`: validate JSON5 and write it as strict JSON (RFC 8259).

NaN and Infinity have no JSON spelling: they are an error naming file:line:col, unless
`--nan null` (write null) or `--nan string` (write "NaN", "Infinity", "-Infinity") says what to
do. `--indent N` (default 2; 0 writes one line). Non-ASCII text is written as is (UTF-8);
`--ascii` escapes it. Duplicate keys keep the last value, as JSON5 and JSON parsers do.
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Sequence

import json5format
from rsdev_cli.common import convert_file, run
from rsdev_cli.errors import CliError
from rsdev_cli.scan import nonfinite_positions


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="j5-to-json", description="Validate JSON5 and write it as strict JSON.")
    p.add_argument("file", metavar="FILE", help='a JSON5 file ("-" for stdin)')
    p.add_argument("--indent", type=int, default=2, metavar="N", help="indent by N spaces; 0 for one line")
    p.add_argument("--nan", choices=("null", "string"), help="write NaN/Infinity as null or as a string")
    p.add_argument("--ascii", action="store_true", help="escape non-ASCII characters")
    p.add_argument("--output", "-o", metavar="OUT", help="write to OUT instead of stdout")
    return p


def replace_nonfinite(value: object, mode: str) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        if mode == "null":
            return None
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: replace_nonfinite(item, mode) for key, item in value.items()}
    if isinstance(value, list):
        return [replace_nonfinite(item, mode) for item in value]
    return value


def to_json(value: object, indent: int = 2, *, ascii_only: bool = False) -> str:
    if indent == 0:
        return json.dumps(value, ensure_ascii=ascii_only, allow_nan=False, separators=(",", ":")) + "\n"
    return json.dumps(value, ensure_ascii=ascii_only, allow_nan=False, indent=indent) + "\n"


def convert(text: str, source: str, *, indent: int = 2, nan: str | None = None, ascii_only: bool = False) -> str:
    value = json5format.loads(text, source=source)
    if nan is not None:
        value = replace_nonfinite(value, nan)
    try:
        return to_json(value, indent, ascii_only=ascii_only)
    except ValueError:
        positions = nonfinite_positions(text)
        line, column, token = positions[0] if positions else (1, 1, "NaN")
        raise CliError(
            f"{source}:{line}:{column}", f"{token} is not JSON; use --nan null or --nan string to write it"
        ) from None


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.indent < 0:
        parser().error(f"argument --indent: expected 0 or more, found {args.indent}")
    return convert_file(
        args.file,
        args.output,
        lambda text, source: convert(text, source, indent=args.indent, nan=args.nan, ascii_only=args.ascii),
    )


def entry() -> int:
    return run(main)


if __name__ == "__main__":
    raise SystemExit(entry())
