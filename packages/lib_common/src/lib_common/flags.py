"""What every rsdev program's command line shares: flag types, the log levels, flags as config
paths, and exiting on a config error.

    FLAGS = {"--host": "listen.host", "--port": "listen.port", "--log-level": "log_level"}
    config = load_or_exit(PROG, lambda: read_config(args.config, from_section, flags=config_flags(args, FLAGS)))
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

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
