"""What the workspace checks (check_workspace.py, check_imports.py) share: the repository, its
members, and how a check reports what it found."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent


def root_pyproject(base: Path) -> dict[str, Any]:
    return tomllib.loads((base / "pyproject.toml").read_text())


def members(base: Path) -> list[Path]:
    """The member directories of the root's `[tool.uv.workspace] members` patterns."""
    out: list[Path] = []
    for pattern in root_pyproject(base)["tool"]["uv"]["workspace"]["members"]:
        out.extend(sorted(p.parent for p in base.glob(f"{pattern}/pyproject.toml")))
    return out


def report(problems: list[str], ok: str) -> int:
    """Each problem on its own line on stderr, or `ok` on stdout; the exit code (1 on problems)."""
    for line in problems:
        print(line, file=sys.stderr)
    if not problems:
        print(ok)
    return 1 if problems else 0
