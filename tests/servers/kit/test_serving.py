"""CleanExitServer's startup: the heap that exists once the server listens is frozen."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from servers.kit.config import ClientLimits
from servers.kit.connections import ConnectionGate
from servers.kit.serving import CleanExitServer


async def _app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()  # the rest of the test process collects as usual


def test_startup_freezes_what_exists_so_full_collections_skip_it(unfrozen: None) -> None:
    survivor = [[] for _ in range(1000)]  # lives as long as the server, as its app does

    async def main() -> tuple[int, int]:
        config = uvicorn.Config(_app, host="127.0.0.1", port=0, lifespan="on", log_config=None)
        config.load()
        server = CleanExitServer(config, ConnectionGate.from_limits(ClientLimits()))
        server.lifespan = config.lifespan_class(config)  # as uvicorn's serve() sets it up
        before = gc.get_freeze_count()
        await server.startup()
        after = gc.get_freeze_count()
        await server.shutdown()
        return before, after

    before, after = asyncio.run(main())
    assert before == 0
    assert after >= len(survivor)  # the survivors are in the permanent generation now
    gc.collect(2)
    swept = {id(o) for o in gc.get_objects()}  # what a full pass goes through: not the frozen
    assert not any(id(o) in swept for o in survivor)
