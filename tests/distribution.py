"""Checks every distribution's test job runs on itself: it installs as built, with the version,
requirements and console scripts its pyproject declares, and its modules import in an
environment of nothing but what it declares (the job's).

Each job's tests/<job>/test_distribution.py subclasses DistributionChecks with its member folder
and top-level module, so every job checks its own distribution with the same tests."""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
import tomllib
from importlib import metadata
from pathlib import Path
from typing import ClassVar

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

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


def _key(req: Requirement, extra: str) -> tuple[str, str, frozenset[str], str]:
    return canonicalize_name(req.name), str(req.specifier), frozenset(req.extras), extra


def check_requirements(member: str) -> None:
    """The installed metadata requires exactly what the pyproject declares, extras included."""
    project = declared(member)
    extras: dict[str, list[str]] = project.get("optional-dependencies", {})  # type: ignore[assignment]
    want = {_key(Requirement(t), "") for t in project.get("dependencies", [])}  # type: ignore[attr-defined]
    want |= {_key(Requirement(t), extra) for extra, texts in extras.items() for t in texts}
    got = set()
    for text in metadata.requires(str(project["name"])) or []:
        req = Requirement(text)
        extra = next((e for e in extras if req.marker is not None and req.marker.evaluate({"extra": e})), "")
        req.marker = None
        got.add(_key(req, extra))
    assert got == want, f"installed but not declared: {got - want}; declared but not installed: {want - got}"


def check_modules_import(package: str) -> None:
    """Every module of the package imports: nothing it needs is missing from the environment."""
    root = importlib.import_module(package)
    names = [m.name for m in pkgutil.walk_packages(root.__path__, prefix=f"{package}.")]
    assert names, f"no modules under {package}"
    for name in names:
        importlib.import_module(name)


def check_declared_imports(member: str) -> None:
    """scripts/check_imports.py for this member, in the job's environment: an import that only a
    test tool brings in (yfinance brings websockets and protobuf) still fails here."""
    spec = importlib.util.spec_from_file_location("check_imports", ROOT / "scripts" / "check_imports.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    problems = module.check(ROOT, only=member)
    assert not problems, "\n".join(problems)


class DistributionChecks:
    """The tests every distribution passes; a job's TestDistribution names its member (the folder
    holding its pyproject) and module (the top-level package it installs)."""

    member: ClassVar[str]
    module: ClassVar[str]

    def test_installed_version_matches_pyproject(self) -> None:
        check_version(self.member, self.module)

    def test_console_scripts_are_installed_entry_points(self) -> None:
        check_scripts(self.member)

    def test_installed_requirements_match_pyproject(self) -> None:
        check_requirements(self.member)

    def test_every_import_of_the_source_is_declared(self) -> None:
        check_declared_imports(self.member)
