"""Services files: what is accepted, and errors with file:line:col, JSON path and reason."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

import json5format
from pmdaemon.errors import ConfigError
from pmdaemon.services import load_services, parse_services

STATE = Path("/state")


def parse(text: str, base: Path = Path("/")) -> object:
    return parse_services(text, source=Path("svc.json5"), base_dir=base, state_dir=STATE)


def error(text: str) -> str:
    with pytest.raises(ConfigError) as info:
        parse(text)
    return str(info.value)


def test_minimal_service_gets_defaults() -> None:
    services = parse_services(
        '{services: [{name: "web", command: "python -m http.server \'8000\'"}]}',
        source=Path("svc.json5"),
        base_dir=Path("/"),
        state_dir=STATE,
    )
    (web,) = services.services
    assert web.argv == ("python", "-m", "http.server", "8000")
    assert web.autorestart is True and web.stop_signal == "TERM" and web.start_retries == 3
    # One log per service, stderr merged into it, unless stderr is given a file of its own.
    assert web.stdout.file == STATE / "logs/web.log" and web.stderr is None and web.logs == (web.stdout,)
    assert web.health is None and web.memory_limit_mb is None and web.restart_at == ()
    assert services.poll_s == 1.0


def test_full_service(tmp_path: Path) -> None:
    text = """{
      watch: { poll_s: 0.5 },
      services: [{
        name: "api", command: ["srv", "--x"], args: ["--port", "1"], env: { A: "1", B: 2 }, cwd: ".",
        autorestart: "unexpected", exit_codes: [0, 2], start_retries: 5, start_secs: 2, stop_signal: "sigint",
        stop_wait_s: 3, stdout: { file: "logs/api.log", max_mb: 1, backups: 2 },
        memory_limit_mb: 512, health: { url: "http://127.0.0.1:1/health", failures: 2 },
        restart_at: ["08:55", "16:05:30"], backoff: { initial_s: 1, factor: 3, max_s: 9 },
      }],
    }"""
    services = parse_services(text, source=tmp_path / "s.json5", base_dir=tmp_path, state_dir=STATE)
    (api,) = services.services
    assert api.argv == ("srv", "--x", "--port", "1")
    assert api.env == {"A": "1", "B": "2"} and api.cwd == tmp_path.resolve()
    assert api.autorestart == "unexpected" and api.exit_codes == (0, 2) and api.stop_signal == "INT"
    assert api.stdout.file == tmp_path / "logs/api.log" and api.stdout.max_mb == 1 and api.stdout.backups == 2
    assert api.health is not None and api.health.failures == 2 and api.health.interval_s == 10
    assert api.restart_at == (dt.time(8, 55), dt.time(16, 5, 30))
    assert [api.backoff.delay(n) for n in range(4)] == [1, 3, 9, 9]
    assert services.poll_s == 0.5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{services: [}", "svc.json5:1:13: expected an array item or ']', found '}'"),
        ("{}", "svc.json5:1:1: (document): missing required key 'services'"),
        ("{services: {}}", "svc.json5:1:12: services: expected a list of services, found an object"),
        (
            '{services: [{name: "a", command: "x", autorestar: true}]}',
            "svc.json5:1:39: services[0].autorestar: unknown key 'autorestar'; expected one of: name, port, command,",
        ),
        ('{services: [{name: "a"}]}', "svc.json5:1:13: services[0]: missing required key 'command'"),
        ('{services: [{name: "a b", command: "x"}]}', "svc.json5:1:20: services[0].name: expected letters"),
        ('{services: [{name: "a", command: ""}]}', "svc.json5:1:34: services[0].command: expected a command"),
        ('{services: [{name: "a", command: "x \'y"}]}', "services[0].command: cannot split the command like a shell"),
        (
            '{services: [{name: "a", command: ["x", 1]}]}',
            "svc.json5:1:40: services[0].command[1]: expected a non-empty",
        ),
        (
            '{services: [{name: "a", command: "x"}, {name: "a", command: "y"}]}',
            "svc.json5:1:47: services[1].name: duplicate service name 'a'",
        ),
        (
            '{services: [{name: "a", command: "x",\n  health: {url: "ftp://h"}}]}',
            "svc.json5:2:17: services[0].health.url: expected an http:// or https:// URL, found 'ftp://h'",
        ),
        (
            '{services: [{name: "a", command: "x",\n  health: {url: "http://h", failures: 0}}]}',
            "svc.json5:2:39: services[0].health.failures: expected an integer >= 1, found 0",
        ),
        (
            '{services: [{name: "a", command: "x", restart_at: ["8:55"]}]}',
            'svc.json5:1:52: services[0].restart_at[0]: expected a time "HH:MM" or "HH:MM:SS" (New York)',
        ),
        (
            '{services: [{name: "a", command: "x", stop_signal: "STOP"}]}',
            "services[0].stop_signal: expected one of TERM, INT, QUIT, KILL, HUP, USR1, USR2, found 'STOP'",
        ),
        (
            '{services: [{name: "a", command: "x", env: {"1A": "x"}}]}',
            "svc.json5:1:45: services[0].env.1A: expected an environment variable name",
        ),
        ('{services: [{name: "a", command: "x", env: {A: "it\'s \\"q\\""}}]}', "cannot start or end with a quote"),
        ('{services: [{name: "a", command: ["x", "a\\nb"]}]}', "services[0].command[1]: a command argument must not"),
        ('{services: [{name: "a", command: "x", cwd: "/nonexistent/dir"}]}', "services[0].cwd: expected an existing"),
        (
            '{services: [{name: "a", command: "x", backoff: {initial_s: 10, max_s: 5}}]}',
            "services[0].backoff.max_s: expected max_s >= initial_s (10), found 5",
        ),
        ('{services: [{name: "a", command: "x", start_retries: true}]}', "expected an integer >= 0, found true"),
        ("{services: [], services: []}", "svc.json5:1:16: duplicate key 'services'"),
        (
            '{vars: {a: 1},\n services: [{name: "a", command: "x ${b}"}]}',
            "svc.json5:2:34: services[0].command: unknown variable ${b}; known: a, state_dir",
        ),
        (
            '{services: [{name: "a", port: 8000, command: "x"}, {name: "b", port: 8000, command: "y"}]}',
            "svc.json5:1:70: services[1].port: port 8000 is already a's",
        ),
        (
            '{services: [{name: "a", port: 70000, command: "x"}]}',
            "services[0].port: expected a TCP port 1..65535, found 70000",
        ),
        (
            '{services: [{name: "a", command: "x", health: {}}]}',
            "services[0].health: missing required key 'url' (it defaults",
        ),
        ("{vars: {port: 1}, services: []}", "svc.json5:1:9: vars.port: expected a variable name"),
        (
            '{services: [{name: "a", command: "x", restart_at: {at: ["08:55"], days: "weekdays"}}]}',
            "services[0].restart_at.days: expected one of every_day, trading_days, full_trading_days",
        ),
    ],
)
def test_errors_name_position_path_and_reason(text: str, message: str) -> None:
    assert message in error(text)


def test_variables_and_ports_are_written_once() -> None:
    text = """{
      vars: { redis: "redis://127.0.0.1:6379/0", py: "/usr/bin/python3" },
      services: [
        { name: "up", port: 8770, command: "${py} -m up --port ${port}", health: { interval_s: 5 } },
        { name: "down", port: 8765, command: ["${py}", "--upstream", "ws://127.0.0.1:${ports.up}/", "--redis=${redis}"],
          env: { DATA: "${state_dir}/data", LITERAL: "$${not_a_variable}" },
          health: { url: "http://127.0.0.1:${port}/ready" } },
      ],
    }"""
    up, down = parse(text).services  # type: ignore[attr-defined]
    assert up.argv == ("/usr/bin/python3", "-m", "up", "--port", "8770") and up.port == 8770
    assert up.health.url == "http://127.0.0.1:8770/health" and up.health.interval_s == 5
    assert down.argv == ("/usr/bin/python3", "--upstream", "ws://127.0.0.1:8770/", "--redis=redis://127.0.0.1:6379/0")
    assert down.env == {"DATA": "/state/data", "LITERAL": "${not_a_variable}"}
    assert down.health.url == "http://127.0.0.1:8765/ready"


def test_trading_day_rules_need_the_market_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    from pmdaemon import market

    def missing() -> market.NyseCalendar:
        raise ImportError("No module named 'lib_common'")

    monkeypatch.setattr(market, "calendar", missing)
    text = '{services: [{name: "a", command: "x",\n  defer_restarts: {max_wait_s: 60}}]}'
    assert error(text) == (
        "svc.json5:2:19: services[0].defer_restarts: needs the NYSE calendar of lib-common: install pmdaemon[market]"
    )
    assert error(
        text.replace("defer_restarts: {max_wait_s: 60}", 'restart_at: {at: ["09:00"], days: "trading_days"}')
    ).endswith("install pmdaemon[market]")
    every_day = parse('{services: [{name: "a", command: "x", restart_at: {at: ["09:00"]}}]}')
    assert every_day.services[0].restart_days == "every_day"  # type: ignore[attr-defined]


def test_errors_point_into_multiline_files() -> None:
    text = '{\n  services: [\n    {\n      name: "a",\n      command: "x",\n'
    text += '      memory_limit_mb: "lots",\n    },\n  ],\n}\n'
    assert error(text) == "svc.json5:6:24: services[0].memory_limit_mb: expected a number > 0, found 'lots'"


def test_a_services_file_past_the_size_bound_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "svc.json5"
    with path.open("wb") as out:
        out.truncate(json5format.MAX_DOCUMENT_BYTES + 1)
    with pytest.raises(ConfigError, match="larger than 4,194,304 bytes: not read"):
        load_services(path, state_dir=tmp_path)
