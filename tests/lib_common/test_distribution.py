"""The lib_common distribution installs as built: the version and requirements its pyproject
declares, no console scripts (it is a library), and every module importable with nothing but its
declared dependencies and extras (the job's environment)."""

from __future__ import annotations

from tests.distribution import DistributionChecks, check_modules_import, declared


class TestDistribution(DistributionChecks):
    member = "packages/lib_common"
    module = "lib_common"

    def test_a_library_declares_no_console_scripts(self) -> None:
        # Its commands live in servers, cli and misc; a script added here belongs in one of them.
        # (The inherited test checks that none is installed either.)
        assert declared(self.member)["scripts"] == {}

    def test_every_module_imports_with_only_the_declared_dependencies(self) -> None:
        check_modules_import(self.module)
