"""The services file: JSON5 in, validated `ServicesFile` out.

    {
      watch: {                                    // optional
        poll_s: 1,                                // how often the watch evaluates
        alerts: { webhook_url: "http://...", speak_url: "http://127.0.0.1:${ports.speak}/speak",
                  min_interval_s: 60, timeout_s: 3 },  // FATAL and restart loops (docs/pmdaemon.md)
        restart_loop: { restarts: 5, within_s: 300, stable_s: 60 },  // what a restart loop is
      },
      vars: { py: "/usr/bin/python3" },           // optional: ${py} in any string below
      services: [
        {
          name: "web",                            // [A-Za-z0-9_.-]+, unique
          port: 8000,                             // optional, unique: ${port}, ${ports.web}
          command: "${py} -m http.server ${port}",  // split like a shell, or a list
          args: ["--bind", "127.0.0.1"],          // appended to command
          env: { KEY: "value" }, cwd: "..",       // cwd relative to the services file
          autorestart: true,                      // true | false | "unexpected"
          exit_codes: [0], start_retries: 3, start_secs: 1,
          stop_signal: "TERM", stop_wait_s: 10,
          stdout: { file: "web.log", max_mb: 10, backups: 5 },   // default STATE/logs/NAME.log
          stderr: { file: "web.err.log" },        // default: merged into stdout's file
          memory_limit_mb: 500,                   // whole process tree RSS
          health: { url: "http://127.0.0.1:8000/health", interval_s: 10, timeout_s: 2, failures: 3,
                    restart: true },              // url defaults to http://127.0.0.1:${port}/health
          restart_at: ["08:55", "16:05:30"],      // New York wall-clock times, every day; or
          // restart_at: { at: ["08:55"], days: "trading_days" },  // or "full_trading_days"
          defer_restarts: { max_wait_s: 3600, memory_ceiling_mb: 1500 },  // not in regular hours
          backoff: { initial_s: 10, factor: 2, max_s: 300 },  // cool-down before recovering FATAL
          handover: true,                         // restarts start a successor beside it, then SIGHUP
        },
      ],
    }

Every error names the file position, the JSON path and what was expected versus found.
Strings may use `${...}` variables (variables.py).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import shlex
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, NoReturn, TypeVar
from urllib.parse import urlsplit

import json5format
from json5format.errors import line_and_column

from . import market
from .errors import ConfigError
from .positions import JsonPath, Positions, format_path
from .variables import UnknownVariable, expand, valid_name

WATCH_NAME = "pmdaemon-watch"
_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_ENV_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_CLOCK_TIME = re.compile(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?")
STOP_SIGNALS = ("TERM", "INT", "QUIT", "KILL", "HUP", "USR1", "USR2")
# configparser (under supervisord) starts an inline comment at whitespace + ';' or '#'.
_INLINE_COMMENT = re.compile(r"\s[;#]")

Autorestart = bool | Literal["unexpected"]
RESTART_DAYS = ("every_day", "trading_days", "full_trading_days")
RestartDays = Literal["every_day", "trading_days", "full_trading_days"]


@dataclass(frozen=True, slots=True)
class LogSpec:
    file: Path
    max_mb: float = 10.0
    backups: int = 5


@dataclass(frozen=True, slots=True)
class HealthSpec:
    url: str
    interval_s: float = 10.0
    timeout_s: float = 2.0
    failures: int = 3
    # False: failures show in `status` but never restart (a monitor reporting what it watches).
    restart: bool = True


@dataclass(frozen=True, slots=True)
class BackoffSpec:
    """Cool-down before recovering a FATAL service: initial_s * factor**n, at most max_s."""

    initial_s: float = 10.0
    factor: float = 2.0
    max_s: float = 300.0

    def delay(self, attempt: int) -> float:
        """Cool-down before recovery number `attempt` (0-based)."""
        return min(self.max_s, self.initial_s * self.factor ** min(attempt, 64))


@dataclass(frozen=True, slots=True)
class DeferSpec:
    """Memory and health restarts wait for the end of NYSE's regular session, within limits."""

    max_wait_s: float = 3600.0  # a deferred restart happens after this long at the latest
    memory_ceiling_mb: float | None = None  # above it a memory restart is never deferred


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    name: str
    argv: tuple[str, ...]
    stdout: LogSpec
    stderr: LogSpec | None = None  # None: merged into stdout's file
    port: int | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    autorestart: Autorestart = True
    exit_codes: tuple[int, ...] = (0,)
    start_retries: int = 3
    start_secs: float = 1.0
    stop_signal: str = "TERM"
    stop_wait_s: float = 10.0
    memory_limit_mb: float | None = None
    health: HealthSpec | None = None
    restart_at: tuple[dt.time, ...] = ()
    restart_days: RestartDays = "every_day"
    defer_restarts: DeferSpec | None = None
    backoff: BackoffSpec = BackoffSpec()
    # Restarts are handovers (slots.py, handover.py): a successor listens beside the running
    # process (SO_REUSEPORT), then SIGHUP tells the old one to close its clients and exit 0.
    handover: bool = False
    # With handover: both slots run, the idle one as a warm standby that serves the moment the
    # serving one is gone (a kill -9 included): the lock file they share (the gateways'
    # listen.standby_lock, STATE/run/NAME.lock); None without `standby: true`.
    standby_lock: Path | None = None

    @property
    def standby(self) -> bool:
        return self.standby_lock is not None

    @property
    def logs(self) -> tuple[LogSpec, ...]:
        """The service's log files: one (stderr merged) or stdout's and stderr's."""
        return (self.stdout,) if self.stderr is None else (self.stdout, self.stderr)


@dataclass(frozen=True, slots=True)
class AlertsSpec:
    """Where the watch sends its alerts (lib_common.alerts' route: server_speak, a webhook)."""

    speak_url: str | None = None
    webhook_url: str | None = None
    min_interval_s: float = 60.0
    timeout_s: float = 3.0


@dataclass(frozen=True, slots=True)
class RestartLoopSpec:
    """A restart loop: `restarts` unplanned restarts (crashes, failed spawns) within `within_s`;
    over once the service has run healthy for `stable_s` since its last start."""

    restarts: int = 5
    within_s: float = 300.0
    stable_s: float = 60.0


@dataclass(frozen=True, slots=True)
class ServicesFile:
    source: Path
    services: tuple[ServiceSpec, ...]
    poll_s: float = 1.0
    alerts: AlertsSpec | None = None
    restart_loop: RestartLoopSpec = RestartLoopSpec()

    def get(self, name: str) -> ServiceSpec | None:
        return next((s for s in self.services if s.name == name), None)


def load_services(path: Path, *, state_dir: Path) -> ServicesFile:
    """Read and validate a services file; raise ConfigError pointing into it."""
    try:
        text = json5format.read_document(path)
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", path="", source=str(path), line=1, column=1) from None
    except (UnicodeDecodeError, json5format.DocumentTooLarge) as exc:
        raise ConfigError(f"cannot read: {exc}", path="", source=str(path), line=1, column=1) from None
    return parse_services(text, source=path, base_dir=path.resolve().parent, state_dir=state_dir)


def parse_services(text: str, *, source: Path, base_dir: Path, state_dir: Path) -> ServicesFile:
    """Validate services-file text; relative paths are taken from `base_dir`."""
    try:
        document = json5format.loads(text, source=str(source), unique_keys=True)
    except json5format.ParseError as exc:
        raise ConfigError(exc.message, path="", source=exc.source, line=exc.line, column=exc.column) from None
    return _Validator(text, source, base_dir, state_dir).document(document)


T = TypeVar("T")


def _describe(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37] + "...")
    if isinstance(value, int | float):
        return repr(value)
    return "an object" if isinstance(value, dict) else "a list"


class _Validator:
    def __init__(self, text: str, source: Path, base_dir: Path, state_dir: Path) -> None:
        self._text = text
        self._source = source
        self._base = base_dir
        self._state_dir = state_dir
        self._logs = state_dir / "logs"
        self._positions: Positions | None = None

    def fail(self, path: JsonPath, reason: str, *, at_key: bool = False) -> NoReturn:
        if self._positions is None:
            self._positions = Positions(self._text)
        offset = self._positions.key_offset(path) if at_key else self._positions.value_offset(path)
        line, column = line_and_column(self._text, offset)
        raise ConfigError(
            reason, path=format_path(path) or "(document)", source=str(self._source), line=line, column=column
        )

    # -- generic checks ------------------------------------------------------------------

    def obj(
        self, value: object, path: JsonPath, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, object]:
        if not isinstance(value, dict):
            self.fail(path, f"expected an object, found {_describe(value)}")
        for key in value:
            if key not in allowed:
                self.fail((*path, key), f"unknown key {key!r}; expected one of: {', '.join(allowed)}", at_key=True)
        for key in required:
            if key not in value:
                self.fail(path, f"missing required key {key!r}")
        return value

    def string(self, value: object, path: JsonPath) -> str:
        if not isinstance(value, str) or not value:
            self.fail(path, f"expected a non-empty string, found {_describe(value)}")
        return value

    def number(self, value: object, path: JsonPath, *, minimum: float = 0.0, strict: bool = True) -> float:
        ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
        if not ok or (value <= minimum if strict else value < minimum):  # type: ignore[operator]
            bound = f"> {minimum:g}" if strict else f">= {minimum:g}"
            self.fail(path, f"expected a number {bound}, found {_describe(value)}")
        return float(value)  # type: ignore[arg-type]

    def integer(self, value: object, path: JsonPath, *, minimum: int = 0) -> int:
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            self.fail(path, f"expected an integer >= {minimum}, found {_describe(value)}")
        return value

    def optional(
        self, obj: dict[str, object], key: str, path: JsonPath, check: Callable[[object, JsonPath], T], default: T
    ) -> T:
        return check(obj[key], (*path, key)) if key in obj else default

    def config_safe(self, value: str, path: JsonPath, what: str) -> str:
        # supervisord's configuration is an INI file: it cannot hold line breaks in a value.
        if "\n" in value or "\r" in value or "\x00" in value:
            self.fail(path, f"{what} must not contain line breaks or NUL characters")
        return value

    # -- the schema ----------------------------------------------------------------------

    def document(self, value: object) -> ServicesFile:
        top = self.obj(value, (), ("services", "watch", "vars"), ("services",))
        raw = top["services"]
        if not isinstance(raw, list):
            self.fail(("services",), f"expected a list of services, found {_describe(raw)}")
        values = {"state_dir": str(self._state_dir), **self.variables(top.get("vars", {}))}
        values.update((f"ports.{name}", str(port)) for name, port in self.ports(raw).items())
        poll_s, alerts, loop = 1.0, None, RestartLoopSpec()
        if "watch" in top:
            # Variables too: an alert URL names a service's port as ${ports.NAME}.
            watch = self.obj(
                self.expanded(top["watch"], ("watch",), values), ("watch",), ("poll_s", "alerts", "restart_loop")
            )
            poll_s = self.optional(watch, "poll_s", ("watch",), lambda v, p: self.number(v, p), 1.0)
            alerts = self.optional(watch, "alerts", ("watch",), self.alerts, None)
            loop = self.optional(watch, "restart_loop", ("watch",), self.restart_loop, loop)
        services: list[ServiceSpec] = []
        seen: set[str] = set()
        for index, item in enumerate(raw):
            path = ("services", index)
            port = item.get("port") if isinstance(item, dict) else None
            own = {**values, "port": str(port)} if port is not None else values
            spec = self.service(self.expanded(item, path, own), path)
            if spec.name in seen:
                self.fail(("services", index, "name"), f"duplicate service name {spec.name!r}")
            seen.add(spec.name)
            services.append(spec)
        return ServicesFile(
            source=self._source.resolve(), services=tuple(services), poll_s=poll_s, alerts=alerts, restart_loop=loop
        )

    def alerts(self, value: object, path: JsonPath) -> AlertsSpec:
        obj = self.obj(value, path, ("speak_url", "webhook_url", "min_interval_s", "timeout_s"))
        urls = {key: self.optional(obj, key, path, self.url, None) for key in ("speak_url", "webhook_url")}
        if not any(urls.values()):
            self.fail(path, "expected speak_url, webhook_url or both")
        d = AlertsSpec()
        return AlertsSpec(
            **urls,
            min_interval_s=self.optional(obj, "min_interval_s", path, self._non_negative, d.min_interval_s),
            timeout_s=self.optional(obj, "timeout_s", path, lambda v, p: self.number(v, p), d.timeout_s),
        )

    def _non_negative(self, value: object, path: JsonPath) -> float:
        return self.number(value, path, strict=False)

    def url(self, value: object, path: JsonPath) -> str:
        url = self.string(value, path)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            self.fail(path, f"expected an http:// or https:// URL, found {_describe(url)}")
        return url

    def restart_loop(self, value: object, path: JsonPath) -> RestartLoopSpec:
        obj = self.obj(value, path, ("restarts", "within_s", "stable_s"))
        d = RestartLoopSpec()
        return RestartLoopSpec(
            restarts=self.optional(obj, "restarts", path, lambda v, p: self.integer(v, p, minimum=2), d.restarts),
            within_s=self.optional(obj, "within_s", path, lambda v, p: self.number(v, p), d.within_s),
            stable_s=self.optional(obj, "stable_s", path, self._non_negative, d.stable_s),
        )

    # -- variables and ports ---------------------------------------------------------------

    def variables(self, value: object) -> dict[str, str]:
        obj = self.obj(value, ("vars",), tuple(value) if isinstance(value, dict) else ())
        out = {}
        for key, item in obj.items():
            where = ("vars", key)
            if not valid_name(key) or key in ("port", "state_dir"):
                self.fail(
                    where,
                    f"expected a variable name ([A-Za-z_][A-Za-z0-9_]*, not port or state_dir), found {key!r}",
                    at_key=True,
                )
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.fail(where, f"expected a string or a number, found {_describe(item)}")
            out[key] = str(item)
        return out

    def ports(self, raw: list[object]) -> dict[str, int]:
        """Each service's declared `port`, checked for range and collisions before anything else."""
        ports: dict[str, int] = {}
        owners: dict[int, str] = {}
        for index, item in enumerate(raw):
            if not isinstance(item, dict) or "port" not in item:
                continue
            path = ("services", index, "port")
            port = self.integer(item["port"], path, minimum=1)
            if port > 65535:
                self.fail(path, f"expected a TCP port 1..65535, found {port}")
            if port in owners:
                self.fail(path, f"port {port} is already {owners[port]}'s")
            name = item.get("name")
            owners[port] = str(name)
            if isinstance(name, str):
                ports[name] = port
        return ports

    def expanded(self, value: object, path: JsonPath, values: dict[str, str]) -> object:
        """`value` with `${...}` substituted in every string below it."""
        if isinstance(value, str):
            try:
                return expand(value, values)
            except UnknownVariable as exc:
                self.fail(path, str(exc))
        if isinstance(value, dict):
            return {key: self.expanded(item, (*path, key), values) for key, item in value.items()}
        if isinstance(value, list):
            return [self.expanded(item, (*path, i), values) for i, item in enumerate(value)]
        return value

    def service(self, value: object, path: JsonPath) -> ServiceSpec:
        keys = (
            "name", "port", "command", "args", "env", "cwd", "autorestart", "exit_codes", "start_retries",
            "start_secs", "stop_signal", "stop_wait_s", "stdout", "stderr", "memory_limit_mb", "health",
            "restart_at", "defer_restarts", "backoff", "handover", "standby",
        )  # fmt: skip
        obj = self.obj(value, path, keys, ("name", "command"))
        name = self.string(obj["name"], (*path, "name"))
        if not _NAME.fullmatch(name) or name == WATCH_NAME:
            self.fail(
                (*path, "name"), f"expected letters, digits, '_', '.' or '-' (not {WATCH_NAME!r}), found {name!r}"
            )
        args = self.optional(obj, "args", path, self.args, list[str]())
        argv = [*self.command(obj["command"], (*path, "command")), *args]
        port = obj.get("port")
        assert port is None or isinstance(port, int)  # checked by ports()
        every_day: tuple[RestartDays, list[dt.time]] = ("every_day", [])
        days, restart_at = self.optional(obj, "restart_at", path, self.restart_at, every_day)
        return ServiceSpec(
            name=name,
            argv=tuple(argv),
            port=port,
            env=self.optional(obj, "env", path, self.env, {}),
            cwd=self.optional(obj, "cwd", path, self.cwd, None),
            autorestart=self.optional(obj, "autorestart", path, self.autorestart, True),
            exit_codes=tuple(self.optional(obj, "exit_codes", path, self.exit_codes, [0])),
            start_retries=self.optional(obj, "start_retries", path, lambda v, p: self.integer(v, p), 3),
            start_secs=self.optional(obj, "start_secs", path, lambda v, p: self.number(v, p, strict=False), 1.0),
            stop_signal=self.optional(obj, "stop_signal", path, self.signal, "TERM"),
            stop_wait_s=self.optional(obj, "stop_wait_s", path, lambda v, p: self.number(v, p), 10.0),
            stdout=self.log(obj.get("stdout"), (*path, "stdout"), self._logs / f"{name}.log"),
            stderr=None
            if "stderr" not in obj
            else self.log(obj["stderr"], (*path, "stderr"), self._logs / f"{name}.err.log"),
            memory_limit_mb=self.optional(obj, "memory_limit_mb", path, lambda v, p: self.number(v, p), None),
            health=self.optional(obj, "health", path, lambda v, p: self.health(v, p, port), None),
            restart_at=tuple(restart_at),
            restart_days=days,
            defer_restarts=self.optional(obj, "defer_restarts", path, self.defer, None),
            backoff=self.optional(obj, "backoff", path, self.backoff, BackoffSpec()),
            handover=self.optional(obj, "handover", path, lambda v, p: self.handover(v, p, obj), False),
            standby_lock=self._logs.parent / "run" / f"{name}.lock"
            if self.optional(obj, "standby", path, lambda v, p: self.standby(v, p, obj), False)
            else None,
        )

    def command(self, value: object, path: JsonPath) -> list[str]:
        if isinstance(value, str):
            try:
                argv = shlex.split(value)
            except ValueError as exc:
                self.fail(path, f"cannot split the command like a shell would: {exc}")
            if not argv:
                self.fail(path, "expected a command, found an empty string")
        elif isinstance(value, list):
            if not value:
                self.fail(path, "expected a command, found an empty list")
            argv = [self.string(item, (*path, i)) for i, item in enumerate(value)]
        else:
            self.fail(path, f"expected a string or a list of strings, found {_describe(value)}")
        for i, arg in enumerate(argv):
            self.config_safe(arg, (*path, i) if isinstance(value, list) else path, "a command argument")
        return argv

    def args(self, value: object, path: JsonPath) -> list[str]:
        if not isinstance(value, list):
            self.fail(path, f"expected a list of strings, found {_describe(value)}")
        out = []
        for i, item in enumerate(value):
            if not isinstance(item, str):
                self.fail((*path, i), f"expected a string, found {_describe(item)}")
            out.append(self.config_safe(item, (*path, i), "an argument"))
        return out

    def env(self, value: object, path: JsonPath) -> dict[str, str]:
        obj = self.obj(value, path, tuple(value) if isinstance(value, dict) else ())
        out: dict[str, str] = {}
        for key, item in obj.items():
            where = (*path, key)
            if not _ENV_KEY.fullmatch(key):
                self.fail(
                    where, f"expected an environment variable name ([A-Za-z_][A-Za-z0-9_]*), found {key!r}", at_key=True
                )
            if isinstance(item, bool) or not isinstance(item, str | int | float):
                self.fail(where, f"expected a string or a number, found {_describe(item)}")
            text = self.config_safe(str(item), where, "an environment value")
            # supervisord reads `environment=` with a non-POSIX shlex that strips quotes at the
            # ends and has no escapes: some values cannot be expressed there.
            if ('"' in text and "'" in text) or (text and (text[0] in "'\"" or text[-1] in "'\"")):
                self.fail(where, "an environment value cannot start or end with a quote, or hold both kinds")
            if _INLINE_COMMENT.search(text):
                self.fail(where, "an environment value cannot hold whitespace followed by ';' or '#'")
            out[key] = text
        return out

    def cwd(self, value: object, path: JsonPath) -> Path:
        text = self.config_safe(self.string(value, path), path, "cwd")
        directory = (self._base / Path(text).expanduser()).resolve()
        if not directory.is_dir():
            self.fail(path, f"expected an existing directory, found {text!r} ({directory} does not exist)")
        return directory

    def autorestart(self, value: object, path: JsonPath) -> Autorestart:
        if isinstance(value, bool):
            return value
        if value == "unexpected":
            return "unexpected"
        self.fail(path, f'expected true, false or "unexpected", found {_describe(value)}')

    def exit_codes(self, value: object, path: JsonPath) -> list[int]:
        if not isinstance(value, list) or not value:
            self.fail(path, f"expected a non-empty list of exit codes, found {_describe(value)}")
        codes = [self.integer(item, (*path, i)) for i, item in enumerate(value)]
        for i, code in enumerate(codes):
            if code > 255:
                self.fail((*path, i), f"expected an exit code 0..255, found {code}")
        return codes

    def signal(self, value: object, path: JsonPath) -> str:
        name = value.upper().removeprefix("SIG") if isinstance(value, str) else None
        if name not in STOP_SIGNALS:
            self.fail(path, f"expected one of {', '.join(STOP_SIGNALS)}, found {_describe(value)}")
        return name

    def log(self, value: object, path: JsonPath, default_file: Path) -> LogSpec:
        if value is None:
            return LogSpec(file=default_file)
        obj = self.obj(value, path, ("file", "max_mb", "backups"))
        file = default_file
        if "file" in obj:
            text = self.config_safe(self.string(obj["file"], (*path, "file")), (*path, "file"), "a log file")
            file = self._base / Path(text).expanduser()
        return LogSpec(
            file=file,
            max_mb=self.optional(obj, "max_mb", path, lambda v, p: self.number(v, p, strict=False), 10.0),
            backups=self.optional(obj, "backups", path, lambda v, p: self.integer(v, p), 5),
        )

    def health(self, value: object, path: JsonPath, port: int | None) -> HealthSpec:
        obj = self.obj(value, path, ("url", "interval_s", "timeout_s", "failures", "restart"))
        if "url" in obj:
            url = self.string(obj["url"], (*path, "url"))
        elif port is not None:
            url = f"http://127.0.0.1:{port}/health"
        else:
            self.fail(path, "missing required key 'url' (it defaults to http://127.0.0.1:PORT/health given a port)")
        if not url.startswith(("http://", "https://")):
            self.fail((*path, "url"), f"expected an http:// or https:// URL, found {url!r}")
        return HealthSpec(
            url=url,
            interval_s=self.optional(obj, "interval_s", path, lambda v, p: self.number(v, p), 10.0),
            timeout_s=self.optional(obj, "timeout_s", path, lambda v, p: self.number(v, p), 2.0),
            failures=self.optional(obj, "failures", path, lambda v, p: self.integer(v, p, minimum=1), 3),
            restart=self.optional(obj, "restart", path, self.boolean, True),
        )

    def handover(self, value: object, path: JsonPath, service: dict[str, object]) -> bool:
        """`handover: true` needs what the handover relies on: a port the successor listens on
        beside the old process, a restart after anything but the handover's own exit 0."""
        if not self.boolean(value, path):
            return False
        if "port" not in service:
            self.fail(path, "needs the service's `port` (the successor must be seen listening on it)")
        if service.get("autorestart", True) is not True:
            self.fail((*path[:-1], "autorestart"), "must be true (the default) with handover: true")
        if 0 not in service.get("exit_codes", [0]):  # type: ignore[operator]
            self.fail((*path[:-1], "exit_codes"), "must include 0 with handover: true (a handover ends with exit 0)")
        if self.signal(service.get("stop_signal", "TERM"), (*path[:-1], "stop_signal")) == "HUP":
            self.fail((*path[:-1], "stop_signal"), "cannot be HUP with handover: true (HUP is the handover)")
        return True

    def standby(self, value: object, path: JsonPath, service: dict[str, object]) -> bool:
        """`standby: true` keeps the idle slot of a `handover: true` service running, waiting."""
        if self.boolean(value, path) and service.get("handover") is not True:
            self.fail(path, "needs handover: true (the standby is the service's second slot)")
        return value is True

    def boolean(self, value: object, path: JsonPath) -> bool:
        if not isinstance(value, bool):
            self.fail(path, f"expected true or false, found {_describe(value)}")
        return value

    def needs_calendar(self, path: JsonPath) -> None:
        try:
            market.calendar()
        except ImportError:
            self.fail(path, "needs the NYSE calendar of lib-common: install pmdaemon[market]")

    def restart_at(self, value: object, path: JsonPath) -> tuple[RestartDays, list[dt.time]]:
        if isinstance(value, list):
            return "every_day", self.times(value, path)
        obj = self.obj(value, path, ("at", "days"), ("at",))
        days = obj.get("days", "every_day")
        if days not in RESTART_DAYS:
            self.fail((*path, "days"), f"expected one of {', '.join(RESTART_DAYS)}, found {_describe(days)}")
        if days != "every_day":
            self.needs_calendar((*path, "days"))
        return days, self.times(obj["at"], (*path, "at"))  # type: ignore[return-value]

    def defer(self, value: object, path: JsonPath) -> DeferSpec:
        obj = self.obj(value, path, ("max_wait_s", "memory_ceiling_mb"))
        self.needs_calendar(path)
        return DeferSpec(
            max_wait_s=self.optional(obj, "max_wait_s", path, lambda v, p: self.number(v, p), 3600.0),
            memory_ceiling_mb=self.optional(obj, "memory_ceiling_mb", path, lambda v, p: self.number(v, p), None),
        )

    def times(self, value: object, path: JsonPath) -> list[dt.time]:
        if not isinstance(value, list):
            self.fail(path, f'expected a list of New York times like ["08:55"], found {_describe(value)}')
        times = []
        for i, item in enumerate(value):
            m = _CLOCK_TIME.fullmatch(item) if isinstance(item, str) else None
            if m is None:
                self.fail((*path, i), f'expected a time "HH:MM" or "HH:MM:SS" (New York), found {_describe(item)}')
            times.append(dt.time(int(m[1]), int(m[2]), int(m[3] or 0)))
        return times

    def backoff(self, value: object, path: JsonPath) -> BackoffSpec:
        obj = self.obj(value, path, ("initial_s", "factor", "max_s"))
        spec = BackoffSpec(
            initial_s=self.optional(obj, "initial_s", path, lambda v, p: self.number(v, p), 10.0),
            factor=self.optional(obj, "factor", path, lambda v, p: self.number(v, p, minimum=1.0, strict=False), 2.0),
            max_s=self.optional(obj, "max_s", path, lambda v, p: self.number(v, p), 300.0),
        )
        if spec.max_s < spec.initial_s:
            self.fail((*path, "max_s"), f"expected max_s >= initial_s ({spec.initial_s:g}), found {spec.max_s:g}")
        return spec
