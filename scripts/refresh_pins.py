"""Refresh the exact pins in the root pyproject from a fresh resolution.

    uv run python scripts/refresh_pins.py

Runs `uv lock --upgrade`, reads the versions uv chose from uv.lock (which stays uncommitted:
it records the index address of the machine that wrote it), and rewrites
`[tool.uv] constraint-dependencies` with `name==version` for every third-party distribution.
"""

from __future__ import annotations

import json
import re
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BEGIN, END = "constraint-dependencies = [", "]"


def main() -> None:
    subprocess.run(["uv", "lock", "--upgrade"], cwd=ROOT, check=True)
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    packages = [p for p in lock["package"] if "registry" in p.get("source", {})]
    versions: dict[str, int] = {}
    for p in packages:
        versions[p["name"]] = versions.get(p["name"], 0) + 1
    pins = []
    for p in packages:
        pin = f"{p['name']}=={p['version']}"
        if versions[p["name"]] > 1:
            # The resolution forks (e.g. by Python version): each version holds under its markers.
            markers = " or ".join(f"({m})" for m in p.get("resolution-markers", []))
            pin = f"{pin} ; {markers}" if markers else pin
        pins.append(pin)
    pins.sort()
    text = (ROOT / "pyproject.toml").read_text()
    body = "constraint-dependencies = [\n" + "".join(f"    {json.dumps(pin)},\n" for pin in pins) + "]"
    new, n = re.subn(r"constraint-dependencies = \[[^\]]*\]", lambda _: body, text)
    if n != 1:
        raise SystemExit("pyproject.toml: expected one constraint-dependencies list under [tool.uv]")
    (ROOT / "pyproject.toml").write_text(new)
    subprocess.run(["uv", "lock"], cwd=ROOT, check=True)
    print(f"pinned {len(pins)} distributions")


if __name__ == "__main__":
    main()
