"""The lib_common distribution installs as built: the version and requirements its pyproject
declares, no console scripts (it is a library), and every module importable with nothing but its
declared dependencies and extras (the job's environment)."""

from __future__ import annotations

from tests.distribution import (
    check_declared_imports,
    check_modules_import,
    check_requirements,
    check_scripts,
    check_version,
    declared,
)


def test_installed_version_matches_pyproject() -> None:
    check_version("packages/lib_common", "lib_common")


def test_installed_requirements_match_pyproject() -> None:
    check_requirements("packages/lib_common")


def test_a_library_declares_and_installs_no_console_scripts() -> None:
    # Its commands live in servers, cli and misc; a script added here belongs in one of them.
    assert declared("packages/lib_common")["scripts"] == {}
    check_scripts("packages/lib_common")


def test_every_module_imports_with_only_the_declared_dependencies() -> None:
    check_modules_import("lib_common")


def test_every_import_of_the_source_is_declared() -> None:
    check_declared_imports("packages/lib_common")
