"""The servers distribution installs as built, with the version and scripts its pyproject declares."""

from __future__ import annotations

from tests.distribution import DistributionChecks


class TestDistribution(DistributionChecks):
    member = "packages/servers"
    module = "servers"
