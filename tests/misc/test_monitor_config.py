"""Every monitor reads its config the one way: file, then RSDEV__ variables, then flags; all problems at once."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from types import ModuleType

import pytest

from lib_common.errors import ConfigErrors
from rsdev_misc import monitor_net, monitor_postgres, monitor_redis

MONITORS = [monitor_net, monitor_postgres, monitor_redis]
# Each monitor's own setting: (config key, environment variable, flag, three values).
OWN: dict[str, tuple[str, str, str, tuple[str, str, str]]] = {
    "monitor_net": ("targets", "RSDEV__TARGETS", "--target", ("a:1", "b:2", "c:3")),
    "monitor_postgres": ("dsn", "RSDEV__DSN", "--dsn", ("postgresql://a/x", "postgresql://b/x", "postgresql://c/x")),
    "monitor_redis": ("url", "RSDEV__URL", "--url", ("redis://a:1/0", "redis://b:2/0", "redis://c:3/0")),
}


def resolve(module: ModuleType, argv: list[str], env: Mapping[str, str]) -> object:
    args: argparse.Namespace = module.build_parser().parse_args(argv)
    resolve: Callable[[argparse.Namespace, Mapping[str, str]], object] = module.resolve
    return resolve(args, env)


def own(module: ModuleType, config: object) -> str:
    key = OWN[module.PROG][0]
    value = getattr(config, key)
    return str(value[0]) if key == "targets" else str(value)


@pytest.mark.parametrize("module", MONITORS, ids=lambda m: m.PROG)
def test_health_port_from_the_environment(module: ModuleType) -> None:
    config = resolve(module, [], {"RSDEV__HEALTH__PORT": "9413", "RSDEV__LOG_LEVEL": "debug"})
    assert (config.health.port, config.health.host, config.log_level) == (9413, "127.0.0.1", "debug")  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", MONITORS, ids=lambda m: m.PROG)
def test_flags_beat_environment_beats_file(module: ModuleType, tmp_path: Path) -> None:
    key, variable, flag, (in_file, in_env, in_flag) = OWN[module.PROG]
    path = tmp_path / "c.json5"
    value = f'["{in_file}"]' if key == "targets" else f'"{in_file}"'
    path.write_text(f"{{{key}: {value}, health: {{port: 1000}}, interval_s: 7}}")
    file_only = resolve(module, ["--config", str(path)], {})
    assert (own(module, file_only), file_only.health.port, file_only.interval_s) == (in_file, 1000, 7)  # type: ignore[attr-defined]
    env = {variable: in_env, "RSDEV__HEALTH__PORT": "2000", "RSDEV__INTERVAL_S": "8"}
    with_env = resolve(module, ["--config", str(path)], env)
    assert (own(module, with_env), with_env.health.port, with_env.interval_s) == (in_env, 2000, 8)  # type: ignore[attr-defined]
    argv = ["--config", str(path), flag, in_flag, "--port", "3000", "--interval", "9"]
    with_flags = resolve(module, argv, env)
    assert (own(module, with_flags), with_flags.health.port, with_flags.interval_s) == (in_flag, 3000, 9)  # type: ignore[attr-defined]


@pytest.mark.parametrize("module", MONITORS, ids=lambda m: m.PROG)
def test_several_problems_are_reported_at_once(module: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "c.json5"
    path.write_text("{\n  interval_s: 0,\n  health: {port: 'x'},\n  colour: 1,\n}")
    with pytest.raises(ConfigErrors) as info:
        resolve(module, ["--config", str(path), "--port", "70000"], {"RSDEV__TIMEOUT_S": "soon"})
    lines = str(info.value).splitlines()
    assert len(lines) == 4, lines
    assert lines[0].startswith(f"{path}:4:11: colour: unknown key; expected one of ")
    assert f"{path}:2:15: interval_s: must be at least 0.01, found 0.0" in lines
    assert "RSDEV__TIMEOUT_S: expected a number, found the string 'soon'" in lines
    assert "--port: must be at most 65535, found 70000" in lines  # the flag's value, not the file's


def test_a_monitor_process_prints_every_problem_and_exits_2(tmp_path: Path) -> None:
    path = tmp_path / "net.json5"
    path.write_text("{\n  targets: ['nohost'],\n  window: 0,\n  alert: {enabled: 'yes'},\n}")
    env = {**os.environ, "RSDEV__HEALTH__PORT": "-1", "RSDEV__FAIL_AFTER": "0"}
    done = subprocess.run(
        [sys.executable, "-m", "rsdev_misc.monitor_net", "--once", "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"monitor_net: config error: {path}:2:12: targets: expected host:port, found 'nohost'",
        f"monitor_net: config error: {path}:3:11: window: must be at least 1, found 0",
        "monitor_net: config error: RSDEV__FAIL_AFTER: must be at least 1, found 0",
        f"monitor_net: config error: {path}:4:20: alert.enabled: expected true or false, found the string 'yes'",
        "monitor_net: config error: RSDEV__HEALTH__PORT: must be at least 0, found -1",
    ]
    assert done.stdout == ""
