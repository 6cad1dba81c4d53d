"""The json5format distribution installs as built, with the version and scripts its pyproject declares."""

from __future__ import annotations

from tests.distribution import check_declared_imports, check_requirements, check_scripts, check_version


def test_installed_version_matches_pyproject() -> None:
    check_version("vendor/json5format", "json5format")


def test_console_scripts_are_installed_entry_points() -> None:
    check_scripts("vendor/json5format")


def test_installed_requirements_match_pyproject() -> None:
    check_requirements("vendor/json5format")


def test_every_import_of_the_source_is_declared() -> None:
    check_declared_imports("vendor/json5format")
