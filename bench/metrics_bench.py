"""Benchmark of `ci-tools metrics`: 30 days of a busy repository (1,500 runs) against the GitHub API double.

The double (tests/support/github_api.py) serves the history of tests/support/pipelines.py's busy
repository (1,500 runs, each with its jobs, steps and attempts, JUnit artifacts kept 14 days) and
answers every request after 50 ms, like a distant API. The command runs twice on one cache: cold
(empty cache) and warm (nothing new since), then once more after 20 new runs. Printed: requests to
the API (the artifact archives' downloads follow a redirect to storage: counted apart), wall time,
and what the same requests would cost one after another. Figures only: nothing here asserts.

Goals (issue 17): cold about 1 request per run plus the archives (GitHub's cap of 1,000 runs per
filtered search costs a few more listing pages, never a cut list), wall well under the serial
latency; warm: 3 requests (the repository, the runs newer than the cache, the artifacts newer than
the cache).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LATENCY = 0.05
RUNS = 1500
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))


def run_metrics(env: dict, cache: Path, until: str, out: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ci_tools", "metrics", "org/app", "--since", "30d", "--until", until,
                           "--cache-dir", str(cache), "--output", str(out)], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"metrics failed ({done.returncode}): {done.stderr.strip()}")
    return wall


def main() -> int:
    from support.github_api import GitHubDouble
    from support.pipelines import Attempt, Job, Step, busy_repository

    until = datetime(2026, 3, 2, 12, tzinfo=UTC)
    t0 = time.perf_counter()
    scenario = busy_repository("org/app", until=until, runs=RUNS)
    data = scenario.pipelines.data
    setup = time.perf_counter() - t0
    kept = sum(not a["expired"] for a in data.artifacts)
    env = {**os.environ, "CI": "true", "PYTHONPATH": str(REPO / "scripts")}
    env.pop("GITHUB_TOKEN", None)
    env.pop("GH_TOKEN", None)
    with tempfile.TemporaryDirectory(prefix="ci-tools-metrics-bench-") as tmp, GitHubDouble(latency=LATENCY) as double:
        double.add_repo("org/app", actions=data)
        env["GITHUB_API_URL"] = double.url
        cache, out = Path(tmp) / "cache", Path(tmp) / "report.md"
        stamp = until.strftime("%Y-%m-%dT%H:%M:%SZ")
        rows = []
        for label in ("cold", "warm"):
            double.reset_log()
            wall = run_metrics(env, cache, stamp, out)
            rows.append((label, double.count(), double.count(r"^/_blobs/"), wall))
        for n in range(20):  # the next hour: 20 new runs
            created = until + timedelta(minutes=3 * n)
            scenario.pipelines.add_run(created=created, title=f"new {n}", attempts=[Attempt([Job(
                "lint", [Step("Set up job", 2), Step("ruff check", 5)])])])
        double.reset_log()
        later = (until + timedelta(hours=1, minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
        wall = run_metrics(env, cache, later, out)
        rows.append(("20 new runs", double.count(), double.count(r"^/_blobs/"), wall))
        size = sum(p.stat().st_size for p in cache.rglob("*") if p.is_file())
    print(f"history: {len(data.runs) - 20} runs over 30 days ({sum(len(j) for j in data.jobs.values())} jobs with "
          f"their steps, {len(data.artifacts)} JUnit artifacts, {kept} not expired; built in {setup:.1f}s), "
          f"latency {LATENCY * 1000:.0f} ms per request, 8 requests at once")
    for label, total, blobs, wall in rows:
        api = total - blobs
        print(f"  {label}: {api} API requests + {blobs} archive downloads, wall {wall:.2f}s; "
              f"serial latency of those requests {total * LATENCY:.1f}s"
              + (f", ratio {wall / (total * LATENCY):.2f}" if total else ""))
    print(f"  cache on disk: {size / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
