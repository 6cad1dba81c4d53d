from __future__ import annotations

from pathlib import Path

from tests.cli.helpers import cli

UGLY = "{b: 1, // keep\n a: [3,1,2], name: 'x'}\n"


def test_stdout_with_options(tmp_path: Path) -> None:
    src = tmp_path / "c.json5"
    src.write_text(UGLY)
    done = cli("j5_format", src, "--indent", "2", "--no-trailing-commas", "--sort-arrays")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "{\n  b: 1, // keep\n  a: [\n    1,\n    2,\n    3\n  ],\n  name: 'x'\n}\n"
    assert src.read_text() == UGLY


def test_options_file_property_order_and_one_element_lines(tmp_path: Path) -> None:
    options = tmp_path / "opts.json5"
    options.write_text('{indent: 2, one_element_lines: true, property_order: {"": ["name", "a"]}}')
    src = tmp_path / "c.json5"
    src.write_text("{b: [1], a: 2, name: 'x'}")
    done = cli("j5_format", "--options", options, src)
    assert done.stdout == "{\n  name: 'x',\n  a: 2,\n  b: [ 1 ],\n}\n"
    options.write_text("{indent: 'two', colour: 1}")
    bad = cli("j5_format", "--options", options, src)
    assert bad.returncode == 1 and bad.stdout == ""
    assert bad.stderr.splitlines() == [
        f"{options}:1:25: colour: unknown key; expected one of indent, trailing_commas, one_element_lines, "
        "sort_arrays, property_order",
        f"{options}:1:10: indent: expected an integer, found the string 'two'",
    ]
    options.write_text("{property_order: {'': ['name', 2], x: 'y'}}")
    assert cli("j5_format", "--options", options, src).stderr.splitlines() == [
        f"{options}:1:32: property_order.[1]: expected a string, found the number 2",
        f"{options}:1:39: property_order.x: expected an array of strings, found the string 'y'",
    ]


def test_in_place_check_and_several_files(tmp_path: Path) -> None:
    one, two = tmp_path / "one.json5", tmp_path / "two.json5"
    one.write_text(UGLY)
    two.write_text("{a: 1}")
    check = cli("j5_format", "--check", one, two)
    assert check.returncode == 1 and check.stdout == f"would reformat {one}\nwould reformat {two}\n"
    assert cli("j5_format", "--in-place", one, two).returncode == 0
    assert two.read_text() == "{\n    a: 1,\n}\n"
    assert cli("j5_format", "--check", one, two).returncode == 0
    assert "// keep" in one.read_text()


def test_parse_error_rewrites_nothing(tmp_path: Path) -> None:
    good, bad = tmp_path / "good.json5", tmp_path / "bad.json5"
    good.write_text("{a:1}")
    bad.write_text("{\n  a: 1,\n  b: }")
    done = cli("j5_format", "--in-place", good, bad)
    assert done.returncode == 1 and done.stderr.startswith(f"{bad}:3:6: ")
    assert good.read_text() == "{a:1}"


def test_stdin() -> None:
    done = cli("j5_format", "-", stdin="[1]")
    assert done.returncode == 0 and done.stdout == "[\n    1,\n]\n"
