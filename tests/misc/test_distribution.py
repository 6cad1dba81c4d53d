"""The misc distribution installs as built, with the version its pyproject declares."""

from __future__ import annotations

import importlib
import tomllib
from importlib import metadata
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parents[2] / "packages/misc/pyproject.toml"


def test_installed_version_matches_pyproject() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]
    assert metadata.version(declared["name"]) == declared["version"]
    module = importlib.import_module("rsdev_misc")
    assert module.__version__ == declared["version"]


def test_console_scripts_are_installed_entry_points() -> None:
    declared = tomllib.loads(PYPROJECT.read_text())["project"]
    installed = {
        ep.name: ep.value
        for ep in metadata.entry_points(group="console_scripts")
        if ep.dist and ep.dist.name == declared["name"]
    }
    assert installed == declared.get("scripts", {})
