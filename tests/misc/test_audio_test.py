"""audio_test on a host with no sound card (this one): writes valid WAV files and exits 3."""

from __future__ import annotations

import array
import math
import re
import wave
from pathlib import Path

import pytest

from lib_common.audio import sound_cards
from tests.misc.conftest import run_monitor


@pytest.mark.skipif(bool(sound_cards()), reason="this host has a sound card: audio_test would play")
def test_no_card_writes_valid_wavs_and_exits_3(tmp_path: Path) -> None:
    done = run_monitor("rsdev_misc.audio_test", "--out-dir", str(tmp_path))
    assert done.returncode == 3, done.stdout + done.stderr
    assert "sound cards: none" in done.stdout
    written = re.findall(r"^(tone|speech): written to (\S+)", done.stdout, re.MULTILINE)
    assert [kind for kind, _ in written] == ["tone", "speech"]
    for _, name in written:
        path = Path(name)
        assert path.parent == tmp_path
        with wave.open(str(path), "rb") as wav:
            samples = array.array("h", wav.readframes(wav.getnframes()))
        assert len(samples) > 1000
        assert math.sqrt(sum(s * s for s in samples) / len(samples)) / 32768 > 0.01  # not silent
