"""Pruning the WAV files server_speak writes when there is no sound card: by age and by the
directory's total size. `prune_plan` is the policy (plain code, the time passed in), `prune_dir`
the adapter that lists the directory and deletes what the plan names.

    prune: { max_age_s: 604800, max_bytes: 104857600 },   // 7 days, 100 MB (defaults)
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class PruneConfig:
    max_age_s: float = 7 * 86_400.0
    max_bytes: int = 100 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class WavFile:
    name: str
    mtime: float  # seconds since the epoch
    size: int


def prune_plan(files: Iterable[WavFile], now: float, config: PruneConfig) -> list[str]:
    """The files to delete: every one older than `max_age_s`, then the oldest of the rest until
    what is left takes at most `max_bytes`."""
    kept: list[WavFile] = []
    doomed: list[str] = []
    for wav in sorted(files, key=lambda f: (f.mtime, f.name)):
        if now - wav.mtime > config.max_age_s:
            doomed.append(wav.name)
        else:
            kept.append(wav)
    total = sum(f.size for f in kept)
    for wav in kept:
        if total <= config.max_bytes:
            break
        doomed.append(wav.name)
        total -= wav.size
    return doomed


def prune_dir(directory: Path, now: float, config: PruneConfig, keep: Iterable[Path] = ()) -> list[str]:
    """Delete the WAV files in `directory` that `prune_plan` names (never one in `keep`, the
    file just written); returns their names. A file that vanishes or cannot go is skipped."""
    spared = {p.name for p in keep}
    files = []
    for path in directory.glob("*.wav"):
        with contextlib.suppress(OSError):
            stat = path.stat()
            if path.name not in spared:
                files.append(WavFile(path.name, stat.st_mtime, stat.st_size))
    removed = []
    for name in prune_plan(files, now, config):
        try:
            (directory / name).unlink()
        except OSError as exc:
            log.debug("cannot prune %s: %s", name, exc)
        else:
            removed.append(name)
    if removed:
        log.info("pruned %d old WAV file(s) from %s", len(removed), directory)
    return removed
