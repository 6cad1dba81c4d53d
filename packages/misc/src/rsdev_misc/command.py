"""A monitor's command line, the same for every monitor: its config, its flags, its `main`.

A monitor module supplies only what is its own, as a `Monitor`: its settings (a config dataclass
with a `schedule`, read by its `from_section`), its flags (lib_common.flags.Option, each a config path) and its
probe. The rest is here: the settings every monitor has (`Schedule`: `interval_s`, `timeout_s`,
`health`, `log_level`), the flags every monitor has (`--config`, `--once`, `--interval`,
`--host`, `--port`, `--log-level`, `--log-dir`, `--speak-url`, `--webhook-url`), reading the config the way every
rsdev program does (docs/config.md: the file, then `RSDEV__SECTION__KEY` variables, then flags;
every problem at once, exit 2), logging, and the loop or `--once` (rsdev_misc.monitor).

The settings every monitor's config has (defaults: the monitor's own interval and timeout, no
/health port, info):

{
  interval_s: 30, timeout_s: 5,
  health: { host: "127.0.0.1", port: 9411 },   // optional /health port in loop mode
  log_level: "info",
  log_dir: "/var/log/rsdev",                     // optional: JSON lines, a file per New York day
  alerts: { speak_url: "http://127.0.0.1:8774/speak", webhook_url: "…", min_interval_s: 60 },
}
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, Protocol, TypeVar

from lib_common.alerts import PROGRAM_KEYS, PROGRAM_OPTIONS, AlertsConfig, read_program, setup_program
from lib_common.config import Section, read_config
from lib_common.flags import Option, add_options, load_or_exit, option_flags, positive_float
from rsdev_misc.monitor import HealthAlerts, HealthListen, Probe, run_main

# The flags every monitor has besides --config, --once and --interval.
MONITOR_OPTIONS = (
    Option("--host", "health.host", "address of the /health port (default 127.0.0.1)"),
    Option("--port", "health.port", "serve GET /health on this port in loop mode (0 picks a free one)", type=int),
    *PROGRAM_OPTIONS,
)


@dataclass(frozen=True, slots=True)
class Schedule:
    """The settings every monitor has, at the top level of its config: how often it checks, how
    long a check may take, where its /health port is, how much it logs."""

    interval_s: float
    timeout_s: float
    health: HealthListen = field(default_factory=HealthListen)
    log_level: str = "info"
    log_dir: Path | None = None
    alerts: AlertsConfig = field(default_factory=AlertsConfig)


SCHEDULE_KEYS = ("interval_s", "timeout_s", "health", *PROGRAM_KEYS)


def read_health(root: Section) -> HealthListen:
    health = root.section("health")
    health.only(["host", "port"])
    port = health.integer("port", -1, minimum=0, maximum=65535) if "port" in health else None
    return HealthListen(health.optional_str("host") or "127.0.0.1", port)


def read_schedule(root: Section, default: Schedule) -> Schedule:
    """The `SCHEDULE_KEYS` of a monitor's config; `default` has the monitor's own defaults."""
    return Schedule(
        interval_s=root.number("interval_s", default.interval_s, minimum=0.01),
        timeout_s=root.number("timeout_s", default.timeout_s, minimum=0.01),
        health=read_health(root),
        **read_program(root),
    )


class MonitorConfig(Protocol):
    @property
    def schedule(self) -> Schedule: ...


C = TypeVar("C", bound=MonitorConfig)


@dataclass(frozen=True, slots=True)
class Monitor(Generic[C]):
    """One monitor's command: what it checks (`description`: a sentence or two, `probe`) and
    reads (`from_section`, `flags`); `schedule` is its default Schedule (for `--interval`'s help)."""

    prog: str
    description: str
    config_help: str
    schedule: Schedule
    from_section: Callable[[Section], C]
    probe: Callable[[C], Probe]
    flags: Sequence[Option] = ()
    once: Callable[[C], C] | None = None  # the config for `--once`, when it differs
    retry_backoff: bool = True  # in loop mode, retry a failed check sooner
    subject: str | None = None  # what an unhealthy check means is down, alerted (None: the probe alerts)

    @property
    def _interval(self) -> Option:
        return Option(
            "--interval",
            "interval_s",
            f"seconds between checks in loop mode (default {self.schedule.interval_s:g})",
            type=positive_float,
        )

    def build_parser(self) -> argparse.ArgumentParser:
        parser = argparse.ArgumentParser(
            prog=self.prog,
            description=f"{self.description} Loop mode, or --once for cron (exit 0 healthy, 1 unhealthy, "
            "2 usage/config error).",
        )
        parser.add_argument("--config", type=Path, help=f"JSON5 config file ({self.config_help})")
        mode = parser.add_mutually_exclusive_group()
        mode.add_argument(
            "--once", action="store_true", help="check once and exit: 0 healthy, 1 unhealthy, 2 usage/config error"
        )
        self._interval.add_to(mode)
        add_options(parser, (*MONITOR_OPTIONS, *self.flags))
        return parser

    def resolve(self, args: argparse.Namespace, env: Mapping[str, str] | None = None) -> C:
        """The config file, the environment (os.environ by default) and the flags, in that order."""
        options = (self._interval, *MONITOR_OPTIONS, *self.flags)
        return read_config(args.config, self.from_section, flags=option_flags(args, options), env=env)

    def main(self, argv: list[str] | None = None) -> int:
        args = self.build_parser().parse_args(argv)
        config = load_or_exit(self.prog, lambda: self.resolve(args))
        if args.once and self.once is not None:
            config = self.once(config)
        schedule = config.schedule
        route = setup_program(
            service=self.prog, level=schedule.log_level, log_dir=schedule.log_dir, alerts=schedule.alerts
        )
        try:
            return run_main(
                self.prog,
                self.probe(config),
                once=args.once,
                interval_s=schedule.interval_s,
                health=schedule.health,
                retry_backoff=self.retry_backoff,
                alerts=None if self.subject is None else HealthAlerts(self.subject),
            )
        finally:
            route.close()
