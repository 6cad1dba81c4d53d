"""`pmdaemon`: run a services file under the state dir's own supervisord.

pmdaemon [--state-dir DIR] start SERVICES.json5   launch supervisord, or reload it
pmdaemon [--state-dir DIR] stop [NAME]            stop one service, or everything
pmdaemon [--state-dir DIR] restart NAME
pmdaemon [--state-dir DIR] status [--json]
pmdaemon [--state-dir DIR] logs NAME [-n N] [--stderr]
pmdaemon [--state-dir DIR] reload [SERVICES.json5]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import deque
from pathlib import Path

from . import control, status
from .applied import load_applied
from .errors import ConfigError, PmdaemonError
from .layout import StateDir

DEFAULT_STATE_DIR = "~/.pmdaemon"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="pmdaemon",
        description="Run the services of a JSON5 services file under supervisord, with memory limits, "
        "health checks, New York-time scheduled restarts and recovery from FATAL.",
    )
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path(os.environ.get("PMDAEMON_STATE_DIR", DEFAULT_STATE_DIR)),
        help="where supervisord's configuration, socket, pidfile, logs and the watch state live "
        f"(default $PMDAEMON_STATE_DIR or {DEFAULT_STATE_DIR})",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    start = commands.add_parser("start", help="start supervisord with a services file (reload if running)")
    start.add_argument("services", type=Path, help="the JSON5 services file")
    stop = commands.add_parser("stop", help="stop one service, or every service and supervisord")
    stop.add_argument("name", nargs="?", help="the service to stop (default: everything)")
    restart = commands.add_parser("restart", help="restart one service")
    restart.add_argument("name")
    status_cmd = commands.add_parser("status", help="state, pid, uptime, restarts, RSS and health of each service")
    status_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    logs = commands.add_parser("logs", help="the last lines of a service's log")
    logs.add_argument("name")
    logs.add_argument("-n", type=int, default=50, metavar="N", help="how many lines (default 50)")
    logs.add_argument("--stderr", action="store_true", help="the stderr log instead of stdout")
    reload = commands.add_parser("reload", help="re-read the services file and apply the changes")
    reload.add_argument("services", type=Path, nargs="?", help="default: the file last started")
    return parser


def _tail(path: Path, lines: int) -> str:
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            return "".join(deque(handle, maxlen=max(lines, 0)))
    except FileNotFoundError:
        return ""


def run(args: argparse.Namespace) -> int:
    state = StateDir(args.state_dir.expanduser().absolute())
    if args.command == "start":
        message, _ = control.start(args.services, state)
        print(message)
    elif args.command == "reload":
        print(control.reload(state, args.services))
    elif args.command == "stop" and args.name is None:
        print(control.stop(state))
    elif args.command in ("stop", "restart"):
        spec = load_applied(state).get(args.name)
        if spec is None:
            raise PmdaemonError(f"no service named {args.name!r} in {state.applied}")
        supervisor = control.client(state)
        supervisor.stop(args.name, timeout=spec.stop_wait_s + 30)
        if args.command == "restart":
            supervisor.start(args.name, wait=False)
        print(f"{args.command}ed {args.name}".replace("stoped", "stopped"))
    elif args.command == "status":
        report = status.collect(state, control.client(state))
        print(json.dumps(report, indent=1) if args.json else status.render_table(report))
    elif args.command == "logs":
        spec = load_applied(state).get(args.name)
        if spec is None:
            raise PmdaemonError(f"no service named {args.name!r} in {state.applied}")
        sys.stdout.write(_tail((spec.stderr if args.stderr else spec.stdout).file, args.n))
    return 0


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    try:
        code = run(args)
    except ConfigError as exc:
        print(f"pmdaemon: {exc}", file=sys.stderr)
        code = 2
    except PmdaemonError as exc:
        print(f"pmdaemon: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
