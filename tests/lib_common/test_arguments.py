from __future__ import annotations

import math
from collections.abc import Callable

import pytest

from lib_common.arguments import at_least, non_negative, positive
from lib_common.ingestors.yahoo.shards import ShardPlan
from lib_common.ky_http import KyHttp


@pytest.mark.parametrize(
    ("check", "message"),
    [
        (lambda: positive("rate", 0), "rate must be positive, got 0"),
        (lambda: positive("rate", math.nan), "rate must be positive, got nan"),
        (lambda: non_negative("linger_s", -0.5), "linger_s must not be negative, got -0.5"),
        (lambda: at_least("capacity", 0, 1), "capacity must be at least 1, got 0"),
    ],
)
def test_a_value_out_of_range_is_refused_naming_the_argument_and_the_value(
    check: Callable[[], None], message: str
) -> None:
    with pytest.raises(ValueError, match="must") as caught:
        check()
    assert str(caught.value) == message


def test_values_in_range_pass() -> None:
    positive("rate", 1e-9)
    non_negative("linger_s", 0)
    at_least("capacity", 1, 1)


def test_constructors_refuse_at_once() -> None:
    with pytest.raises(ValueError, match=r"^retries must not be negative, got -1$"):
        KyHttp(retries=-1)
    with pytest.raises(ValueError, match=r"^per_connection must be at least 1, got 0$"):
        ShardPlan(per_connection=0)
