"""server_dummy's command line: help, config, flags over the file, clean exit on signals."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest
from websockets.asyncio.client import connect

from servers.server_dummy.__main__ import COMMAND
from tests.servers.conftest import StartServerDummy, run_module
from tests.servers.server_dummy.client import recv_pricing, subscribe


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return run_module("servers.server_dummy", *args)


def test_defaults_without_config() -> None:
    config = COMMAND.resolve(COMMAND.build_parser().parse_args([]))
    assert (config.host, config.port, config.rate, config.max_symbols) == ("127.0.0.1", 8770, 1.0, 100)


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{listen: {port: 9000}, rate: 3, unknown_symbols: ['gone']}")
    config = COMMAND.resolve(COMMAND.build_parser().parse_args(["--config", str(path), "--rate", "7"]))
    assert (config.port, config.rate, config.unknown_symbols) == (9000, 7.0, frozenset({"GONE"}))


def test_config_errors_say_which_key(tmp_path: Path) -> None:
    path = tmp_path / "bad.json5"
    path.write_text("{rate: 'fast'}")
    result = run("--config", str(path))
    assert (
        result.returncode == 2 and f"server_dummy: config error: {path}:1:8: rate: expected a number" in result.stderr
    )


@pytest.mark.parametrize("args", [["--rate", "0"], ["--rate", "fast"], ["--log-level", "loud"]])
def test_bad_flags_are_usage_errors(args: list[str]) -> None:
    result = run(*args)
    assert result.returncode == 2 and "usage: server_dummy" in result.stderr


@pytest.mark.asyncio
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_signal_shuts_down_cleanly_with_clients_connected(
    start_server_dummy: StartServerDummy, sig: signal.Signals
) -> None:
    server = start_server_dummy("--rate", "10")
    async with connect(server.url("/", ws=True)) as ws:
        await subscribe(ws, "AAPL")
        await recv_pricing(ws)
        assert server.stop(sig) == 0
    assert "Traceback" not in server.output()


def test_config_file_sets_unknown_symbols(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text(json.dumps({"unknown_symbols": ["x"], "max_symbols": 5}))
    config = COMMAND.resolve(COMMAND.build_parser().parse_args(["--config", str(path)]))
    assert config.unknown_symbols == frozenset({"X"}) and config.max_symbols == 5
