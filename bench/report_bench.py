"""Benchmark of `ci-tools report` (issue 6). Figures only: nothing here asserts.

Offline: over every workflow and action file of ../shared/corpus, the work the report adds beyond
`check`'s parse (loading the same files), in-process: median of 5 runs of load only, and of load +
inventory + known-compromised + markdown rendering. Goal: the difference under one second.

Online: the report with --online against the GitHub API double (tests/support/github_api.py, a
real HTTP server on 127.0.0.1 answering from real git repositories built here) for a workflow using
N actions from R repositories, each with releases: requests per repository on a cold cache (goal:
one refs and one releases lookup per repository, each action file once), then on a warm cache.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = Path(__file__).parents[1].parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "tests"))
RUNS = 5


def offline() -> None:
    from ci_tools.gha import advisories
    from ci_tools.lint import engine
    from ci_tools.review import inventory, render

    files = sorted(p for p in CORPUS.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())
    load_times, report_times = [], []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        docs = engine.load_documents(files, CORPUS)
        t1 = time.perf_counter()
        inv = inventory.build(docs, ["org"], "org/ci")
        for doc in docs:
            inv.findings.extend(advisories.findings(doc))
        for fmt in ("markdown", "json"):
            render.RENDERERS[fmt](inv, io.StringIO())
        t2 = time.perf_counter()
        load_times.append(t1 - t0)
        report_times.append(t2 - t1)
    deps = len(inv.dependencies)
    uses = sum(len(d.uses) for d in inv.dependencies)
    print(f"offline: {len(files)} files, {deps} dependencies, {uses} uses")
    print(f"  parse (what check also does)  median {statistics.median(load_times) * 1000:8.1f} ms")
    print(f"  report work beyond the parse  median {statistics.median(report_times) * 1000:8.1f} ms  (goal < 1000 ms)")


def online(n_repos: int = 20, actions_per_repo: int = 3) -> None:
    from support.github_api import GitHubDouble
    from support.gitrepo import Repo

    with tempfile.TemporaryDirectory(prefix="ci-tools-bench-") as tmp:
        root = Path(tmp)
        double = GitHubDouble()
        lines = []
        for r in range(n_repos):
            repo = Repo(root / f"r{r}")
            files = {f"a{i}/action.yml": "name: a\ndescription: d\nruns:\n  using: node24\n  main: i.js\n"
                     for i in range(actions_per_repo)}
            sha = repo.commit("one", files)
            repo.git("tag", "v1.0.0")
            double.add_repo(f"bench/r{r}", repo.path, releases=[
                {"tag_name": "v1.0.0", "published_at": "2026-01-01T00:00:00Z"}])
            lines += [f"      - uses: bench/r{r}/a{i}@{sha} # v1.0.0" for i in range(actions_per_repo)]
        project = Repo(root / "project")
        project.commit("ci", {".github/workflows/ci.yml": "on: push\njobs:\n  b:\n    runs-on: x\n    steps:\n"
                              + "\n".join(lines) + "\n"})
        env = {**os.environ, "GITHUB_API_URL": "", "CI_TOOLS_HTTP_BACKOFF": "0"}
        env.pop("GITHUB_TOKEN", None)
        env.pop("GH_TOKEN", None)
        with double:
            env["GITHUB_API_URL"] = double.url
            argv = [sys.executable, "-m", "ci_tools", "report", "--online", "--format", "json", "--cache-dir",
                    str(root / "cache")]
            for label in ("cold cache", "warm cache"):
                double.reset_log()
                t = time.perf_counter()
                subprocess.run(argv, cwd=project.path, env=env, check=True, capture_output=True)
                wall = time.perf_counter() - t
                per = {kind: double.count(pattern) for kind, pattern in (
                    ("tags", r"/tags"), ("branches", r"/branches"), ("releases", r"/releases"),
                    ("contents", r"/contents/"), ("advisories", r"^/advisories"))}
                print(f"online, {label}: {n_repos} repositories, {n_repos * actions_per_repo} actions: "
                      f"{double.count()} requests in {wall * 1000:.0f} ms "
                      + ", ".join(f"{k} {v}" for k, v in per.items())
                      + f"  (per repository: {double.count() / n_repos:.2f})")


def main() -> int:
    if not CORPUS.is_dir():
        print("corpus not found beside the repository; offline figures skipped")
    else:
        offline()
    online()
    print(f"(measured {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
