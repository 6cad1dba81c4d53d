"""Process-tree RSS from /proc: a fake /proc for the arithmetic, the real one for the format."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from pmdaemon.procfs import PAGE_SIZE, ProcFS, descendants, tree_rss


def fake_proc(root: Path, procs: dict[int, tuple[int, int]]) -> ProcFS:
    for pid, (ppid, pages) in procs.items():
        (root / str(pid)).mkdir()
        (root / str(pid) / "stat").write_text(f"{pid} (odd) name) S {ppid} 1 1 0 -1 0\n")
        (root / str(pid) / "statm").write_text(f"1000 {pages} 0 0 0 0 0\n")
    (root / "self").mkdir()
    return ProcFS(root)


def test_tree_rss_sums_descendants(tmp_path: Path) -> None:
    procfs = fake_proc(tmp_path, {1: (0, 1), 10: (1, 5), 11: (10, 7), 12: (11, 3), 20: (1, 100)})
    assert procfs.parents() == {1: 0, 10: 1, 11: 10, 12: 11, 20: 1}
    assert sorted(descendants(10, procfs.parents())) == [10, 11, 12]
    assert tree_rss(procfs, [10, 20]) == {10: 15 * PAGE_SIZE, 20: 100 * PAGE_SIZE}
    assert procfs.rss_bytes(999) == 0


def test_real_proc_sees_a_child() -> None:
    # The child says when it is up: an interpreter still starting grows between two reads.
    code = "import sys, time; print('ready', flush=True); time.sleep(30)"
    child = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "ready"
        procfs = ProcFS()
        assert procfs.parents()[child.pid] == os.getpid()
        own = procfs.rss_bytes(os.getpid())
        assert own > 0
        assert tree_rss(procfs, [os.getpid()])[os.getpid()] >= own + procfs.rss_bytes(child.pid) > own
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
