"""What every rsdev program's command line shares: flag types, the log levels, flags declared
once as `Option`s (each a flag and the config path it sets), and exiting on a config error.

    OPTIONS = (Option("--port", "listen.port", "port to listen on", type=int), *PROGRAM_OPTIONS)
    parser = argparse.ArgumentParser(prog=PROG)
    add_options(parser, OPTIONS)
    args = parser.parse_args()
    config = load_or_exit(PROG, lambda: read_config(args.config, from_section, flags=option_flags(args, OPTIONS)))
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from lib_common.config import Flag, Section
from lib_common.errors import ConfigError, ConfigErrors

LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
LOG_DIR_HELP = "also write JSON-line logs here (SERVICE.YYYY-MM-DD.jsonl, a new file at New York midnight)"
EXIT_CONFIG = 2  # a usage or configuration error, as argparse exits

T = TypeVar("T")


def _float(text: str, accept: Callable[[float], bool], rule: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, found {text!r}") from None
    if not accept(value):  # NaN is accepted by neither
        raise argparse.ArgumentTypeError(f"{rule}, found {text}")
    return value


def positive_float(text: str) -> float:
    return _float(text, lambda value: value > 0, "must be positive")


def non_negative_float(text: str) -> float:
    return _float(text, lambda value: value >= 0, "must be 0 or more")


@dataclass(frozen=True, slots=True)
class Option:
    """One command-line flag, declared once: its name, the config path(s) its value sets
    (docs/config.md: flags override the file and the environment), its help and how argparse
    reads it. `kind` "store" takes a value (`type`, `choices`, `metavar`), "append" one value
    each time it is given, "on" is a switch that sets True. A flag not given is None, so it
    leaves the config's value alone."""

    name: str
    paths: str | tuple[str, ...]
    help: str
    type: Callable[[str], Any] = str
    choices: Sequence[str] | None = None
    metavar: str | None = None
    kind: Literal["store", "append", "on"] = "store"

    def add_to(self, parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
        if self.kind == "on":
            parser.add_argument(self.name, action="store_const", const=True, help=self.help)
            return
        parser.add_argument(
            self.name, action=self.kind, type=self.type, choices=self.choices, metavar=self.metavar, help=self.help
        )


def add_options(parser: argparse.ArgumentParser, options: Iterable[Option]) -> None:
    for option in options:
        option.add_to(parser)


def option_flags(args: argparse.Namespace, options: Iterable[Option]) -> dict[str, Flag]:
    """The `read_config` flags of parsed arguments, in the order of `options` (a later one
    may depend on an earlier: `publish?.redis_url` only where --publish turned publishing on)."""
    return config_flags(args, {option.name: option.paths for option in options})


def read_log_level(root: Section) -> str:
    """The `log_level` key every program's config has (default info)."""
    level = root.optional_str("log_level") or "info"
    if level not in LOG_LEVELS:
        root.problem("log_level", f"expected one of {', '.join(LOG_LEVELS)}, found {level!r}")
        return "info"
    return level


def read_log_dir(root: Section) -> Path | None:
    """The `log_dir` key every program's config has (`--log-dir`): where JSON-line logs go,
    rotated at New York midnight (None: stderr only)."""
    text = root.optional_str("log_dir")
    return Path(text) if text else None


def config_flags(args: argparse.Namespace, paths: Mapping[str, str | Sequence[str]]) -> dict[str, Flag]:
    """The `read_config` flags of parsed arguments: `{"--port": "listen.port"}` maps the flag
    (its value is `args.port`, None when not given) to the config path(s) it sets."""
    out: dict[str, Flag] = {}
    for name, targets in paths.items():
        value = getattr(args, name.lstrip("-").replace("-", "_"))
        for path in [targets] if isinstance(targets, str) else targets:
            out[path] = Flag(name, value)
    return out


def load_or_exit(prog: str, load: Callable[[], T]) -> T:
    """`load()`; on a ConfigError print `PROG: config error: ...`, every problem on its own
    line, and exit 2."""
    try:
        return load()
    except ConfigError as exc:
        problems = exc.problems if isinstance(exc, ConfigErrors) else [exc]
        for problem in problems:
            print(f"{prog}: config error: {problem}", file=sys.stderr)
        raise SystemExit(EXIT_CONFIG) from None
