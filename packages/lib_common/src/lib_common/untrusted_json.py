"""JSON from outside the process (sockets, HTTP bodies, upstream services, Redis): one decoder
that fails only one way.

`json.loads` fails three ways on hostile input: ValueError for what is not JSON, RecursionError
for arrays or objects nested past the interpreter's stack (60k levels in one client message
once ended the connection with a 4 KB traceback per message), and not at all for `NaN`,
`Infinity` and numbers like `1e999`, which it turns into floats that JSON cannot carry on
(`json.dumps(..., allow_nan=False)` refuses them later, far from the input). `loads` turns all
of these into `BadJSON`, a ValueError whose `reason` says which.
"""

from __future__ import annotations

import json
import math
from typing import Literal

Reason = Literal["not_json", "too_deep", "not_finite"]


class BadJSON(ValueError):
    def __init__(self, reason: Reason, message: str) -> None:
        super().__init__(message)
        self.reason: Reason = reason


def _constant(name: str) -> object:
    raise BadJSON("not_finite", f"{name} is not a JSON number")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise BadJSON("not_finite", f"{text[:24]} is out of a float's range")
    return value


_STRICT = json.JSONDecoder(parse_constant=_constant, parse_float=_finite)
_FAST = json.JSONDecoder(parse_constant=_constant)


def loads(data: str | bytes | bytearray, *, check_floats: bool = True) -> object:
    """The value of a JSON document, or BadJSON. `check_floats=False` skips the per-float range
    check (a few hundred ns each) for readers that check every number they take anyway."""
    decoder = _STRICT if check_floats else _FAST
    try:
        text = data if isinstance(data, str) else bytes(data).decode("utf-8")
        return decoder.decode(text)
    except BadJSON:
        raise
    except RecursionError:
        raise BadJSON("too_deep", "nested deeper than a JSON document may be here") from None
    except ValueError as exc:  # json.JSONDecodeError, UnicodeDecodeError, int digits over the limit
        raise BadJSON("not_json", f"not JSON: {exc}") from None
