"""Counters and a histogram cheap enough for the per-frame path, and Prometheus text.

The hot path only adds to plain ints; text is rendered when /metrics is scraped
(exposition format 0.0.4).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping, Sequence


class Histogram:
    """Fixed-bucket histogram; `bounds` are inclusive upper bounds, ascending."""

    def __init__(self, bounds: Sequence[float]) -> None:
        if list(bounds) != sorted(bounds) or not bounds:
            raise ValueError("bounds must be a non-empty ascending sequence")
        self.bounds = list(bounds)
        self.counts = [0] * (len(self.bounds) + 1)  # last: above every bound (+Inf)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float, times: int = 1) -> None:
        """Count `value` (`times` times over: a batch that shares one)."""
        self.counts[bisect.bisect_left(self.bounds, value)] += times
        self.sum += value * times
        self.count += times

    def quantile(self, q: float) -> float | None:
        """Upper bound of the bucket holding the q-quantile (None when empty)."""
        if self.count == 0:
            return None
        rank = q * self.count
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen >= rank and n:
                return self.bounds[i] if i < len(self.bounds) else math.inf
        return math.inf


def _fmt(value: float) -> str:
    if value == math.inf:
        return "+Inf"
    if isinstance(value, int) or value.is_integer():
        return str(int(value))
    return repr(value)


def _labels(labels: dict[str, str]) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in sorted(labels.items()))
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def by_label(label: str, values: Mapping[str, float]) -> list[tuple[dict[str, str], float]]:
    """A family's samples from a mapping: one per key, labelled `label`, in key order."""
    return [({label: key}, value) for key, value in sorted(values.items())]


class Exposition:
    """Collects metric families and renders Prometheus text."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    def _family(self, name: str, kind: str, help_text: str) -> None:
        self._lines.append(f"# HELP {name} {help_text}")
        self._lines.append(f"# TYPE {name} {kind}")

    def samples(self, name: str, kind: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        """One family of `kind` ("counter" or "gauge") with a sample per label set."""
        self._family(name, kind, help_text)
        for labels, value in samples:
            self._lines.append(f"{name}{_labels(labels)} {_fmt(value)}")

    def counter(self, name: str, help_text: str, value: float, labels: dict[str, str] | None = None) -> None:
        self.samples(name, "counter", help_text, [(labels or {}, value)])

    def counters(self, name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.samples(name, "counter", help_text, samples)

    def gauge(self, name: str, help_text: str, value: float, labels: dict[str, str] | None = None) -> None:
        self.samples(name, "gauge", help_text, [(labels or {}, value)])

    def gauges(self, name: str, help_text: str, samples: Iterable[tuple[dict[str, str], float]]) -> None:
        self.samples(name, "gauge", help_text, samples)

    def histogram(self, name: str, help_text: str, hist: Histogram, scale: float = 1.0) -> None:
        """Render `hist`, multiplying bounds and sum by `scale` (e.g. µs → s: 1e-6)."""
        self._family(name, "histogram", help_text)
        cumulative = 0
        for bound, n in zip([*hist.bounds, math.inf], hist.counts, strict=True):
            cumulative += n
            le = "+Inf" if bound == math.inf else _fmt(round(bound * scale, 9))
            self._lines.append(f'{name}_bucket{{le="{le}"}} {cumulative}')
        self._lines.append(f"{name}_sum {_fmt(hist.sum * scale)}")
        self._lines.append(f"{name}_count {hist.count}")

    def render(self) -> str:
        return "\n".join(self._lines) + "\n"
