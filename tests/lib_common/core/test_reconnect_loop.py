"""reconnect_loop: sessions one after another with the policy's backoff between them."""

from __future__ import annotations

import asyncio
import logging

import pytest

from lib_common.core.backoff import Backoff
from lib_common.core.reconnect import LinkState, Reconnect
from lib_common.core.reconnect_loop import reconnect_loop


class Stop(Exception):
    """Ends the loop from the test's sleep."""


def make_policy() -> Reconnect:
    return Reconnect("link", monotonic=lambda: 0.0, backoff=Backoff(base_s=1.0, cap_s=4.0, jitter=0.0))


@pytest.mark.asyncio
async def test_errors_and_ended_sessions_back_off_until_the_loop_ends() -> None:
    policy = make_policy()
    outcomes: list[str | BaseException] = [OSError("refused"), OSError("refused"), "closed", OSError("reset")]
    states: list[LinkState] = []
    delays: list[float] = []

    async def session() -> str:
        states.append(policy.state)
        outcome = outcomes.pop(0)
        if isinstance(outcome, BaseException):
            raise outcome
        policy.connected()
        return outcome

    async def sleep(delay: float) -> None:
        delays.append(delay)
        if not outcomes:
            raise Stop

    with pytest.raises(Stop):
        await reconnect_loop(policy, session, errors=(OSError,), sleep=sleep)
    assert states == [LinkState.CONNECTING] * 4
    assert delays == [1.0, 2.0, 1.0, 2.0]  # the connect in between started the backoff over
    assert (policy.connects, policy.errors, policy.last_error) == (1, 3 + 1, "OSError: reset")
    assert policy.state is LinkState.IDLE  # stopped however the loop ends


@pytest.mark.asyncio
async def test_an_unexpected_error_is_a_failure_like_any_other_never_a_dead_loop(
    caplog: pytest.LogCaptureFixture,
) -> None:
    policy = make_policy()
    outcomes: list[BaseException] = [
        ValueError("a bug"),
        ValueError("a bug"),
        UnicodeDecodeError("utf-8", b"", 0, 1, "x"),
    ]

    async def session() -> str:
        raise outcomes.pop(0)

    async def sleep(delay: float) -> None:
        if not outcomes:
            raise Stop

    with caplog.at_level(logging.ERROR, logger="lib_common.core.reconnect_loop"), pytest.raises(Stop):
        await reconnect_loop(policy, session, errors=(OSError,), sleep=sleep)
    assert policy.errors == 3 and policy.state is LinkState.IDLE
    tracebacks = [r for r in caplog.records if r.exc_info is not None]
    assert [type(r.exc_info[1]) for r in tracebacks if r.exc_info] == [ValueError, UnicodeDecodeError]


@pytest.mark.asyncio
async def test_cancelled_while_backing_off() -> None:
    policy = make_policy()

    async def session() -> str:
        raise OSError("refused")

    task = asyncio.create_task(reconnect_loop(policy, session, errors=(OSError,), sleep=asyncio.sleep))
    await asyncio.sleep(0.01)
    assert policy.state is LinkState.BACKOFF
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert policy.state is LinkState.IDLE
