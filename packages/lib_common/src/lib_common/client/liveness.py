"""Silent-connection detection as plain code: when to ping, when to give a connection up.

A TCP connection to a frozen server (SIGSTOP, a dead host behind a live NAT, a wedged event
loop) stays open and says nothing. The client counts a sign of life whenever it hears from the
server (a frame, or the pong to a WebSocket ping); after `heartbeat_s` without one it pings, and
after `timeout_s` without one the connection is dead and is dropped for a new one.

    liveness = Liveness(heartbeat_s=5, timeout_s=10, now=clock.monotonic())
    check = liveness.check(now, frames, backlog)
    check.ping, check.dead, check.next_in_s

`frames` is how many frames the reader has taken so far, a running count rather than a call
per frame so the reader's cost stays one addition per frame: a change since the last check is a
sign of life. `backlog` says frames are waiting that the user has not read yet (busy with
something else): a sign of life too, so a slow reader is never mistaken for a silent server.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Check:
    ping: bool  # send a ping now
    dead: bool  # silent past the timeout: drop the connection
    next_in_s: float  # when to check again
    silence_s: float


class Liveness:
    def __init__(self, *, heartbeat_s: float, timeout_s: float, now: float) -> None:
        self.validate(heartbeat_s, timeout_s)
        self.heartbeat_s = heartbeat_s
        self.timeout_s = timeout_s
        self._heard = now
        self._frames = 0
        self._pinged = False  # a ping is out since the last sign of life

    @staticmethod
    def validate(heartbeat_s: float, timeout_s: float) -> None:
        if not 0 < heartbeat_s < timeout_s:
            raise ValueError(f"need 0 < heartbeat_s < timeout_s, got {heartbeat_s} and {timeout_s}")

    def heard(self, now: float) -> None:
        """A sign of life (a pong)."""
        self._heard = max(self._heard, now)
        self._pinged = False

    def check(self, now: float, frames: int, backlog: bool = False) -> Check:
        if frames != self._frames or backlog:
            self._frames = frames
            self.heard(now)
        silence = now - self._heard
        if silence >= self.timeout_s:
            return Check(ping=False, dead=True, next_in_s=0.0, silence_s=silence)
        ping = silence >= self.heartbeat_s and not self._pinged
        self._pinged = self._pinged or ping
        until = self.timeout_s if self._pinged else self.heartbeat_s
        return Check(ping=ping, dead=False, next_in_s=until - silence, silence_s=silence)
