"""MemoryGuard: one byte budget over everything queued for clients.

Comparable to Redis' `maxmemory-clients`: the sum of all client backlogs is capped, and when it
is exceeded the least important clients go first (lowest tenant priority, then the largest
backlog), until the rest fits. Evicted clients are closed by the caller (1013 "slow consumer").
"""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

from lib_common.arguments import positive

K = TypeVar("K", bound=Hashable)


@dataclass(slots=True)
class _Account:
    priority: int
    nbytes: int = 0


class MemoryGuard(Generic[K]):
    def __init__(self, budget_bytes: int) -> None:
        positive("budget_bytes", budget_bytes)
        self.budget = budget_bytes
        self.used = 0
        self.peak = 0
        self._accounts: dict[K, _Account] = {}

    def register(self, client: K, priority: int) -> None:
        if client in self._accounts:
            raise ValueError(f"client {client!r} is registered already")
        self._accounts[client] = _Account(priority)

    def unregister(self, client: K) -> int:
        """Forget a client; returns the bytes it held, now released."""
        account = self._accounts.pop(client, None)
        if account is None:
            return 0
        self.used -= account.nbytes
        return account.nbytes

    def charge(self, client: K, delta: int) -> bool:
        """Add `delta` bytes (negative to release) to a client's backlog.

        Returns True when the budget is now exceeded: call `victims()`.
        """
        account = self._accounts[client]
        account.nbytes += delta
        if account.nbytes < 0:
            raise ValueError(f"client {client!r} released more than it held ({account.nbytes})")
        self.used += delta
        if self.used > self.peak:
            self.peak = self.used
        return self.used > self.budget

    def victims(self) -> list[K]:
        """Clients to evict, in order, so that what the others hold fits the budget."""
        excess = self.used - self.budget
        if excess <= 0:
            return []
        holders = [(a.priority, -a.nbytes, i, c) for i, (c, a) in enumerate(self._accounts.items()) if a.nbytes > 0]
        holders.sort(key=lambda h: (h[0], h[1], h[2]))
        chosen: list[K] = []
        for _, negative_bytes, _, client in holders:
            if excess <= 0:
                break
            chosen.append(client)
            excess += negative_bytes
        return chosen

    def __len__(self) -> int:
        return len(self._accounts)
