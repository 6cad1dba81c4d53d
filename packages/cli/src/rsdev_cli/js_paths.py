"""`js-paths`: list the paths in a JSON5 or JSON document, and turn gron back into JSON.

Formats (`--format`):

    gron     json.a.b[0] = 1;          assignments, one a line, with the values (gron's format)
    pointer  /a/b/0                    JSON Pointer, `~` and `/` escaped as ~0 and ~1 (RFC 6901)
    jq       .a.b[0]                   jq's path syntax; keys that are not identifiers as ["..."]
    dotted   a.b.0                     keys and indexes joined by dots; other keys as "..."

`--leaves` (the default) lists scalars and empty objects and arrays; `--all` every node, the
top-level one (empty path) included, in document order. `--values` appends ` = VALUE` (JSON)
to the pointer, jq and dotted forms. `--ungron` reads gron assignments (`-` or FILE) and writes
the JSON document they build, so `js-paths --format gron F | js-paths --ungron -` gives F's value.
`--get PATH` prints the value at PATH as JSON (PATH in any of the four syntaxes, see
rsdev_cli.value_path), or exits 1 saying which step leads nowhere.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterator, Sequence

import json5format
from rsdev_cli.common import label, read_text, run, write_stdout
from rsdev_cli.errors import CliError
from rsdev_cli.j5_to_json import to_json
from rsdev_cli.value_path import PathNotFound, PathSyntaxError, lookup, parse

Segment = str | int
_JS_IDENT = re.compile(r"[A-Za-z_$][A-Za-z0-9_$]*\Z")
_JQ_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_DOTTED_PLAIN = re.compile(r"(?![0-9]+\Z)[A-Za-z0-9_-]+\Z")
FORMATS = ("gron", "pointer", "jq", "dotted")


def quoted(key: str) -> str:
    """A JSON string literal that survives line-based reading (U+2028/9 escaped too)."""
    return json.dumps(key, ensure_ascii=False).replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def gron_path(path: Sequence[Segment]) -> str:
    parts = ["json"]
    for seg in path:
        if isinstance(seg, int):
            parts.append(f"[{seg}]")
        else:
            parts.append(f".{seg}" if _JS_IDENT.match(seg) else f"[{quoted(seg)}]")
    return "".join(parts)


def pointer_path(path: Sequence[Segment]) -> str:
    return "".join("/" + str(seg).replace("~", "~0").replace("/", "~1") for seg in path)


def jq_path(path: Sequence[Segment]) -> str:
    parts: list[str] = []
    for seg in path:
        if isinstance(seg, int):
            parts.append(f"[{seg}]")
        else:
            parts.append(f".{seg}" if _JQ_IDENT.match(seg) else f"[{quoted(seg)}]")
    text = "".join(parts)
    return "." + text if not text.startswith(".") else text


def dotted_path(path: Sequence[Segment]) -> str:
    return ".".join(str(seg) if isinstance(seg, int) or _DOTTED_PLAIN.match(seg) else quoted(seg) for seg in path)


def value_text(value: object) -> str:
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    # NaN and Infinity as JSON5 spells them: --ungron reads values with json5format.
    if isinstance(value, float) and value != value:
        return "NaN"
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return quoted(value) if isinstance(value, str) else json.dumps(value)


def walk(value: object, *, everything: bool = False) -> Iterator[tuple[list[Segment], object]]:
    """(path, value) of every leaf, or with `everything` of every node, in document order."""
    stack: list[tuple[list[Segment], object]] = [([], value)]
    while stack:
        path, node = stack.pop()
        children: list[tuple[Segment, object]] = []
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list):
            children = list(enumerate(node))
        if everything or not children:
            yield path, node
        for seg, child in reversed(children):
            stack.append(([*path, seg], child))


def lines(value: object, fmt: str, *, everything: bool = False, values: bool = False) -> Iterator[str]:
    for path, node in walk(value, everything=everything):
        if fmt == "gron":
            yield f"{gron_path(path)} = {value_text(node)};"
            continue
        if fmt == "dotted" and not path:
            continue  # the top level has no dotted name
        text = {"pointer": pointer_path, "jq": jq_path, "dotted": dotted_path}[fmt](path)
        yield f"{text} = {value_text(node)}" if values else text


_STATEMENT = re.compile(r"\s*json")
_SEGMENT = re.compile(r"\.([A-Za-z_$][A-Za-z0-9_$]*)|\[([0-9]+)\]|\[(\"(?:[^\"\\]|\\.)*\")\]")
_ASSIGN = re.compile(r"\s*=\s*")


def ungron(text: str, source: str) -> object:
    """The value that gron assignments build; errors name source:line:col."""
    root: list[object] = [None]  # a box, so the top level is set like any other slot
    for number, line in enumerate(text.split("\n"), 1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        where = f"{source}:{number}"
        match = _STATEMENT.match(line)
        if match is None:
            raise CliError(f"{where}:1", "expected a statement starting with 'json'")
        pos = match.end()
        path: list[Segment] = []
        while (seg := _SEGMENT.match(line, pos)) is not None:
            name, index, string = seg.groups()
            path.append(int(index) if index is not None else name if name is not None else json.loads(string))
            pos = seg.end()
        assign = _ASSIGN.match(line, pos)
        if assign is None:
            raise CliError(f"{where}:{pos + 1}", "expected '.key', '[index]', '[\"key\"]' or ' = '")
        body = line[assign.end() :].rstrip()
        if not body.endswith(";"):
            raise CliError(f"{where}:{len(line) + 1}", "expected ';' at the end of the statement")
        try:
            value = json5format.loads(body[:-1], source=source)
        except json5format.ParseError as exc:
            raise CliError(f"{where}:{assign.end() + exc.column}", exc.message) from None
        if isinstance(value, dict | list) and value:
            raise CliError(f"{where}:{assign.end() + 1}", "expected a scalar, {} or []")
        _assign(root, [0, *path], value, f"{where}:1")
    return root[0]


def _assign(root: list[object], path: list[Segment], value: object, where: str) -> None:
    node: object = root
    for depth, seg in enumerate(path):
        last = depth == len(path) - 1
        want: object = value if last else ({} if isinstance(path[depth + 1], str) else [])
        if isinstance(seg, int):
            if not isinstance(node, list):
                raise CliError(where, f"index [{seg}] into {type(node).__name__}, not an array")
            while len(node) <= seg:
                node.append(None)
            if last or not isinstance(node[seg], dict | list):
                node[seg] = want if last or node[seg] is None else _conflict(where, path[: depth + 1])
            node = node[seg]
        else:
            if not isinstance(node, dict):
                raise CliError(where, f"key {seg!r} into {type(node).__name__}, not an object")
            if last or seg not in node:
                node[seg] = want
            node = node[seg]


def _conflict(where: str, path: Sequence[Segment]) -> object:
    raise CliError(where, f"{gron_path(path[1:])} is a scalar, not an object or array")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="js-paths", description="List the paths in a JSON5/JSON document.")
    p.add_argument("file", metavar="FILE", help='a JSON5 or JSON file, or gron with --ungron ("-" for stdin)')
    p.add_argument("--format", "-f", choices=FORMATS, default="gron", help="path syntax (default gron)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--leaves", action="store_true", help="scalars and empty containers (the default)")
    which.add_argument("--all", action="store_true", help="every node, containers and the top level too")
    p.add_argument("--values", action="store_true", help="append ' = VALUE' to pointer, jq and dotted paths")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--ungron", action="store_true", help="read gron assignments and write JSON")
    action.add_argument(
        "--get",
        metavar="PATH",
        help="print the JSON value at PATH (a.b[0], .a.b[0], json.a.b[0] or /a/b/0); exit 1 if absent",
    )
    p.add_argument("--indent", type=int, default=2, metavar="N", help="--ungron, --get: indent JSON by N (0: one line)")
    return p


def write_json(value: object, indent: int, source: str) -> None:
    try:
        write_stdout(to_json(value, max(indent, 0)))
    except ValueError:
        raise CliError(source, "NaN or Infinity has no JSON spelling") from None


def main(argv: Sequence[str] | None = None) -> int:
    p = parser()
    args = p.parse_args(argv)
    steps = None
    if args.get is not None:
        try:
            steps = parse(args.get)
        except PathSyntaxError as exc:
            p.error(f"--get {args.get!r}: {exc}")
    text = read_text(args.file)
    if args.ungron:
        write_json(ungron(text, label(args.file)), args.indent, label(args.file))
        return 0
    value = json5format.loads(text, source=label(args.file))
    if steps is not None:
        try:
            found = lookup(value, steps)
        except PathNotFound as exc:
            raise CliError(f"{label(args.file)}: {args.get}", str(exc)) from None
        write_json(found, args.indent, label(args.file))
        return 0
    write_stdout("".join(line + "\n" for line in lines(value, args.format, everything=args.all, values=args.values)))
    return 0


def entry() -> int:
    return run(main)


if __name__ == "__main__":
    raise SystemExit(entry())
