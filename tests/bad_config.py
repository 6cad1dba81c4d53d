"""A server or monitor run as a process on a broken config: it prints every problem at once, each
line `NAME: config error: ...`, writes nothing else, and exits 2. Shared by every job's config
tests (each runs its own distribution's processes)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def config_problems(
    tmp_path: Path, module: str, config: str, *args: str, env: dict[str, str] | None = None
) -> tuple[Path, list[str]]:
    """Run `python -m MODULE --config FILE *args` with FILE holding `config` (and `env` added to the
    environment); check it exits 2 with only config errors; return FILE and the problems it
    printed, in order, without the `NAME: config error: ` prefix."""
    path = tmp_path / "bad.json5"
    path.write_text(config)
    done = subprocess.run(
        [sys.executable, "-m", module, "--config", str(path), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    prefix = f"{module.rpartition('.')[2]}: config error: "
    lines = done.stderr.splitlines()
    assert lines and all(line.startswith(prefix) for line in lines), lines
    return path, [line.removeprefix(prefix) for line in lines]
