"""bench/fanout's load process, with two changes for the Redis runs (imported, not copied):

- `--subscribe-json TEXT`: the subscribe message each client sends (redis2ws speaks channels);
- `--stamp NAME`: the timestamp latency is measured from (`ts_library_in`: the ingest node's
  receipt, end to end; the fan-out bench uses `ts_library_out`).

    python bench/redis_edge/client.py --subscribe-json '{"op":"subscribe","channels":[...]}' \
        --stamp ts_library_in -- <bench/fanout/client.py arguments>
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "fanout"))

import client as fanout_client
import rawws


def main() -> None:
    argv = sys.argv[1:]
    subscribe: bytes | None = None
    if "--subscribe-json" in argv:
        i = argv.index("--subscribe-json")
        subscribe = argv[i + 1].encode()
        del argv[i : i + 2]
    if "--stamp" in argv:
        i = argv.index("--stamp")
        rawws._TS_OUT = re.compile(rb'"' + argv[i + 1].encode() + rb'":(\d+)')  # the sampler's pattern
        del argv[i : i + 2]
    if subscribe is not None:
        original = fanout_client.Load.__init__

        def init(self: fanout_client.Load, args: object) -> None:
            original(self, args)  # type: ignore[arg-type]
            self._subscribe = subscribe

        fanout_client.Load.__init__ = init  # type: ignore[method-assign]
    sys.argv = [sys.argv[0], *argv]
    fanout_client.main()


if __name__ == "__main__":
    main()
