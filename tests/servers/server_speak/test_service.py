"""SpeakService's time is its injected clock's: uptime, the gap between utterances, the dedup
window, all driven by a ManualClock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from lib_common.audio import Speaker, Utterance
from lib_common.clock import ManualClock
from servers.server_speak.config import SpeakConfig
from servers.server_speak.rules import Alert
from servers.server_speak.service import SpeakService
from servers.server_speak.speech_queue import Offer


class FakeSpeaker(Speaker):
    def __init__(self, directory: Path) -> None:
        super().__init__(directory, cards=list)
        self.said: list[str] = []

    def speak(self, text: str) -> Utterance:
        self.said.append(text)
        return Utterance(text, False, self.directory / f"{len(self.said)}.wav", "fake")


async def until(condition: Callable[[], bool]) -> None:
    """Let the worker run (it speaks in a thread) until `condition`; fail after 1 s of real
    time, far less than the clock's gap."""
    for _ in range(100):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition not reached")


async def settle() -> None:
    await asyncio.sleep(0.05)


@dataclass
class Running:
    speak: SpeakService
    speaker: FakeSpeaker
    clock: ManualClock


@pytest_asyncio.fixture
async def running(tmp_path: Path) -> AsyncIterator[Running]:
    """A started service (gap 30 s, dedup 60 s) on a ManualClock that stood at 100 s before it."""
    clock = ManualClock()
    speaker = FakeSpeaker(tmp_path)
    speak = SpeakService(SpeakConfig(min_gap_s=30.0, dedup_s=60.0, output_dir=tmp_path), speaker, clock=clock)
    clock.advance(100.0)
    assert speak.status()["uptime_s"] == 0.0  # before start
    await speak.start()
    yield Running(speak, speaker, clock)
    await speak.stop()
    assert not speak.serving


@pytest.mark.asyncio
async def test_uptime_is_the_injected_clock_s_since_start(running: Running) -> None:
    running.clock.advance(12.5)
    assert running.speak.uptime_s == 12.5 and running.speak.status()["uptime_s"] == 12.5


@pytest.mark.asyncio
async def test_the_next_alert_waits_the_gap_on_the_clock(running: Running) -> None:
    speak, said = running.speak, running.speaker.said
    assert speak.submit(Alert("one")) is Offer.QUEUED
    assert speak.submit(Alert("two")) is Offer.QUEUED
    await until(lambda: said == ["one"])
    running.clock.advance(29.9)
    await settle()
    assert said == ["one"]
    running.clock.advance(0.1)
    await until(lambda: said == ["one", "two"])
    assert speak.spoken["written"] == 2


@pytest.mark.asyncio
async def test_the_dedup_window_is_on_the_clock(running: Running) -> None:
    speak, said = running.speak, running.speaker.said
    assert speak.submit(Alert("same")) is Offer.QUEUED
    await until(lambda: said == ["same"])
    running.clock.advance(59.0)
    assert speak.submit(Alert("same")) is Offer.DUPLICATE
    running.clock.advance(1.0)
    assert speak.submit(Alert("same")) is Offer.QUEUED
    await until(lambda: said == ["same", "same"])
