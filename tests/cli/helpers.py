"""Running the cli's commands as a user does: a subprocess of `python -m rsdev_cli.<module>`."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from hypothesis import strategies as st


def cli(
    module: str,
    *args: str | Path,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    merged = {k: v for k, v in os.environ.items() if not k.startswith("RSDEV")}
    merged.update(env or {})
    merged["PYTHONIOENCODING"] = "utf-8"
    return subprocess.run(
        [sys.executable, "-m", f"rsdev_cli.{module}", *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=merged,
        cwd=cwd,
        timeout=60,
        check=False,
    )


scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
)
keys = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
json_values = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(keys, children, max_size=4),
    max_leaves=20,
)
