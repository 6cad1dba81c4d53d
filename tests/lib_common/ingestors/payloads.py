"""What the pollers' tests feed the parsers: recorded bodies, edited copies of them, any JSON."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


def recorded(name: str) -> dict[str, Any]:
    """A recorded body from tests/lib_common/fixtures."""
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return body


def edited(body: dict[str, Any], at: tuple[str | int, ...], fields: dict[str, object]) -> dict[str, Any]:
    """A deep copy of `body` with some fields of the object at the path `at` replaced (None
    removes the field)."""
    copied = copy.deepcopy(body)
    target = copied
    for step in at:
        target = target[step]  # type: ignore[index]
    for key, value in fields.items():
        if value is None:
            target.pop(key, None)
        else:
            target[key] = value
    return copied
