"""What a command raises on purpose is an RsdevError (rsdev_cli.errors); `run` reports any of them
as its message on stderr with status 1, and lets other exceptions through."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from json5format import ParseError
from lib_common.errors import ConfigError, RsdevError, SecretError
from rsdev_cli.common import run
from rsdev_cli.errors import CliError


def failing(exc: BaseException) -> int:
    def main(argv: Sequence[str] | None) -> int:
        raise exc

    return run(main, [])


@pytest.mark.parametrize(
    ("exc", "message"),
    [
        (CliError("out.json", "cannot write: Permission denied"), "out.json: cannot write: Permission denied"),
        (ConfigError("opts.json5:1:10", "indent: expected an integer"), "opts.json5:1:10: indent: expected an integer"),
        (SecretError("no master key"), "no master key"),
        (ParseError("expected a value", source="c.json5", line=3, column=6), "c.json5:3:6: expected a value"),
    ],
    ids=["cli", "config", "secret", "parse"],
)
def test_run_reports_a_command_error_with_status_1(
    exc: Exception, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert failing(exc) == 1
    assert capsys.readouterr().err == f"{message}\n"


def test_a_cli_error_is_an_rsdev_error() -> None:
    with pytest.raises(RsdevError, match=r"^f: bad$"):
        raise CliError("f", "bad")


def test_other_exceptions_are_bugs_and_go_through() -> None:
    with pytest.raises(ZeroDivisionError):
        failing(ZeroDivisionError("a bug"))
