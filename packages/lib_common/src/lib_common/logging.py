"""Structured logging for every rsdev process, on top of the stdlib `logging` module.

`setup_logging(service=..., level=..., log_dir=None, notify=None)` installs, on the root logger:

- a human handler on stderr: `12:00:01 INFO  monitor_net outage_start: all targets down k=v`,
  coloured when stderr is a terminal, plain otherwise;
- with `log_dir`, one JSON object per line in `{log_dir}/{service}.{YYYY-MM-DD}.jsonl`
  (`{"ts": ..., "level": ..., "service": ..., "event": ..., "logger": ..., "message": ...,
  "fields": {...}}`), a new file at each New York midnight, files older than `keep_days` days
  deleted at rotation;
- with `notify`, a hook that hands chosen records (CRITICAL, and the events in `notify_events`)
  to a callback, such as lib_common.alerts' `critical_notifier`, which makes a CRITICAL record
  an alert (outages are alerted by the code that sees them, through lib_common.alerts).

Every line, human or JSON, begins with its ISO 8601 time and UTC offset, and passes through
lib_common.log_text: secrets (tokens, passwords in DSNs and URLs, fields named like one) are
redacted, and a human line's text has its control characters escaped, so text from outside
cannot forge a line. uvicorn's own loggers propagate here (the servers run uvicorn without its
logging config), so its lines are formatted and redacted the same way.

Existing `logging.getLogger(__name__)` calls flow through it unchanged. A record gets its
`event` and `fields` from `extra={"event": ..., "fields": {...}}`, or from `log_event(...)`.
The rotation and retention policy (`DailyRotation`) is plain code with the time passed in.
"""

from __future__ import annotations

import contextlib
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from pathlib import Path
from typing import IO, Any

from lib_common.core.market_hours import NEW_YORK
from lib_common.log_text import MASK, is_secret_name, redact, safe_text

__all__ = [
    "DEFAULT_NOTIFY_EVENTS",
    "DailyFileHandler",
    "DailyRotation",
    "HumanFormatter",
    "JsonFormatter",
    "Notifier",
    "NotifyHandler",
    "log_event",
    "setup_logging",
]

Notifier = Callable[[Mapping[str, Any]], None]
"""Receives a record as its JSON-line dict (ts, level, service, event, message, fields)."""

DEFAULT_NOTIFY_EVENTS = frozenset({"outage_start", "outage_end"})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_US = timedelta(microseconds=1)
# uvicorn's records carry `color_message`, the message again with terminal colours.
_STANDARD_ATTRS = frozenset(logging.makeLogRecord({}).__dict__) | {
    "message",
    "asctime",
    "event",
    "fields",
    "color_message",
}


def _wall_us() -> int:
    return time.time_ns() // 1000


def log_event(logger: logging.Logger, level: int, event: str, message: str, **fields: object) -> None:
    """Log `message` as the structured event `event` with `fields`."""
    logger.log(level, message, extra={"event": event, "fields": fields})


def record_fields(record: logging.LogRecord) -> dict[str, object]:
    """`extra={"fields": {...}}` plus any other extra attributes the caller set; a field named
    like a secret is masked, a string field redacted."""
    fields: dict[str, object] = {}
    given = getattr(record, "fields", None)
    if isinstance(given, Mapping):
        fields.update(given)
    for key, value in record.__dict__.items():
        if key not in _STANDARD_ATTRS and not key.startswith("_"):
            fields.setdefault(key, value)
    return {key: _field_value(key, value) for key, value in fields.items()}


def _field_value(key: str, value: object) -> object:
    if is_secret_name(key):
        return MASK
    return redact(value) if isinstance(value, str) else value


def record_message(record: logging.LogRecord) -> str:
    """The record's message, redacted."""
    return redact(record.getMessage())


def record_exception(record: logging.LogRecord, formatter: logging.Formatter) -> str | None:
    """The record's traceback, redacted (its lines kept), or None."""
    return redact(formatter.formatException(record.exc_info)) if record.exc_info else None


def record_dict(record: logging.LogRecord, service: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="microseconds"),
        "level": record.levelname,
        "service": service,
        "event": getattr(record, "event", None) or "log",
        "logger": record.name,
        "message": record_message(record),
        "fields": record_fields(record),
    }
    exception = record_exception(record, logging.Formatter())
    if exception is not None:
        body["exception"] = exception
    return body


# What json.dumps leaves raw but str.splitlines and some viewers take as a line break.
_JSON_LINE_BREAKS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class JsonFormatter(logging.Formatter):
    """One JSON object per line; values JSON cannot carry are written as their str()."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        text = json.dumps(record_dict(record, self.service), default=str, ensure_ascii=False)
        return text.translate(_JSON_LINE_BREAKS)


_COLOURS = {
    "DEBUG": "\x1b[2m",
    "INFO": "\x1b[32m",
    "WARNING": "\x1b[33m",
    "ERROR": "\x1b[31m",
    "CRITICAL": "\x1b[1;41m",
}
_RESET = "\x1b[0m"


class HumanFormatter(logging.Formatter):
    """`YYYY-MM-DDTHH:MM:SS.mmm+HH:MM LEVEL service logger: [event] message k=v` (local time
    with its offset), coloured by level when asked; message and fields redacted and on one line."""

    def __init__(self, service: str, *, colour: bool) -> None:
        super().__init__()
        self.service = service
        self.colour = colour

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")
        level = f"{record.levelname:<8}"
        if self.colour:
            level = f"{_COLOURS.get(record.levelname, '')}{level}{_RESET}"
        event = getattr(record, "event", None)
        head = f"{stamp} {level} {self.service} {record.name}:"
        if event:
            head += f" [{event}]"
        fields = " ".join(f"{k}={v}" for k, v in record_fields(record).items())
        text = safe_text(record.getMessage() + (f" {fields}" if fields else ""))
        line = f"{head} {text}"
        exception = record_exception(record, self)
        return line if exception is None else f"{line}\n{exception}"


class DailyRotation:
    """Which file a moment belongs to (its New York date), when the next one starts (New York
    midnight) and which dated files are past retention (`keep_days` days, today included)."""

    _DATED = re.compile(r"\.(\d{4}-\d{2}-\d{2})\.jsonl$")

    def __init__(self, keep_days: int = 14) -> None:
        if keep_days < 1:
            raise ValueError(f"keep_days must be at least 1, found {keep_days}")
        self.keep_days = keep_days

    @staticmethod
    def date_of(now_us: int) -> date:
        return (_EPOCH + timedelta(microseconds=now_us)).astimezone(NEW_YORK).date()

    @classmethod
    def next_rollover_us(cls, now_us: int) -> int:
        """The first instant of the next New York day (midnight exists on DST days: they switch at 02:00)."""
        tomorrow = cls.date_of(now_us) + timedelta(days=1)
        midnight = datetime.combine(tomorrow, dtime(0), tzinfo=NEW_YORK)
        return (midnight - _EPOCH) // _ONE_US

    def expired(self, names: Iterable[str], today: date) -> list[str]:
        """The names among `names` whose date is older than the retention window."""
        oldest_kept = today - timedelta(days=self.keep_days - 1)
        out = []
        for name in names:
            match = self._DATED.search(name)
            if match and date.fromisoformat(match.group(1)) < oldest_kept:
                out.append(name)
        return sorted(out)


class DailyFileHandler(logging.Handler):
    """JSON lines in `{directory}/{service}.{NY date}.jsonl`; switches file at New York midnight
    (by the injected clock) and prunes files past retention then."""

    def __init__(
        self,
        directory: str | Path,
        service: str,
        rotation: DailyRotation | None = None,
        now_us: Callable[[], int] = _wall_us,
    ) -> None:
        super().__init__()
        self.directory = Path(directory)
        self.service = service
        self.rotation = rotation or DailyRotation()
        self._now_us = now_us
        self._stream: IO[str] | None = None
        self._rollover_us = 0
        self.path: Path | None = None
        self.setFormatter(JsonFormatter(service))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record)
            stream = self._current(self._now_us())
            stream.write(line + "\n")
            stream.flush()
        except Exception:
            self.handleError(record)

    def _current(self, now_us: int) -> IO[str]:
        if self._stream is None or now_us >= self._rollover_us:
            self._close_stream()
            self.directory.mkdir(parents=True, exist_ok=True)
            today = self.rotation.date_of(now_us)
            self.path = self.directory / f"{self.service}.{today.isoformat()}.jsonl"
            self._stream = self.path.open("a", encoding="utf-8")
            self._rollover_us = self.rotation.next_rollover_us(now_us)
            self._prune(today)
        return self._stream

    def _prune(self, today: date) -> None:
        names = [p.name for p in self.directory.glob(f"{glob_escape(self.service)}.*.jsonl")]
        for name in self.rotation.expired(names, today):
            with contextlib.suppress(OSError):
                (self.directory / name).unlink()

    def _close_stream(self) -> None:
        if self._stream is not None:
            self._stream.close()
            self._stream = None

    def close(self) -> None:
        self.acquire()
        try:
            self._close_stream()
        finally:
            self.release()
        super().close()


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


class NotifyHandler(logging.Handler):
    """Hands CRITICAL records and records whose event is in `events` to `notify`; a failing
    notifier is logged to stderr by the logging module, never raised into the caller."""

    def __init__(
        self, notify: Notifier, service: str, events: Collection[str] = DEFAULT_NOTIFY_EVENTS, level: int = logging.INFO
    ) -> None:
        super().__init__(level)
        self.notify = notify
        self.service = service
        self.events = frozenset(events)

    def wanted(self, record: logging.LogRecord) -> bool:
        return record.levelno >= logging.CRITICAL or getattr(record, "event", None) in self.events

    def emit(self, record: logging.LogRecord) -> None:
        if not self.wanted(record):
            return
        try:
            self.notify(record_dict(record, self.service))
        except Exception:
            self.handleError(record)


_INSTALLED = "_rsdev_installed"
QUIET_LIBRARIES = ("httpx", "httpcore")  # per-request lines: shown at DEBUG only


UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def setup_logging(
    *,
    service: str,
    level: str | int = "info",
    log_dir: str | Path | None = None,
    notify: Notifier | None = None,
    notify_events: Collection[str] = DEFAULT_NOTIFY_EVENTS,
    keep_days: int = 14,
    now_us: Callable[[], int] = _wall_us,
    stream: IO[str] | None = None,
) -> logging.Logger:
    """Install rsdev's handlers on the root logger (replacing any this function installed
    before) and return it."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, _INSTALLED, False):
            root.removeHandler(handler)
            handler.close()
    out = stream if stream is not None else sys.stderr
    handlers: list[logging.Handler] = []
    human = logging.StreamHandler(out)
    human.setFormatter(HumanFormatter(service, colour=_is_tty(out)))
    handlers.append(human)
    if log_dir is not None:
        handlers.append(DailyFileHandler(log_dir, service, DailyRotation(keep_days), now_us))
    if notify is not None:
        handlers.append(NotifyHandler(notify, service, notify_events))
    for handler in handlers:
        setattr(handler, _INSTALLED, True)
        root.addHandler(handler)
    root.setLevel(level.upper() if isinstance(level, str) else level)
    # httpx logs every request at INFO (a poll of 500 symbols: ~100 lines a second): their lines
    # are for debugging, so they show only when the service logs at DEBUG.
    quiet = logging.NOTSET if root.level <= logging.DEBUG else logging.WARNING
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(quiet)
    for name in UVICORN_LOGGERS:  # one format even where uvicorn's own dictConfig ran in this process
        uvicorn_log = logging.getLogger(name)
        for handler in list(uvicorn_log.handlers):
            uvicorn_log.removeHandler(handler)
        uvicorn_log.propagate = True
    return root


def _is_tty(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
