"""scripts/check_posix.py: POSIX-only calls appear only in vendor/pmdaemon or behind a platform guard."""

from __future__ import annotations

import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import check_posix  # noqa: E402


def findings(source: str) -> list[str]:
    return [f.text("m.py") for f in check_posix.scan_source(textwrap.dedent(source))]


def test_this_workspace_passes() -> None:
    assert check_posix.check() == []


def test_pmdaemon_is_exempt_and_would_not_pass() -> None:
    # The scan is not vacuous: pmdaemon, POSIX by nature, is full of what it looks for.
    found = [
        f for p in sorted((ROOT / "vendor/pmdaemon/src").rglob("*.py")) for f in check_posix.scan_source(p.read_text())
    ]
    assert any("signal.SIGKILL" in f.what for f in found) and any("os.killpg" in f.what for f in found)
    assert all("pmdaemon" not in line for line in check_posix.check())


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import fcntl\n", ["m.py:1:1: import fcntl: no such module on Windows"]),
        ("from resource import getrlimit\n", ["m.py:1:1: from resource import ...: no such module on Windows"]),
        ("import os\nos.fork()\n", ["m.py:2:1: os.fork: not on Windows"]),
        ("import os\npid = os.setsid()\n", ["m.py:2:7: os.setsid: not on Windows"]),
        (
            "import os, signal\nos.killpg(1, signal.SIGKILL)\n",
            [
                "m.py:2:1: os.killpg: not on Windows",
                "m.py:2:14: signal.SIGKILL: not on Windows",
            ],
        ),
        ("import signal as sig\nsig.signal(sig.SIGHUP, print)\n", ["m.py:2:12: signal.SIGHUP: not on Windows"]),
        ("from signal import SIGUSR1\n", ["m.py:1:1: from signal import SIGUSR1: not on Windows"]),
        (
            "from pathlib import Path\nCARDS = Path('/proc/asound/cards')\n",
            ["m.py:2:14: '/proc/asound/cards': /proc is Linux's"],
        ),
        # What passes: the portable spellings, and what sits behind a guard.
        ("import signal\nhup = getattr(signal, 'SIGHUP', None)\nsignal.SIGTERM, signal.SIGINT\n", []),
        ("import os, sys\nif sys.platform == 'linux':\n    os.sysconf('SC_CLK_TCK')\nelse:\n    x = '/proc'\n", []),
        ("import os\nif os.name == 'posix':\n    os.setsid()\n", []),
        ("import os\nuid = os.geteuid() if hasattr(os, 'geteuid') else None\n", []),
        ("import os\nroot = hasattr(os, 'geteuid') and os.geteuid() == 0\n", []),
        ("try:\n    import fcntl\nexcept ImportError:\n    fcntl = None\n", []),
        (
            "import os\ndef n():\n    try:\n        return len(os.listdir('/proc/self/fd'))\n"
            "    except OSError:\n        return None\n",
            [],
        ),
        ("import os\ndef f(platform):\n    if platform.startswith('linux'):\n        return os.uname()\n", []),
        ('"""Reads /proc/asound/cards on Linux."""\n', []),
    ],
)
def test_uses_and_guards(source: str, expected: list[str]) -> None:
    assert findings(source) == expected


def test_a_try_that_catches_oserror_does_not_excuse_a_posix_call() -> None:
    source = "import os\ntry:\n    os.fork()\nexcept OSError:\n    pass\n"
    assert findings(source) == ["m.py:3:5: os.fork: not on Windows"]


def test_an_unguarded_use_in_a_member_fails_the_script(tmp_path: Path) -> None:
    base = tmp_path / "ws"
    shutil.copytree(ROOT, base, ignore=shutil.ignore_patterns(".venv*", ".git", "__pycache__", "*.lock", ".*cache"))
    (base / "packages/cli/src/rsdev_cli/forky.py").write_text("import os\n\nos.fork()\n")
    assert check_posix.check(base) == ["packages/cli/src/rsdev_cli/forky.py:3:1: os.fork: not on Windows"]
    done = subprocess.run(
        [sys.executable, str(base / "scripts/check_posix.py")], capture_output=True, text=True, check=False, timeout=60
    )
    assert done.returncode == 1 and "forky.py:3:1: os.fork" in done.stderr
