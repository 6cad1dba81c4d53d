"""audio_test: what audio does this host have, and does it work?

Reports the ALSA cards (/proc/asound/cards), the espeak-ng library and whether pyttsx3 and
simpleaudio load. With a card it plays a test tone (simpleaudio) and a spoken phrase (pyttsx3);
without one, or when playing fails, it writes both to WAV files and says where.

Exit codes: 0 played, 3 written to files only, 1 failure (neither played nor written), 2 usage.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from lib_common.audio import AudioError, Speaker, Utterance, probe_audio

PROG = "audio_test"
EXIT_PLAYED = 0
EXIT_FAILED = 1
EXIT_WRITTEN = 3
PHRASE = "This is the r s dev audio test."


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Report the host's audio, then play a tone and a phrase (or, with no sound card, write them "
        "to WAV files). Exit 0 played, 3 written to files only, 1 failure.",
    )
    parser.add_argument(
        "--out-dir",
        type=Path,
        default=Path(tempfile.gettempdir()) / "rsdev-audio-test",
        help="where WAV files go when nothing can be played (default: %(default)s)",
    )
    parser.add_argument("--phrase", default=PHRASE, help="what to say")
    parser.add_argument("--timeout", type=float, default=15.0, help="seconds to allow each speech/play call")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report = probe_audio(timeout_s=args.timeout)
    print(f"sound cards: {', '.join(report.cards) if report.cards else 'none (no /proc/asound cards)'}")
    print(f"espeak library: {report.espeak_library or 'not found'}")
    print(f"pyttsx3: {report.pyttsx3}")
    print(f"simpleaudio: {report.simpleaudio}")
    speaker = Speaker(args.out_dir, cards=lambda: report.cards, timeout_s=args.timeout, prefix=PROG)
    sounds: list[Utterance] = []
    failed = False
    makers: list[tuple[str, Callable[[], Utterance]]] = [
        ("tone", speaker.tone),
        ("speech", lambda: speaker.speak(args.phrase)),
    ]
    for name, make in makers:
        try:
            sound = make()
        except AudioError as exc:
            print(f"{name}: FAILED: {exc}", file=sys.stderr)
            failed = True
            continue
        sounds.append(sound)
        where = "played" if sound.played else f"written to {sound.path}"
        print(f"{name}: {where} ({sound.engine})")
    if failed:
        return EXIT_FAILED
    return EXIT_PLAYED if all(s.played for s in sounds) else EXIT_WRITTEN


if __name__ == "__main__":
    sys.exit(main())
