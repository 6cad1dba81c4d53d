"""HTTP health checks: a 2xx answer within the timeout is healthy; anything else says why not."""

from __future__ import annotations

import urllib.error
import urllib.request


def check(url: str, timeout_s: float) -> tuple[bool, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            status = int(response.status)
    except urllib.error.HTTPError as exc:
        return False, f"HTTP {exc.code}"
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return False, f"{type(reason).__name__}: {reason}" if not isinstance(reason, str) else reason
    if 200 <= status < 300:
        return True, f"HTTP {status}"
    return False, f"HTTP {status}"
