"""The benchmarks keep working: each runs at a tiny size and prints its figures (no timing asserted)."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import REPO, SHARED_DATA


def _bench(name: str, *args: str) -> str:
    done = subprocess.run([sys.executable, str(REPO / "bench" / name), *args], capture_output=True, text=True,
                          timeout=180, cwd=REPO)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_poll_304_prints_both_cpu_figures_and_the_ratio() -> None:
    out = _bench("poll_304.py", "--feeds", "20", "--repeat", "1", "--concurrency", "4")
    assert "20 feeds all answering 304" in out
    assert "pipeline poll_due  cpu" in out and "raw httpx          cpu" in out and "ratio" in out


@pytest.mark.skipif(not (SHARED_DATA / "extraction").is_dir(), reason="shared data absent")
def test_burst_prints_wall_cpu_memory_and_the_peer() -> None:
    out = _bench("burst.py", "--feeds", "2", "--articles", "5")
    assert "= 10 new articles in one cycle" in out
    assert "ours  wall" in out and "peak memory" in out and "feedparser + trafilatura" in out
    assert "cpu ratio" in out and "(10 entries, 10 texts)" in out
