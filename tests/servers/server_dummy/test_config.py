"""server_dummy's config: file, then RSDEV__ variables, then flags; every problem at once."""

from __future__ import annotations

from pathlib import Path

from servers.server_dummy.__main__ import COMMAND
from servers.server_dummy.config import DummyConfig
from tests.bad_config import config_problems


def resolve(argv: list[str], env: dict[str, str]) -> DummyConfig:
    return COMMAND.resolve(COMMAND.build_parser().parse_args(argv), env)


def test_listen_port_from_the_environment() -> None:
    config = resolve([], {"RSDEV__LISTEN__PORT": "9300", "RSDEV__UNKNOWN_SYMBOLS": "gone,old"})
    assert (config.host, config.port, config.unknown_symbols) == ("127.0.0.1", 9300, frozenset({"GONE", "OLD"}))


def test_flags_beat_environment_beats_file(tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{listen: {port: 1000}, rate: 3, seed: 1}")
    argv = ["--config", str(path)]
    env = {"RSDEV__LISTEN__PORT": "2000", "RSDEV__RATE": "4"}
    assert (resolve(argv, {}).port, resolve(argv, {}).rate) == (1000, 3.0)
    assert (resolve(argv, env).port, resolve(argv, env).rate, resolve(argv, env).seed) == (2000, 4.0, 1)
    with_flags = resolve([*argv, "--port", "3000", "--rate", "5"], env)
    assert (with_flags.port, with_flags.rate) == (3000, 5.0)


def test_the_process_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    config = "{\n  rate: 'fast',\n  max_symbols: 0,\n  listen: {prot: 1},\n}"
    path, problems = config_problems(
        tmp_path, "servers.server_dummy", config, "--port", "70000", env={"RSDEV__SEED": "1.5"}
    )
    assert problems == [
        f"{path}:4:18: listen.prot: unknown key; expected one of host, port",
        "--port: must be at most 65535, found 70000",
        f"{path}:2:9: rate: expected a number, found the string 'fast'",
        f"{path}:3:16: max_symbols: must be at least 1, found 0",
        "RSDEV__SEED: expected an integer, found the number 1.5",
    ]
