"""Alert rules, evaluated on Quotes (decoded from restream's `quote` frames or the bus's
messages by the bus's one decoder, `lib_common.redis_bus.format`). Plain code: a rule sees a
quote, remembers what it needs, and returns the alerts it fires; time is the quote's own
`ts_upstream`, so tests feed quotes and need no clock.

- `PriceCross(symbol, level, direction, band=...)`: the price crossed `level` (up, down or either
  way) between two consecutive quotes. Hysteresis: after it fires the rule is disarmed until
  the price has moved `band` away from the level (default 0.1 % of it), so a price hovering
  around the level speaks once, not at every tick.
- `PercentMove(symbol, percent, window_s)`: the price moved at least `percent` % from the oldest
  price still inside the window; the window restarts after an alert, so one move speaks once.
- `RatingChange(symbol)`: the `rating` field changed (Fear & Greed: "fear" -> "greed").

Every rule also has a `cooldown_s`: the RuleSet drops what a rule fires within that many
seconds (quote time) of its previous alert.
"""

from __future__ import annotations

import enum
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field

from lib_common.core.quote import Quote


class Priority(enum.IntEnum):
    LOW = 0
    NORMAL = 1
    HIGH = 2

    @classmethod
    def parse(cls, text: str) -> Priority:
        try:
            return cls[text.upper()]
        except KeyError:
            raise ValueError(f"expected one of low, normal, high, found {text!r}") from None


@dataclass(frozen=True, slots=True)
class Alert:
    text: str
    priority: Priority = Priority.NORMAL
    source: str = "rule"


def _price(quote: Quote) -> float | None:
    return None if quote.price is None else float(quote.price)


def _extra(quote: Quote, name: str) -> object:
    return next((value for key, value in quote.extra if key == name), None)


def _spoken(symbol: str) -> str:
    # "BTC-USD" reads better as "BTC USD"; "^GSPC" as "GSPC".
    return " ".join(part for part in symbol.replace("^", "").replace("=", " ").split("-") if part)


class Direction(enum.Enum):
    UP = "up"
    DOWN = "down"
    ANY = "any"


@dataclass(slots=True)
class PriceCross:
    symbol: str
    level: float
    direction: Direction = Direction.ANY
    priority: Priority = Priority.NORMAL
    band: float | None = None  # re-arm distance from the level (None: 0.1 % of the level)
    cooldown_s: float = 0.0
    _last: float | None = field(default=None, init=False)
    _armed: bool = field(default=True, init=False)

    @property
    def rearm_band(self) -> float:
        return abs(self.level) * 0.001 if self.band is None else self.band

    def evaluate(self, quote: Quote) -> list[Alert]:
        if quote.symbol != self.symbol or (price := _price(quote)) is None:
            return []
        last, self._last = self._last, price
        if not self._armed and abs(price - self.level) >= self.rearm_band:
            self._armed = True
        if last is None or not self._armed:
            return []
        up = last < self.level <= price
        down = last > self.level >= price
        if (up and self.direction is not Direction.DOWN) or (down and self.direction is not Direction.UP):
            self._armed = abs(price - self.level) >= self.rearm_band  # a leap past the band stays armed
            way = "above" if up else "below"
            return [Alert(f"{_spoken(self.symbol)} crossed {way} {self.level:g}, now {price:.2f}", self.priority)]
        return []


@dataclass(slots=True)
class PercentMove:
    symbol: str
    percent: float
    window_s: float
    priority: Priority = Priority.NORMAL
    cooldown_s: float = 0.0
    _window: deque[tuple[int, float]] = field(default_factory=deque, init=False)

    def evaluate(self, quote: Quote) -> list[Alert]:
        if quote.symbol != self.symbol or (price := _price(quote)) is None:
            return []
        now_us = quote.ts_upstream
        window = self._window
        while window and now_us - window[0][0] > self.window_s * 1_000_000:
            window.popleft()
        window.append((now_us, price))
        base = window[0][1]
        if base == 0:
            return []
        moved = (price - base) / base * 100.0
        if abs(moved) < self.percent:
            return []
        window.clear()
        window.append((now_us, price))
        way = "up" if moved > 0 else "down"
        return [
            Alert(
                f"{_spoken(self.symbol)} {way} {abs(moved):.1f} percent in {self.window_s:g} seconds, now {price:.2f}",
                self.priority,
            )
        ]


@dataclass(slots=True)
class RatingChange:
    symbol: str = "FEAR-GREED"
    priority: Priority = Priority.NORMAL
    cooldown_s: float = 0.0
    _last: str | None = field(default=None, init=False)

    def evaluate(self, quote: Quote) -> list[Alert]:
        rating = _extra(quote, "rating")
        if quote.symbol != self.symbol or not isinstance(rating, str):
            return []
        last, self._last = self._last, rating
        if last is None or last == rating:
            return []
        name = "Fear and greed" if self.symbol == "FEAR-GREED" else _spoken(self.symbol)
        score = _price(quote)
        tail = f", score {score:.0f}" if score is not None else ""
        return [Alert(f"{name} changed from {last} to {rating}{tail}", self.priority)]


Rule = PriceCross | PercentMove | RatingChange


class RuleSet:
    """The rules, each under its cooldown: what a rule fires within `cooldown_s` of its last
    alert (by the quotes' `ts_upstream`) is counted in `cooled` and not spoken."""

    def __init__(self, rules: Iterable[Rule]) -> None:
        self.rules = list(rules)
        self.fired = 0
        self.cooled = 0
        self._last_us: dict[int, int] = {}  # rule index -> ts_upstream of its last alert

    @property
    def symbols(self) -> list[str]:
        return sorted({rule.symbol for rule in self.rules})

    def evaluate(self, quote: Quote) -> list[Alert]:
        alerts: list[Alert] = []
        for index, rule in enumerate(self.rules):
            fired = rule.evaluate(quote)
            if not fired:
                continue
            last = self._last_us.get(index)
            if last is not None and quote.ts_upstream - last < rule.cooldown_s * 1_000_000:
                self.cooled += len(fired)
                continue
            self._last_us[index] = quote.ts_upstream
            alerts.extend(fired)
        self.fired += len(alerts)
        return alerts
