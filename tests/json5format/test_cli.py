"""The formatjson5 command, run as a subprocess."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

UGLY = "{b:[2,1],a:'x',// note\n}"
PRETTY = "{\n    b: [\n        2,\n        1,\n    ],\n    a: 'x', // note\n}\n"


def run(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "json5format.cli", *args], input=stdin, capture_output=True, text=True, check=False
    )


def test_formats_stdin_to_stdout() -> None:
    result = run("-", stdin=UGLY)
    assert (result.returncode, result.stdout, result.stderr) == (0, PRETTY, "")


def test_options() -> None:
    result = run("-i", "2", "-n", "-o", "-s", "-", stdin="{b: [2, 1], c: [3]}")
    assert result.stdout == "{\n  b: [\n    1,\n    2\n  ],\n  c: [ 3 ]\n}\n"


def test_long_options() -> None:
    result = run("--indent", "1", "--no_trailing_commas", "--one_element_lines", "--sort_arrays", "-", stdin="[[1]]")
    assert result.stdout == "[\n [ 1 ]\n]\n"


def test_file_to_stdout_leaves_file_alone(tmp_path: Path) -> None:
    path = tmp_path / "a.json5"
    path.write_text(UGLY)
    result = run(str(path))
    assert result.stdout == PRETTY
    assert path.read_text() == UGLY


def test_several_files_to_stdout_are_headed_by_name(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json5", tmp_path / "b.json5"
    first.write_text("1")
    second.write_text("2")
    result = run(str(first), str(second))
    assert result.stdout == f"{first}:\n{'=' * len(str(first))}\n1\n\n{second}:\n{'=' * len(str(second))}\n2\n"


def test_replace_rewrites_files(tmp_path: Path) -> None:
    first, second = tmp_path / "a.json5", tmp_path / "b.json5"
    first.write_text(UGLY)
    second.write_text(PRETTY)
    result = run("-r", str(first), str(second))
    assert (result.returncode, result.stdout) == (0, "")
    assert first.read_text() == PRETTY
    assert second.read_text() == PRETTY


def test_check_lists_files_that_would_change(tmp_path: Path) -> None:
    ugly, pretty = tmp_path / "ugly.json5", tmp_path / "pretty.json5"
    ugly.write_text(UGLY)
    pretty.write_text(PRETTY)
    result = run("--check", str(ugly), str(pretty))
    assert result.returncode == 1
    assert result.stdout == f"would reformat {ugly}\n"
    assert ugly.read_text() == UGLY


def test_check_passes_on_formatted_files(tmp_path: Path) -> None:
    pretty = tmp_path / "pretty.json5"
    pretty.write_text(PRETTY)
    assert run("--check", str(pretty)).returncode == 0


def test_diff_prints_a_unified_diff(tmp_path: Path) -> None:
    path = tmp_path / "a.json5"
    path.write_text("{a:1}\n")
    result = run("--diff", str(path))
    assert result.returncode == 0
    assert result.stdout == (
        f"--- {path} (original)\n+++ {path} (formatted)\n@@ -1 +1,3 @@\n-{{a:1}}\n+{{\n+    a: 1,\n+}}\n"
    )
    assert path.read_text() == "{a:1}\n"


def test_parse_error_is_reported_with_position(tmp_path: Path) -> None:
    path = tmp_path / "bad.json5"
    path.write_text("{\n  a: 1\n  b: 2\n}")
    good = tmp_path / "good.json5"
    good.write_text(UGLY)
    result = run("-r", str(good), str(path))
    assert result.returncode == 1
    assert result.stderr == f"{path}:3:3: expected ',' or '}}' after a property value, found 'b'\n"
    assert good.read_text() == UGLY, "nothing is rewritten when a file fails"


def test_stdin_errors_are_named_stdin() -> None:
    result = run("-", stdin="[1 2]")
    assert (result.returncode, result.stderr) == (
        1,
        "<stdin>:1:4: expected ',' or ']' after an array item, found '2'\n",
    )


def test_missing_file(tmp_path: Path) -> None:
    result = run(str(tmp_path / "nope.json5"))
    assert result.returncode == 1
    assert "nope.json5: cannot read" in result.stderr


def test_usage_errors_exit_2() -> None:
    assert run().returncode == 2
    assert run("--indent", "x", "-").returncode == 2
    assert run("--check", "--diff", "-").returncode == 2


def test_installed_script_runs() -> None:
    script = Path(sys.executable).with_name("formatjson5")
    result = subprocess.run([str(script), "-"], input="[1]", capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout) == (0, "[\n    1,\n]\n")
