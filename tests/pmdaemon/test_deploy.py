"""deploy/: the services file the README runs and the systemd unit that starts it at boot."""

from __future__ import annotations

import getpass
import os
import shlex
import shutil
import signal
import subprocess
import tomllib
from pathlib import Path

from pmdaemon import control
from pmdaemon.services import load_services
from tests.pmdaemon.conftest import PMDAEMON, SLEEPER_ARGS, Daemon, wait_for

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
STATE = Path("/var/lib/rsdev")


def _scripts() -> set[str]:
    """Console scripts the workspace's servers and monitors declare."""
    out: set[str] = set()
    for member in ("packages/servers", "packages/misc"):
        project = tomllib.loads((ROOT / member / "pyproject.toml").read_text())["project"]
        out.update(project["scripts"])
    return out


def test_every_service_runs_its_console_script_on_a_port_of_its_own() -> None:
    services = load_services(DEPLOY / "services.json5", state_dir=STATE).services
    assert len(services) == 10
    scripts = _scripts()
    ports = [s.port for s in services]
    assert None not in ports and len(set(ports)) == len(ports)
    for spec in services:
        # No wrapper (uv run) between supervisord and the server: the venv's script itself.
        assert spec.argv[0] == f".venv/bin/{spec.name}" and spec.name in scripts, spec.argv
        assert spec.cwd == ROOT
        assert spec.argv[spec.argv.index("--port") + 1] == str(spec.port)
        assert spec.health is not None and spec.health.url == f"http://127.0.0.1:{spec.port}/health"
        assert spec.health.restart is not spec.name.startswith("monitor_")
    by_name = {s.name: s for s in services}
    restream = by_name["restream"].argv
    assert f"ws://127.0.0.1:{by_name['server_dummy'].port}/?version=2" in restream
    assert "--symbols" in restream and "--publish" in restream  # recorded symbols are pinned
    # Data lands in the state dir, never inside the checkout.
    assert by_name["server_log"].argv[by_name["server_log"].argv.index("--dir") + 1] == f"{STATE}/data/quotes"
    assert f"{STATE}/data/speech" in by_name["server_speak"].argv
    assert by_name["restream"].restart_days == "trading_days" and by_name["restream"].defer_restarts is not None
    # The gateways hand over on a restart, listening with SO_REUSEPORT; nothing else does.
    for spec in services:
        gateway = spec.name in ("restream", "redis2ws")
        assert spec.handover is gateway
        assert (spec.env.get("RSDEV__LISTEN__REUSE_PORT") == "true") is gateway


def test_the_systemd_unit_verifies(tmp_path: Path) -> None:
    unit = (DEPLOY / "pmdaemon.service").read_text()
    exec_start = shlex.split(next(line for line in unit.splitlines() if line.startswith("ExecStart=")))
    assert exec_start == [
        "ExecStart=/opt/rsdev/.venv/bin/pmdaemon",
        "--state-dir",
        "/var/lib/rsdev",
        "start",
        "--foreground",
        "/opt/rsdev/deploy/services.json5",
    ]
    assert "Environment=PATH=/opt/rsdev/.venv/bin:" in unit and "Restart=always" in unit
    # Installed as documented, elsewhere: the checkout at tmp_path, run as this user.
    (tmp_path / ".venv/bin").mkdir(parents=True)
    (tmp_path / ".venv/bin/pmdaemon").symlink_to(PMDAEMON)
    installed = tmp_path / "rsdev-pmdaemon.service"
    installed.write_text(unit.replace("/opt/rsdev", str(tmp_path)).replace("User=rsdev", f"User={getpass.getuser()}"))
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze missing: scripts/test.sh installs Debian's systemd package"
    result = subprocess.run([analyze, "verify", str(installed)], capture_output=True, text=True, check=False)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")
    # A typo is caught: the check can fail.
    broken = tmp_path / "broken.service"
    broken.write_text(installed.read_text().replace("Restart=always", "Restart=allways"))
    result = subprocess.run([analyze, "verify", str(broken)], capture_output=True, text=True, check=False)
    assert "allways" in result.stderr


def test_foreground_exits_non_zero_when_supervisord_dies_and_zero_when_told_to_stop(daemon: Daemon) -> None:
    daemon.write_services([{"name": "sleeper", "command": SLEEPER_ARGS}])
    for kill_supervisord in (True, False):
        runner = subprocess.Popen(
            [str(PMDAEMON), "--state-dir", str(daemon.state.root), "start", "--foreground", str(daemon.services_file)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            wait_for(lambda: control.is_running(daemon.state), 30, "supervisord to answer")
            service = daemon.running("sleeper", timeout=30)
            supervisord = daemon.status()["supervisord_pid"]
            assert _ppid(supervisord) == runner.pid  # pmdaemon stays its parent
            os.kill(
                supervisord if kill_supervisord else runner.pid, signal.SIGKILL if kill_supervisord else signal.SIGTERM
            )
            _, stderr = runner.communicate(timeout=30)
        finally:
            if runner.poll() is None:
                runner.kill()
                runner.communicate()
        if kill_supervisord:
            assert runner.returncode == 1
            assert f"supervisord (pid {supervisord}) exited on its own (signal 9)" in stderr
        else:
            assert runner.returncode == 0, stderr
        # Either way nothing of the service is left running.
        pid = service["pid"]
        wait_for(lambda pid=pid: not _running(pid), 10, "the service to be gone")


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except OSError:
        return False
