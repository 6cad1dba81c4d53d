"""The json5format distribution installs as built, with the version and scripts its pyproject declares."""

from __future__ import annotations

from tests.distribution import check_scripts, check_version


def test_installed_version_matches_pyproject() -> None:
    check_version("vendor/json5format", "json5format")


def test_console_scripts_are_installed_entry_points() -> None:
    check_scripts("vendor/json5format")
