"""Check that every workspace member declares what its source imports.

For each member (the root's `[tool.uv.workspace] members`), every `import X` / `from X import ...`
in its src/ tree must be one of:

- the standard library (`sys.stdlib_module_names`);
- the member's own packages;
- a distribution the member declares in `[project] dependencies` or `[project.optional-dependencies]`
  (an optional import must still be declared, as an extra): a workspace sibling by the packages in
  its src/, a third-party one through the installed distributions' top-level names
  (`importlib.metadata.packages_distributions`, so run it in an environment with every member and
  extra installed: the lint job's).

Relative imports and `__future__` are skipped. Exit 1 with one line per undeclared import
(file:line: what is imported, which distribution provides it, where to declare it).

    uv run --all-packages --all-extras --group dev python scripts/check_imports.py
"""

from __future__ import annotations

import ast
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

# The shared workspace module beside this file, whether it runs as a script or is loaded by path
# (tests/distribution.py).
sys.path.insert(0, str(Path(__file__).resolve().parent))
from workspace import ROOT, members, report


def declared(project: dict[str, object]) -> set[str]:
    """Canonical names of every distribution the member declares, extras included."""
    texts = list(project.get("dependencies", []))  # type: ignore[call-overload]
    for extra in dict(project.get("optional-dependencies", {})).values():  # type: ignore[call-overload]
        texts.extend(extra)
    return {canonicalize_name(Requirement(text).name) for text in texts}


def imports(path: Path) -> list[tuple[int, str]]:
    """(line, top-level module) for every absolute import in a source file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name.split(".")[0]) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.lineno, node.module.split(".")[0]))
    return [(line, name) for line, name in found if name != "__future__"]


def top_level(member: Path) -> set[str]:
    src = member / "src"
    if not src.is_dir():
        return set()
    return {p.stem for p in src.iterdir() if (p.is_dir() and not p.name.endswith(".egg-info")) or p.suffix == ".py"}


def check(base: Path = ROOT, providers: dict[str, list[str]] | None = None, only: str | None = None) -> list[str]:
    """One line per undeclared import; `only` limits it to one member (its path from `base`)."""
    providers = dict(metadata.packages_distributions() if providers is None else providers)
    projects = {m: tomllib.loads((m / "pyproject.toml").read_text())["project"] for m in members(base)}
    for member, project in projects.items():  # siblings install editable: no top_level.txt to read
        for name in top_level(member):
            providers[name] = [str(project["name"])]
    problems: list[str] = []
    for member, project in projects.items():
        if only is not None and member != base / only:
            continue
        allowed = declared(project)
        src = member / "src"
        own = top_level(member)
        for path in sorted(src.rglob("*.py")):
            for line, name in imports(path):
                if name in sys.stdlib_module_names or name in own:
                    continue
                dists = {canonicalize_name(d) for d in providers.get(name, [])}
                if dists & allowed:
                    continue
                where = f"{path.relative_to(base)}:{line}"
                if not dists:
                    problems.append(f"{where}: imports {name}, which no installed distribution provides")
                else:
                    problems.append(
                        f"{where}: imports {name} (from {', '.join(sorted(dists))}), which "
                        f"{member.relative_to(base)}/pyproject.toml does not declare"
                    )
    return problems


if __name__ == "__main__":
    sys.exit(report(check(), "imports: every member declares what its source imports"))
