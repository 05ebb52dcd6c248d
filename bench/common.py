"""Shared helpers for the side-by-side benchmarks: timing, peak RSS in a fresh process, table printing."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / ".bench"  # generated checkpoints (ignored by git)


def best_of(fn: Callable[[], object], repeat: int = 5, warmup: int = 1) -> float:
    """Median wall time of ``fn`` in seconds after ``warmup`` calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def run_isolated(code: str) -> dict:
    """Run ``code`` in a fresh interpreter; it must print one JSON object on its last line."""
    # one thread for both libraries: comparable, and stable on a shared machine (set BENCH_THREADS to change)
    threads = os.environ.get("BENCH_THREADS", "1")
    env = {
        **os.environ,
        "TOKENIZERS_PARALLELISM": "false",
        "PYTHONPATH": str(ROOT / "src"),
        "OMP_NUM_THREADS": threads,
    }
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    if out.returncode:
        raise RuntimeError(f"benchmark subprocess failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


# Peak resident memory of this process in MB. VmHWM, not ru_maxrss: ru_maxrss survives fork+exec, so a child
# would report the parent's peak.
PEAK_RSS = (
    "def peak_mb():\n"
    "    for line in open('/proc/self/status'):\n"
    "        if line.startswith('VmHWM:'):\n"
    "            return int(line.split()[1]) / 1024\n"
)


def table(title: str, rows: list[tuple[str, float, float, str]], higher_is_better: bool) -> str:
    """Markdown table: metric, ours, reference, ratio (>1 means ours is better)."""
    lines = [f"### {title}", "", "| metric | pretrained | reference | ratio |", "|---|---|---|---|"]
    for name, ours, ref, unit in rows:
        ratio = ours / ref if higher_is_better else ref / ours
        lines.append(f"| {name} | {ours:.3g} {unit} | {ref:.3g} {unit} | {ratio:.2f}x |")
    return "\n".join(lines)
