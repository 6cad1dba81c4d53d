"""monitor_net's per-interface bytes/s from the OS counters: the parser and the rate as plain code,
then the real /proc/net/dev with loopback traffic this test sends."""

from __future__ import annotations

import asyncio
import logging
import socket
import sys
import threading
from pathlib import Path

import pytest

from rsdev_misc.interfaces import Counters, Rate, Rates, os_counters, parse_net_dev
from rsdev_misc.monitor_net import NetConfig, NetProbe, Target

# /proc/net/dev's layout (two headings; 8 receive fields, then transmit), columns narrowed.
NET_DEV = (
    "Inter-|   Receive                                 |  Transmit\n"
    " face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier\n"
    "    lo: 1458243767 398791 0 0 0 0 0 0 1458243767 398791 0 0 0 0 0 0\n"
    "  eth0: 723520362 35403 0 0 0 0 0 0 2187097 18047 0 0 0 0 0 0\n"
)


class Quiet:
    """A Speaker stand-in: these tests make no outage, so nothing is ever sounded."""

    timeout_s = 1.0


def test_parse_net_dev() -> None:
    assert parse_net_dev(NET_DEV) == {
        "lo": Counters(1458243767, 1458243767),
        "eth0": Counters(723520362, 2187097),
    }
    assert parse_net_dev("head\nhead\ngarbage line\n") == {}


def test_rates_are_deltas_over_time_and_skip_what_went_down() -> None:
    rates = Rates()
    assert rates.observe(100.0, {"eth0": Counters(1000, 500), "wlan0": Counters(10, 10)}) == {}
    assert rates.observe(102.0, {"eth0": Counters(5000, 1500), "wlan0": Counters(5, 20), "tun0": Counters(9, 9)}) == {
        "eth0": Rate(2000.0, 500.0)  # wlan0 went down (re-created), tun0 is new: no rate this time
    }
    assert rates.observe(102.0, {"eth0": Counters(6000, 1500)}) == {}  # no time passed
    assert rates.observe(103.0, {"eth0": Counters(7000, 1500)}) == {"eth0": Rate(1000.0, 0.0)}


def test_counters_are_read_per_platform() -> None:
    assert os_counters("win32") is None and os_counters("darwin") is None
    assert os_counters("linux") is not None


def probe(counters: object, clock: list[int]) -> NetProbe:
    with socket.socket() as s:  # a target that answers: this process's own listener
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    config = NetConfig(targets=(Target("127.0.0.1", port),), alert=False)
    return NetProbe(config, speaker=Quiet(), now_us=lambda: clock[0], counters=counters)  # type: ignore[arg-type]


@pytest.mark.asyncio
async def test_each_check_reports_the_rates_since_the_last(tmp_path: Path) -> None:
    readings = iter([{"eth0": Counters(0, 0)}, {"eth0": Counters(4_000_000, 1_000_000)}])
    clock = [1_000_000_000]
    net = probe(lambda: next(readings), clock)
    clock[0] += 2_000_000  # 2 s later
    result = await net.check()
    assert result.details["interfaces"] == {"eth0": {"rx_bytes_per_s": 2_000_000.0, "tx_bytes_per_s": 500_000.0}}
    await net.close()


@pytest.mark.asyncio
async def test_unreadable_counters_are_left_out_and_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> dict[str, Counters]:
        raise OSError("no such file")

    clock = [1_000_000_000]
    with caplog.at_level(logging.WARNING, logger="rsdev_misc.monitor_net"):
        net = probe(broken, clock)
        first = await net.check()
        await net.check()
    assert "interfaces" not in first.details
    assert [r.getMessage() for r in caplog.records if "interface counters" in r.getMessage()] == [
        "interface counters unreadable (reported no more): no such file"
    ]
    await net.close()


@pytest.mark.skipif(sys.platform != "linux", reason="/proc/net/dev is Linux's")
@pytest.mark.asyncio
async def test_loopback_traffic_shows_in_the_real_counters() -> None:
    clock = [1_000_000_000]
    net = probe(os_counters(), clock)
    payload = 8 * 1024 * 1024
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)

    def drain() -> None:
        conn, _ = server.accept()
        with conn:
            while conn.recv(1 << 16):
                pass

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    with socket.create_connection(server.getsockname()) as sender:
        sender.sendall(b"z" * payload)
    reader.join(10)
    server.close()
    clock[0] += 1_000_000  # as if a second had passed: the rate is the bytes counted
    result = await asyncio.wait_for(net.check(), 10)
    lo = result.details["interfaces"]["lo"]  # type: ignore[index]
    assert lo["rx_bytes_per_s"] >= payload and lo["tx_bytes_per_s"] >= payload  # plus headers and other traffic
    await net.close()
