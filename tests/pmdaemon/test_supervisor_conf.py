"""supervisord.conf rendering: arguments survive configparser, '%' expansion and shlex."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from pmdaemon.layout import StateDir
from pmdaemon.services import parse_services
from pmdaemon.supervisor_conf import command_line, render

ARG = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\n\r\x00\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
)


def read_back(value: str) -> list[str]:
    """What supervisord makes of a `command=` value (its parser settings, then shlex)."""
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    parser.read_string(f"[program:x]\ncommand={value}\n")
    return shlex.split(parser.get("program:x", "command").replace("%%", "%"))


@given(st.lists(ARG, min_size=1, max_size=5))
def test_any_arguments_round_trip(argv: list[str]) -> None:
    assert read_back(command_line(argv)) == argv


def test_tricky_arguments_round_trip() -> None:
    argv = ["python", "-c", "import os; print('a #b ;c %(x)s 100%')", "it's", ""]
    assert read_back(command_line(argv)) == argv


def test_render_has_own_socket_listener_and_programs(tmp_path: Path) -> None:
    text = '{services: [{name: "web", command: "srv --port 1", env: {A: "x y"}, cwd: "."}]}'
    services = parse_services(text, source=tmp_path / "s.json5", base_dir=tmp_path, state_dir=tmp_path / "st")
    conf = render(services, StateDir(tmp_path / "st"), python="/venv/bin/python")
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    parser.read_string(conf)
    assert parser.get("unix_http_server", "file") == str(tmp_path / "st/supervisor.sock")
    assert parser.get("supervisord", "pidfile") == str(tmp_path / "st/supervisord.pid")
    # Behind the launcher, which execs the command itself (no wrapper left in between).
    launcher = [str(tmp_path / "st"), "--name", "web", "--grace", "10", "--"]
    command = shlex.split(parser.get("program:web", "command"))
    assert command == ["/venv/bin/python", "-m", "pmdaemon.launch", "--state-dir", *launcher, "srv", "--port", "1"]
    assert parser.get("program:web", "environment") == 'A="x y"'
    assert parser.get("program:web", "stopasgroup") == "true"
    assert parser.get("program:web", "redirect_stderr") == "true"
    assert parser.get("program:web", "stdout_logfile") == str(tmp_path / "st/logs/web.log")
    listener = parser["eventlistener:pmdaemon-watch"]
    assert listener["events"] == "TICK_5,PROCESS_STATE"
    assert shlex.split(listener["command"]) == [
        "/venv/bin/python",
        "-m",
        "pmdaemon.watch",
        "--state-dir",
        str(tmp_path / "st"),
    ]
