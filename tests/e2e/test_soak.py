"""A short soak of the whole deploy stack (bench/soak/run.py): real pmdaemon, supervisord and every
service, a private Redis and PostgreSQL stopped and started, kill -9s, an HTTP sink for alerts.
About three and a half minutes; the 60-minute run's figures are in BENCHMARKS.md."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

RUN = Path(__file__).resolve().parents[2] / "bench" / "soak" / "run.py"


@pytest.mark.timeout(420)
def test_short_soak_loses_nothing_brings_every_service_back_and_alerts_each_outage_once(tmp_path: Path) -> None:
    out = tmp_path / "soak"
    args = ["--minutes", "3", "--fault-every-s", "25", "--warmup-s", "15", "--out", str(out)]
    # Outages here follow each other within a minute: no folding of a subject's second outage.
    args += ["--alert-min-interval-s", "5"]
    result = subprocess.run([sys.executable, str(RUN), *args], capture_output=True, text=True, timeout=400, check=False)
    assert (out / "report.json").exists(), result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads((out / "report.json").read_text())
    data, targets = report["data"], report["targets"]
    assert data["stream_quote_ids"] > 500, data
    assert (data["missing_rows"], data["duplicated_rows"], data["missing_lines"], data["duplicated_lines"]) == (
        0,
        0,
        0,
        0,
    )
    kinds = [f["fault"].split()[0] for f in report["faults"]]
    assert kinds.count("kill") >= 3 and {"redis_down", "restart_restream", "postgres_down"} <= set(kinds), kinds
    for fault in report["faults"]:
        assert fault["back_ok"], fault
        assert fault["alerts_ok"], fault
        if fault["fault"].startswith("kill"):
            assert fault["back_after_s"] is not None and fault["back_after_s"] < 30, fault
    redis_down = next(f for f in report["faults"] if f["fault"] == "redis_down")
    assert redis_down["alerts"]["monitor_redis / Redis"]["start"] == 1
    assert redis_down["alerts"]["monitor_redis / Redis"]["end"] == 1
    assert all(c["quotes"] > 100 for c in report["clients"]), report["clients"]
    assert targets["log_lines_under_60_per_min_in_outage"], report["noisy_in_outage"]
    assert report["ok"], result.stdout[-3000:]
    assert result.returncode == 0
