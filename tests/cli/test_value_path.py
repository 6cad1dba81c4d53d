from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from rsdev_cli.js_paths import FORMATS, lines, value_text, walk
from rsdev_cli.value_path import PathNotFound, PathSyntaxError, Step, lookup, parse
from tests.cli.helpers import json_values

DOC = {"a": {"b": [1, {"x y": None}], "0": 5}, "c": [10, 20], "json": True, "~/k": "v"}


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("a.b[0]", 1),
        ("a.b.0", 1),
        (".a.b[0]", 1),
        ("json.a.b[0]", 1),
        ("/a/b/0", 1),
        ('a.b[1]["x y"]', None),
        ('a.b.1."x y"', None),
        ("/a/b/1/x y", None),
        ("a.0", 5),  # a bare number is a key into an object
        ('a["0"]', 5),
        ("c.1", 20),  # and an index into an array
        ("/~0~1k", "v"),
        ('["~/k"]', "v"),
        (".json", True),
        ("/json", True),
        (".", DOC),
        ("json", DOC),
        ("", DOC),
    ],
)
def test_every_syntax_reaches_the_value(path: str, value: object) -> None:
    assert lookup(DOC, parse(path)) == value


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a.zz", 'no key "zz" in the object at .a'),
        ("a.b[2]", "no index 2 in the array at .a.b (2 items)"),
        ("a[0]", "no index 0 in the object at .a"),
        ('c["0"]', 'no key "0" in the array at .c'),
        ("a.b[0].q", 'no key "q" in a number at .a.b[0]'),
        ("/a/b/1/x y/z", 'no key "z" in null at .a.b[1]["x y"]'),
        ("missing", 'no key "missing" in the object at .'),
    ],
)
def test_absent_paths_say_which_step_leads_nowhere(path: str, message: str) -> None:
    with pytest.raises(PathNotFound) as caught:
        lookup(DOC, parse(path))
    assert str(caught.value) == message


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("a..b", "at column 2: expected"),
        ("a.b[x]", "at column 4: expected"),
        ('a["x]', "at column 2: expected"),
        (".a b", "at column 3: expected"),
        ('["\\q"]', "bad quoted key"),
    ],
)
def test_malformed_paths(path: str, message: str) -> None:
    with pytest.raises(PathSyntaxError, match=message):
        parse(path)


def test_brackets_are_only_indexes_and_quoted_keys_only_keys() -> None:
    assert parse('x[0]["1"].2') == [Step("x", None), Step(None, 0), Step("1", None), Step("2", 2)]


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_every_printed_path_reads_back(value: object) -> None:
    nodes = [node for _, node in walk(value, everything=True)]
    for fmt in FORMATS:
        printed = list(lines(value, fmt, everything=True))
        nodes_here = nodes[1:] if fmt == "dotted" else nodes  # dotted has no name for the top level
        for text, node in zip(printed, nodes_here, strict=True):
            path = text.removesuffix(f" = {value_text(node)};") if fmt == "gron" else text
            if fmt == "dotted" and (path == "json" or path.startswith(("json.", "json["))):
                continue  # read as gron's; the module's docstring says so
            assert json.dumps(lookup(value, parse(path))) == json.dumps(node), (fmt, path)
