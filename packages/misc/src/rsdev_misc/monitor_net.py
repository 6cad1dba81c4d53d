"""monitor_net: is the network up? TCP-connect probes (no root needed) to several targets.

Every `interval_s` each target gets a TCP connect with a timeout; per target the last `window`
results give median latency and loss. The outage policy (rsdev_misc.outage) declares an outage
when every target fails `fail_after` checks in a row, and recovery after `recover_after`
checks with an answer. Outage start and end (with its duration) are logged as the events
`outage_start` and `outage_end`, sent to the alert route (lib_common.alerts: `alerts` config,
`--speak-url`, `--webhook-url`) and sounded here: spoken on a sound card, or written to WAV files
in `alert.dir` when there is none. Each target has its own outages by the same thresholds
(`target_down`, `target_up`, and an alert each), so one unreachable target is told too, while
the monitor stays healthy as long as some target answers.

Throughput, as the name says: each check reports every interface's bytes/s in and out since the
previous check, from the OS's counters (`interfaces` in its figures; Linux: rsdev_misc.interfaces),
and with `throughput.url` set, every `throughput.every_s` a check also downloads from it, bounded
by `max_bytes` and `max_s`, and reports the transfer rate (bytes/s) under `throughput`
(rsdev_misc.throughput). The figures are in /health and the --once line.

{
  targets: ["1.1.1.1:443", "8.8.8.8:53", "9.9.9.9:443"],
  interval_s: 5, timeout_s: 2, window: 20,
  fail_after: 3, recover_after: 2,
  alert: { enabled: true, dir: "/var/lib/rsdev/alerts" },
  throughput: { url: "http://mirror.example/big.bin", max_bytes: 2000000, max_s: 5, every_s: 300 },
  // health, log_level: as every monitor (rsdev_misc.command)
}
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from lib_common.alerts import current, spoken_duration
from lib_common.audio import AudioError, Speaker
from lib_common.config import Section
from lib_common.flags import Option
from lib_common.logging import log_event
from rsdev_misc.command import SCHEDULE_KEYS, Monitor, Schedule, read_schedule
from rsdev_misc.interfaces import Counters, Rates, os_counters
from rsdev_misc.monitor import CheckResult
from rsdev_misc.outage import LatencyWindow, NetState, OutageDetector, Transition
from rsdev_misc.throughput import ThroughputConfig, ThroughputProbe, read_throughput

PROG = "monitor_net"
DEFAULT_TARGETS = ("1.1.1.1:443", "8.8.8.8:53", "9.9.9.9:443")
DEFAULT_ALERT_DIR = Path(tempfile.gettempdir()) / "rsdev-alerts"
SCHEDULE = Schedule(interval_s=5.0, timeout_s=2.0)
OS_COUNTERS = os_counters()  # this platform's interface counters (None: it has no portable source)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Target:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"


def parse_target(text: str) -> Target:
    """`host:port` or `[v6]:port`; ValueError says what is wrong."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected host:port, found {text!r}")
    return Target(host.strip("[]"), int(port))


@dataclass(frozen=True, slots=True)
class NetConfig:
    targets: tuple[Target, ...] = field(default_factory=lambda: tuple(parse_target(t) for t in DEFAULT_TARGETS))
    window: int = 20
    fail_after: int = 3
    recover_after: int = 2
    alert: bool = True
    alert_dir: Path = DEFAULT_ALERT_DIR
    throughput: ThroughputConfig = field(default_factory=ThroughputConfig)
    schedule: Schedule = SCHEDULE


def from_section(root: Section) -> NetConfig:
    root.only(["targets", "window", "fail_after", "recover_after", "alert", "throughput", *SCHEDULE_KEYS])
    d = NetConfig()
    targets = d.targets
    raw = root.optional_str_list("targets")
    if raw is not None:
        if not raw:
            root.problem("targets", "expected at least one host:port")
        try:
            targets = tuple(parse_target(t) for t in raw) or targets
        except ValueError as exc:
            root.problem("targets", str(exc))
    alert = root.section("alert")
    alert.only(["enabled", "dir"])
    return NetConfig(
        targets=targets,
        window=root.integer("window", d.window, minimum=1),
        fail_after=root.integer("fail_after", d.fail_after, minimum=1),
        recover_after=root.integer("recover_after", d.recover_after, minimum=1),
        alert=alert.flag("enabled", d.alert),
        alert_dir=Path(alert.optional_str("dir") or d.alert_dir),
        throughput=read_throughput(root),
        schedule=read_schedule(root, d.schedule),
    )


async def tcp_probe(target: Target, timeout_s: float) -> float | None:
    """Connect latency in ms, or None when the connect failed or timed out."""
    started = time.perf_counter()
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(target.host, target.port), timeout_s)
    except (OSError, TimeoutError):
        return None
    latency = (time.perf_counter() - started) * 1000
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return latency


class NetProbe:
    def __init__(
        self,
        config: NetConfig,
        *,
        speaker: Speaker | None = None,
        now_us: Callable[[], int] = lambda: time.time_ns() // 1000,
        counters: Callable[[], dict[str, Counters]] | None = OS_COUNTERS,
    ) -> None:
        self.config = config
        self.detector = OutageDetector(config.fail_after, config.recover_after)
        # Each target's own outages, by the same thresholds: one target down is alerted too.
        self.targets = {
            str(t): OutageDetector(config.fail_after, config.recover_after, f"target {t}") for t in config.targets
        }
        self.window = LatencyWindow(config.window)
        self.speaker = speaker if speaker is not None else Speaker(config.alert_dir, prefix=PROG)
        self.throughput = ThroughputProbe(config.throughput)
        self._counters = counters
        self._rates = Rates()
        self._counter_failures = 0
        self._interfaces(now_us())  # the first reading: the first check reports the rate since now
        self._now_us = now_us
        self._alerts: set[asyncio.Task[None]] = set()

    async def check(self) -> CheckResult:
        at_us = self._now_us()
        names = [str(t) for t in self.config.targets]
        probes = asyncio.gather(*(tcp_probe(t, self.config.schedule.timeout_s) for t in self.config.targets))
        if self.throughput.due(at_us / 1e6):
            latencies, _ = await asyncio.gather(probes, self.throughput.measure(at_us / 1e6, at_us))
        else:
            latencies = await probes
        results = dict(zip(names, latencies, strict=True))
        self.window.add(results)
        for transition in self.detector.observe(all(v is None for v in latencies), at_us):
            self._on_transition(transition)
        for name, latency in results.items():
            for transition in self.targets[name].observe(latency is None, at_us):
                self._on_target(name, transition)
        stats = self.window.stats(names)
        state = self.detector.state
        ok = [v for v in latencies if v is not None]
        details: dict[str, object] = {
            "state": state.value,
            "outages": self.detector.outages,
            "targets": {
                name: {
                    "up": results[name] is not None,
                    "state": self.targets[name].state.value,
                    "outages": self.targets[name].outages,
                    "median_ms": None if s.median_ms is None else round(s.median_ms, 3),
                    "loss": round(s.loss, 4),
                }
                for name, s in stats.items()
            },
        }
        interfaces = self._interfaces(at_us)
        if interfaces is not None:
            details["interfaces"] = interfaces
        if self.config.throughput.url is not None:
            details["throughput"] = self.throughput.figures()
        healthy = state not in (NetState.DOWN, NetState.RECOVERING)
        return CheckResult(
            healthy,
            latency_ms=min(ok) if ok else None,
            error=None if ok else "no target answered",
            details=details,
        )

    def _interfaces(self, at_us: int) -> dict[str, dict[str, float]] | None:
        """Each interface's bytes/s since the last reading, or None where the OS gives no counters."""
        if self._counters is None:
            return None
        try:
            counters = self._counters()
        except (OSError, ValueError) as exc:
            self._counter_failures += 1
            if self._counter_failures == 1:
                log.warning("interface counters unreadable (reported no more): %s", exc)
            return None
        rates = self._rates.observe(at_us / 1e6, counters)
        return {
            name: {"rx_bytes_per_s": round(rate.rx_bytes_per_s, 1), "tx_bytes_per_s": round(rate.tx_bytes_per_s, 1)}
            for name, rate in sorted(rates.items())
        }

    def _on_transition(self, transition: Transition) -> None:
        fields: dict[str, object] = {"before": transition.before.value, "after": transition.after.value}
        if transition.outage_started and transition.outage is not None:
            log_event(
                log,
                logging.ERROR,
                "outage_start",
                "network outage: no target answers",
                started_us=transition.outage.started_us,
                targets=[str(t) for t in self.config.targets],
            )
            self._alert("Network outage. No target answers.", 440.0)
            current().start("network", "network outage: no target answers")
        elif transition.outage_ended and transition.outage is not None:
            duration = transition.outage.duration_s or 0.0
            log_event(
                log,
                logging.WARNING,
                "outage_end",
                f"network back after {duration:.1f} s",
                started_us=transition.outage.started_us,
                ended_us=transition.outage.ended_us,
                duration_s=round(duration, 3),
            )
            self._alert(f"Network restored after {round(duration)} seconds.", 880.0)
            current().end("network", f"network back after {spoken_duration(duration)}", duration)
        else:
            log_event(log, logging.INFO, "state", f"network {transition.after.value}", **fields)

    def _on_target(self, name: str, transition: Transition) -> None:
        """One target's outage (every other target may still answer): logged and alerted."""
        outage = transition.outage
        if transition.outage_started and outage is not None:
            log_event(log, logging.WARNING, "target_down", f"{name} does not answer", target=name)
            current().start(f"target {name}", f"target {name} does not answer")
        elif transition.outage_ended and outage is not None:
            duration = outage.duration_s or 0.0
            log_event(
                log,
                logging.INFO,
                "target_up",
                f"{name} answers again after {duration:.1f} s",
                target=name,
                duration_s=round(duration, 3),
            )
            current().end(f"target {name}", f"target {name} answers again after {spoken_duration(duration)}", duration)

    def _alert(self, text: str, frequency_hz: float) -> None:
        if not self.config.alert:
            return
        task = asyncio.get_running_loop().create_task(self._sound(text, frequency_hz))
        self._alerts.add(task)
        task.add_done_callback(self._alerts.discard)

    async def _sound(self, text: str, frequency_hz: float) -> None:
        # Speech engines block: off the loop, so probing goes on while they work.
        for make in (lambda: self.speaker.tone(frequency_hz), lambda: self.speaker.speak(text)):
            try:
                sound = await asyncio.to_thread(make)
            except AudioError as exc:
                log.warning("alert not sounded: %s", exc)
                continue
            if sound.played:
                log_event(log, logging.INFO, "alert_played", f"alert played: {sound.text}")
            else:
                log_event(log, logging.INFO, "alert_written", f"alert written to {sound.path}", path=str(sound.path))

    async def close(self) -> None:
        await self.throughput.close()
        if self._alerts:
            await asyncio.wait(self._alerts, timeout=self.speaker.timeout_s)


def _target_arg(text: str) -> str:
    try:
        parse_target(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def once(config: NetConfig) -> NetConfig:
    """One check cannot make an outage (and cron wants no sound): with `--once` the exit code
    says whether any target answered."""
    return replace(config, fail_after=1, recover_after=1, alert=False)


MONITOR = Monitor(
    prog=PROG,
    description="Probe several host:port targets with TCP connects; an outage is declared when all fail "
    "for fail_after checks in a row, and over after recover_after good checks; each target's own outage is "
    "alerted too. Healthy: some target answers.",
    config_help="targets, fail_after, recover_after, window, alert, throughput, health",
    schedule=SCHEDULE,
    from_section=from_section,
    probe=NetProbe,
    flags=[
        Option("--target", "targets", "host:port to probe (repeatable)", type=_target_arg, kind="append"),
        Option("--alert-dir", "alert.dir", "where alerts are written when there is no sound card", type=Path),
        Option(
            "--throughput-url",
            "throughput.url",
            "measure the transfer rate of a download from this URL every throughput.every_s (default 300 s), "
            "at most throughput.max_bytes (2000000) in throughput.max_s (5 s)",
        ),
    ],
    once=once,
    retry_backoff=False,
)

if __name__ == "__main__":
    sys.exit(MONITOR.main())
