"""Resends: which stream entries are a frame the publisher sent again (plain code).

A publisher that lost its connection with a batch in flight sends the batch again (part of it
may already be in the stream, under other entry ids). Each frame keeps its quote id,
`EPOCH:SEQ`, and one publisher's seqs only grow in the order it sends, resends apart
(lib_common.redis_bus.buffer). So, with entries written in stream order, an entry whose seq is
not above the highest written for its epoch is a copy of a line already written. Entries
without a quote id (older publishers) are never taken for copies.

A stream spread over shards keeps that order within each shard only (its shards are read side
by side, and a batch's frames go to every shard's key at once), so the highest seq is kept per
shard and epoch: a frame and its copy are always on one shard, the one of their symbol.
"""

from __future__ import annotations

from lib_common.redis_bus.format import parse_quote_id


class Resends:
    def __init__(self) -> None:
        self._high: dict[tuple[str, str], int] = {}

    def clear(self) -> None:
        self._high.clear()

    def note(self, quote_id: str | None, shard: str = "") -> bool:
        """Take the quote id of an entry of `shard` ("" for an unsharded stream) about to be
        written: False when the entry is a copy of one written already (and so must not be)."""
        parsed = parse_quote_id(quote_id) if quote_id else None
        if parsed is None:
            return True
        epoch, seq = parsed
        key = (shard, epoch)
        high = self._high.get(key)
        if high is not None and seq <= high:
            return False
        self._high[key] = seq
        return True

    @property
    def epochs(self) -> int:
        return len({epoch for _, epoch in self._high})
