"""lib_common.log_text and the log formatters: secrets redacted in every line, text from outside
kept on one line (issue 13 #7, #9)."""

from __future__ import annotations

import io
import json
import logging
from pathlib import Path

import pytest

from lib_common.log_text import escape_controls, is_secret_name, redact
from lib_common.logging import setup_logging


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('127.0.0.1:5 - "WebSocket /ws?token=Gue55" 401', '127.0.0.1:5 - "WebSocket /ws?token=***" 401'),
        ("GET /?symbols=A,B&token=abc&x=1", "GET /?symbols=A,B&token=***&x=1"),
        ("host=db password=s3cr3t dbname=q", "host=db password=*** dbname=q"),
        ("dsn password='two words' x", "dsn password='***' x"),
        ("redis://:pw@127.0.0.1:6379/0", "redis://:***@127.0.0.1:6379/0"),
        ("postgresql://me:pw@db/q", "postgresql://me:***@db/q"),
        ('{"token": "abc", "figures_token": "def"}', '{"token": "***", "figures_token": "***"}'),
        ("Authorization: Bearer abc.def", "Authorization: Bearer ***"),
        ("max_tokens=5 tokenizer: ok http://127.0.0.1:8765/ws", "max_tokens=5 tokenizer: ok http://127.0.0.1:8765/ws"),
    ],
)
def test_redact(text: str, expected: str) -> None:
    assert redact(text) == expected


def test_secret_names() -> None:
    assert all(map(is_secret_name, ["token", "figures_token", "db_password", "api_key", "secret"]))
    assert not any(map(is_secret_name, ["tokens", "symbol", "path", "tokenizer"]))


def test_escape_controls_keeps_text_on_one_line() -> None:
    assert escape_controls("a\nb\rc\x1b[2J\x00\x85\u2028\td") == "a\\nb\\rc\\x1b[2J\\x00\\x85\\u2028\td"
    assert escape_controls("plain é") == "plain é"


def test_human_and_json_lines_are_redacted_and_unforgeable(tmp_path: Path, root_logger: logging.Logger) -> None:
    out = io.StringIO()
    setup_logging(service="svc", level="info", log_dir=tmp_path, stream=out)
    log = logging.getLogger("uvicorn.error")
    forged = "2026-01-01T00:00:00.000+00:00 CRITICAL svc x: forged"
    log.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:1", "/ws?token=GoodTok3n")
    log.info("said: %s", f"hi\n{forged}\u2028", extra={"password": "pw1", "url": "redis://:pw2@h"})
    human = out.getvalue()
    raw = "".join(p.read_text(encoding="utf-8") for p in tmp_path.glob("*.jsonl"))
    for secret in ("GoodTok3n", "pw1", "pw2"):
        assert secret not in human and secret not in raw
    assert len(human.splitlines()) == 2 and len(raw.splitlines()) == 2
    assert f"said: hi\\n{forged}\\u2028 password=*** url=redis://:***@h" in human
    said = json.loads(raw.splitlines()[1])
    assert said["message"] == f"said: hi\n{forged}\u2028" and said["fields"] == {
        "password": "***",
        "url": "redis://:***@h",
    }
