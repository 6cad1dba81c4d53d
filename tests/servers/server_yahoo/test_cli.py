"""server_yahoo's command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_help_and_config_errors(tmp_path: Path) -> None:
    run = [sys.executable, "-m", "servers.server_yahoo"]
    shown = subprocess.run([*run, "--help"], capture_output=True, text=True, check=False)
    assert shown.returncode == 0 and "--upstream-url" in shown.stdout and "--config" in shown.stdout
    bad = tmp_path / "bad.json5"
    bad.write_text("{upstream_url: 'http://example'}")
    failed = subprocess.run([*run, "--config", str(bad)], capture_output=True, text=True, check=False)
    assert failed.returncode == 2
    assert failed.stderr.startswith(
        f"server_yahoo: config error: {bad}:1:16: upstream_url: expected a ws:// or wss:// URL"
    )
