"""Inbox: what uvicorn asks of a connection's asyncio.Queue, in a list."""

from __future__ import annotations

import asyncio
import tracemalloc

import pytest

from servers.kit.inbox import Inbox


@pytest.mark.asyncio
async def test_first_in_first_out_and_sizes() -> None:
    inbox: Inbox[int] = Inbox()
    assert inbox.empty() and inbox.qsize() == 0
    for n in (1, 2, 3):
        inbox.put_nowait(n)
    assert not inbox.empty() and inbox.qsize() == 3
    assert [await inbox.get() for _ in range(3)] == [1, 2, 3]
    assert inbox.empty()


@pytest.mark.asyncio
async def test_a_get_waits_for_the_next_put() -> None:
    inbox: Inbox[str] = Inbox()
    getter = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    assert not getter.done()
    inbox.put_nowait("connect")
    assert await asyncio.wait_for(getter, 1) == "connect"


@pytest.mark.asyncio
async def test_waiting_getters_are_served_in_order() -> None:
    inbox: Inbox[int] = Inbox()
    getters = [asyncio.create_task(inbox.get()) for _ in range(3)]
    await asyncio.sleep(0)
    for n in (10, 20, 30):
        inbox.put_nowait(n)
    assert await asyncio.gather(*getters) == [10, 20, 30]


@pytest.mark.asyncio
@pytest.mark.parametrize("woken_first", [False, True], ids=["cancelled-waiting", "woken-then-cancelled"])
async def test_a_cancelled_getter_loses_no_item(woken_first: bool) -> None:
    """Cancelled while it waits, or after a put woke it but before it ran: either way the item
    goes to the next getter (woken first, it passes its wake-up on, as asyncio.Queue does)."""
    inbox: Inbox[int] = Inbox()
    first = asyncio.create_task(inbox.get())
    second = asyncio.create_task(inbox.get())
    await asyncio.sleep(0)
    if woken_first:
        inbox.put_nowait(1)
        first.cancel()
    else:
        first.cancel()
        inbox.put_nowait(1)
    assert await asyncio.wait_for(second, 1) == 1
    with pytest.raises(asyncio.CancelledError):
        await first
    assert inbox.empty()


@pytest.mark.asyncio
async def test_an_inbox_costs_a_fraction_of_an_asyncio_queue() -> None:
    """The point of it: one a connection, for the connection's life."""

    def traced(make: type) -> int:
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            kept = [make() for _ in range(1000)]
            for box in kept:
                box.put_nowait({"type": "websocket.connect"})
            grown = tracemalloc.get_traced_memory()[0] - before
        finally:
            tracemalloc.stop()
        assert len(kept) == 1000
        return grown

    inbox, queue = traced(Inbox), traced(asyncio.Queue)
    assert inbox * 10 < queue, f"{inbox / 1000:.0f} B an Inbox, {queue / 1000:.0f} B an asyncio.Queue"
