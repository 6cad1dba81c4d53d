"""restream under tracemalloc, for bench/fanout/conn_profile.py: a snapshot on each SIGUSR1.

    python bench/fanout/traced_server.py SNAPSHOT_DIR [restream's arguments]

Each SIGUSR1 writes SNAPSHOT_DIR/N.snapshot (N = 0, 1, ...; `tracemalloc.Snapshot.load`
reads it back) and then SNAPSHOT_DIR/N.done, so the reader knows the dump is whole.
"""

from __future__ import annotations

import gc
import itertools
import signal
import sys
import tracemalloc
from pathlib import Path
from types import FrameType

FRAMES = 8  # of each allocation's traceback: enough to see which connection object made it


def main() -> None:
    out = Path(sys.argv[1])
    numbers = itertools.count()

    def dump(signum: int, frame: FrameType | None) -> None:
        n = next(numbers)
        gc.collect()
        tracemalloc.take_snapshot().dump(str(out / f"{n}.snapshot"))
        (out / f"{n}.done").touch()

    tracemalloc.start(FRAMES)
    signal.signal(signal.SIGUSR1, dump)
    from servers.restream.__main__ import COMMAND

    sys.exit(COMMAND.main(sys.argv[2:]))


if __name__ == "__main__":
    main()
