"""Network outage policy: when is the network down, and when is it back? Plain code, time passed in.

An outage is declared only when ALL targets fail for `fail_after` consecutive checks, and over
when `recover_after` consecutive checks have at least one target answering. Its start is the
first check of the failing run; its end is the first check of the succeeding run, so the
reported duration does not depend on the thresholds.

    UP --all fail--> FAILING --(fail_after in a row)--> DOWN --any ok--> RECOVERING
     ^                 |  any ok                          ^   all fail       |
     +-----------------+                                  +------------------+
     +------------------------(recover_after in a row)-----------------------+
"""

from __future__ import annotations

import enum
import logging
import statistics
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

log = logging.getLogger(__name__)


class NetState(enum.Enum):
    UP = "up"
    FAILING = "failing"
    DOWN = "down"
    RECOVERING = "recovering"


@dataclass(frozen=True, slots=True)
class Outage:
    """One network outage as declared here: open (no end) while the network is down, on the wall
    clock (µs) its `outage_start` and `outage_end` events report. Not lib_common's reconnect
    Outage, a closed record of one connection's failures (monotonic seconds, error count, first
    error): no connection fails here, every target is only probed."""

    started_us: int
    ended_us: int | None = None

    @property
    def duration_s(self) -> float | None:
        return None if self.ended_us is None else (self.ended_us - self.started_us) / 1e6


@dataclass(frozen=True, slots=True)
class Transition:
    before: NetState
    after: NetState
    at_us: int
    outage: Outage | None = None  # set on the transitions into DOWN (start) and back to UP (end)

    @property
    def outage_started(self) -> bool:
        return self.after is NetState.DOWN and self.before is NetState.FAILING

    @property
    def outage_ended(self) -> bool:
        return self.after is NetState.UP and self.before is NetState.RECOVERING


class OutageDetector:
    def __init__(self, fail_after: int = 3, recover_after: int = 2, name: str = "network") -> None:
        if fail_after < 1 or recover_after < 1:
            raise ValueError(f"need fail_after >= 1 and recover_after >= 1, got {fail_after}, {recover_after}")
        self.name = name  # what is up or down, for the log
        self.fail_after = fail_after
        self.recover_after = recover_after
        self.state = NetState.UP
        self._run = 0  # length of the current run of failing (or, while down, succeeding) checks
        self._run_start_us = 0
        self.outage: Outage | None = None  # the current outage, while DOWN or RECOVERING
        self.outages = 0

    def observe(self, all_failed: bool, at_us: int) -> list[Transition]:
        """Feed one check (did every target fail?) taken at `at_us`; returns the transitions made."""
        # Both halves of the machine are one rule: from a resting state (UP, DOWN) a check that
        # goes against it starts a run and the pending state (FAILING, RECOVERING); `needed` such
        # checks in a row make the change; a check that agrees ends the run and any pending.
        down = self.state in (NetState.DOWN, NetState.RECOVERING)
        rest, pending = (NetState.DOWN, NetState.RECOVERING) if down else (NetState.UP, NetState.FAILING)
        out: list[Transition] = []
        if all_failed is down:  # agrees with the resting state
            self._run = 0
            if self.state is pending:
                out.append(self._move(rest, at_us))
            return out
        if self._run == 0:
            self._run_start_us = at_us
        self._run += 1
        if self.state is rest:
            out.append(self._move(pending, at_us))
        if self._run >= (self.recover_after if down else self.fail_after):
            self._run = 0
            out.append(self._recovered(at_us) if down else self._went_down(at_us))
        return out

    def _went_down(self, at_us: int) -> Transition:
        self.outage = Outage(self._run_start_us)
        self.outages += 1
        return self._move(NetState.DOWN, at_us, self.outage)

    def _recovered(self, at_us: int) -> Transition:
        assert self.outage is not None
        ended = Outage(self.outage.started_us, self._run_start_us)
        self.outage = None
        return self._move(NetState.UP, at_us, ended)

    def _move(self, after: NetState, at_us: int, outage: Outage | None = None) -> Transition:
        transition = Transition(self.state, after, at_us, outage)
        log.info("%s state %s -> %s", self.name, self.state.value, after.value)
        self.state = after
        return transition


@dataclass(frozen=True, slots=True)
class TargetStats:
    checks: int
    loss: float  # fraction of checks in the window that failed, 0..1
    median_ms: float | None  # of the successful checks in the window


class LatencyWindow:
    """The last `size` results of each target: median latency and loss."""

    def __init__(self, size: int = 20) -> None:
        if size < 1:
            raise ValueError(f"window size must be at least 1, found {size}")
        self.size = size
        self._results: dict[str, deque[float | None]] = {}

    def add(self, results: Mapping[str, float | None]) -> None:
        """`results`: target → latency in ms, or None when the probe failed."""
        for target, latency in results.items():
            self._results.setdefault(target, deque(maxlen=self.size)).append(latency)

    def stats(self, targets: Iterable[str] | None = None) -> dict[str, TargetStats]:
        names = list(self._results) if targets is None else list(targets)
        out = {}
        for name in names:
            window = self._results.get(name, deque())
            ok = [v for v in window if v is not None]
            loss = 1.0 - len(ok) / len(window) if window else 0.0
            out[name] = TargetStats(len(window), loss, statistics.median(ok) if ok else None)
        return out
