"""``make bench``: every side-by-side benchmark in one run; the tables go to stdout and bench/RESULTS.md."""

from __future__ import annotations

import platform
import sys
import time
from pathlib import Path

from bench import bench_bert, bench_generation, bench_pipelines, bench_tokenizers


def main() -> None:
    sys.argv = sys.argv[:1]  # each benchmark runs with its defaults
    started = time.strftime("%Y-%m-%d %H:%M")
    parts = [bench_bert.main(), bench_tokenizers.main(), bench_generation.main(), bench_pipelines.main()]
    header = f"Run {started} on {platform.machine()} ({platform.processor() or 'cpu'}), Python {platform.python_version()}\n\n"
    Path(__file__).with_name("RESULTS.md").write_text(header + "\n\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
