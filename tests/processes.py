"""Real processes for tests and benchmarks: a free loopback port to give one, and waiting until a
server it runs answers its /health."""

from __future__ import annotations

import socket
import ssl
import subprocess
import time

import httpx


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(
    proc: subprocess.Popen[bytes], url: str, timeout_s: float, *, verify: ssl.SSLContext | str | bool = True
) -> str | None:
    """Poll GET `url` every 0.1 s until it answers 200: None then. Otherwise why not, as soon as
    `proc` has exited ("exited with N") or once `timeout_s` has passed ("not healthy within Ts")."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return f"exited with {proc.returncode}"
        try:
            if httpx.get(url, verify=verify, timeout=5).status_code == 200:
                return None
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    return f"not healthy within {timeout_s}s"
