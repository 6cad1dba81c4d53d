"""ConflatingQueue: bounded, per-symbol order kept, newest value of a symbol never lost."""

from __future__ import annotations

import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib_common.core.conflating_queue import ConflatingQueue
from lib_common.core.frame import Frame
from lib_common.core.wsframe import text_frame


def frame(symbol: str | None, seq: int, pad: int = 0) -> Frame:
    payload = f'{{"s":"{symbol}","n":{seq}}}'.encode() + b" " * pad
    return Frame(symbol, payload, text_frame(payload), ts_library_out=seq)


def drain(queue: ConflatingQueue) -> list[Frame]:
    out: list[bytes] = []
    while len(queue):
        wires, _ = queue.pop_wire(1)
        out.extend(wires)
    return [_decode(w) for w in out]


_BY_WIRE: dict[bytes, Frame] = {}


def _decode(wire: bytes) -> Frame:
    return _BY_WIRE[wire]


def push(queue: ConflatingQueue, f: Frame) -> None:
    _BY_WIRE[f.wire] = f
    queue.push(f)


def test_under_capacity_is_fifo() -> None:
    queue = ConflatingQueue(8)
    frames = [frame("A", 1), frame("B", 2), frame("A", 3)]
    for f in frames:
        push(queue, f)
    assert drain(queue) == frames


def test_full_queue_replaces_newest_of_same_symbol() -> None:
    queue = ConflatingQueue(2)
    push(queue, frame("A", 1))
    push(queue, frame("B", 2))
    push(queue, frame("A", 3))
    assert [f.ts_library_out for f in drain(queue)] == [3, 2]


def test_full_queue_makes_room_for_new_symbol_by_collapsing_busiest() -> None:
    queue = ConflatingQueue(3)
    for seq, symbol in enumerate("AAB", 1):
        push(queue, frame(symbol, seq))
    push(queue, frame("C", 4))
    assert [(f.symbol, f.ts_library_out) for f in drain(queue)] == [("A", 2), ("B", 3), ("C", 4)]


def test_overflow_reported_when_nothing_left_to_conflate() -> None:
    queue = ConflatingQueue(2)
    push(queue, frame("A", 1))
    push(queue, frame("B", 2))
    queue.push(frame("C", 3))
    assert queue.overflowing and queue.conflated == 0
    assert len(queue) == 3


def test_control_frames_are_never_replaced() -> None:
    queue = ConflatingQueue(2)
    push(queue, frame(None, 1))
    push(queue, frame(None, 2))
    third = frame(None, 3)
    _BY_WIRE[third.wire] = third
    queue.push(third)
    assert queue.overflowing
    assert [f.ts_library_out for f in drain(queue)] == [1, 2, 3]


def test_pop_wire_respects_byte_budget_but_returns_at_least_one() -> None:
    queue = ConflatingQueue(10)
    for seq in range(4):
        push(queue, frame("A", seq, pad=100))
    wires, released = queue.pop_wire(1)
    assert len(wires) == 1 and released == len(wires[0])
    wires, _ = queue.pop_wire(200)
    assert len(wires) == 2


def test_capacity_must_be_positive() -> None:
    with pytest.raises(ValueError, match="capacity"):
        ConflatingQueue(0)


def test_unused_and_emptied_queues_hold_no_deque_of_their_own() -> None:
    """Every client has a queue and most never queue a frame: a thousand queues, half of them
    used once and emptied, cost far less than a thousand deques (~760 bytes each, even empty)."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        queues = [ConflatingQueue(8) for _ in range(1000)]
        for queue in queues[:500]:
            queue.push(frame("A", 1))
            assert len(queue.pop_wire(100)[0]) == 1
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert grown < 1000 * 200, f"{grown / 1000:.0f} bytes a queue"
    assert all(len(q) == 0 and q.pop_wire(100) == ([], 0) for q in queues)


ops = st.lists(
    st.one_of(
        st.tuples(st.just("push"), st.sampled_from(["A", "B", "C", "D", None]), st.integers(0, 40)),
        st.tuples(st.just("pop"), st.integers(1, 400), st.just(0)),
    ),
    max_size=200,
)


@settings(max_examples=300, deadline=None)
@given(capacity=st.integers(1, 12), script=ops)
def test_invariants_hold_under_any_sequence(capacity: int, script: list[tuple[str, object, int]]) -> None:
    """Bytes match what is queued; per-symbol order holds; the newest of each symbol survives;
    the queue exceeds its capacity only when a push reported overflow; `conflated` counts
    exactly the frames that never came out."""
    queue = ConflatingQueue(capacity)
    delivered: list[Frame] = []
    newest: dict[str | None, int] = {}
    accounted = 0
    overflowed = False
    seq = 0
    for op, arg, pad in script:
        if op == "push":
            seq += 1
            f = frame(arg if isinstance(arg, str) else None, seq, pad)
            _BY_WIRE[f.wire] = f
            accounted += queue.push(f)
            overflowed = overflowed or queue.overflowing
            newest[f.symbol] = seq
        else:
            assert isinstance(arg, int)
            if len(queue):
                wires, released = queue.pop_wire(arg)
                accounted -= released
                delivered.extend(_decode(w) for w in wires)
        assert accounted == queue.nbytes
        assert len(queue) <= capacity or overflowed
    remaining = drain(queue)
    assert queue.nbytes == 0
    assert ConflatingQueue(capacity).pop_wire(1) == ([], 0)  # the empty deque queues share stayed empty
    everything = delivered + remaining
    per_symbol: dict[str | None, list[int]] = {}
    for f in everything:
        per_symbol.setdefault(f.symbol, []).append(f.ts_library_out)
    for symbol, seqs in per_symbol.items():
        assert seqs == sorted(seqs), f"{symbol} out of order: {seqs}"
        assert seqs[-1] == newest[symbol], f"newest {symbol} lost"
    assert set(per_symbol) == set(newest)
    assert queue.conflated == seq - len(everything)
    controls = sum(1 for op, arg, _ in script if op == "push" and arg is None)
    assert len(per_symbol.get(None, [])) == controls  # control frames are never dropped
