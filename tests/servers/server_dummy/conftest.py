"""One server_dummy process per test module: starting one costs seconds, and most tests only need it running.

`dummy` hands a test the module's process and clears every fault after it, so tests stay
independent; a test that needs its own flags uses `start_server_dummy` instead.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.processes import free_port
from tests.servers.conftest import ServerProcess

SHARED_RATE = "10"


@pytest.fixture(scope="module")
def shared_dummy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    log = tmp_path_factory.mktemp("server_dummy") / "server_dummy.log"
    config = log.parent / "server_dummy.json5"
    config.write_text('{unknown_symbols: ["DELISTED"]}')
    server = ServerProcess(
        ["--rate", SHARED_RATE, "--config", str(config)], free_port(), log, module="servers.server_dummy"
    )
    yield server
    server.stop()


@pytest.fixture
def dummy(shared_dummy: ServerProcess) -> Iterator[ServerProcess]:
    yield shared_dummy
    httpx.post(shared_dummy.url("/fault"), json={"mode": "none"}, timeout=5).raise_for_status()
