from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_common.core.memory_guard import MemoryGuard


def test_victims_lowest_priority_first_then_largest_backlog() -> None:
    guard = MemoryGuard(1000)
    for name, priority in [("gold", 10), ("small", 0), ("big", 0)]:
        guard.register(name, priority)
    guard.charge("gold", 900)
    guard.charge("small", 100)
    assert guard.charge("big", 300)
    assert guard.victims() == ["big"]


def test_victims_reach_into_higher_priority_only_when_needed() -> None:
    guard = MemoryGuard(100)
    guard.register("low", 0)
    guard.register("high", 5)
    guard.charge("low", 50)
    guard.charge("high", 400)
    assert guard.victims() == ["low", "high"]


def test_release_below_zero_is_an_error() -> None:
    guard = MemoryGuard(10)
    guard.register("a", 0)
    with pytest.raises(ValueError, match="released more"):
        guard.charge("a", -1)


def test_double_register_is_an_error() -> None:
    guard = MemoryGuard(10)
    guard.register("a", 0)
    with pytest.raises(ValueError, match="registered already"):
        guard.register("a", 1)


@settings(max_examples=300, deadline=None)
@given(
    budget=st.integers(1, 5000),
    clients=st.lists(st.integers(-3, 3), min_size=1, max_size=8),
    charges=st.lists(st.tuples(st.integers(0, 7), st.integers(-500, 2000)), max_size=60),
)
def test_accounting_and_eviction_invariants(budget: int, clients: list[int], charges: list[tuple[int, int]]) -> None:
    guard = MemoryGuard(budget)
    held = {i: 0 for i in range(len(clients))}
    for i, priority in enumerate(clients):
        guard.register(i, priority)
    for who, delta in charges:
        who %= len(clients)
        if who not in held:
            continue
        delta = max(delta, -held[who])
        over = guard.charge(who, delta)
        held[who] += delta
        assert guard.used == sum(held.values())
        assert over == (guard.used > budget)
        if over:
            victims = guard.victims()
            order = [(clients[v], -held[v]) for v in victims]  # type: ignore[index]
            assert order == sorted(order), "evicts lowest priority, then largest backlog, first"
            for v in victims:
                assert guard.unregister(v) == held.pop(v)  # type: ignore[arg-type]
            assert guard.used <= budget, "never over budget after eviction"
            assert guard.used == sum(held.values())
