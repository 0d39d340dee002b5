"""`make bench`: run every bench/*_bench.py script in turn; each prints its own figures."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(HERE.glob("*_bench.py"))
    if len(sys.argv) > 1:
        scripts = [s for s in scripts if any(name in s.name for name in sys.argv[1:])]
    status = 0
    for script in scripts:
        print(f"== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)])
        status = status or result.returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
