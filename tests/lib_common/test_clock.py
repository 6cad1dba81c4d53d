"""clock.sleep waits on the injected clock's timer: a ManualClock's advance ends it."""

from __future__ import annotations

import asyncio

import pytest

from lib_common.clock import ManualClock, sleep


@pytest.mark.asyncio
async def test_sleep_ends_when_the_clock_reaches_the_delay() -> None:
    clock = ManualClock()
    waiting = asyncio.create_task(sleep(clock, 5.0))
    await asyncio.sleep(0)
    clock.advance(4.9)
    await asyncio.sleep(0)
    assert not waiting.done()
    clock.advance(0.1)
    await asyncio.wait_for(waiting, 1.0)
    assert clock.monotonic() == 5.0


@pytest.mark.asyncio
async def test_a_cancelled_sleep_cancels_its_timer() -> None:
    clock = ManualClock()
    waiting = asyncio.create_task(sleep(clock, 5.0))
    await asyncio.sleep(0)
    assert clock.pending_timers == 1
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    assert clock.pending_timers == 0
