"""Checking a URL taken from a config, a flag or a request before anything connects to it.

`url_problem(url, schemes, expected)` says what is wrong, or None: a scheme not among
`schemes`, no host, or what urllib itself refuses (an unclosed '[' is "Invalid IPv6 URL", a
port past 65535 "Port out of range"), which would otherwise surface as a ValueError at the
first connect instead of as a config error. At most 200 characters of the URL are quoted.
"""

from __future__ import annotations

from urllib.parse import urlsplit

HTTP = ("http", "https")
WS = ("ws", "wss")


def url_problem(url: str, schemes: tuple[str, ...], expected: str) -> str | None:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018  (raises on a port that is not one)
    except ValueError as exc:
        return f"expected {expected}, found {url[:200]!r} ({exc})"
    if parts.scheme not in schemes or not parts.hostname:
        return f"expected {expected}, found {url[:200]!r}"
    return None
