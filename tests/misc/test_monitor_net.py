"""monitor_net as a process, probing loopback listeners that this test closes and reopens."""

from __future__ import annotations

import json
import socket
import time
import wave
from pathlib import Path

from tests.misc.conftest import StartMonitor, run_monitor
from tests.processes import free_port
from tests.webhook import Receiver

MODULE = "rsdev_misc.monitor_net"


def listen(port: int = 0) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(64)
    return sock


def test_outage_start_and_end_from_listeners_that_stop_and_start(tmp_path: Path, start_monitor: StartMonitor) -> None:
    listeners = [listen(), listen()]
    ports = [s.getsockname()[1] for s in listeners]
    alerts = tmp_path / "alerts"
    config = tmp_path / "net.json5"
    config.write_text(
        json.dumps(
            {
                "targets": [f"127.0.0.1:{p}" for p in ports],
                "timeout_s": 0.5,
                "fail_after": 3,
                "recover_after": 2,
                "window": 10,
                "alert": {"enabled": True, "dir": str(alerts)},
            }
        )
    )
    webhook = Receiver()
    monitor = start_monitor(
        MODULE, "--config", str(config), "--interval", "0.1", "--webhook-url", f"{webhook.url}/hook"
    )
    try:
        body = monitor.wait_status(200).json()
        assert body["state"] == "up" and all(t["up"] for t in body["targets"].values())
        first, second = (f"127.0.0.1:{p}" for p in ports)
        listeners[0].close()  # one target down is no outage, however long it stays down:
        # wait until it failed at least fail_after (3) of the last 10 checks.
        one_down = monitor.wait_health(lambda b: not b["targets"][first]["up"] and b["targets"][first]["loss"] >= 0.3)
        body = one_down.json()
        assert one_down.status_code == 200 and body["state"] == "up" and body["outages"] == 0
        assert body["targets"][second]["up"] and body["targets"][second]["loss"] == 0
        # ... but that target's own outage is: logged and alerted.
        assert monitor.wait_event("target_down")["fields"] == {"target": first}
        assert monitor.wait_health(lambda b: b["targets"][first]["state"] == "down").json()["state"] == "up"
        assert webhook.wait_for("start")["subject"] == f"target {first}"
        listeners[1].close()
        down = monitor.wait_status(503).json()
        assert down["state"] in ("down", "recovering") and down["error"] == "no target answered"
        start = monitor.wait_event("outage_start")
        listeners = [listen(ports[0])]
        assert monitor.wait_status(200).json()["outages"] == 1
        end = monitor.wait_event("outage_end")
        target_up = monitor.wait_event("target_up")
        webhook.wait_for("end")
        deadline = time.monotonic() + 10
        while len(webhook.phases()) < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        for sock in listeners:
            sock.close()
    assert target_up["fields"]["target"] == first  # type: ignore[index]
    # One start per outage (the first target's, the network's, the second target's), and an end for
    # each that ended (the second target is still down).
    assert sorted(webhook.phases()) == sorted(
        [
            ("start", f"target {first}"),
            ("start", "network"),
            ("start", f"target {second}"),
            ("end", "network"),
            ("end", f"target {first}"),
        ]
    )
    assert start["level"] == "ERROR"
    fields = end["fields"]
    assert isinstance(fields, dict) and fields["started_us"] == start["fields"]["started_us"]  # type: ignore[index]
    assert fields["duration_s"] > 0.2
    written = monitor.wait_event("alert_written")
    assert str(alerts) in str(written["message"])
    assert monitor.stop() == 0
    webhook.close()
    wavs = sorted(alerts.glob("*.wav"))
    assert len(wavs) == 4  # a tone and speech for the start, and for the end
    for path in wavs:
        with wave.open(str(path), "rb") as wav:
            assert wav.getnframes() > 0


def test_once_exit_codes() -> None:
    sock = listen()
    try:
        up = run_monitor(MODULE, "--once", "--target", f"127.0.0.1:{sock.getsockname()[1]}")
    finally:
        sock.close()
    assert up.returncode == 0, up.stderr
    down = run_monitor(MODULE, "--once", "--target", f"127.0.0.1:{free_port()}")
    assert down.returncode == 1
    assert json.loads(down.stdout.splitlines()[-1])["error"] == "no target answered"
    assert run_monitor(MODULE, "--once", "--target", "nohost").returncode == 2
