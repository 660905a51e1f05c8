"""Run every benchmark (``tests/bench/bench_*.py``) in turn and print what each prints.

``make bench`` calls this. Each benchmark runs in its own process from the repository
root; the exit status is 1 when any of them fails or misses its goal.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    """Run the benchmarks; return 0 when every one exits 0."""
    failed = []
    for script in sorted((ROOT / "tests" / "bench").glob("bench_*.py")):
        name = script.relative_to(ROOT)
        print(f"== {name}", flush=True)
        started = time.perf_counter()
        result = subprocess.run([sys.executable, str(script)], cwd=ROOT)
        print(f"== {name}: exit {result.returncode} after "
              f"{time.perf_counter() - started:.1f} s\n", flush=True)
        if result.returncode != 0:
            failed.append(str(name))
    if failed:
        print("missed or failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
