"""Which streamer connection carries which symbol.

Yahoo serves about 100 symbols per connection and silently drops the rest, so subscriptions
are spread over shards of at most `per_connection` symbols. A symbol stays on its shard for as
long as it is subscribed (no reshuffling: moving it would cost an unsubscribe and a subscribe);
new symbols fill the first shard with room.
"""

from __future__ import annotations

from collections.abc import Iterable

from lib_common.arguments import at_least


class ShardPlan:
    def __init__(self, per_connection: int = 100) -> None:
        at_least("per_connection", per_connection, 1)
        self.per_connection = per_connection
        self._shards: list[set[str]] = []
        self._where: dict[str, int] = {}

    def add(self, symbols: Iterable[str]) -> dict[int, list[str]]:
        """Place new symbols; returns {shard: symbols to subscribe there}."""
        placed: dict[int, list[str]] = {}
        for symbol in symbols:
            if symbol in self._where:
                continue
            index = next((i for i, s in enumerate(self._shards) if len(s) < self.per_connection), None)
            if index is None:
                index = len(self._shards)
                self._shards.append(set())
            self._shards[index].add(symbol)
            self._where[symbol] = index
            placed.setdefault(index, []).append(symbol)
        return placed

    def remove(self, symbols: Iterable[str]) -> dict[int, list[str]]:
        """Drop symbols; returns {shard: symbols to unsubscribe there}."""
        removed: dict[int, list[str]] = {}
        for symbol in symbols:
            index = self._where.pop(symbol, None)
            if index is None:
                continue
            self._shards[index].discard(symbol)
            removed.setdefault(index, []).append(symbol)
        return removed

    def symbols(self, shard: int) -> list[str]:
        return sorted(self._shards[shard]) if shard < len(self._shards) else []

    @property
    def shards(self) -> int:
        return len(self._shards)

    def __contains__(self, symbol: str) -> bool:
        return symbol in self._where

    def __len__(self) -> int:
        return len(self._where)
