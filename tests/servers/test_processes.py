"""The process helpers the tests and benchmarks share."""

from __future__ import annotations

import subprocess
import sys

from tests.processes import free_port, wait_healthy


def test_a_process_that_exits_is_reported_at_once_with_its_code() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    proc.wait()
    assert wait_healthy(proc, f"http://127.0.0.1:{free_port()}/health", 30) == "exited with 3"


def test_a_server_that_never_answers_is_not_healthy_within_the_timeout() -> None:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert wait_healthy(proc, f"http://127.0.0.1:{free_port()}/health", 0.3) == "not healthy within 0.3s"
    finally:
        proc.kill()
        proc.wait()
