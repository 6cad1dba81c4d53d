"""What the client wants to receive, kept across connections, and the messages that ask for it.

Two servers, two vocabularies (the dialects): restream takes `symbols`; redis2ws takes
`channels` and `patterns` (`psubscribe` / `punsubscribe`) and wraps each Redis message in a
`{"type": "message", ...}` frame. `Subscriptions` remembers the wanted names in the order they
were asked for, answers the message to send now (when connected) and, on every new
connection, the messages that ask for all of it again, in chunks the server accepts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from lib_common.arguments import at_least

# restream's and redis2ws's default `limits.max_per_message`.
MAX_PER_MESSAGE = 100


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    data_type: str  # the frame type that carries data: yielded to the user
    ops: dict[str, tuple[str, str]]  # key ("symbols", ...) → (subscribe op, unsubscribe op)


RESTREAM = Dialect("restream", "quote", {"symbols": ("subscribe", "unsubscribe")})
REDIS2WS = Dialect(
    "redis2ws", "message", {"channels": ("subscribe", "unsubscribe"), "patterns": ("psubscribe", "punsubscribe")}
)
DIALECTS = {dialect.name: dialect for dialect in (RESTREAM, REDIS2WS)}


class Subscriptions:
    def __init__(self, dialect: Dialect, max_per_message: int = MAX_PER_MESSAGE) -> None:
        at_least("max_per_message", max_per_message, 1)
        self.dialect = dialect
        self.max_per_message = max_per_message
        self._wanted: dict[str, dict[str, None]] = {key: {} for key in dialect.ops}

    def wanted(self, key: str) -> list[str]:
        return list(self._table(key))

    def add(self, key: str, names: list[str]) -> list[str]:
        """Remember `names`; the messages that ask for the new ones."""
        table = self._table(key)
        added = [name for name in dict.fromkeys(names) if name not in table]
        table.update(dict.fromkeys(added))
        return self._messages(self.dialect.ops[key][0], key, added)

    def remove(self, key: str, names: list[str]) -> list[str]:
        """Forget `names`; the messages that give up the ones that were wanted."""
        table = self._table(key)
        removed = [name for name in dict.fromkeys(names) if name in table]
        for name in removed:
            del table[name]
        return self._messages(self.dialect.ops[key][1], key, removed)

    def resubscribe(self) -> list[str]:
        """Everything wanted, for a new connection."""
        messages: list[str] = []
        for key, (op, _) in self.dialect.ops.items():
            messages += self._messages(op, key, list(self._wanted[key]))
        return messages

    def _table(self, key: str) -> dict[str, None]:
        table = self._wanted.get(key)
        if table is None:
            raise ValueError(f"{self.dialect.name} subscribes to {' or '.join(self.dialect.ops)}, not {key}")
        return table

    def _messages(self, op: str, key: str, names: list[str]) -> list[str]:
        step = self.max_per_message
        return [json.dumps({"op": op, key: names[i : i + step]}) for i in range(0, len(names), step)]
