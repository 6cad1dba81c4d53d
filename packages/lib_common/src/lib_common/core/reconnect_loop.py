"""The loop around a `Reconnect` policy (lib_common.core.reconnect) that every reconnecting
client with one link at a time runs: connect and serve, back off, again, until cancelled.

    await reconnect_loop(policy, self._session, errors=(OSError, TimeoutError), sleep=asyncio.sleep)

`session()` connects, tells the policy `connected()` once its link is up, serves the link, and
returns why it ended ("connection closed") or raises one of `errors`; either way the policy
counts the failure and says how long to wait. Anything else a session raises (a bug, or input
nobody foresaw) is handled the same way, never a dead task: its traceback is logged the first
time that exception type ends a session, and the loop backs off and goes on. Only cancellation
(and other BaseExceptions: KeyboardInterrupt, SystemExit) ends it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from lib_common.core.reconnect import Reconnect

log = logging.getLogger(__name__)


async def reconnect_loop(
    policy: Reconnect,
    session: Callable[[], Awaitable[str]],
    *,
    errors: tuple[type[BaseException], ...],
    sleep: Callable[[float], Awaitable[object]],
) -> None:
    """Sessions one after another, with the policy's backoff between them, until cancelled;
    the policy is `stopped()` however the loop ends."""
    unexpected: set[type[BaseException]] = set()  # traceback logged once per type
    try:
        while True:
            policy.connecting()
            error: BaseException | str
            try:
                error = await session()
            except errors as exc:
                error = exc
            except Exception as exc:
                error = exc
                if type(exc) not in unexpected:
                    unexpected.add(type(exc))
                    log.error("%s: unexpected failure, reconnecting", policy.name, exc_info=exc)
            await sleep(policy.failed(error))
    finally:
        policy.stopped()
