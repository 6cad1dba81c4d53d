"""Every monitor reads its config the one way: file, then RSDEV__ variables, then flags; all problems at once."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import pytest

from rsdev_misc import monitor_net, monitor_postgres, monitor_redis
from tests.misc.conftest import run_monitor

MONITORS = [monitor_net, monitor_postgres, monitor_redis]
# Each monitor's own setting: (config key, environment variable, flag, three values).
OWN: dict[str, tuple[str, str, str, tuple[str, str, str]]] = {
    "monitor_net": ("targets", "RSDEV__TARGETS", "--target", ("a:1", "b:2", "c:3")),
    "monitor_postgres": ("dsn", "RSDEV__DSN", "--dsn", ("postgresql://a/x", "postgresql://b/x", "postgresql://c/x")),
    "monitor_redis": ("url", "RSDEV__URL", "--url", ("redis://a:1/0", "redis://b:2/0", "redis://c:3/0")),
}


def resolve(module: ModuleType, argv: list[str], env: dict[str, str]) -> object:
    monitor = module.MONITOR
    config: object = monitor.resolve(monitor.build_parser().parse_args(argv), env)
    return config


def own(module: ModuleType, config: object) -> str:
    key = OWN[module.PROG][0]
    value = getattr(config, key)
    return str(value[0]) if key == "targets" else str(value)


@pytest.mark.parametrize("module", MONITORS, ids=lambda m: m.PROG)
def test_health_port_from_the_environment(module: ModuleType) -> None:
    config = resolve(module, [], {"RSDEV__HEALTH__PORT": "9413", "RSDEV__LOG_LEVEL": "debug"})
    schedule = config.schedule  # type: ignore[attr-defined]
    assert (schedule.health.port, schedule.health.host, schedule.log_level) == (9413, "127.0.0.1", "debug")
    assert schedule.interval_s == module.SCHEDULE.interval_s  # the monitor's own default


@pytest.mark.parametrize("module", MONITORS, ids=lambda m: m.PROG)
def test_log_dir_and_alerts_as_every_program_reads_them(module: ModuleType, tmp_path: Path) -> None:
    env = {"RSDEV__ALERTS__SPEAK_URL": "http://127.0.0.1:8774/speak", "RSDEV__ALERTS__MIN_INTERVAL_S": "5"}
    argv = ["--webhook-url", "https://hooks.example/rsdev", "--log-dir", str(tmp_path)]
    schedule = resolve(module, argv, env).schedule  # type: ignore[attr-defined]
    assert schedule.log_dir == tmp_path
    assert (schedule.alerts.speak_url, schedule.alerts.webhook_url, schedule.alerts.min_interval_s) == (
        "http://127.0.0.1:8774/speak",
        "https://hooks.example/rsdev",
        5.0,
    )


@pytest.mark.parametrize("module", MONITORS, ids=lambda m: m.PROG)
def test_flags_beat_environment_beats_file(module: ModuleType, tmp_path: Path) -> None:
    key, variable, flag, (in_file, in_env, in_flag) = OWN[module.PROG]
    path = tmp_path / "c.json5"
    value = f'["{in_file}"]' if key == "targets" else f'"{in_file}"'
    path.write_text(f"{{{key}: {value}, health: {{port: 1000}}, interval_s: 7}}")

    def read(argv: list[str], env: dict[str, str]) -> tuple[str, int | None, float]:
        config = resolve(module, ["--config", str(path), *argv], env)
        schedule = config.schedule  # type: ignore[attr-defined]
        return own(module, config), schedule.health.port, schedule.interval_s

    assert read([], {}) == (in_file, 1000, 7)
    env = {variable: in_env, "RSDEV__HEALTH__PORT": "2000", "RSDEV__INTERVAL_S": "8"}
    assert read([], env) == (in_env, 2000, 8)
    assert read([flag, in_flag, "--port", "3000", "--interval", "9"], env) == (in_flag, 3000, 9)


# Bad configs as a monitor process sees them: (monitor, config file, environment, flags, every
# problem in the order it prints them; {path} is the file's). Exit 2, nothing on stdout.
SCHEDULE_PROBLEMS = (
    "{\n  interval_s: 0,\n  health: {port: 'x'},\n  colour: 1,\n}",
    {"RSDEV__TIMEOUT_S": "soon"},
    ["--port", "70000"],  # the flag's value, not the file's, is the one at fault
)
SCHEDULE_LINES = [
    "{path}:2:15: interval_s: must be at least 0.01, found 0.0",
    "RSDEV__TIMEOUT_S: expected a number, found the string 'soon'",
    "--port: must be at most 65535, found 70000",
]
BAD_CONFIGS = [
    pytest.param(
        monitor_net,
        *SCHEDULE_PROBLEMS,
        [
            "{path}:4:11: colour: unknown key; expected one of targets, window, fail_after, recover_after, "
            "alert, throughput, interval_s, timeout_s, health, log_level, log_dir, alerts",
            *SCHEDULE_LINES,
        ],
        id="monitor_net-schedule",
    ),
    pytest.param(
        monitor_postgres,
        *SCHEDULE_PROBLEMS,
        [
            "{path}:4:11: colour: unknown key; expected one of dsn, sslmode, sslrootcert, heartbeat_table, name, "
            "interval_s, timeout_s, health, log_level, log_dir, alerts",
            *SCHEDULE_LINES,
        ],
        id="monitor_postgres-schedule",
    ),
    pytest.param(
        monitor_redis,
        *SCHEDULE_PROBLEMS,
        [
            "{path}:4:11: colour: unknown key; expected one of url, heartbeat_key, heartbeat_ttl_s, "
            "interval_s, timeout_s, health, log_level, log_dir, alerts",
            *SCHEDULE_LINES,
        ],
        id="monitor_redis-schedule",
    ),
    pytest.param(
        monitor_net,
        "{\n  targets: ['nohost'],\n  window: 0,\n  alert: {enabled: 'yes'},\n}",
        {"RSDEV__HEALTH__PORT": "-1", "RSDEV__FAIL_AFTER": "0"},
        [],
        [
            "{path}:2:12: targets: expected host:port, found 'nohost'",
            "{path}:3:11: window: must be at least 1, found 0",
            "RSDEV__FAIL_AFTER: must be at least 1, found 0",
            "{path}:4:20: alert.enabled: expected true or false, found the string 'yes'",
            "RSDEV__HEALTH__PORT: must be at least 0, found -1",
        ],
        id="monitor_net-own",
    ),
]


@pytest.mark.parametrize(("module", "text", "env", "flags", "problems"), BAD_CONFIGS)
def test_a_monitor_prints_every_problem_and_exits_2(
    module: ModuleType, text: str, env: dict[str, str], flags: list[str], problems: list[str], tmp_path: Path
) -> None:
    path = tmp_path / "c.json5"
    path.write_text(text)
    done = run_monitor(module.__name__, "--once", "--config", str(path), *flags, env=env)
    assert done.returncode == 2
    prefix = f"{module.PROG}: config error: "
    assert done.stderr.splitlines() == [prefix + line.format(path=path) for line in problems]
    assert done.stdout == ""
