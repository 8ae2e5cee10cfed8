"""Run every benchmark and print their JSON; the figures in BENCHMARKS.md come from this output."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SLOW = {"bench_risk.py"}  # minutes of nested validation: run on its own
SCRIPTS = sorted(p for p in HERE.glob("bench_*.py") if p.name not in SLOW)


def main() -> int:
    failed = 0
    for script in SCRIPTS:
        print(f"== {script.name}", flush=True)
        run = [sys.executable, "-m", f"benchmarks.{script.stem}", *sys.argv[1:]]
        failed += subprocess.run(run, cwd=HERE.parent, check=False).returncode != 0
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
