"""Constructor arguments checked where they are given: a ValueError naming the argument and the
value it got, so a bad setting fails at start rather than on first use."""

from __future__ import annotations


def positive(name: str, value: float) -> None:
    if not value > 0:
        raise ValueError(f"{name} must be positive, got {value}")


def non_negative(name: str, value: float) -> None:
    if not value >= 0:
        raise ValueError(f"{name} must not be negative, got {value}")


def at_least(name: str, value: float, minimum: float) -> None:
    if not value >= minimum:
        raise ValueError(f"{name} must be at least {minimum}, got {value}")
