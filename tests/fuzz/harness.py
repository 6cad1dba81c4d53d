"""What every fuzz target promises, checked the same way for each input.

A target is a function of one input (bytes) that calls a parser of untrusted input. For every
input it must

- raise nothing but its own documented error types (`Target.errors`): any other exception,
  RecursionError and MemoryError included, is a finding;
- return within `SLOW_S` (100 ms). The first run is timed; a slow one is run `RETRIES` more
  times and is a finding only if every run is slow, so a GC pause or the other tenants of a
  shared CI machine do not make a finding of a fast input. Under atheris, whose coverage
  tracing makes Python code several times slower, a slow input is only a candidate: the
  driver (tests/fuzz/__main__.py) replays it without instrumentation, as it runs in the
  servers, and that replay decides.

`Stats` keeps the figures a run reports: inputs executed, the slowest input seen (its time,
length and SHA-256 prefix) and the findings.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

SLOW_S = 0.100
RETRIES = 2


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    call: Callable[[bytes], object]
    errors: tuple[type[BaseException], ...]  # what the target may raise: its documented refusals
    seeds: Callable[[], Iterable[bytes]]
    doc: str


class Finding(Exception):
    """An input that broke a target's promise; `kind` is "exception" or "slow"."""

    def __init__(self, target: str, kind: str, data: bytes, detail: str) -> None:
        super().__init__(f"{target}: {kind}: {detail} (input {describe(data)})")
        self.target = target
        self.kind = kind
        self.data = data
        self.detail = detail


def describe(data: bytes) -> str:
    """An input's length, hash prefix and first bytes, short enough for a log line."""
    head = data[:48]
    return f"{len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()[:12]}, starts {head!r}"


@dataclass
class Stats:
    executed: int = 0
    slowest_s: float = 0.0
    slowest_input: str = ""
    slowest_data: bytes = b""  # written beside the figures, to replay
    findings: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, object]:
        return {
            "executed": self.executed,
            "slowest_ms": round(self.slowest_s * 1000, 3),
            "slowest_input": self.slowest_input,
            "findings": self.findings,
        }


def _run_once(target: Target, data: bytes) -> float:
    """One call, timed; a finding if it raised what it may not."""
    start = time.perf_counter()
    try:
        target.call(data)
    except target.errors:
        pass
    except BaseException as exc:
        if isinstance(exc, KeyboardInterrupt | SystemExit):
            raise
        raise Finding(target.name, "exception", data, f"{type(exc).__name__}: {exc}") from exc
    return time.perf_counter() - start


def replay_s(target: Target, data: bytes) -> float:
    """The fastest of 1 + RETRIES runs of `data` (s), for figures; raises Finding like check."""
    return min(_run_once(target, data) for _ in range(1 + RETRIES))


def check(target: Target, data: bytes, stats: Stats | None = None) -> float:
    """Run `target` on `data`; raise Finding if it broke a promise, else return its time (s)."""
    elapsed = _run_once(target, data)
    if elapsed > SLOW_S:
        elapsed = min([elapsed] + [_run_once(target, data) for _ in range(RETRIES)])
    if stats is not None:
        stats.executed += 1
        if elapsed > stats.slowest_s:
            stats.slowest_s, stats.slowest_input, stats.slowest_data = elapsed, describe(data), data
    if elapsed > SLOW_S:
        raise Finding(target.name, "slow", data, f"{elapsed * 1000:.0f} ms, limit {SLOW_S * 1000:.0f} ms")
    return elapsed
