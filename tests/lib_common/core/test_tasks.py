"""BackgroundTask: one named task from start to stop; failures are not swallowed."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lib_common.core.tasks import BackgroundTask


class Forever:
    def __init__(self) -> None:
        self.started = asyncio.Event()
        self.cancelled = False
        self.runs = 0

    async def run(self) -> None:
        self.runs += 1
        self.started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            self.cancelled = True
            raise


@pytest.mark.asyncio
async def test_stop_cancels_the_task_and_waits_for_it() -> None:
    work = Forever()
    task = BackgroundTask(work.run, name="forever")
    assert not task.running
    await task.start()
    await task.start()  # already running: no second task
    await work.started.wait()
    assert task.running
    assert [t.get_name() for t in asyncio.all_tasks()].count("forever") == 1
    await task.stop()
    assert work.cancelled and work.runs == 1
    assert not task.running
    assert "forever" not in [t.get_name() for t in asyncio.all_tasks()]


@pytest.mark.asyncio
async def test_stop_twice_and_stop_without_start_do_nothing() -> None:
    never = BackgroundTask(Forever().run, name="never")
    await never.stop()
    assert not never.running
    work = Forever()
    task = BackgroundTask(work.run, name="twice")
    await task.start()
    await work.started.wait()
    await task.stop()
    await task.stop()
    assert work.runs == 1 and not task.running


@pytest.mark.asyncio
async def test_it_starts_again_after_a_stop() -> None:
    work = Forever()
    task = BackgroundTask(work.run, name="again")
    for _ in range(2):
        await task.start()
        await work.started.wait()
        work.started.clear()
        await task.stop()
    assert work.runs == 2


@pytest.mark.asyncio
async def test_a_task_cancelled_by_someone_else_stops_quietly() -> None:
    work = Forever()
    task = BackgroundTask(work.run, name="cancelled")
    await task.start()
    await work.started.wait()
    (inner,) = [t for t in asyncio.all_tasks() if t.get_name() == "cancelled"]
    inner.cancel()
    await asyncio.sleep(0)
    assert work.cancelled
    await task.stop()


@pytest.mark.asyncio
async def test_a_failure_is_logged_when_it_happens_and_raised_by_stop(caplog: pytest.LogCaptureFixture) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    task = BackgroundTask(broken, name="broken")
    with caplog.at_level(logging.ERROR, logger="lib_common.core.tasks"):
        await task.start()
        for _ in range(3):
            await asyncio.sleep(0)
    assert [r.getMessage() for r in caplog.records] == ["background task broken failed"]
    assert caplog.records[0].exc_info is not None and "boom" in str(caplog.records[0].exc_info[1])
    assert task.running  # until its owner stops it
    with pytest.raises(RuntimeError, match="boom"):
        await task.stop()
    assert not task.running
    await task.stop()  # the failure is reported once


@pytest.mark.asyncio
async def test_a_coroutine_that_returns_is_not_a_failure(caplog: pytest.LogCaptureFixture) -> None:
    async def brief() -> None:
        return None

    task = BackgroundTask(brief, name="brief")
    with caplog.at_level(logging.ERROR, logger="lib_common.core.tasks"):
        await task.start()
        await asyncio.sleep(0)
        await task.stop()
    assert caplog.records == []


@pytest.mark.asyncio
async def test_cancelling_the_caller_of_stop_still_cancels_the_caller() -> None:
    release = asyncio.Event()

    async def slow_to_stop() -> None:
        try:
            await asyncio.Event().wait()
        finally:
            await release.wait()  # cleanup that takes a while

    task = BackgroundTask(slow_to_stop, name="slow")
    await task.start()
    await asyncio.sleep(0)
    stopper = asyncio.create_task(task.stop())
    await asyncio.sleep(0)
    stopper.cancel()
    await asyncio.sleep(0)
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    assert stopper.cancelled()
