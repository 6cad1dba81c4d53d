"""`pmdaemon`: run a services file under the state dir's own supervisord.

pmdaemon [--state-dir DIR] start [--foreground] SERVICES.json5   launch supervisord, or reload it
pmdaemon [--state-dir DIR] stop [NAME]            stop one service, or everything
pmdaemon [--state-dir DIR] restart NAME
pmdaemon [--state-dir DIR] status [--json]
pmdaemon [--state-dir DIR] logs NAME [-n N] [-f] [--stdout | --stderr]
pmdaemon [--state-dir DIR] reload [SERVICES.json5]

Exit status: 0 done (status: all RUNNING and healthy), 1 supervisord could not be started,
reached or obeyed (foreground: it died), 2 a bad services file, 3 a service is not RUNNING
(start: one went FATAL), 4 (status) every service RUNNING but one is not healthy.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from pathlib import Path

from . import control, logline, logs, status
from .applied import load_applied
from .errors import ConfigError, NotStarted, PmdaemonError
from .handover import Services
from .layout import StateDir
from .services import ServiceSpec
from .slots import programs

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
    start.add_argument(
        "--foreground",
        action="store_true",
        help="keep supervisord as a child and wait (for systemd): exit 0 when told to stop, 1 if it dies",
    )
    stop = commands.add_parser("stop", help="stop one service, or every service and supervisord")
    stop.add_argument("name", nargs="?", help="the service to stop (default: everything)")
    restart = commands.add_parser(
        "restart", help="restart one service (with handover: true, a successor takes over without a gap)"
    )
    restart.add_argument("name")
    status_cmd = commands.add_parser("status", help="state, pid, uptime, restarts, RSS and health of each service")
    status_cmd.add_argument("--json", action="store_true", help="machine-readable output")
    logs_cmd = commands.add_parser("logs", help="the last lines of a service's log (stdout and stderr merged)")
    logs_cmd.add_argument("name")
    logs_cmd.add_argument("-n", type=int, default=50, metavar="N", help="how many lines (default 50)")
    logs_cmd.add_argument("-f", "--follow", action="store_true", help="then print lines as they are written")
    which = logs_cmd.add_mutually_exclusive_group()
    which.add_argument("--stdout", action="store_true", help="only stdout's file (when stderr has its own)")
    which.add_argument("--stderr", action="store_true", help="only stderr's file (when stderr has its own)")
    reload = commands.add_parser("reload", help="re-read the services file and apply the changes")
    reload.add_argument("services", type=Path, nargs="?", help="default: the file last started")
    return parser


def _log_files(spec: ServiceSpec, args: argparse.Namespace) -> list[Path]:
    """The files `logs` shows: a handover service's two slots each have theirs."""
    if args.stderr and spec.stderr is None:
        raise PmdaemonError(f"{spec.name}'s stderr is merged into {spec.stdout.file}")
    if args.stderr:
        return [program.stderr.file for program in programs(spec) if program.stderr is not None]
    if args.stdout:
        return [program.stdout.file for program in programs(spec)]
    return [log.file for program in programs(spec) for log in program.logs]


def _write(text: str) -> None:
    sys.stdout.write(text)
    sys.stdout.flush()


def run(args: argparse.Namespace) -> int:
    state = StateDir(args.state_dir.expanduser().absolute())
    if args.command == "start" and args.foreground:
        return control.foreground(args.services, state)
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
        services = Services(control.client(state))
        if args.command == "restart":
            print(services.restart(spec))
        else:
            services.stop(spec)
            print(f"stopped {args.name}")
    elif args.command == "status":
        report = status.collect(state, control.client(state), services_file=load_applied(state))
        print(json.dumps(report, indent=1) if args.json else status.render_table(report))
        return int(report["exit_code"])
    elif args.command == "logs":
        spec = load_applied(state).get(args.name)
        if spec is None:
            raise PmdaemonError(f"no service named {args.name!r} in {state.applied}")
        paths = _log_files(spec, args)
        _write(logs.show(paths, args.n))
        if args.follow:
            with contextlib.suppress(KeyboardInterrupt):  # Ctrl-C ends following
                logs.follow(paths, _write)
    return 0


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    logline.setup("pmdaemon")
    try:
        code = run(args)
    except ConfigError as exc:
        print(f"pmdaemon: {exc}", file=sys.stderr)
        code = 2
    except NotStarted as exc:
        print(f"pmdaemon: {exc}", file=sys.stderr)
        code = 3
    except PmdaemonError as exc:
        print(f"pmdaemon: {exc}", file=sys.stderr)
        code = 1
    sys.exit(code)
