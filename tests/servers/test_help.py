"""Every server's --help names its options."""

from __future__ import annotations

import pytest

from tests.servers.conftest import run_module


@pytest.mark.parametrize(
    ("module", "shown"),
    [
        ("servers.restream", ("--config", "--host", "--port", "--feed", "--symbols", "--rate", "--log-level")),
        ("servers.server_dummy", ("--config", "--host", "--port", "--rate", "--log-level", "POST /fault")),
        ("servers.server_yahoo", ("--config", "--upstream-url")),
        ("servers.server_sql", ("--config", "--host", "--port", "--log-level", "--redis-url", "--dsn", "--batch-size")),
        (
            "servers.server_log",
            ("--config", "--host", "--port", "--log-level", "--redis-url", "--dir", "--close-grace-s"),
        ),
    ],
)
def test_help_documents_every_option(module: str, shown: tuple[str, ...]) -> None:
    result = run_module(module, "--help")
    assert result.returncode == 0, result.stderr
    for text in shown:
        assert text in result.stdout
