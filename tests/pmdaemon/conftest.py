"""A real supervisord per test, started by pmdaemon in a short temp dir and always shut down."""

from __future__ import annotations

import contextlib
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from pmdaemon import control, status
from pmdaemon.applied import load_applied
from pmdaemon.errors import SupervisorError
from pmdaemon.layout import StateDir
from pmdaemon.state import read_json

PMDAEMON = Path(sys.executable).with_name("pmdaemon")
SLEEPER_ARGS = [sys.executable, "-c", "import time; time.sleep(3600)"]
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Callable[[], T | None], timeout: float, what: str, interval: float = 0.2) -> T:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


class Daemon:
    """One test's pmdaemon: a services file and a state dir in a temp dir of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.state = StateDir(root / "state")
        self.services_file = root / "services.json5"

    def write_services(
        self, services: list[dict[str, Any]], *, poll_s: float = 0.5, watch: dict[str, Any] | None = None
    ) -> Path:
        # JSON is JSON5; the comment checks that the file goes through the JSON5 parser.
        document = {"watch": {"poll_s": poll_s, **(watch or {})}, "services": services}
        text = "// written by the test\n" + json.dumps(document, indent=2)
        self.services_file.write_text(text)
        return self.services_file

    def script(self, name: str, source: str) -> Path:
        path = self.root / name
        path.write_text(source)
        return path

    def cli(self, *args: str, timeout: float = 90) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(PMDAEMON), "--state-dir", str(self.state.root), *args],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )

    def start(self, services: list[dict[str, Any]], *, rc: int = 0, **kwargs: Any) -> subprocess.CompletedProcess[str]:
        self.write_services(services, **kwargs)
        result = self.cli("start", str(self.services_file))
        assert result.returncode == rc, result.stderr
        return result

    def status(self) -> dict[str, Any]:
        return status.collect(self.state, control.client(self.state), services_file=load_applied(self.state))

    def service(self, name: str) -> dict[str, Any]:
        return next(s for s in self.status()["services"] if s["name"] == name)

    def record(self, name: str) -> dict[str, Any]:
        """The watch's state-file record of `name`."""
        services: dict[str, Any] = read_json(self.state.watch_state).get("services", {})
        return services.get(name, {})

    def running(self, name: str, *, other_than: int | None = None, timeout: float = 20) -> dict[str, Any]:
        """Wait until `name` is RUNNING (with a pid other than `other_than`); its status."""

        def check() -> dict[str, Any] | None:
            s = self.service(name)
            return s if s["state"] == "RUNNING" and s["pid"] and s["pid"] != other_than else None

        return wait_for(
            check, timeout, f"{name} RUNNING" + (f" with a pid other than {other_than}" if other_than else "")
        )

    def shutdown(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.cli("stop", timeout=60)
        if control.is_running(self.state) or _alive_from_pidfile(self.state):
            control.kill(self.state)


def _alive_from_pidfile(state: StateDir) -> bool:
    try:
        pid = int(state.pidfile.read_text())
    except (OSError, ValueError):
        return False
    return Path(f"/proc/{pid}").exists()


@pytest.fixture
def daemon() -> Iterator[Daemon]:
    # Not tmp_path: a unix socket path must stay under 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="pmd-", dir="/tmp"))
    instance = Daemon(root)
    try:
        yield instance
    finally:
        try:
            instance.shutdown()
        except SupervisorError:
            control.kill(instance.state)
        assert not control.is_running(instance.state)
        shutil.rmtree(root, ignore_errors=True)
