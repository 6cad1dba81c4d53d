"""HTTP health checks: "ok", "degraded" or "failing", and why.

A 2xx answer within the timeout passes. Its body may say more: a JSON object whose `status` is
"degraded" (as rsdev's servers answer while a dependency such as Redis is away, when a restart
would not help) makes the result "degraded": shown by `status`, never a reason to restart.
Anything else (no answer, a timeout, a non-2xx status) is "failing".
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Literal

Health = Literal["ok", "degraded", "failing"]
_MAX_BODY = 64 * 1024


def judge(status: int, body: bytes) -> tuple[Health, str]:
    """The verdict on one answer."""
    if not 200 <= status < 300:
        return "failing", f"HTTP {status}"
    try:
        data = json.loads(body)
    except ValueError:
        return "ok", f"HTTP {status}"
    if isinstance(data, dict) and data.get("status") == "degraded":
        reason = next(
            (str(data[key]) for key in ("reason", "detail", "error", "last_error", "state") if data.get(key)), ""
        )
        return "degraded", f"HTTP {status} degraded" + (f": {reason}" if reason else "")
    return "ok", f"HTTP {status}"


def check(url: str, timeout_s: float) -> tuple[Health, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            return judge(int(response.status), response.read(_MAX_BODY))
    except urllib.error.HTTPError as exc:
        return "failing", f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return "failing", f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
