"""A real uvicorn server in the test's event loop, for tests of the kit's protocol classes."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn


@contextlib.asynccontextmanager
async def uvicorn_port(config: uvicorn.Config) -> AsyncIterator[int]:
    """Serve `config` (port 0) until the block ends; the port it listens on."""
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:
                await asyncio.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task
