from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from ruamel.yaml import YAML

from rsdev_cli.j5_to_yaml import convert
from rsdev_cli.yamlout import needs_quotes
from tests.cli.helpers import cli, json_values


def load_both(text: str) -> tuple[object, object]:
    """The value as a YAML 1.2 reader and as a YAML 1.1 reader sees it."""
    yaml = YAML(typ="safe", pure=True)
    return yaml.load(text), YAML(typ="safe", pure=True).load("%YAML 1.1\n---\n" + text)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_loads_back_to_the_same_value_in_yaml_1_1_and_1_2(value: object) -> None:
    as_12, as_11 = load_both(convert(json.dumps(value), "t"))
    assert as_12 == value
    assert as_11 == value


@pytest.mark.parametrize(
    "text", ["yes", "No", "on", "OFF", "y", "n", "true", "~", "null", "", "012", "0x1f", "1:20", "1_000", "1e5"]
)
def test_typed_looking_strings_are_quoted(text: str) -> None:
    assert needs_quotes(text)
    as_12, as_11 = load_both(convert(json.dumps({text: text}), "t"))
    assert as_12 == as_11 == {text: text}


def test_dates_and_floats_for_yaml_1_1() -> None:
    out = convert('{d: "2001-12-14", f: 1e300, g: 5e-324, i: Infinity, n: NaN}', "t")
    assert 'd: "2001-12-14"' in out and "f: 1.0e+300" in out
    as_11 = YAML(typ="safe", pure=True).load("%YAML 1.1\n---\n" + out)
    assert as_11["d"] == "2001-12-14" and as_11["f"] == 1e300 and as_11["g"] == 5e-324
    assert as_11["i"] == math.inf and math.isnan(as_11["n"])


def test_comments_and_key_order_carried() -> None:
    text = "// head\n{\n  // about z\n  z: 1, // z eol\n  a: [\n    /* first */ 'x',\n  ],\n}\n// tail\n"
    out = convert(text, "t")
    assert out == "# head\n# about z\nz: 1  # z eol\na:\n  # first\n  - x\n# tail\n"


def test_command_width_indent_and_errors(tmp_path: Path) -> None:
    src = tmp_path / "c.json5"
    src.write_text("{a: {b: ['" + "word " * 30 + "']}}")
    done = cli("j5_to_yaml", src, "--indent", "4", "--width", "40")
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("a:\n    b:\n        - ")
    assert max(len(line) for line in done.stdout.splitlines()) <= 50
    assert YAML(typ="safe").load(done.stdout) == {"a": {"b": ["word " * 29 + "word "]}}
    bad = cli("j5_to_yaml", "-", stdin="{a: [1,,]}")
    assert bad.returncode == 1 and bad.stderr.startswith("<stdin>:1:8: ")
