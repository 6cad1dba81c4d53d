from __future__ import annotations

from json5format.locate import value_positions


def test_positions_of_nested_values() -> None:
    text = (
        "{\n  listen: { port: 80 },\n  // a comment\n  tenants: [\n"
        "    { name: 'a' },\n    {name: \"b\", 'x y': [1, 2,],},\n  ],\n}\n"
    )
    found = value_positions(text)
    assert found[""] == (1, 1)
    assert found["listen"] == (2, 11)
    assert found["listen.port"] == (2, 19)
    assert found["tenants"] == (4, 12)
    assert found["tenants[0]"] == (5, 5)
    assert found["tenants[0].name"] == (5, 13)
    assert found["tenants[1].name"] == (6, 12)
    assert found["tenants[1].x y[1]"] == (6, 28)
    assert "tenants[2]" not in found  # a trailing comma opens no element


def test_crlf_and_scalar_top_level() -> None:
    assert value_positions("\r\n\r\n  42") == {"": (3, 3)}
    assert value_positions("{a: 1,\r\nb: 2}")["b"] == (2, 4)


def test_text_that_does_not_parse_gives_what_came_before() -> None:
    found = value_positions("{a: 1, b: @}")
    assert found["a"] == (1, 5) and "b" not in found
