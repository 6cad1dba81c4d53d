"""Text made safe for a log line: secrets redacted, control characters escaped.

`redact(text)` replaces what looks like a credential with `***`, whoever wrote the line (our
code, uvicorn's `"WebSocket /ws?token=..."` lines, a library's exception text):

- a parameter or key named like a secret (`token`, `access_token`, `figures_token`, `password`,
  `passwd`, `pwd`, `secret`, `api_key`, ...) followed by `=` or `:`, as in `?token=abc`,
  `password=abc` (a libpq DSN), `"token": "abc"`, `token: abc`;
- the password of a URL's userinfo (`redis://:pw@host`, `postgresql://user:pw@host/db`);
- the credentials after `Bearer` or `Basic`.

It works on the shape, not on known values, so a failed guess is redacted as well as a good
token. `escape_controls(text)` writes line breaks, other C0/C1 control characters, DEL and the
Unicode line and paragraph separators as `\\n`, `\\r`, `\\xNN`, `\\u2028`: text from outside
(a client's message, the text to speak) cannot start a forged log line or drive a terminal.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "escape_controls", "is_secret_name", "redact", "safe_text"]

MASK = "***"

_SECRET_NAME = r"[A-Za-z0-9_.-]*?(?:token|password|passwd|pwd|secret|api[_-]?key|apikey)"
_SECRET_NAME_RE = re.compile(rf"(?i){_SECRET_NAME}")

# name, an optional closing quote and the separator, then the value: quoted, or up to a delimiter.
_NAMED = re.compile(
    rf"""(?ix)
    (?<![A-Za-z0-9])({_SECRET_NAME})
    (["']?\s*[=:]\s*)
    ("[^"]*"|'[^']*'|[^\s&#,;"'}}\]]+)
    """
)
_USERINFO = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/@:]*:)[^\s@/]+@")
_SCHEME = re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+")

_CONTROL = re.compile("[\x00-\x08\x0a-\x1f\x7f-\x9f\u2028\u2029]")
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r"}


def _mask_value(match: re.Match[str]) -> str:
    value = match.group(3)
    quote = value[0] if value[:1] in ('"', "'") else ""
    return f"{match.group(1)}{match.group(2)}{quote}{MASK}{quote}"


def redact(text: str) -> str:
    """`text` with every credential-shaped part replaced by `***`."""
    text = _NAMED.sub(_mask_value, text)
    text = _USERINFO.sub(rf"\1{MASK}@", text)
    return _SCHEME.sub(rf"\1 {MASK}", text)


def is_secret_name(name: str) -> bool:
    """Whether a field or key named `name` holds a secret (`token`, `db_password`, ...)."""
    return _SECRET_NAME_RE.fullmatch(name) is not None


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    named = _NAMED_ESCAPES.get(char)
    if named is not None:
        return named
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` on one line: control characters (tab aside) written as escapes."""
    if _CONTROL.search(text) is None:
        return text
    return _CONTROL.sub(_escape, text)


def safe_text(text: str) -> str:
    """`text` redacted and on one line: what a human log line may carry."""
    return escape_controls(redact(text))
