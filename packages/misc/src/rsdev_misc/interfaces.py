"""monitor_net's per-interface throughput from the OS: bytes/s in and out of every interface.

The kernel counts every byte each interface receives and sends; the rate is the difference of two
readings over the time between them. On Linux the counters are read from /proc/net/dev (what `ip
-s link` shows); elsewhere there is no portable source in the standard library, so the figures are
left out. A counter that went down (an interface re-created, a 32-bit counter that wrapped) gives
no rate for that interval rather than a negative or absurd one.

Plain code: `parse_net_dev` reads the text, `Rates` turns two readings and their times into
bytes/s; the monitor reads the file and passes the time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Counters:
    rx_bytes: int
    tx_bytes: int


def parse_net_dev(text: str) -> dict[str, Counters]:
    """/proc/net/dev: two heading lines, then `name: rx_bytes rx_packets ... (8 fields) tx_bytes ...`."""
    out: dict[str, Counters] = {}
    for line in text.splitlines()[2:]:
        name, sep, rest = line.partition(":")
        fields = rest.split()
        if not sep or len(fields) < 9:
            continue
        out[name.strip()] = Counters(int(fields[0]), int(fields[8]))
    return out


@dataclass(frozen=True, slots=True)
class Rate:
    rx_bytes_per_s: float
    tx_bytes_per_s: float


class Rates:
    """Bytes/s per interface between the previous reading and this one."""

    def __init__(self) -> None:
        self._last: tuple[float, Mapping[str, Counters]] | None = None

    def observe(self, now_s: float, counters: Mapping[str, Counters]) -> dict[str, Rate]:
        last, self._last = self._last, (now_s, dict(counters))
        if last is None or now_s <= last[0]:
            return {}
        elapsed = now_s - last[0]
        rates = {}
        for name, now in counters.items():
            before = last[1].get(name)
            if before is None or now.rx_bytes < before.rx_bytes or now.tx_bytes < before.tx_bytes:
                continue  # new, re-created or wrapped: no honest rate for this interval
            rates[name] = Rate((now.rx_bytes - before.rx_bytes) / elapsed, (now.tx_bytes - before.tx_bytes) / elapsed)
        return rates


def os_counters(platform: str = sys.platform) -> Callable[[], dict[str, Counters]] | None:
    """How to read the counters on `platform`, or None where the OS offers no portable way."""
    if platform.startswith("linux"):
        net_dev = Path("/proc/net/dev")
        return lambda: parse_net_dev(net_dev.read_text())
    return None
