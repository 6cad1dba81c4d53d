"""The soak's faults and how each is carried out and undone.

The schedule cycles through kill -9 of every service in turn (the pid `pmdaemon status` shows),
interleaved with the other faults so that a short run meets every kind early: `pmdaemon restart
restream`, Redis down, PostgreSQL down, an upstream stall and malformed upstream frames
(server_dummy's POST /fault). Outages last `outage_s`."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field
from typing import Any

import httpx
from stack import Pmdaemon, PrivatePostgres, PrivateRedis, SoakError

KILL = "kill"
OTHERS = ("redis_down", "restart_restream", "postgres_down", "upstream_stall", "upstream_malformed")
# The outages that the services are expected to alert (start and end), and who: (service, subject).
EXPECTED_ALERTS: dict[str, list[tuple[str, str]]] = {
    "redis_down": [("monitor_redis", "Redis")],
    "postgres_down": [("monitor_postgres", "PostgreSQL")],
    "upstream_stall": [("restream", "yahoo upstream")],
}
OUTAGES = ("redis_down", "postgres_down", "upstream_stall", "upstream_malformed")


@dataclass(frozen=True, slots=True)
class Fault:
    kind: str
    target: str = ""

    @property
    def label(self) -> str:
        return f"{self.kind} {self.target}".strip()


def schedule(services: list[str]) -> list[Fault]:
    """One cycle: the kills in the services' order, another fault after each while they last."""
    out: list[Fault] = []
    others = list(OTHERS)
    for name in services:
        out.append(Fault(KILL, name))
        if others:
            out.append(Fault(others.pop(0)))
    return out + [Fault(kind) for kind in others]


@dataclass
class Outcome:
    """What happened: the outage's window (a kill's is the kill itself), when every service was
    RUNNING and healthy again, and the target service's new pid."""

    fault: Fault
    started: float
    ended: float = 0.0
    back_after_s: float | None = None
    all_back_after_s: float | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.fault.kind,
            "target": self.fault.target,
            "label": self.fault.label,
            "started": self.started,
            "ended": self.ended,
            "back_after_s": self.back_after_s,
            "all_back_after_s": self.all_back_after_s,
            "detail": self.detail,
        }


def healthy(service: dict[str, Any]) -> bool:
    return service["state"] == "RUNNING" and bool(service["healthy"])


@dataclass(frozen=True, slots=True)
class Injector:
    """Runs one fault against the stack, then waits (up to `back_timeout_s`) for the services to be back."""

    pmdaemon: Pmdaemon
    redis: PrivateRedis
    postgres: PrivatePostgres
    dummy_url: str
    outage_s: float
    back_timeout_s: float

    def run(self, fault: Fault) -> Outcome:
        outcome = Outcome(fault, time.time())
        if fault.kind == KILL:
            self._kill(fault.target, outcome)
        elif fault.kind == "restart_restream":
            before = self.pmdaemon.services()["restream"]["pid"]
            out = self.pmdaemon.checked("restart", "restream")
            outcome.detail.update(old_pid=before, output=out.strip()[-300:])
            outcome.ended = time.time()
            self._wait_back(outcome, "restream", other_than=before)
        elif fault.kind == "redis_down":
            self._outage(outcome, self.redis.stop, self.redis.start)
        elif fault.kind == "postgres_down":
            self._outage(outcome, self.postgres.stop, self.postgres.start)
        elif fault.kind == "upstream_stall":
            self._outage(outcome, lambda: self._dummy("stall"), lambda: self._dummy("none"))
        elif fault.kind == "upstream_malformed":
            self._outage(outcome, lambda: self._dummy("malformed"), lambda: self._dummy("none"))
        else:
            raise SoakError(f"unknown fault {fault.kind!r}")
        return outcome

    def _kill(self, name: str, outcome: Outcome) -> None:
        pid = self.pmdaemon.services()[name]["pid"]
        if not pid:
            outcome.detail["error"] = f"{name} had no pid to kill"
            outcome.ended = time.time()
            return
        os.kill(int(pid), signal.SIGKILL)
        outcome.started = outcome.ended = time.time()
        outcome.detail["killed_pid"] = pid
        self._wait_back(outcome, name, other_than=int(pid))

    def _outage(self, outcome: Outcome, begin: Any, end: Any) -> None:
        outcome.started = time.time()  # before: what notices goes on noticing while it stops
        begin()
        time.sleep(self.outage_s)
        end()
        outcome.ended = time.time()
        self._wait_back(outcome, None, other_than=None)

    def _dummy(self, mode: str) -> None:
        response = httpx.post(f"{self.dummy_url}/fault", json={"mode": mode}, timeout=5)
        if response.status_code != 200:
            raise SoakError(f"server_dummy POST /fault {mode}: HTTP {response.status_code} {response.text[:200]}")

    def _wait_back(self, outcome: Outcome, name: str | None, other_than: int | None) -> None:
        """When `name` (with a pid other than `other_than`), then every service, is RUNNING and healthy."""
        deadline = outcome.ended + self.back_timeout_s
        while time.time() < deadline:
            try:
                services = self.pmdaemon.services()
            except SoakError:
                time.sleep(0.5)
                continue
            now = time.time()
            if name is not None and outcome.back_after_s is None:
                s = services[name]
                if healthy(s) and s["pid"] and s["pid"] != other_than:
                    outcome.back_after_s = round(now - outcome.ended, 2)
                    outcome.detail["new_pid"] = s["pid"]
            if (name is None or outcome.back_after_s is not None) and all(healthy(s) for s in services.values()):
                outcome.all_back_after_s = round(now - outcome.ended, 2)
                return
            time.sleep(0.5)
        outcome.detail["not_back"] = sorted(n for n, s in self.pmdaemon.services().items() if not healthy(s))
