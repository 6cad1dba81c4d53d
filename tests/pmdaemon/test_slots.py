"""A handover service as two supervisord slots: names, logs, configuration, which slot stands
for the service, and when a successor may take over (plain code, no supervisord)."""

from __future__ import annotations

import configparser
import shlex
from pathlib import Path

import pytest

from pmdaemon.errors import ConfigError
from pmdaemon.handover import Successor, judge_successor
from pmdaemon.layout import StateDir
from pmdaemon.rpc import ProcessInfo
from pmdaemon.services import ServicesFile, parse_services
from pmdaemon.slots import current, idle, programs, service_of
from pmdaemon.supervisor_conf import render

STATE = Path("/state")


def parse(service: str) -> ServicesFile:
    text = f'{{services: [{{name: "gw", command: "gw --port 8765", {service}}}]}}'
    return parse_services(text, source=Path("s.json5"), base_dir=Path("/"), state_dir=STATE)


def info(name: str, state: str, start: int = 0, pid: int = 0) -> ProcessInfo:
    return ProcessInfo(name, name, state, pid, start, 0, "", "", "")


@pytest.mark.parametrize(
    ("service", "message"),
    [
        ("handover: true", "s.json5:1:63: services[0].handover: needs the service's `port`"),
        ("port: 1, handover: 1", "services[0].handover: expected true or false, found 1"),
        ('port: 1, autorestart: "unexpected", handover: true', "services[0].autorestart: must be true"),
        ("port: 1, exit_codes: [2], handover: true", "services[0].exit_codes: must include 0"),
        ('port: 1, stop_signal: "sighup", handover: true', "services[0].stop_signal: cannot be HUP"),
    ],
)
def test_handover_is_validated(service: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(service)
    assert message in str(error.value)


def test_a_handover_service_is_two_slots_with_logs_of_their_own() -> None:
    (spec,) = parse('port: 8765, handover: true, stderr: {file: "/l/gw.err"}').services
    a, b = programs(spec)
    assert (a.name, a.partner, b.name, b.partner) == ("gw@a", "gw@b", "gw@b", "gw@a")
    assert a.stdout.file == STATE / "logs/gw@a.log" and b.stdout.file == STATE / "logs/gw@b.log"
    assert (a.stderr is not None and a.stderr.file == Path("/l/gw.err@a")) or a.stderr.file == Path("/l/gw@a.err")
    assert service_of("gw@b") == service_of("gw") == "gw"
    (plain,) = programs(parse("port: 8765").services[0])
    assert (plain.name, plain.partner, plain.stdout) == ("gw", None, plain.service.stdout)


def test_slots_are_rendered_for_pmdaemon_to_start_and_supervisord_to_restart() -> None:
    conf = render(parse("port: 8765, handover: true"), StateDir(STATE), python="/py")
    parser = configparser.RawConfigParser(inline_comment_prefixes=(";", "#"), strict=False)
    parser.read_string(conf)
    assert "program:gw" not in parser
    for slot, partner in (("a", "b"), ("b", "a")):
        section = parser[f"program:gw@{slot}"]
        # Neither autostarts (pmdaemon starts one); an exit other than the handover's 0 restarts.
        assert (section["autostart"], section["autorestart"], section["exitcodes"]) == ("false", "unexpected", "0")
        command = shlex.split(section["command"])
        assert command[command.index("--name") + 1] == f"gw@{slot}"
        assert command[command.index("--partner") + 1] == f"gw@{partner}"
        assert section["stdout_logfile"] == f"{STATE}/logs/gw@{slot}.log"


def test_the_serving_slot_stands_for_the_service() -> None:
    fresh = [info("gw@a", "STOPPED"), info("gw@b", "STOPPED")]
    assert getattr(current(fresh), "name", None) == "gw@a"  # the first start is slot a
    handed = [info("gw@a", "EXITED", start=10), info("gw@b", "RUNNING", start=20, pid=7)]
    serving = current(handed)
    assert serving is not None and serving.name == "gw@b"
    assert getattr(idle(handed, serving), "name", None) == "gw@a"
    # During a handover both serve: the successor (the later start) stands for the service.
    both = [info("gw@a", "RUNNING", start=10), info("gw@b", "RUNNING", start=20)]
    assert getattr(current(both), "name", None) == "gw@b"
    assert getattr(current([info("gw@a", "EXITED", 30), info("gw@b", "FATAL", 5)]), "name", None) == "gw@b"
    assert current([]) is None


@pytest.mark.parametrize(
    ("state", "listening", "verdict"),
    [
        ("STARTING", True, Successor.WAITING),  # listening, but not yet start_secs old
        ("RUNNING", False, Successor.WAITING),  # running, but its startup is not complete
        ("RUNNING", True, Successor.READY),
        ("BACKOFF", False, Successor.WAITING),  # supervisord retries it
        ("FATAL", False, Successor.FAILED),
        ("EXITED", False, Successor.FAILED),
    ],
)
def test_a_successor_is_ready_when_running_and_listening_by_its_own_pid(
    state: str, listening: bool, verdict: Successor
) -> None:
    assert judge_successor(info("gw@b", state, pid=7), listening) is verdict
    assert judge_successor(None, True) is Successor.FAILED
