"""What lives in a state dir, by name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .errors import PmdaemonError

# sockaddr_un holds 108 bytes including the terminating NUL.
_MAX_SOCKET_PATH = 107


@dataclass(frozen=True, slots=True)
class StateDir:
    root: Path

    @property
    def conf(self) -> Path:
        return self.root / "supervisord.conf"

    @property
    def socket(self) -> Path:
        return self.root / "supervisor.sock"

    @property
    def pidfile(self) -> Path:
        return self.root / "supervisord.pid"

    @property
    def supervisord_log(self) -> Path:
        return self.root / "supervisord.log"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def applied(self) -> Path:
        """The services file as last applied (a copy: later edits take effect on `reload`)."""
        return self.root / "services.applied.json5"

    @property
    def applied_meta(self) -> Path:
        """Where the applied services file came from (relative paths in it are relative to that)."""
        return self.root / "services.applied.meta.json"

    @property
    def watch_state(self) -> Path:
        return self.root / "watch-state.json"

    @property
    def watch_log(self) -> Path:
        return self.logs / "pmdaemon-watch.log"

    @property
    def server_url(self) -> str:
        return f"unix://{self.socket}"

    def check_socket_path(self) -> None:
        if len(str(self.socket).encode()) > _MAX_SOCKET_PATH:
            raise PmdaemonError(
                f"state dir path is too long for a unix socket: {self.socket} has "
                f"{len(str(self.socket).encode())} bytes, at most {_MAX_SOCKET_PATH}"
            )
