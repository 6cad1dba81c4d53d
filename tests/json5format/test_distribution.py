"""The json5format distribution installs as built, with the version and scripts its pyproject declares."""

from __future__ import annotations

from tests.distribution import DistributionChecks


class TestDistribution(DistributionChecks):
    member = "vendor/json5format"
    module = "json5format"
