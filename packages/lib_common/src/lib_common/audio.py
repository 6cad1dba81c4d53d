"""Speech, tones and playback, degrading cleanly: no sound card means a WAV file, never a crash
or a hang.

- `sound_cards()` decides per platform whether there is something to play on: on Linux the ALSA
  cards (/proc/asound/cards; none means WAV files); on Windows and macOS the OS's own default
  output device is assumed (pyttsx3 speaks through SAPI5 or NSSpeechSynthesizer, simpleaudio
  plays through WinMM or CoreAudio), and a playback that fails falls back to the WAV file as on a
  host without a card; on any other platform, WAV files.
- `tone_wav(path, ...)` writes a sine tone with the stdlib `wave` module.
- `speech_wav(path, text)` synthesises speech into a WAV file: pyttsx3's `save_to_file` when
  pyttsx3 is installed (it is not a lib_common dependency, so it is imported lazily), else the
  `espeak-ng -w` command. Every engine call runs under a timeout.
- `Speaker` plays speech and tones when a card exists (pyttsx3 `say`, simpleaudio), and
  otherwise writes them to WAV files in its directory and says where, in an `Utterance`.
"""

from __future__ import annotations

import array
import atexit
import contextlib
import ctypes.util
import io
import logging
import math
import re
import shutil
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "AudioError",
    "AudioReport",
    "Speaker",
    "Utterance",
    "alsa_cards",
    "espeak_library",
    "probe_audio",
    "sound_cards",
    "speech_wav",
    "tone_samples",
    "tone_wav",
]

log = logging.getLogger(__name__)

SAMPLE_RATE = 22050
ENGINE_TIMEOUT_S = 15.0

T = TypeVar("T")


class AudioError(Exception):
    """Sound could be neither played nor written."""


# Where no card list is read: the OS mixes and routes to its default output device itself.
OS_OUTPUT_DEVICES = {
    "win32": "Windows default output device (assumed)",
    "darwin": "macOS default output device (assumed)",
}


def sound_cards(platform: str = sys.platform) -> list[str]:
    """What sound can be played on, decided per `platform` (sys.platform's spelling): the ALSA
    cards on Linux, the OS's default output device on Windows and macOS, else nothing."""
    if platform.startswith("linux"):
        return alsa_cards(Path("/proc/asound/cards"))
    if platform in OS_OUTPUT_DEVICES:
        return [OS_OUTPUT_DEVICES[platform]]
    return []


def alsa_cards(cards_file: Path) -> list[str]:
    """The cards an ALSA cards listing (Linux's /proc/asound/cards) names; `[]` when it names
    none or cannot be read."""
    try:
        text = cards_file.read_text(errors="replace")
    except OSError:
        return []
    # Each card is two lines; the first reads ` 0 [PCH            ]: HDA-Intel - HDA Intel PCH`.
    return [m.group(1).strip() for m in re.finditer(r"^\s*\d+\s+\[[^\]]*\]:\s*(.+)$", text, re.MULTILINE)]


def espeak_library() -> str | None:
    """The espeak-ng (or espeak) shared library's name, as the loader finds it."""
    return ctypes.util.find_library("espeak-ng") or ctypes.util.find_library("espeak")


def tone_samples(frequency_hz: float = 440.0, duration_s: float = 0.5, volume: float = 0.5) -> bytes:
    """16-bit mono PCM of a sine tone, faded in and out over 10 ms (no clicks)."""
    count = int(SAMPLE_RATE * duration_s)
    fade = max(1, int(SAMPLE_RATE * 0.01))
    peak = 32767 * max(0.0, min(volume, 1.0))
    samples = array.array("h")
    for i in range(count):
        envelope = min(1.0, i / fade, (count - 1 - i) / fade)
        samples.append(int(peak * envelope * math.sin(2 * math.pi * frequency_hz * i / SAMPLE_RATE)))
    if sys.byteorder == "big":
        samples.byteswap()
    return samples.tobytes()


def tone_wav(path: Path, frequency_hz: float = 440.0, duration_s: float = 0.5, volume: float = 0.5) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(tone_samples(frequency_hz, duration_s, volume))
    return path


def _with_timeout(name: str, work: Callable[[], T], timeout_s: float) -> T:
    """Run `work` in a daemon thread; AudioError if it fails or is not done in time (a hung
    engine is left behind in its thread rather than hanging the caller)."""
    result: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            result.append(work())
        except BaseException as exc:
            failure.append(exc)

    thread = threading.Thread(target=run, name=f"audio-{name}", daemon=True)
    thread.start()
    thread.join(timeout_s)
    if thread.is_alive():
        raise AudioError(f"{name}: no answer within {timeout_s:g}s")
    if failure:
        raise AudioError(f"{name}: {failure[0]}") from failure[0]
    return result[0]


# pyttsx3 keeps one engine per driver; calls into it must not overlap. The engine is kept for
# the process: pyttsx3 holds it only weakly, and espeak's driver calls back into a collected one
# ("Exception ignored on calling ctypes callback function ... ReferenceError", 7 lines of
# traceback on stderr for each later utterance).
_ENGINE_LOCK = threading.Lock()
_ENGINE: list[Any] = []


def _pyttsx3() -> Any:
    try:
        import pyttsx3  # type: ignore[import-untyped]
    except ImportError:
        return None
    return pyttsx3


def _engine_call(name: str, use: Callable[[Any], None], timeout_s: float) -> None:
    pyttsx3 = _pyttsx3()
    if pyttsx3 is None:
        raise AudioError("pyttsx3 is not installed (pip install pyttsx3; on Debian also espeak-ng)")

    def work() -> None:
        if not _ENGINE_LOCK.acquire(timeout=timeout_s):
            raise AudioError("the speech engine is still busy with an earlier call")
        try:
            if not _ENGINE:
                _ENGINE.append(pyttsx3.init())
                atexit.register(_ENGINE.clear)  # let it go while the interpreter can still run its __del__
            engine = _ENGINE[0]
            use(engine)
            with contextlib.redirect_stdout(io.StringIO()):  # espeak's driver prints "Audio saved to ..."
                engine.runAndWait()
        finally:
            _ENGINE_LOCK.release()

    _with_timeout(name, work, timeout_s)


def _valid_wav(path: Path) -> bool:
    try:
        with wave.open(str(path), "rb") as wav:
            return wav.getnframes() > 0
    except (OSError, EOFError, wave.Error):
        return False


def speech_wav(path: Path, text: str, timeout_s: float = ENGINE_TIMEOUT_S) -> tuple[Path, str]:
    """Write `text` spoken into the WAV file `path`; returns it and the engine used
    ("pyttsx3" or "espeak-ng"). AudioError says why neither worked."""
    path.parent.mkdir(parents=True, exist_ok=True)
    problems = []
    try:
        _engine_call("pyttsx3", lambda engine: engine.save_to_file(text, str(path)), timeout_s)
        if _valid_wav(path):
            return path, "pyttsx3"
        problems.append("pyttsx3 wrote no audio")
    except AudioError as exc:
        problems.append(str(exc))
    command = shutil.which("espeak-ng") or shutil.which("espeak")
    if command is None:
        problems.append("espeak-ng: command not found")
    else:
        try:
            subprocess.run([command, "-w", str(path), "--", text], capture_output=True, timeout=timeout_s, check=True)
            if _valid_wav(path):
                return path, Path(command).name
            problems.append(f"{command} wrote no audio")
        except (OSError, subprocess.SubprocessError) as exc:
            problems.append(f"{command}: {exc}")
    raise AudioError("cannot synthesise speech: " + "; ".join(problems))


def play_tone(frequency_hz: float = 440.0, duration_s: float = 0.5, timeout_s: float = ENGINE_TIMEOUT_S) -> None:
    """Play a tone on the default card through simpleaudio (the `audio` extra)."""
    try:
        import simpleaudio  # type: ignore[import-untyped]
    except ImportError:
        raise AudioError("simpleaudio is not installed (the `audio` extra)") from None

    def work() -> None:
        simpleaudio.play_buffer(tone_samples(frequency_hz, duration_s), 1, 2, SAMPLE_RATE).wait_done()

    _with_timeout("simpleaudio", work, timeout_s)


def say(text: str, timeout_s: float = ENGINE_TIMEOUT_S) -> None:
    """Speak `text` on the default card through pyttsx3."""
    _engine_call("pyttsx3", lambda engine: engine.say(text), timeout_s)


@dataclass(frozen=True, slots=True)
class Utterance:
    """What became of one sound: played on the card, or written to `path` (and by what)."""

    text: str
    played: bool
    path: Path | None
    engine: str


class Speaker:
    """Speaks (or writes) alerts: plays on a card when the host has one, otherwise writes a
    WAV file per utterance into `directory`. Falls back to the file when playing fails."""

    def __init__(
        self,
        directory: Path,
        *,
        cards: Callable[[], list[str]] = sound_cards,
        timeout_s: float = ENGINE_TIMEOUT_S,
        prefix: str = "speech",
    ) -> None:
        self.directory = directory
        self._cards = cards
        self.timeout_s = timeout_s
        self.prefix = prefix
        self._seq = 0

    @property
    def has_card(self) -> bool:
        return bool(self._cards())

    def _next_path(self, kind: str) -> Path:
        self._seq += 1
        stamp = time.strftime("%Y%m%d-%H%M%S")
        return self.directory / f"{self.prefix}-{stamp}-{self._seq:04d}-{kind}.wav"

    def speak(self, text: str) -> Utterance:
        if self.has_card:
            try:
                say(text, self.timeout_s)
                return Utterance(text, True, None, "pyttsx3")
            except AudioError as exc:
                log.warning("cannot play speech, writing a file instead: %s", exc)
        path, engine = speech_wav(self._next_path("speech"), text, self.timeout_s)
        return Utterance(text, False, path, engine)

    def tone(self, frequency_hz: float = 880.0, duration_s: float = 0.3) -> Utterance:
        label = f"tone {frequency_hz:g} Hz"
        if self.has_card:
            try:
                play_tone(frequency_hz, duration_s, self.timeout_s)
                return Utterance(label, True, None, "simpleaudio")
            except AudioError as exc:
                log.warning("cannot play a tone, writing a file instead: %s", exc)
        return Utterance(label, False, tone_wav(self._next_path("tone"), frequency_hz, duration_s), "wave")


@dataclass(frozen=True, slots=True)
class AudioReport:
    cards: list[str]
    espeak_library: str | None
    pyttsx3: str  # "ok", or why not
    simpleaudio: str  # "ok", or why not


def probe_audio(cards: Callable[[], list[str]] = sound_cards, timeout_s: float = ENGINE_TIMEOUT_S) -> AudioReport:
    """What audio the host has: cards, the espeak library, whether pyttsx3 and simpleaudio load."""
    pyttsx3 = _pyttsx3()
    if pyttsx3 is None:
        engine_state = "not installed"
    else:
        try:
            _with_timeout("pyttsx3.init", pyttsx3.init, timeout_s)
            engine_state = "ok"
        except AudioError as exc:
            engine_state = str(exc)
    try:
        import simpleaudio  # noqa: F401

        player_state = "ok"
    except ImportError as exc:
        player_state = f"not available ({exc})"
    return AudioReport(cards(), espeak_library(), engine_state, player_state)
