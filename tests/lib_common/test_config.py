from __future__ import annotations

from pathlib import Path

import pytest

from lib_common.config import load_json5, parse_json5
from lib_common.errors import ConfigError


def test_parse_error_has_file_line_col() -> None:
    with pytest.raises(ConfigError) as info:
        parse_json5("{\n  a: 1\n  b: 2\n}", "x.json5")
    assert str(info.value) == "x.json5:3:3: expected ',' or '}' after a property value, found 'b'"


def test_value_errors_name_the_path() -> None:
    root = parse_json5('{tenants: [{priority: "high"}]}', "c.json5")
    (tenant,) = root.sections("tenants")
    with pytest.raises(
        ConfigError, match=r"^c\.json5:1:23: tenants\[0\]\.priority: expected an integer, found the string 'high'"
    ):
        tenant.integer("priority", 0)


def test_unknown_keys_are_errors() -> None:
    with pytest.raises(ConfigError, match=r"c\.json5:1:10: memroy: unknown key"):
        parse_json5("{memroy: {}}", "c.json5").only(["memory"])


def test_range_and_required() -> None:
    root = parse_json5("{port: 70000}", "c")
    with pytest.raises(ConfigError, match="port: must be at most 65535, found 70000"):
        root.integer("port", 1, maximum=65535)
    with pytest.raises(ConfigError, match="name: missing"):
        root.required_str("name")


def test_top_level_must_be_object(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected an object at the top level, found an array"):
        load_json5(path)


def test_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_json5(tmp_path / "absent.json5")
