"""lib_common.audio: tones and speech written as WAV files; nothing hangs."""

from __future__ import annotations

import array
import math
import threading
import time
import wave
from pathlib import Path

import pytest

from lib_common import audio
from lib_common.audio import AudioError, Speaker, alsa_cards, sound_cards, speech_wav, tone_wav


def rms(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        samples = array.array("h", wav.readframes(wav.getnframes()))
    assert samples
    return math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768


def test_sound_cards_parse_alsa_listing(tmp_path: Path) -> None:
    cards = tmp_path / "cards"
    cards.write_text(
        " 0 [PCH            ]: HDA-Intel - HDA Intel PCH\n"
        "                      HDA Intel PCH at 0xf7f10000 irq 32\n"
        " 1 [Device         ]: USB-Audio - USB Audio Device\n"
        "                      C-Media USB Audio Device at usb-0000:00:14.0-2\n"
    )
    assert alsa_cards(cards) == ["HDA-Intel - HDA Intel PCH", "USB-Audio - USB Audio Device"]
    (tmp_path / "empty").write_text("--- no soundcards ---\n")
    assert alsa_cards(tmp_path / "empty") == []
    assert alsa_cards(tmp_path / "missing") == []


def test_sound_cards_are_decided_per_platform(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    read: list[Path] = []

    def listing(path: Path) -> list[str]:
        read.append(path)
        return ["HDA-Intel - HDA Intel PCH"]

    monkeypatch.setattr(audio, "alsa_cards", listing)
    assert sound_cards("linux") == ["HDA-Intel - HDA Intel PCH"] and read == [Path("/proc/asound/cards")]
    # Windows and macOS: no /proc is read; the OS's default device is assumed.
    assert sound_cards("win32") == ["Windows default output device (assumed)"]
    assert sound_cards("darwin") == ["macOS default output device (assumed)"]
    assert sound_cards("freebsd14") == [] and len(read) == 1


@pytest.mark.parametrize("platform", ["win32", "darwin"])
def test_on_windows_and_macos_a_failed_playback_becomes_a_wav_file(
    platform: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    def no_device(*args: object) -> None:
        raise AudioError("no audio output device is installed")  # as SAPI5 or WinMM answer without one

    monkeypatch.setattr(audio, "say", no_device)
    monkeypatch.setattr(audio, "play_tone", no_device)
    speaker = Speaker(tmp_path, cards=lambda: sound_cards(platform), prefix="t")
    assert speaker.has_card
    with caplog.at_level("WARNING", logger="lib_common.audio"):
        spoken = speaker.speak("network outage")
        tone = speaker.tone(440.0, 0.1)
    assert not spoken.played and spoken.path is not None and rms(spoken.path) > 0.01
    assert not tone.played and tone.path is not None and rms(tone.path) > 0.1
    assert "cannot play speech, writing a file instead: no audio output device" in caplog.text


def test_on_windows_and_macos_playback_is_tried(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    played: list[object] = []
    monkeypatch.setattr(audio, "say", lambda text, timeout_s: played.append(text))
    monkeypatch.setattr(audio, "play_tone", lambda hz, duration_s, timeout_s: played.append(hz))
    speaker = Speaker(tmp_path, cards=lambda: sound_cards("win32"), prefix="t")
    assert speaker.speak("hello").played and speaker.tone(440.0).played
    assert played == ["hello", 440.0] and list(tmp_path.iterdir()) == []


def test_tone_wav_is_a_valid_loud_sine(tmp_path: Path) -> None:
    path = tone_wav(tmp_path / "t.wav", 440.0, 0.25, volume=0.5)
    with wave.open(str(path), "rb") as wav:
        assert wav.getframerate() == audio.SAMPLE_RATE
        assert wav.getnframes() == int(audio.SAMPLE_RATE * 0.25)
    assert 0.3 < rms(path) < 0.4  # 0.5 / sqrt(2), less the fades


def test_speech_wav_is_valid_and_not_silent(tmp_path: Path) -> None:
    path, engine = speech_wav(tmp_path / "s.wav", "network outage")
    assert engine in ("pyttsx3", "espeak-ng", "espeak")
    assert rms(path) > 0.01


def test_speaker_without_a_card_writes_files(tmp_path: Path) -> None:
    speaker = Speaker(tmp_path, cards=list, prefix="t")
    assert not speaker.has_card
    spoken = speaker.speak("hello")
    tone = speaker.tone(660.0, 0.1)
    assert not spoken.played and spoken.path is not None and spoken.path.parent == tmp_path
    assert not tone.played and tone.path is not None and rms(tone.path) > 0.1


def test_with_timeout_gives_up_on_a_hung_engine() -> None:
    release = threading.Event()
    started = time.monotonic()
    with pytest.raises(AudioError, match=r"no answer within 0\.2s"):
        audio._with_timeout("stuck", lambda: release.wait(30), 0.2)
    assert time.monotonic() - started < 5
    release.set()


def test_with_timeout_reports_failures() -> None:
    def broken() -> None:
        raise RuntimeError("no driver")

    with pytest.raises(AudioError, match="broken: no driver"):
        audio._with_timeout("broken", broken, 5)


def test_speech_wav_again_and_again_writes_nothing_to_stdout_or_stderr(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    """pyttsx3's engine kept for the process: no ReferenceError tracebacks from espeak's callbacks
    into a collected one, and no "Audio saved to" print (server_speak's log is stdout and stderr)."""
    for n in range(3):
        speech_wav(tmp_path / f"s{n}.wav", f"alert number {n}")
    out, err = capfd.readouterr()
    assert "Audio saved" not in out and "ReferenceError" not in err and "Exception ignored" not in err, (out, err)
