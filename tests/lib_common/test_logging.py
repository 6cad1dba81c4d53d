"""lib_common.logging: JSON lines, human lines, New York midnight rotation, retention, notifier."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Mapping
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from lib_common.logging import (
    DailyFileHandler,
    DailyRotation,
    HumanFormatter,
    log_event,
    setup_logging,
)


def us(text: str) -> int:
    """µs since the epoch of an ISO instant with its offset."""
    return int(datetime.fromisoformat(text).timestamp() * 1_000_000)


class FakeClock:
    def __init__(self, now_us: int) -> None:
        self.now = now_us

    def __call__(self) -> int:
        return self.now


def test_rollover_is_new_york_midnight() -> None:
    # 23:59 in New York on Nov 21 (EST, UTC-5): the next file starts at 05:00 UTC.
    now = us("2025-11-21T23:59:00-05:00")
    assert DailyRotation.date_of(now) == date(2025, 11, 21)
    assert DailyRotation.next_rollover_us(now) == us("2025-11-22T05:00:00+00:00")
    # Summer (EDT, UTC-4), and a UTC date already on the next day.
    assert DailyRotation.date_of(us("2025-07-01T02:00:00+00:00")) == date(2025, 6, 30)
    assert DailyRotation.next_rollover_us(us("2025-07-01T02:00:00+00:00")) == us("2025-07-01T04:00:00+00:00")


def test_rollover_on_dst_change_days() -> None:
    # The day clocks spring forward is 23 hours long; the next midnight is still EDT's.
    assert DailyRotation.next_rollover_us(us("2025-03-09T12:00:00-04:00")) == us("2025-03-10T00:00:00-04:00")
    assert DailyRotation.next_rollover_us(us("2025-11-02T12:00:00-05:00")) == us("2025-11-03T00:00:00-05:00")


def test_retention_keeps_n_days_including_today() -> None:
    names = [f"svc.2025-11-{d:02d}.jsonl" for d in range(15, 23)] + ["other.txt", "svc.current.jsonl"]
    expired = DailyRotation(keep_days=3).expired(names, date(2025, 11, 22))
    assert expired == [f"svc.2025-11-{d:02d}.jsonl" for d in range(15, 20)]
    with pytest.raises(ValueError, match="keep_days"):
        DailyRotation(0)


def test_file_handler_rotates_at_simulated_new_york_midnight_and_prunes(tmp_path: Path) -> None:
    for day in ("2025-11-18", "2025-11-19", "2025-11-20"):
        (tmp_path / f"svc.{day}.jsonl").write_text("{}\n")
    (tmp_path / "unrelated.2025-01-01.jsonl").write_text("{}\n")
    clock = FakeClock(us("2025-11-21T23:59:59-05:00"))
    handler = DailyFileHandler(tmp_path, "svc", DailyRotation(keep_days=2), now_us=clock)
    logger = logging.getLogger("test.rotation")
    logger.propagate = False
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        logger.info("before midnight")
        assert not (tmp_path / "svc.2025-11-18.jsonl").exists()  # pruned when the file opened
        assert (tmp_path / "svc.2025-11-20.jsonl").exists()
        clock.now = us("2025-11-22T00:00:00-05:00")
        logger.info("after midnight")
    finally:
        logger.removeHandler(handler)
        handler.close()
    first = [json.loads(line) for line in (tmp_path / "svc.2025-11-21.jsonl").read_text().splitlines()]
    second = [json.loads(line) for line in (tmp_path / "svc.2025-11-22.jsonl").read_text().splitlines()]
    assert [r["message"] for r in first] == ["before midnight"]
    assert [r["message"] for r in second] == ["after midnight"]
    # keep_days=2 on Nov 22 keeps the 21st and the 22nd; other services' files are not touched.
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "svc.2025-11-21.jsonl",
        "svc.2025-11-22.jsonl",
        "unrelated.2025-01-01.jsonl",
    ]


def test_json_lines_carry_ts_level_service_event_fields(tmp_path: Path, root_logger: logging.Logger) -> None:
    setup_logging(service="svc", level="debug", log_dir=tmp_path, stream=io.StringIO())
    log = logging.getLogger("tests.svc")
    log_event(log, logging.WARNING, "outage_start", "network down", targets=["a:1"], started_us=5)
    log.info("plain %s", "message", extra={"symbol": "AAPL"})
    lines = [json.loads(line) for p in tmp_path.glob("svc.*.jsonl") for line in p.read_text().splitlines()]
    assert len(lines) == 2
    event, plain = lines
    assert event["level"] == "WARNING" and event["service"] == "svc" and event["event"] == "outage_start"
    assert event["fields"] == {"targets": ["a:1"], "started_us": 5}
    assert event["logger"] == "tests.svc" and event["message"] == "network down"
    assert datetime.fromisoformat(event["ts"]).tzinfo == UTC
    assert plain["event"] == "log" and plain["message"] == "plain message" and plain["fields"] == {"symbol": "AAPL"}


def test_human_output_is_plain_off_a_tty_and_coloured_on_one(root_logger: logging.Logger) -> None:
    out = io.StringIO()
    setup_logging(service="svc", level="info", stream=out)
    log_event(logging.getLogger("tests.h"), logging.ERROR, "boom", "it broke", code=7)
    line = out.getvalue()
    assert "\x1b[" not in line
    assert "ERROR" in line and "svc" in line and "[boom] it broke code=7" in line
    record = logging.makeLogRecord({"levelname": "ERROR", "levelno": 40, "msg": "x", "name": "n"})
    assert "\x1b[31m" in HumanFormatter("svc", colour=True).format(record)


def test_notifier_gets_critical_records_and_outage_events_only(root_logger: logging.Logger) -> None:
    got: list[Mapping[str, Any]] = []
    setup_logging(service="svc", level="debug", notify=got.append, stream=io.StringIO())
    log = logging.getLogger("tests.notify")
    log.info("ordinary")
    log.error("an error, but not critical")
    log.critical("disk full")
    log_event(log, logging.WARNING, "outage_start", "network down")
    log_event(log, logging.INFO, "outage_end", "network back", duration_s=12.5)
    assert [(r["level"], r["event"], r["message"]) for r in got] == [
        ("CRITICAL", "log", "disk full"),
        ("WARNING", "outage_start", "network down"),
        ("INFO", "outage_end", "network back"),
    ]
    assert got[2]["fields"] == {"duration_s": 12.5}


def test_failing_notifier_does_not_raise_into_the_caller(
    root_logger: logging.Logger, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(record: Mapping[str, Any]) -> None:
        raise RuntimeError("notifier down")

    monkeypatch.setattr(logging, "raiseExceptions", False)
    setup_logging(service="svc", notify=broken, stream=io.StringIO())
    logging.getLogger("tests.notify").critical("still logged")


def test_setup_logging_replaces_its_own_handlers(root_logger: logging.Logger) -> None:
    before = len(root_logger.handlers)
    setup_logging(service="a", stream=io.StringIO())
    setup_logging(service="b", stream=io.StringIO())
    assert len(root_logger.handlers) == before + 1


@pytest.mark.parametrize(("level", "httpx_level"), [("info", logging.WARNING), ("debug", logging.NOTSET)])
def test_per_request_library_lines_show_only_at_debug(
    root_logger: logging.Logger, level: str, httpx_level: int
) -> None:
    out = io.StringIO()
    setup_logging(service="svc", level=level, stream=out)
    assert logging.getLogger("httpx").level == httpx_level
    logging.getLogger("httpx").info('HTTP Request: GET https://query2.finance.yahoo.com/v8 "HTTP/1.1 200 OK"')
    assert ("HTTP Request" in out.getvalue()) is (level == "debug")


def test_uvicorns_own_logging_config_does_not_survive_setup(root_logger: logging.Logger) -> None:
    import logging.config

    logging.config.dictConfig(  # the shape of uvicorn's LOGGING_CONFIG, which uvicorn.Config applies by default
        {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"default": {"class": "logging.StreamHandler", "stream": "ext://sys.stderr"}},
            "loggers": {"uvicorn.error": {"handlers": ["default"], "level": "INFO", "propagate": False}},
        }
    )
    out = io.StringIO()
    setup_logging(service="svc", level="info", stream=out)
    logging.getLogger("uvicorn.error").info("hello")
    assert out.getvalue().endswith(" INFO     svc uvicorn.error: hello\n")  # our format, not "INFO:     hello"
