from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings

import json5format
from rsdev_cli.errors import CliError
from rsdev_cli.j5_to_json import convert
from tests.cli.helpers import cli, json_values


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_agrees_with_json_and_json5format(value: object) -> None:
    text = json.dumps(value)
    assert json.loads(convert(text, "t")) == json.loads(text) == json5format.loads(text)
    # The same value in JSON5's own layout (unquoted keys, trailing commas) converts the same.
    relaid = json5format.format(text)
    assert json.loads(convert(relaid, "t", indent=0)) == json.loads(text)


def test_json5_features_normalise() -> None:
    out = convert("{a: 0x10, b: 'x', c: [.5, +1,], // c\n}", "t")
    assert json.loads(out) == {"a": 16, "b": "x", "c": [0.5, 1]}


def test_nan_is_an_error_at_its_position() -> None:
    with pytest.raises(CliError) as info:
        convert("{NaN: 1,\n  b: [1, -Infinity]}", "f.json5")
    assert str(info.value).startswith("f.json5:2:10: -Infinity is not JSON")


def test_nan_modes() -> None:
    text = "[NaN, Infinity, -Infinity]"
    assert json.loads(convert(text, "t", nan="null")) == [None, None, None]
    assert json.loads(convert(text, "t", nan="string")) == ["NaN", "Infinity", "-Infinity"]


def test_command(tmp_path: Path) -> None:
    src = tmp_path / "c.json5"
    src.write_text("{a: [1,2,],}")
    done = cli("j5_to_json", src, "--indent", "0")
    assert done.returncode == 0 and done.stdout == '{"a":[1,2]}\n'
    bad = cli("j5_to_json", "-", stdin="{a: 1\n  b: 2}")
    assert bad.returncode == 1 and bad.stderr.startswith("<stdin>:2:3: ")
    nan = cli("j5_to_json", src.with_name("n.json5"))
    assert nan.returncode == 1 and "cannot read" in nan.stderr
    src.write_text("[\n NaN]")
    nan = cli("j5_to_json", src)
    assert nan.returncode == 1 and nan.stderr.startswith(f"{src}:2:2: NaN is not JSON")
    assert cli("j5_to_json", src, "--nan", "null").stdout == "[\n  null\n]\n"
