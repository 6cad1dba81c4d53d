"""A PostgreSQL DSN checked when the config is read, so a malformed one is a config error (exit 2)
and not a connection that fails forever in a reconnect loop.

`dsn_problems(dsn, parse, errors)` takes libpq's own parser from the caller (psycopg's
`conninfo_to_dict`, which raises `psycopg.ProgrammingError`): lib_common itself does not depend
on psycopg, and libpq stays the one judge of the syntax. On top of it, values that libpq only
rejects when connecting: a port that is no number in 1-65535, an unknown sslmode.

No message carries the password. libpq quotes fragments of what it could not read, and a fragment
can be part of a password (`password=two words` fails at `words`): those fragments are masked,
and the whole text goes through log_text.redact (a URL's userinfo, `password=...`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from lib_common.log_text import MASK, redact

__all__ = ["SSLMODES", "dsn_problems"]

SSLMODES = ("disable", "allow", "prefer", "require", "verify-ca", "verify-full")

Parse = Callable[[str], Mapping[str, object]]

_QUOTED = re.compile(r'"([^"]*)"')
# From a password's `=` to the next `key=` (a password's value, quoted or not, broken or not).
_PASSWORD_VALUE = re.compile(r"(?i)\bpassword\s*=\s*(.*?)(?=\s+[A-Za-z_]+\s*=|\Z)", re.S)
_URL_PASSWORD = re.compile(r"(?i)^[a-z][a-z0-9+.-]*://[^/@:]*:([^@/]*)@")


def _secret_spans(dsn: str) -> list[str]:
    spans = [m.group(1) for m in _PASSWORD_VALUE.finditer(dsn)]
    url = _URL_PASSWORD.match(dsn)
    if url is not None:
        spans.append(url.group(1))
    return [span for span in spans if span]


def _safe_message(message: str, dsn: str) -> str:
    secrets = _secret_spans(dsn)

    def mask(match: re.Match[str]) -> str:
        fragment = match.group(1)
        if fragment == "=":
            return match.group(0)  # libpq's `missing "=" after ...`: the syntax, not a value
        touches = any(fragment in secret or secret in fragment for secret in secrets)
        return f'"{MASK}"' if fragment and touches else match.group(0)

    first = message.strip().splitlines()[0] if message.strip() else "unreadable"
    return redact(_QUOTED.sub(mask, first))


def _ports(value: object) -> list[str]:
    return [part.strip() for part in str(value).split(",")]


def dsn_problems(dsn: str, parse: Parse, errors: tuple[type[Exception], ...]) -> list[str]:
    """What is wrong with `dsn` as a libpq connection string or URL, one message each (none: fine)."""
    try:
        options = parse(dsn)
    except errors as exc:
        return [f"not a libpq connection string or URL: {_safe_message(str(exc), dsn)}"]
    problems: list[str] = []
    port = options.get("port")
    if port not in (None, ""):
        for part in _ports(port):
            if part and not (part.isdigit() and 1 <= int(part) <= 65535):
                problems.append(f"port: expected a number 1-65535, found {part!r}")
    sslmode = options.get("sslmode")
    if sslmode is not None and sslmode not in SSLMODES:
        problems.append(f"sslmode: expected one of {', '.join(SSLMODES)}, found {sslmode!r}")
    return problems
