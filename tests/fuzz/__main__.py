"""Run the fuzz targets with atheris (libFuzzer, coverage-guided). docs/security.md, "Fuzzing".

    python -m tests.fuzz list
    python -m tests.fuzz all --seconds 30                 every target, 30 s each (CI's fuzz job)
    python -m tests.fuzz all --seconds 600 --out fuzz-out the long run: 10 minutes a target
    python -m tests.fuzz run resp --seconds 60            one target in this process

`all` runs each target in a process of its own (libFuzzer ends its process when it is done),
prints one line of figures per target (inputs executed, slowest input, findings) and exits 1
if any target had a finding; `--json FILE` writes the figures. A finding's input is written to
OUT/TARGET/crash-* (libFuzzer's artifact); replay it with `run TARGET OUT/TARGET/crash-...`.
An input over 100 ms under atheris's instrumentation is kept as OUT/TARGET/slow-* and replayed
without it once the target's run is over: a finding only if it is slow there too (the figures
count the candidates). The slowest input is kept as OUT/TARGET/stats.json.slowest, and its
replayed time is a figure too. Each target's corpus (seeds, then what the run found
interesting) is kept in OUT/TARGET/corpus, so a later run with the same --out starts where the
last one stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import importlib
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fuzz.harness import Finding, Stats, Target, check, replay_s

ROOT = Path(__file__).resolve().parents[2]
MAX_LEN = 65536  # larger seeds (the 60k-deep JSON) are checked whole by tests/fuzz/test_seeds.py
INSTRUMENTED = ["lib_common", "json5format", "servers"]
MAX_SLOW_CANDIDATES = 20


def _write_stats(path: Path | None, stats: Stats) -> None:
    """The figures as JSON at `path`, and the slowest input beside them (PATH.slowest)."""
    if path is not None:
        for suffix, data in ((".slowest", stats.slowest_data), ("", json.dumps(stats.as_json()).encode())):
            final = path.with_name(path.name + suffix)
            tmp = final.with_name(final.name + ".tmp")
            tmp.write_bytes(data)
            tmp.replace(final)


def _targets(module: str) -> dict[str, Target]:
    targets: dict[str, Target] = importlib.import_module(module).TARGETS
    return targets


def run(name: str, seconds: int, out: Path, stats_path: Path | None, replay: list[str], module: str) -> None:
    """Fuzz one target in this process (atheris never returns: libFuzzer exits)."""
    import atheris  # type: ignore[import-untyped]  # no stubs; the fuzz group installs it

    with atheris.instrument_imports(include=INSTRUMENTED):
        target = _targets(module)[name]
    corpus = out / "corpus"
    corpus.mkdir(parents=True, exist_ok=True)
    for i, seed in enumerate(target.seeds()):
        (corpus / f"seed-{i:03d}").write_bytes(seed)
    stats = Stats()
    last_write = time.monotonic()

    def one_input(data: bytes) -> None:
        nonlocal last_write
        try:
            check(target, data, stats)
        except Finding as finding:
            if finding.kind == "slow":  # maybe only slow under the instrumentation: run_all replays it
                candidate = out / f"slow-{hashlib.sha256(data).hexdigest()[:16]}"
                if len(list(out.glob("slow-*"))) < MAX_SLOW_CANDIDATES:
                    candidate.write_bytes(data)
                return
            stats.findings.append(str(finding))
            _write_stats(stats_path, stats)
            raise
        if time.monotonic() - last_write > 1.0:
            _write_stats(stats_path, stats)
            last_write = time.monotonic()

    args = [sys.argv[0], *replay] if replay else [sys.argv[0], str(corpus)]
    args += [f"-max_total_time={seconds}", f"-max_len={MAX_LEN}", f"-artifact_prefix={out}/", "-timeout=10"]
    atheris.Setup(args, one_input)
    atheris.Fuzz()


def run_all(names: list[str], seconds: int, out: Path, json_path: Path | None, module: str) -> int:
    targets = _targets(module)
    figures: dict[str, dict[str, object]] = {}
    for name in names:
        target_out = out / name
        target_out.mkdir(parents=True, exist_ok=True)
        stats_path = target_out / "stats.json"
        stats_path.unlink(missing_ok=True)
        for old in target_out.glob("slow-*"):
            old.unlink()
        log = target_out / "fuzz.log"
        cmd = [sys.executable, "-m", "tests.fuzz", "run", name, "--seconds", str(seconds), "--out", str(target_out)]
        cmd += ["--stats", str(stats_path), "--module", module]
        started = time.monotonic()
        with log.open("wb") as sink:
            rc = subprocess.run(cmd, cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT, check=False).returncode
        text = log.read_text(errors="replace")
        stats = json.loads(stats_path.read_text()) if stats_path.exists() else {"findings": []}
        done = re.findall(r"Done (\d+) runs", text)
        if done:  # libFuzzer's own count: the stats file is written once a second
            stats["executed"] = int(done[-1])
        findings = list(stats.get("findings", []))
        target = targets[name]
        for candidate in sorted(target_out.glob("slow-*")):  # slow under atheris: does it stay slow?
            try:
                check(target, candidate.read_bytes())
            except Finding as finding:
                findings.append(f"{finding} (replayed without instrumentation: {candidate})")
        slowest = stats_path.with_name(stats_path.name + ".slowest")
        if slowest.exists() and slowest.stat().st_size:
            with contextlib.suppress(Finding):  # a slow one is reported above
                stats["slowest_replayed_ms"] = round(replay_s(target, slowest.read_bytes()) * 1000, 3)
        stats["slow_under_instrumentation"] = len(list(target_out.glob("slow-*")))
        if rc != 0 and not findings:
            tail = text.strip().splitlines()[-5:]
            findings.append(f"exit {rc}: " + " | ".join(tail))
        stats.update(findings=findings, seconds=round(time.monotonic() - started, 1), exit=rc)
        figures[name] = stats
        state = "FINDING" if findings else "ok"
        print(
            f"{name:15} {state:8} {stats.get('executed', 0):>10} inputs  slowest {stats.get('slowest_ms', 0):>8} ms"
            f" (replayed {stats.get('slowest_replayed_ms', '-')} ms; {stats.get('slowest_input', '')[:60]})",
            flush=True,
        )
        for line in findings:
            print(f"    {line[:2000]}\n    log: {log}", flush=True)
    if json_path is not None:
        json_path.write_text(json.dumps({"seconds_per_target": seconds, "targets": figures}, indent=2) + "\n")
    return 1 if any(f["findings"] for f in figures.values()) else 0


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list")
    one = sub.add_parser("run")
    one.add_argument("target")
    one.add_argument("replay", nargs="*", help="inputs to run once each instead of fuzzing")
    one.add_argument("--seconds", type=int, default=30)
    one.add_argument("--out", type=Path, default=None)
    one.add_argument("--stats", type=Path, default=None)
    every = sub.add_parser("all")
    every.add_argument("--seconds", type=int, default=30)
    every.add_argument("--targets", default="", help="comma-separated names (default: every target)")
    every.add_argument("--out", type=Path, default=None)
    every.add_argument("--json", type=Path, default=None)
    for command in (one, every):  # tests/fuzz/test_seeds.py points it at tests.fuzz.planted
        command.add_argument("--module", default="tests.fuzz.targets", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.command == "list":
        for target in _targets("tests.fuzz.targets").values():
            print(f"{target.name:15} {target.doc}")
        return 0
    out = args.out or Path(tempfile.mkdtemp(prefix="rsdev-fuzz-"))
    if args.command == "run":
        run(args.target, args.seconds, out, args.stats, args.replay, args.module)
        return 0
    targets = _targets(args.module)
    names = [n for n in args.targets.split(",") if n] or list(targets)
    unknown = sorted(set(names) - set(targets))
    if unknown:
        parser.error(f"unknown target(s) {', '.join(unknown)}; expected {', '.join(targets)}")
    return run_all(names, args.seconds, out, args.json, args.module)


if __name__ == "__main__":
    sys.exit(main())
