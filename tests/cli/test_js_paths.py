from __future__ import annotations

import json
from pathlib import Path

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


def test_get_prints_the_value_at_a_path(tmp_path: Path) -> None:
    doc = tmp_path / "d.json5"
    doc.write_text('{a: {b: [1, {c: "x", d: [true]}]}, // note\n e: null}\n', encoding="utf-8")
    done = cli("js_paths", doc, "--get", "a.b[1]")
    assert done.returncode == 0 and json.loads(done.stdout) == {"c": "x", "d": [True]}
    assert cli("js_paths", doc, "--get", "/a/b/1/d", "--indent", "0").stdout == "[true]\n"
    assert cli("js_paths", doc, "--get", "e").stdout == "null\n"  # present, and null
    assert cli("js_paths", "-", "--get", ".k", stdin='{k: "v"}').stdout == '"v"\n'


def test_get_of_an_absent_path_exits_1(tmp_path: Path) -> None:
    doc = tmp_path / "d.json5"
    doc.write_text("{a: {b: [1]}}", encoding="utf-8")
    done = cli("js_paths", doc, "--get", "a.b[3]")
    assert done.returncode == 1 and done.stdout == ""
    assert done.stderr == f"{doc}: a.b[3]: no index 3 in the array at .a.b (1 items)\n"
    done = cli("js_paths", doc, "--get", "a.x.y")
    assert done.returncode == 1 and 'no key "x" in the object at .a' in done.stderr


def test_get_of_a_malformed_path_is_a_usage_error(tmp_path: Path) -> None:
    doc = tmp_path / "d.json5"
    doc.write_text("{}", encoding="utf-8")
    done = cli("js_paths", doc, "--get", "a..b")
    assert done.returncode == 2 and "--get 'a..b': at column 2: expected" in done.stderr
    assert cli("js_paths", doc, "--get", "a", "--ungron").returncode == 2
