"""Targets with a planted bug, for test_seeds.py to show that a run reports a finding and fails."""

from __future__ import annotations

import time

from tests.fuzz.harness import Target


def _raises(data: bytes) -> None:
    if data.startswith(b"boom"):
        raise KeyError("planted")
    if data.startswith(b"nope"):
        raise ValueError("the target's own refusal")


def _slow(data: bytes) -> None:
    if data.startswith(b"slow"):
        time.sleep(0.15)


TARGETS = {
    "raises": Target("raises", _raises, (ValueError,), lambda: [b"nope", b"boom"], "KeyError on b'boom'"),
    "slow": Target("slow", _slow, (), lambda: [b"fast", b"slow"], "150 ms on b'slow'"),
}
