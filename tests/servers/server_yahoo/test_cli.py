"""server_yahoo's command line."""

from __future__ import annotations

from pathlib import Path

from tests.servers.conftest import run_module


def test_config_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json5"
    bad.write_text("{upstream_url: 'http://example'}")
    failed = run_module("servers.server_yahoo", "--config", str(bad))
    assert failed.returncode == 2
    assert failed.stderr.startswith(
        f"server_yahoo: config error: {bad}:1:16: upstream_url: expected a ws:// or wss:// URL"
    )
