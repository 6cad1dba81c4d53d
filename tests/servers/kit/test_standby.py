"""servers.kit.standby without servers: the lock between two holders, the handover's wait as
plain code, the config's checks."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

from lib_common.errors import ConfigErrors
from servers.kit.standby import HandoverWait, StandbyLock, successor_serving
from servers.restream.config import load_config, parse_config


def test_one_holder_at_a_time_and_the_next_after_a_release(tmp_path: Path) -> None:
    first, second = StandbyLock(tmp_path / "run" / "g.lock"), StandbyLock(tmp_path / "run" / "g.lock")
    try:
        assert first.try_acquire() and first.held
        assert not second.try_acquire() and not second.held
        first.release()
        assert second.try_acquire()
        assert not first.try_acquire()  # taking it back needs the other to let go too
    finally:
        first.close()
        second.close()


def test_the_serving_sidecar_names_a_live_other_process(tmp_path: Path) -> None:
    lock = StandbyLock(tmp_path / "g.lock")
    assert lock.serving_pid() is None and not successor_serving(lock, os.getpid())
    lock.announce_serving()
    assert lock.serving_pid() == os.getpid() and not successor_serving(lock, os.getpid())  # itself
    lock.announce_serving(os.getppid())
    assert successor_serving(lock, os.getpid())
    lock.announce_serving(2**22 + 12345)  # above any pid_max: no such process
    assert not successor_serving(lock, os.getpid())
    lock.serving_path.write_text("not a pid")
    assert lock.serving_pid() is None


def test_the_leaving_process_waits_for_its_standby_then_stays_without_one() -> None:
    wait = HandoverWait(started=100.0, wait_s=10.0)
    assert wait.step(100.0, successor_serving=False) == "wait"
    assert wait.step(105.0, successor_serving=True) == "leave"
    assert wait.step(109.9, successor_serving=False) == "wait"
    assert wait.step(110.0, successor_serving=False) == "stay"
    assert wait.step(130.0, successor_serving=True) == "leave"  # a late standby is still taken


def test_the_lock_is_relative_to_the_config_and_needs_reuse_port(tmp_path: Path) -> None:
    good = parse_config(json.dumps({"listen": {"reuse_port": True, "standby_lock": "run/g.lock"}}), base_dir=tmp_path)
    assert good.standby_lock == tmp_path / "run" / "g.lock"
    with pytest.raises(ConfigErrors, match="standby_lock: needs reuse_port: true"):
        parse_config(json.dumps({"listen": {"standby_lock": "g.lock"}}))


def test_without_flock_the_lock_is_a_config_problem_at_its_key(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "g.json5"
    config.write_text('{\n  listen: {\n    reuse_port: true,\n    standby_lock: "g.lock",\n  },\n}\n')
    assert load_config(config, flags={}, env={}).standby_lock == tmp_path / "g.lock"
    monkeypatch.setitem(sys.modules, "fcntl", None)  # as on Windows: `import fcntl` fails
    with pytest.raises(ConfigErrors) as caught:
        load_config(config, flags={}, env={})
    assert str(caught.value) == f"{config}:4:19: listen.standby_lock: needs flock (POSIX); this platform has none"
