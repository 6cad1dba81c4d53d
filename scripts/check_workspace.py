"""Check the uv workspace's promises that uv itself does not check.

- every member has a version, a [build-system], [project.scripts] and a src/ layout;
- every dependency on a sibling goes through `[tool.uv.sources] X = { workspace = true }` and
  its version range admits the sibling's current version;
- the root pins every third-party distribution exactly (`[tool.uv] constraint-dependencies`).

Exit 1 with one line per problem. Run: `uv run python scripts/check_workspace.py`.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the shared workspace module beside this file
from workspace import ROOT, members, report, root_pyproject


def check(base: Path = ROOT) -> list[str]:
    problems: list[str] = []
    root = root_pyproject(base)
    projects = {}
    for path in members(base):
        data = tomllib.loads((path / "pyproject.toml").read_text())
        projects[canonicalize_name(data["project"]["name"])] = (path.relative_to(base), data)
    versions = {name: Version(data["project"]["version"]) for name, (_, data) in projects.items()}
    for rel, data in projects.values():
        where = f"{rel}/pyproject.toml"
        if "build-system" not in data:
            problems.append(f"{where}: no [build-system]: uv would not install its scripts")
        if "scripts" not in data["project"]:
            problems.append(f"{where}: no [project.scripts] table")
        if not (base / rel / "src").is_dir():
            problems.append(f"{where}: no src/ layout")
        sources = data.get("tool", {}).get("uv", {}).get("sources", {})
        for text in data["project"].get("dependencies", []):
            req = Requirement(text)
            dep = canonicalize_name(req.name)
            if dep not in versions:
                continue
            source = sources.get(req.name) or sources.get(dep) or {}
            if source.get("workspace") is not True:
                problems.append(f"{where}: {req.name} is a sibling but not a workspace source")
            if not str(req.specifier):
                problems.append(f"{where}: {req.name} has no version range")
            elif versions[dep] not in req.specifier:
                problems.append(
                    f"{where}: {req.name}{req.specifier} does not admit the sibling's version {versions[dep]}"
                )
    pins = root.get("tool", {}).get("uv", {}).get("constraint-dependencies", [])
    if not pins:
        problems.append("pyproject.toml: no exact pins in [tool.uv] constraint-dependencies")
    for text in pins:
        req = Requirement(text)
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            problems.append(f"pyproject.toml: pin {text!r} is not exact (==)")
    return problems


if __name__ == "__main__":
    sys.exit(report(check(), "workspace: every sibling range admits its sibling; pins are exact"))
