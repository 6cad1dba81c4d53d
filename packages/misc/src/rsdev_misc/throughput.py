"""monitor_net's throughput probe: the transfer rate of a download, bounded in size and time.

Every `every_s` the probe GETs `url` and reads the body until `max_bytes` have arrived, the body
ends, or `max_s` have passed since the request was sent, whichever comes first; the rate is the
body's bytes over the time from the response's head to the last byte read (connect and the
server's think time are `ttfb_ms`, apart). The bytes are counted as they arrive on the wire
(`Accept-Encoding: identity`, read raw). A failed download is counted and reported in the
figures; it does not make the network unhealthy (that is the TCP targets' call) and is logged
when it starts failing and when it recovers, not every time.

  throughput: {
    url: "http://mirror.example/100MB.bin",  // no url: no throughput probe
    max_bytes: 2000000, max_s: 5,            // whichever first
    every_s: 300,                            // a download costs bandwidth: not every check
  }
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from lib_common import web_urls
from lib_common.config import Section
from lib_common.log_text import redact
from lib_common.logging import log_event

log = logging.getLogger(__name__)

THROUGHPUT_KEYS = ("url", "max_bytes", "max_s", "every_s")


@dataclass(frozen=True, slots=True)
class ThroughputConfig:
    url: str | None = None
    max_bytes: int = 2_000_000
    max_s: float = 5.0
    every_s: float = 300.0


def read_throughput(root: Section) -> ThroughputConfig:
    section = root.section("throughput")
    section.only(THROUGHPUT_KEYS)
    d = ThroughputConfig()
    url = section.optional_str("url")
    problem = None if url is None else web_urls.url_problem(redact(url), web_urls.HTTP, "an http:// or https:// URL")
    if problem is not None:
        section.problem("url", problem)
    return ThroughputConfig(
        url=url or None,
        max_bytes=section.integer("max_bytes", d.max_bytes, minimum=1),
        max_s=section.number("max_s", d.max_s, minimum=0.01),
        every_s=section.number("every_s", d.every_s, minimum=0),
    )


@dataclass(frozen=True, slots=True)
class Transfer:
    """One download: what arrived, how long the body took, and what stopped it."""

    status: int
    bytes: int
    seconds: float
    ttfb_ms: float
    limited_by: str  # "size" (max_bytes), "time" (max_s) or "end" (the whole body)

    @property
    def bytes_per_s(self) -> float | None:
        return self.bytes / self.seconds if self.seconds > 0 else None


class DownloadError(Exception):
    """A download that measured nothing: `str()` says what happened and where."""


async def download(
    client: httpx.AsyncClient,
    url: str,
    *,
    max_bytes: int,
    max_s: float,
    clock: Callable[[], float] = time.perf_counter,
) -> Transfer:
    """GET `url` and read at most `max_bytes` of its body within `max_s` seconds."""
    where = redact(url)
    started = clock()
    head_at: float | None = None
    status = 0
    received = 0
    limited_by = "end"
    try:
        async with asyncio.timeout(max_s):
            async with client.stream("GET", url, headers={"Accept-Encoding": "identity"}) as response:
                head_at = clock()
                status = response.status_code
                if not response.is_success:
                    raise DownloadError(f"HTTP {status} from {where}")
                async for chunk in response.aiter_raw():
                    received += len(chunk)
                    if received >= max_bytes:
                        limited_by = "size"
                        break
    except TimeoutError:
        if head_at is None:
            raise DownloadError(f"no answer from {where} within {max_s:g} s") from None
        limited_by = "time"
    except httpx.HTTPError as exc:
        raise DownloadError(f"download from {where} failed: {type(exc).__name__}: {redact(str(exc))}") from None
    assert head_at is not None
    return Transfer(status, received, clock() - head_at, (head_at - started) * 1000, limited_by)


class ThroughputProbe:
    """Downloads every `every_s` (on the caller's clock, in seconds) and keeps the figures."""

    def __init__(self, config: ThroughputConfig) -> None:
        self.config = config
        # max_s bounds the whole download (asyncio.timeout); httpx's own limit only backs it up.
        self._client = httpx.AsyncClient(timeout=httpx.Timeout(config.max_s + 1), follow_redirects=True)
        self._last_at: float | None = None
        self.downloads = 0
        self.failures = 0
        self._failing = False
        self._figures: dict[str, object] = {"url": redact(config.url or ""), "downloads": 0, "failures": 0}

    def due(self, now_s: float) -> bool:
        return self.config.url is not None and (self._last_at is None or now_s - self._last_at >= self.config.every_s)

    async def measure(self, now_s: float, at_us: int) -> None:
        assert self.config.url is not None
        self._last_at = now_s
        self.downloads += 1
        try:
            transfer = await download(
                self._client, self.config.url, max_bytes=self.config.max_bytes, max_s=self.config.max_s
            )
        except DownloadError as exc:
            self.failures += 1
            if not self._failing:
                log_event(log, logging.WARNING, "throughput_failed", f"throughput probe: {exc}", error=str(exc))
            self._failing = True
            self._figures.update(error=str(exc), failed_at_us=at_us)
        else:
            rate = transfer.bytes_per_s
            if self._failing:
                log_event(log, logging.INFO, "throughput_ok", "throughput probe answers again")
            self._failing = False
            self._figures.update(
                error=None,
                at_us=at_us,
                bytes=transfer.bytes,
                seconds=round(transfer.seconds, 6),
                bytes_per_s=None if rate is None else round(rate, 1),
                ttfb_ms=round(transfer.ttfb_ms, 3),
                limited_by=transfer.limited_by,
            )
        self._figures.update(downloads=self.downloads, failures=self.failures)

    def figures(self) -> dict[str, object]:
        return dict(self._figures)

    async def close(self) -> None:
        await self._client.aclose()
