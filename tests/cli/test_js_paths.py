from __future__ import annotations

import json

import pytest
from hypothesis import given, settings

from rsdev_cli.errors import CliError
from rsdev_cli.js_paths import lines, ungron
from tests.cli.helpers import cli, json_values

DOC = {"a": {"b": [1, {"x y": None}]}, "~/k": "v", "0": {}, "e": []}


def test_formats() -> None:
    assert list(lines(DOC, "gron")) == [
        "json.a.b[0] = 1;",
        'json.a.b[1]["x y"] = null;',
        'json["~/k"] = "v";',
        'json["0"] = {};',
        "json.e = [];",
    ]
    assert list(lines(DOC, "pointer")) == ["/a/b/0", "/a/b/1/x y", "/~0~1k", "/0", "/e"]
    assert list(lines(DOC, "jq")) == [".a.b[0]", '.a.b[1]["x y"]', '.["~/k"]', '.["0"]', ".e"]
    assert list(lines(DOC, "dotted")) == ["a.b.0", 'a.b.1."x y"', '"~/k"', '"0"', "e"]
    assert list(lines(DOC, "jq", everything=True))[:4] == [".", ".a", ".a.b", ".a.b[0]"]
    assert next(iter(lines(DOC, "pointer", values=True))) == "/a/b/0 = 1"


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_ungron_inverts_gron(value: object) -> None:
    for everything in (False, True):
        text = "".join(line + "\n" for line in lines(value, "gron", everything=everything))
        assert json.dumps(ungron(text, "t")) == json.dumps(value)


def test_ungron_errors_name_line_and_column() -> None:
    with pytest.raises(CliError, match=r"^t:2:7: expected"):
        ungron("json = {};\njson.a  1;\n", "t")
    with pytest.raises(CliError, match=r"^t:2:1: key 'b' into int"):
        ungron("json.a = 1;\njson.a.b = 2;\n", "t")


def test_command_round_trip() -> None:
    src = "{a: [1, 'two', {b: true}], 'c d': null, // comment\n}"
    gron = cli("js_paths", "-", stdin=src)
    assert gron.returncode == 0 and 'json["c d"] = null;' in gron.stdout
    back = cli("js_paths", "--ungron", "-", stdin=gron.stdout)
    assert json.loads(back.stdout) == {"a": [1, "two", {"b": True}], "c d": None}
    pointer = cli("js_paths", "-f", "pointer", "--all", "-", stdin="[1]")
    assert pointer.stdout == "\n/0\n"
    bad = cli("js_paths", "-", stdin="{a: 1,,}")
    assert bad.returncode == 1 and bad.stderr.startswith("<stdin>:1:7: ")
