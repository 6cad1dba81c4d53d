"""Checks every distribution's test job runs on itself: it installs as built, with the version
and console scripts its pyproject declares."""

from __future__ import annotations

import importlib
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def declared(member: str) -> dict[str, object]:
    project: dict[str, object] = tomllib.loads((ROOT / member / "pyproject.toml").read_text())["project"]
    return project


def check_version(member: str, module: str) -> None:
    project = declared(member)
    assert metadata.version(str(project["name"])) == project["version"]
    assert importlib.import_module(module).__version__ == project["version"]


def check_scripts(member: str) -> None:
    project = declared(member)
    installed = {
        ep.name: ep.value
        for ep in metadata.entry_points(group="console_scripts")
        if ep.dist and ep.dist.name == project["name"]
    }
    assert installed == project.get("scripts", {})
