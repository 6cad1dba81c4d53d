"""The workspace check: sibling ranges admit sibling versions, pins are exact."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import check_workspace  # noqa: E402


def test_this_workspace_passes() -> None:
    assert check_workspace.check() == []


def copy_workspace(tmp_path: Path) -> Path:
    base = tmp_path / "ws"
    shutil.copytree(ROOT, base, ignore=shutil.ignore_patterns(".venv*", ".git", "__pycache__", "*.lock", ".*cache"))
    return base


def test_a_range_that_excludes_the_sibling_is_reported(tmp_path: Path) -> None:
    base = copy_workspace(tmp_path)
    pyproject = base / "packages/servers/pyproject.toml"
    text = pyproject.read_text()
    assert "lib-common[betterproto]>=0.1,<0.2" in text
    pyproject.write_text(text.replace("lib-common[betterproto]>=0.1,<0.2", "lib-common[betterproto]>=0.2,<0.3"))
    assert check_workspace.check(base) == [
        "packages/servers/pyproject.toml: lib-common<0.3,>=0.2 does not admit the sibling's version 0.1.0"
    ]


def test_loose_pins_and_missing_workspace_source_are_reported(tmp_path: Path) -> None:
    base = copy_workspace(tmp_path)
    root = base / "pyproject.toml"
    root.write_text(root.read_text().replace('"starlette==', '"starlette>='))
    cli = base / "packages/cli/pyproject.toml"
    cli.write_text(cli.read_text().replace("lib-common = { workspace = true }", ""))
    problems = check_workspace.check(base)
    assert "packages/cli/pyproject.toml: lib-common is a sibling but not a workspace source" in problems
    assert any(p.startswith("pyproject.toml: pin 'starlette>=") for p in problems)


def test_command_line_exit_status() -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts/check_workspace.py")], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
