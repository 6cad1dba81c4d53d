"""The soak report's judgements (bench/soak/report.py) on made-up records: gaps, alert pairing,
log lines and RSS growth, so a target the report says was met could have been missed."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench" / "soak"))

# bench/soak is no package: its modules import each other by name, from its directory.
import report


def alert(at: float, service: str, subject: str, phase: str, duration_s: float | None = None) -> dict[str, Any]:
    return {"received": at, "body": {"service": service, "subject": subject, "phase": phase, "duration_s": duration_s}}


def test_longest_gap_counts_the_silence_a_fault_begins_in_and_ends_in() -> None:
    times = [0.0, 1.0, 2.0, 9.0, 10.0]
    assert report.longest_gap(times, 1.5, 10.0) == 7.0  # from 2.0 (before the window) to 9.0
    assert report.longest_gap(times, 0.0, 14.0) == 7.0
    assert report.longest_gap([0.0, 1.0], 0.5, 20.0) == 19.0  # still silent at the window's end
    assert report.longest_gap([], 0.0, 5.0) is None


def test_alerts_are_one_start_and_one_end_per_subject_or_the_fault_fails() -> None:
    good = [alert(1, "monitor_redis", "Redis", "start"), alert(9, "monitor_redis", "Redis", "end", 8.0)]
    seen = report.alerts_in(good, 0, 10)
    assert seen == {"monitor_redis / Redis": {"start": 1, "end": 1, "event": 0, "durations_s": [8.0]}}
    assert report._alerts_ok("redis_down", seen) == (True, "")
    assert report._alerts_ok("redis_down", {})[0] is False  # expected, and missing
    assert report._alerts_ok("kill", {}) == (True, "")  # a kill expects none
    flapping = [*good, alert(5, "monitor_redis", "Redis", "start")]
    ok, why = report._alerts_ok("redis_down", report.alerts_in(flapping, 0, 10))
    assert not ok and "2 start(s), 1 end(s)" in why
    unpaired = report.alerts_in([alert(3, "restream", "redis publisher", "start")], 0, 10)
    assert report._alerts_ok("kill", unpaired)[0] is False
    assert report.alerts_in(good, 2, 10)["monitor_redis / Redis"]["start"] == 0  # outside the window


def test_log_lines_take_the_time_of_the_line_they_follow(tmp_path: Path) -> None:
    (tmp_path / "restream@a.log").write_text(
        "2026-12-03T14:00:00.000+00:00 INFO     restream x: one\n"
        "Traceback (most recent call last):\n"
        "2026-12-03T14:00:30.000+00:00 INFO     restream x: two\n"
    )
    (tmp_path / "restream@b.log.1").write_text("2026-12-03T14:01:10.000+00:00 INFO     restream x: three\n")
    (tmp_path / "pmdaemon-watch-stdout---pmdaemon-abc.log").write_text("not a service\n")
    times = report.log_times(tmp_path)
    t0 = 1_796_306_400.0  # 2026-12-03T14:00:00Z
    assert times == {"restream": [t0, t0, t0 + 30, t0 + 70]}
    outage = {"kind": "redis_down", "label": "redis_down", "started": t0 + 20}
    rates = report.log_rates(times, t0, t0 + 120, [outage])
    assert rates["restream"]["lines"] == 4 and rates["restream"]["max_in_a_minute"] == 3
    assert rates["restream"]["first_minute_of_outage"] == {"redis_down": 2}


@pytest.mark.parametrize(("uptime", "judged"), [(200, True), (60, False)])
def test_rss_growth_is_per_instance_from_a_settled_uptime(uptime: int, judged: bool) -> None:
    mb = report.MB

    def sample(at: float, pid: int, rss_mb: float, up: int) -> dict[str, Any]:
        return {"at": at, "services": {"svc": {"pid": pid, "rss_bytes": int(rss_mb * mb), "uptime_s": up}}}

    # A kill at 400 s: the new instance starting small is no shrink, its warm-up no leak.
    samples = [sample(0, 1, 50, 300), sample(350, 1, 53, 650), sample(400, 2, 30, 5)]
    samples += [sample(500, 2, 45, uptime), sample(900, 2, 47, uptime + 400)]
    (row,) = report.rss(samples, 0, 900).values()
    assert (row["start_mb"], row["end_mb"], row["max_mb"]) == (50.0, 47.0, 53.0)
    assert row["tail_growth_mb"] == (2.0 if judged else None)
