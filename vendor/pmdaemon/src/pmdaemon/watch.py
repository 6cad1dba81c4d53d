"""`python -m pmdaemon.watch --state-dir DIR`: the event listener beside supervisord.

supervisord runs it as `[eventlistener:pmdaemon-watch]`, subscribed to TICK_5 and PROCESS_STATE.
stdout carries the listener protocol (protocol.py), so logs go to stderr (its log file).
Between events it also wakes every `watch.poll_s` seconds: TICK_5 alone is too coarse for
health intervals of a second or two. Each evaluation reads the process table over XML-RPC and
/proc, asks the policy (policy.py) what to do, runs due health checks, carries out the actions
and rewrites the state file that `pmdaemon status` reads. The policy's alerts (a service going
FATAL, a restart loop: incidents.py) go out through `watch.alerts` (alerting.py).
"""

from __future__ import annotations

import argparse
import logging
import os
import select
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from . import health, logline
from .alerting import Alerter
from .applied import load_applied
from .clock import SystemClock
from .errors import PmdaemonError
from .handover import Services
from .layout import StateDir
from .policy import Action, ActionKind, ProcessFacts, ProcessState, WatchPolicy
from .procfs import ProcFS, tree_rss
from .protocol import OK, READY, ListenerParser
from .rpc import Supervisor
from .services import WATCH_NAME
from .slots import current_by_service
from .state import read_json, write_json

log = logging.getLogger("pmdaemon.watch")


class Watch:
    def __init__(self, state: StateDir, supervisor: Supervisor, procfs: ProcFS | None = None) -> None:
        self._state = state
        self._supervisor = supervisor
        self._procfs = procfs or ProcFS()
        self._services = Services(supervisor, self._procfs)
        self._applied_mtime = self._mtime()
        # Counters survive a restart of the watch itself.
        saved = read_json(state.watch_state).get("services", {})
        self.policy = WatchPolicy(load_applied(state), SystemClock(), saved=saved if isinstance(saved, dict) else {})
        self._pool = ThreadPoolExecutor(max_workers=4, thread_name_prefix="health")
        self.alerter = Alerter(self.policy.services.alerts)

    def _mtime(self) -> float:
        try:
            return self._state.applied.stat().st_mtime
        except OSError:
            return 0.0

    @property
    def poll_s(self) -> float:
        return self.policy.services.poll_s

    def reload_if_changed(self) -> None:
        mtime = self._mtime()
        if mtime == self._applied_mtime:
            return
        try:
            self.policy.configure(load_applied(self._state))
        except PmdaemonError as exc:
            log.error("keeping the previous services: %s", exc)
        else:
            log.info("services reloaded: %s", ", ".join(s.name for s in self.policy.services.services))
            self.alerter.configure(self.policy.services.alerts)
        self._applied_mtime = mtime

    def process_table(self) -> dict[str, ProcessFacts]:
        """Each service's facts, from the program that stands for it (a handover service's serving slot)."""
        infos = current_by_service(self._supervisor.processes(), self.policy.services, self._procfs)
        running = [p.pid for p in infos.values() if p.pid]
        rss = tree_rss(self._procfs, running) if running else {}
        return {name: ProcessFacts(ProcessState.parse(p.state), p.pid, rss.get(p.pid)) for name, p in infos.items()}

    def evaluate(self) -> None:
        self.reload_if_changed()
        actions = self.policy.evaluate(self.process_table())
        due = self.policy.due_health_checks()
        results = list(self._pool.map(lambda item: (item[0], *health.check(item[1].url, item[1].timeout_s)), due))
        for name, verdict, detail in results:
            actions.extend(self.policy.on_health_result(name, verdict, detail))
        for action in actions:
            self.carry_out(action)
        self.alert()
        self.save()

    def alert(self) -> None:
        self.alerter.send(self.policy.take_notices())

    def carry_out(self, action: Action) -> None:
        """A restart is a handover for a service that can hand over (handover.py)."""
        spec = self.policy.services.get(action.service)
        if spec is None:
            return
        try:
            if action.kind is ActionKind.RESTART:
                log.info("done: %s: %s", action, self._services.restart(spec))
            else:
                self._services.start(spec)
                log.info("done: %s", action)
        except PmdaemonError as exc:
            log.error("%s failed: %s", action, exc)

    def save(self) -> None:
        write_json(self._state.watch_state, {**self.policy.snapshot(), "pid": os.getpid()})


def serve(watch: Watch, stdin: int = 0, stdout: int = 1) -> None:
    """Speak the listener protocol until supervisord closes stdin."""
    parser = ListenerParser()
    os.write(stdout, READY)
    next_eval = 0.0
    while True:
        ready, _, _ = select.select([stdin], [], [], max(0.0, next_eval - time.monotonic()))
        if ready:
            data = os.read(stdin, 65536)
            if not data:
                return
            for event in parser.feed(data):
                # Acknowledge first: supervisord holds further events for a busy listener.
                os.write(stdout, OK)
                os.write(stdout, READY)
                if event.name.startswith("TICK_"):
                    next_eval = 0.0
                elif event.name.startswith("PROCESS_STATE_"):
                    fields = event.fields
                    watch.policy.on_process_state(
                        fields.get("processname", ""),
                        fields.get("from_state", ""),
                        event.name.removeprefix("PROCESS_STATE_"),
                        fields,
                    )
                    watch.alert()
                    watch.save()
        if time.monotonic() >= next_eval:
            try:
                watch.evaluate()
            except PmdaemonError as exc:
                log.error("evaluation failed: %s", exc)
            next_eval = time.monotonic() + watch.poll_s


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m pmdaemon.watch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--state-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    logline.setup(WATCH_NAME)
    state = StateDir(args.state_dir)
    server_url = os.environ.get("SUPERVISOR_SERVER_URL", state.server_url)
    try:
        watch = Watch(state, Supervisor(server_url))
    except PmdaemonError as exc:
        log.error("cannot start: %s", exc)
        sys.exit(1)
    log.info("watching %s (poll every %gs)", ", ".join(s.name for s in watch.policy.services.services), watch.poll_s)
    try:
        serve(watch)
    finally:
        watch.alerter.close()  # what is queued gets its chance to go


if __name__ == "__main__":
    main()
