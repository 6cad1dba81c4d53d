"""supervisord's XML-RPC API over its unix socket: the only way pmdaemon talks to it.

Faults and socket errors are translated to SupervisorError / NotRunning here.
"""

from __future__ import annotations

import http.client
import socket
import xmlrpc.client
from dataclasses import dataclass
from typing import Any, cast

from .errors import NotRunning, SupervisorError

# supervisor.xmlrpc.Faults
BAD_NAME = 10
SPAWN_ERROR = 50
ALREADY_STARTED = 60
NOT_RUNNING = 70


class _UnixConnection(http.client.HTTPConnection):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__("localhost", timeout=timeout)
        self._path = path

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class _UnixTransport(xmlrpc.client.Transport):
    def __init__(self, path: str, timeout: float) -> None:
        super().__init__()
        self._path = path
        self._timeout = timeout

    def make_connection(self, host: Any) -> http.client.HTTPConnection:
        # Kept where the base class keeps it, so that close() closes the socket.
        connection = _UnixConnection(self._path, self._timeout)
        self._connection = (host, connection)
        return connection


@dataclass(frozen=True, slots=True)
class ProcessInfo:
    """One entry of supervisor.getAllProcessInfo."""

    name: str
    group: str
    state: str
    pid: int
    start: int
    now: int
    description: str
    stdout_logfile: str
    stderr_logfile: str
    spawnerr: str = ""

    @classmethod
    def from_rpc(cls, info: dict[str, Any]) -> ProcessInfo:
        return cls(
            name=str(info["name"]),
            group=str(info["group"]),
            state=str(info["statename"]),
            pid=int(info["pid"]),
            start=int(info["start"]),
            now=int(info["now"]),
            description=str(info.get("description", "")),
            stdout_logfile=str(info.get("stdout_logfile", "")),
            stderr_logfile=str(info.get("stderr_logfile", "")),
            spawnerr=str(info.get("spawnerr", "")),
        )


class SupervisorFault(SupervisorError):
    def __init__(self, method: str, code: int, text: str) -> None:
        super().__init__(f"supervisord refused {method}: {text}")
        self.code = code


class Supervisor:
    """A client of one supervisord; `server_url` is `unix:///path/to/supervisor.sock`."""

    def __init__(self, server_url: str, *, timeout: float = 30.0) -> None:
        if not server_url.startswith("unix://"):
            raise SupervisorError(f"expected a unix:// server URL, found {server_url!r}")
        self.path = server_url.removeprefix("unix://")
        self._timeout = timeout

    def call(self, method: str, *args: Any, timeout: float | None = None) -> Any:
        proxy = xmlrpc.client.ServerProxy(
            "http://localhost", transport=_UnixTransport(self.path, timeout or self._timeout), allow_none=True
        )
        try:
            return getattr(proxy, method)(*args)
        except xmlrpc.client.Fault as exc:
            raise SupervisorFault(method, exc.faultCode, exc.faultString) from None
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            raise NotRunning(f"no supervisord on {self.path} ({exc.strerror})") from None
        except (OSError, http.client.HTTPException, xmlrpc.client.ProtocolError) as exc:
            raise SupervisorError(f"{method} on {self.path} failed: {exc}") from None
        finally:
            proxy("close")()

    def state(self) -> str:
        return str(self.call("supervisor.getState", timeout=5.0)["statename"])

    def pid(self) -> int:
        return int(self.call("supervisor.getPID"))

    def processes(self) -> list[ProcessInfo]:
        return [ProcessInfo.from_rpc(info) for info in self.call("supervisor.getAllProcessInfo")]

    def start(self, name: str, *, wait: bool = False) -> None:
        try:
            self.call("supervisor.startProcess", name, wait)
        except SupervisorFault as exc:
            if exc.code != ALREADY_STARTED:
                raise

    def stop(self, name: str, *, timeout: float = 60.0) -> None:
        try:
            self.call("supervisor.stopProcess", name, True, timeout=timeout)
        except SupervisorFault as exc:
            if exc.code != NOT_RUNNING:
                raise

    def signal(self, name: str, signame: str) -> None:
        """Send `signame` (e.g. "HUP") to the process alone, not its group."""
        self.call("supervisor.signalProcess", name, signame)

    def reload_config(self) -> tuple[list[str], list[str], list[str]]:
        """Re-read the configuration file: the groups (programs) (added, changed, removed)."""
        added, changed, removed = cast(list[list[str]], self.call("supervisor.reloadConfig"))[0]
        return list(added), list(changed), list(removed)

    def remove(self, group: str, *, timeout: float = 120.0) -> None:
        """Stop a group and forget it (its configuration is read again by `add`)."""
        self.call("supervisor.stopProcessGroup", group, True, timeout=timeout)
        self.call("supervisor.removeProcessGroup", group)

    def add(self, group: str) -> None:
        """Add a group from the configuration read last; its autostart programs start."""
        self.call("supervisor.addProcessGroup", group)

    def shutdown(self) -> None:
        self.call("supervisor.shutdown")
