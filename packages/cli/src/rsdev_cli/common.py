"""What every command shares: reading FILE or `-`, writing text, and exit statuses.

Exit status: 0 done, 1 bad input or a failed check (message `file:line:col: message` on
stderr), 2 bad usage (argparse, or a UsageError such as an existing output without --force).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from json5format import ParseError
from rsdev_cli.errors import CliError, RsdevError, UsageError

STDIN = "-"


def label(name: str) -> str:
    return "<stdin>" if name == STDIN else name


def read_text(name: str) -> str:
    """The UTF-8 text of a file argument, or of stdin for `-`."""
    try:
        data = sys.stdin.buffer.read() if name == STDIN else Path(name).read_bytes()
    except OSError as exc:
        raise CliError(label(name), f"cannot read: {exc.strerror or exc}") from None
    try:
        return data.decode("utf-8-sig") if data.startswith(b"\xef\xbb\xbf") else data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(label(name), f"not UTF-8 text: {exc.reason} at byte {exc.start}") from None


def write_file(path: str | Path, text: str) -> None:
    try:
        Path(path).write_bytes(text.encode("utf-8"))
    except OSError as exc:
        raise CliError(str(path), f"cannot write: {exc.strerror or exc}") from None


def write_stdout(text: str) -> None:
    sys.stdout.buffer.write(text.encode("utf-8"))
    sys.stdout.buffer.flush()


def emit(text: str, output: str | None) -> None:
    """Write a command's result to the file `output` names, or to stdout."""
    if output:
        write_file(output, text)
    else:
        write_stdout(text)


def convert_file(name: str, output: str | None, convert: Callable[[str, str], str]) -> int:
    """A converter command's work: the text of FILE (or stdin for `-`), `convert(text, source)`
    with `source` naming it in errors, written to the file `output` names or to stdout."""
    emit(convert(read_text(name), label(name)), output)
    return 0


def error(message: object) -> None:
    print(message, file=sys.stderr)


def run(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Call a command's main, turning the errors it expects (rsdev_cli.errors) into a message and
    status 1 (2 for a UsageError)."""
    try:
        return main(argv)
    except UsageError as exc:
        error(exc)
        return 2
    except (RsdevError, ParseError) as exc:
        error(exc)
        return 1
    except BrokenPipeError:
        # `cmd | head`: the reader left; say nothing more.
        sys.stderr.close()
        return 1
    except KeyboardInterrupt:
        return 130
