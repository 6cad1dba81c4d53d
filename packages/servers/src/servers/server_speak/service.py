"""server_speak's core: rules on quotes and POSTed texts feed the speech queue; one worker
speaks (or writes WAV files) in order, off the event loop, under the rate limit."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from pathlib import Path

from lib_common.audio import AudioError, Speaker
from lib_common.clock import Clock, LoopClock, sleep
from lib_common.core.quote import Quote
from lib_common.core.tasks import BackgroundTask
from lib_common.logging import log_event
from lib_common.metrics import Exposition, by_label
from servers.server_speak.config import SpeakConfig
from servers.server_speak.prune import prune_dir
from servers.server_speak.rules import Alert, Priority, RuleSet
from servers.server_speak.sources import RedisSource, RestreamSource, Source
from servers.server_speak.speech_queue import Offer, SpeechQueue

log = logging.getLogger(__name__)


class SpeakService:
    """Time (uptime, the queue's gaps and dedup window, the sources' backoff) is the injected
    clock's (LoopClock by default), so tests drive it with a ManualClock."""

    def __init__(self, config: SpeakConfig, speaker: Speaker | None = None, clock: Clock | None = None) -> None:
        self.config = config
        self.clock = clock or LoopClock()
        self.rules = RuleSet(config.rules)
        self.queue = SpeechQueue(min_gap_s=config.min_gap_s, dedup_s=config.dedup_s, capacity=config.capacity)
        self.speaker = speaker or Speaker(config.output_dir, timeout_s=config.speech_timeout_s, prefix="server_speak")
        self.sources: dict[str, Source] = {}
        self.spoken: Counter[str] = Counter()  # played | written | failed
        self.last_files: list[str] = []
        self.pruned = 0
        self.wall = time.time  # file ages are on the wall clock
        self._wake = asyncio.Event()
        self._tasks: list[BackgroundTask] = []
        self._started_at: float | None = None
        self.serving = False

    def on_quote(self, quote: Quote) -> None:
        for alert in self.rules.evaluate(quote):
            self.submit(alert)

    def submit(self, alert: Alert) -> Offer:
        outcome = self.queue.offer(alert, self.clock.monotonic())
        log_event(log, logging.INFO, "alert", f"alert {outcome.value}: {alert.text}", source=alert.source)
        if outcome is Offer.QUEUED:
            self._wake.set()
        return outcome

    def wants_event(self, event: str | None) -> bool:
        """A POST carrying a monitor event is spoken only when the monitor rules list that event."""
        return event is None or self.config.monitor_events is None or event in self.config.monitor_events

    async def start(self) -> None:
        self._started_at = self.clock.monotonic()
        symbols = self.rules.symbols
        monotonic = self.clock.monotonic
        if self.config.restream_url and symbols:
            restream = RestreamSource(self.config.restream_url, symbols, self.on_quote, monotonic=monotonic)
            self.sources["restream"] = restream
            self._tasks.append(BackgroundTask(restream.run, name="server_speak.restream"))
        if self.config.redis_url and symbols:
            channels = [self.config.channel_prefix + symbol for symbol in symbols]
            redis = RedisSource.from_url(self.config.redis_url, channels, self.on_quote, monotonic=monotonic)
            self.sources["redis"] = redis
            self._tasks.append(BackgroundTask(redis.run, name="server_speak.redis"))
        self._tasks.append(BackgroundTask(self._speak_forever, name="server_speak.speech"))
        await asyncio.to_thread(self.prune)
        for task in self._tasks:
            await task.start()
        self.serving = True

    async def stop(self) -> None:
        self.serving = False
        for task in self._tasks:
            await task.stop()
        self._tasks.clear()

    @property
    def uptime_s(self) -> float:
        """Seconds since start, by the service's clock (0 before it)."""
        started = self._started_at
        return 0.0 if started is None else round(self.clock.monotonic() - started, 3)

    async def _speak_forever(self) -> None:
        while True:
            wait = self.queue.wait_s(self.clock.monotonic())
            if wait is None:
                self._wake.clear()
                await self._wake.wait()
                continue
            if wait > 0:
                await sleep(self.clock, wait)
                continue
            alert = self.queue.take(self.clock.monotonic())
            if alert is not None:
                await self._speak(alert)

    async def _speak(self, alert: Alert) -> None:
        try:
            # The engines block (and may hang: Speaker times them out); keep the loop free.
            sound = await asyncio.to_thread(self.speaker.speak, alert.text)
        except AudioError as exc:
            self.spoken["failed"] += 1
            log.error("cannot speak %r: %s", alert.text, exc)
            return
        if sound.played:
            self.spoken["played"] += 1
            log_event(log, logging.INFO, "spoken", f"spoke: {alert.text}")
        else:
            self.spoken["written"] += 1
            path = str(sound.path)
            self.last_files = [*self.last_files[-9:], path]
            log_event(log, logging.INFO, "speech_written", f"no sound card: wrote {path}", text=alert.text, path=path)
            await asyncio.to_thread(self.prune, keep=(Path(path),))

    def prune(self, keep: tuple[Path, ...] = ()) -> list[str]:
        """Old WAV files out of the output directory (the config's `prune`: age, total size)."""
        directory = Path(self.config.output_dir)
        if not directory.is_dir():
            return []
        removed = prune_dir(directory, self.wall(), self.config.prune, keep)
        self.pruned += len(removed)
        return removed

    def status(self) -> dict[str, object]:
        return {
            "uptime_s": self.uptime_s,
            "sound_card": self.speaker.has_card,
            "output_dir": str(Path(self.config.output_dir)),
            "rules": len(self.rules.rules),
            "symbols": self.rules.symbols,
            "alerts_fired": self.rules.fired,
            "queue": {"length": len(self.queue), **dict(self.queue.counts)},
            "spoken": dict(self.spoken),
            "recent_files": list(self.last_files),
            "pruned_files": self.pruned,
            "rules_cooled": self.rules.cooled,
            "sources": {name: state.as_json() for name, state in self.sources.items()},
        }

    def metrics(self) -> str:
        out = Exposition()
        out.gauge("server_speak_queue_length", "Alerts waiting to be spoken.", len(self.queue))
        out.counter("server_speak_rule_alerts_total", "Alerts fired by rules.", self.rules.fired)
        out.counters(
            "server_speak_offers_total",
            "Alerts offered to the queue, by outcome.",
            by_label("outcome", self.queue.counts),
        )
        out.counters(
            "server_speak_utterances_total",
            "Alerts spoken, by how (played, written, failed).",
            by_label("how", self.spoken),
        )
        out.counters(
            "server_speak_source_quotes_total",
            "Quotes received, by source.",
            by_label("source", {k: s.quotes for k, s in self.sources.items()}),
        )
        return out.render()


def parse_speak(body: object) -> tuple[Alert, str | None]:
    """A POST /speak body → (alert, event); ValueError says what is wrong."""
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        raise ValueError("text: expected a non-empty string")
    if len(text) > 1000:
        raise ValueError(f"text: at most 1000 characters, found {len(text)}")
    raw_priority = body.get("priority", "normal")
    if not isinstance(raw_priority, str):
        raise ValueError("priority: expected low, normal or high")
    priority = Priority.parse(raw_priority)
    event = body.get("event")
    if event is not None and not isinstance(event, str):
        raise ValueError("event: expected a string")
    return Alert(text.strip(), priority, source="http"), event
