"""The fuzz suite's own tests (the fuzz job runs them before fuzzing):

- every seed of every target keeps its promises, whole (the fuzzer itself caps inputs at
  64 KiB): the exact inputs of issue 13 are regression tests of every parser here;
- the harness turns a foreign exception and a slow input into a finding, and lets the target's
  own errors through;
- a run of a target with a planted bug fails with the finding and its input on disk.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.fuzz import planted, seeds
from tests.fuzz.harness import RETRIES, SLOW_S, Finding, Stats, Target, check
from tests.fuzz.targets import TARGETS

ROOT = Path(__file__).resolve().parents[2]

CASES = [(name, i) for name, target in TARGETS.items() for i in range(len(list(target.seeds())))]


@pytest.mark.parametrize(("name", "index"), CASES, ids=[f"{n}-{i}" for n, i in CASES])
def test_every_seed_keeps_the_promises(name: str, index: int) -> None:
    target = TARGETS[name]
    check(target, list(target.seeds())[index])


def test_the_issues_inputs_are_seeds_of_every_target() -> None:
    exact = [seeds.JSON5_KEY_WITHOUT_COLON, seeds.DEEP_ARRAY, seeds.BINARY_FRAME, seeds.RESP3_MAP_KEYED_BY_MAP]
    for target in TARGETS.values():
        assert set(exact) <= set(target.seeds()), target.name
    assert any(b"NaN" in seed for seed in seeds.HOSTILE)
    assert seeds.DUPLICATE_TENANTS.count(b"tenants:") == 2


def test_a_foreign_exception_is_a_finding_and_the_targets_own_is_not() -> None:
    target = planted.TARGETS["raises"]
    stats = Stats()
    check(target, b"nope", stats)
    with pytest.raises(Finding) as info:
        check(target, b"boom", stats)
    assert info.value.kind == "exception" and "KeyError" in info.value.detail
    assert stats.executed == 1


def test_a_slow_input_is_a_finding_after_every_retry() -> None:
    target = planted.TARGETS["slow"]
    started = time.perf_counter()
    with pytest.raises(Finding) as info:
        check(target, b"slow")
    assert info.value.kind == "slow"
    assert time.perf_counter() - started >= 3 * 0.15  # the first run and two retries
    assert check(target, b"fast") < SLOW_S


def test_a_slow_first_run_that_is_fast_again_is_not_a_finding() -> None:
    runs = []

    def once_slow(data: bytes) -> None:
        runs.append(data)
        if len(runs) == 1:
            time.sleep(SLOW_S * 1.5)

    stats = Stats()
    check(Target("once_slow", once_slow, (), lambda: [], ""), b"x", stats)
    assert len(runs) == 1 + RETRIES and stats.slowest_s < SLOW_S


def _run_planted(name: str, seconds: int, out: Path) -> tuple[dict[str, object], str]:
    figures = out / "figures.json"
    cmd = [sys.executable, "-m", "tests.fuzz", "all", "--module", "tests.fuzz.planted", "--targets", name]
    cmd += ["--seconds", str(seconds), "--out", str(out), "--json", str(figures)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "FINDING" in result.stdout
    found: dict[str, object] = json.loads(figures.read_text())["targets"][name]
    return found, result.stdout


def test_a_run_with_an_exception_stops_at_it_and_keeps_the_input(tmp_path: Path) -> None:
    found, _ = _run_planted("raises", 20, tmp_path)
    assert found["findings"] and float(str(found["seconds"])) < 20  # found in the seeds, not at the deadline
    assert [p.read_bytes() for p in (tmp_path / "raises").glob("crash-*")] == [b"boom"]


def test_a_slow_input_is_replayed_without_instrumentation_and_fails_the_run(tmp_path: Path) -> None:
    found, stdout = _run_planted("slow", 3, tmp_path)
    assert "replayed without instrumentation" in stdout
    assert found["slow_under_instrumentation"] == 1
    assert [p.read_bytes() for p in (tmp_path / "slow").glob("slow-*")] == [b"slow"]


def test_a_clean_run_passes_with_figures(tmp_path: Path) -> None:
    figures = tmp_path / "figures.json"
    cmd = [sys.executable, "-m", "tests.fuzz", "all", "--targets", "fault_body", "--seconds", "3"]
    cmd += ["--out", str(tmp_path), "--json", str(figures)]
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    found = json.loads(figures.read_text())["targets"]["fault_body"]
    assert found["findings"] == [] and found["executed"] > 100 and 0 < found["slowest_ms"] < SLOW_S * 1000
    assert 0 < found["slowest_replayed_ms"] < SLOW_S * 1000
