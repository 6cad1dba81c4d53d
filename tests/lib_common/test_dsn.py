"""lib_common.dsn's rules with a stand-in for libpq's parser (the misc and servers jobs run it
with psycopg's own: tests/misc/test_monitor_postgres.py, tests/servers/persistence/test_config.py)."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from lib_common.dsn import dsn_problems


class Unreadable(Exception):
    pass


def failing(message: str) -> object:
    def parse(dsn: str) -> Mapping[str, object]:
        raise Unreadable(message)

    return parse


def parsed(**options: object) -> object:
    return lambda dsn: options


def test_a_well_formed_dsn_has_no_problem() -> None:
    assert dsn_problems("host=db port=5432,6432", parsed(host="db", port="5432,6432"), (Unreadable,)) == []  # type: ignore[arg-type]
    assert dsn_problems("host=db", parsed(host="db", port=""), (Unreadable,)) == []  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("options", "problems"),
    [
        ({"port": "0"}, ["port: expected a number 1-65535, found '0'"]),
        ({"port": "5432,x"}, ["port: expected a number 1-65535, found 'x'"]),
        (
            {"sslmode": "on", "port": "65536"},
            [
                "port: expected a number 1-65535, found '65536'",
                "sslmode: expected one of disable, allow, prefer, require, verify-ca, verify-full, found 'on'",
            ],
        ),
    ],
)
def test_values_libpq_only_refuses_when_connecting(options: dict[str, object], problems: list[str]) -> None:
    assert dsn_problems("host=db", parsed(**options), (Unreadable,)) == problems  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("dsn", "message", "shown"),
    [
        # A password with a space breaks at its second word: libpq quotes that word.
        (
            "host=db password=correct horse",
            'missing "=" after "horse" in connection info string',
            'missing "=" after "***"',
        ),
        (
            "host=db password = 'open",
            "unterminated quoted string in connection info string",
            "unterminated quoted string",
        ),
        # libpq echoes a URI whole: its userinfo password is masked.
        (
            "postgresql://u:s3cret@[::1/db",
            'end of string reached ... in URI: "postgresql://u:s3cret@[::1/db"',
            'in URI: "***"',
        ),
        ("postgresql://u:pa%zz@db/x", 'invalid percent-encoded token: "pa%zz"', 'invalid percent-encoded token: "***"'),
        # Fragments that are no part of a password are kept: they say what is wrong.
        ("host=db hostt=x password=pw123", 'invalid connection option "hostt"', 'invalid connection option "hostt"'),
        ("junk host=db password=pw123", 'missing "=" after "junk" in connection info string', 'after "junk"'),
    ],
)
def test_unreadable_dsns_never_show_the_password(dsn: str, message: str, shown: str) -> None:
    (problem,) = dsn_problems(dsn, failing(message), (Unreadable,))  # type: ignore[arg-type]
    assert problem.startswith("not a libpq connection string or URL: ")
    assert shown in problem
    for secret in ("horse", "open", "s3cret", "pa%zz", "pw123"):
        assert secret not in problem
