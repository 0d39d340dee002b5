"""Benchmark of `ci-tools check --no-shellcheck` against `zizmor --offline` and actionlint alone.

First the findings per check id on every workflow and action file of ../shared/corpus, before (the
ci-tools of a base revision, ``CHECK_BENCH_BASE``, by default where this branch left ``main``, taken from git into a
temporary directory) and after (this tree). Then medians of 5 interleaved runs of each tool on the
same files, and their ratios; then the same check over the corpus replicated 10 times, with peak
RSS (ci-tools and the actionlint it starts). Figures only: nothing here asserts.

Goals (issues 2 and 15): check <= 0.8 x zizmor; at 10x, time <= 11 x the 1x time and peak RSS < 500 MB.
"""

from __future__ import annotations

import collections
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
BIN = Path(sys.executable).parent
RUNS = 5


def corpus_files(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.suffix in (".yml", ".yaml") and p.is_file())


def timed(argv: list[str], cwd: Path) -> tuple[float, int, int]:
    """Wall seconds, exit status and peak RSS in KiB of the command and its children."""
    probe = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "rc = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode\n"
        "print(time.perf_counter() - t, rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
    )
    out = subprocess.run([sys.executable, "-c", probe, *argv], cwd=cwd, capture_output=True, text=True, check=True)
    wall, rc, rss = out.stdout.split()
    return float(wall), int(rc), int(rss)


def counts(argv: list[str], env: dict[str, str] | None = None) -> collections.Counter | None:
    """Findings per check id of one ``ci-tools check --format json`` run over the corpus."""
    out = subprocess.run(argv, cwd=CORPUS, capture_output=True, text=True, env=env)
    try:
        return collections.Counter(f["check"] for f in json.loads(out.stdout)["findings"])
    except (json.JSONDecodeError, KeyError):
        print(f"  (no findings from {argv[0]}: {out.stderr.strip().splitlines()[-1:] or out.returncode})")
        return None


def merge_base() -> str:
    """Where this branch left main (main itself on main): the "before" of the findings."""
    out = subprocess.run(["git", "-C", str(REPO), "merge-base", "HEAD", "main"], capture_output=True, text=True)
    return out.stdout.strip()[:12] if out.returncode == 0 and out.stdout.strip() else "main"


def findings_per_check(files: list[str]) -> None:
    base = os.environ.get("CHECK_BENCH_BASE") or merge_base()
    args = ["check", "--no-shellcheck", "--format", "json", *files]
    after = counts([str(BIN / "ci-tools"), *args])
    before = None
    with tempfile.TemporaryDirectory(prefix="ci-tools-base-") as tmp:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", base, "scripts/ci_tools", "docs/checks.md"],
                                 capture_output=True)
        if archive.returncode == 0:
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
            env = {**os.environ, "PYTHONPATH": str(Path(tmp) / "scripts")}
            before = counts([sys.executable, "-m", "ci_tools", *args], env)
        else:
            print(f"  base {base!r} not found in git: no 'before' column")
    if after is None:
        return
    print(f"findings per check id on the corpus (--no-shellcheck), before = {base}, after = this tree:")
    print(f"  {'check':26} {'before':>7} {'after':>7} {'change':>7}")
    for check in sorted(set(after) | set(before or {})):
        was = (before or {}).get(check, 0)
        shown = f"{was:7}" if before is not None else f"{'-':>7}"
        print(f"  {check:26} {shown} {after.get(check, 0):7} {after.get(check, 0) - was:+7}")
    total = sum(after.values())
    print(f"  {'total':26} {sum((before or {}).values()) if before is not None else '-':>7} {total:7}")


def main() -> int:
    if not CORPUS.is_dir():
        print(f"corpus not found beside the repository ({CORPUS.name}); nothing to measure")
        return 1
    # byte-compile ci-tools once, as an installed package would be (PYTHONDONTWRITEBYTECODE may be set)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(REPO / "scripts" / "ci_tools")],
                   check=True, stdout=subprocess.DEVNULL)
    files = corpus_files(CORPUS)
    findings_per_check(files)
    tools = {
        "ci-tools check --no-shellcheck": [str(BIN / "ci-tools"), "check", "--no-shellcheck", "--format", "json", *files],
        "zizmor --offline": [str(BIN / "zizmor"), "--offline", "--format", "json", *files],
        "actionlint (bundled) alone": [str(BIN / "actionlint"), "-format", "{{json .}}", "-shellcheck=", "-pyflakes=",
                                       *files],
    }
    env_note = os.environ.get("GITHUB_TOKEN") and "(GITHUB_TOKEN set; zizmor stays offline)"
    print(f"files: {len(files)} workflow and action files of the corpus {env_note or ''}".rstrip())
    for argv in tools.values():  # warm the page cache and the interpreters once
        timed(argv, CORPUS)
    samples: dict[str, list[float]] = {name: [] for name in tools}
    rss: dict[str, int] = {}
    for _ in range(RUNS):
        for name, argv in tools.items():
            wall, _rc, peak = timed(argv, CORPUS)
            samples[name].append(wall)
            rss[name] = max(rss.get(name, 0), peak)
    med = {name: statistics.median(values) for name, values in samples.items()}
    for name, value in med.items():
        print(f"  {name:34} median {value * 1000:8.1f} ms   peak RSS {rss[name] / 1024:7.1f} MB")
    ours = med["ci-tools check --no-shellcheck"]
    print(f"  ratio check / zizmor      = {ours / med['zizmor --offline']:.2f}  (goal <= 0.80)")
    print(f"  ratio check / actionlint  = {ours / med['actionlint (bundled) alone']:.2f}")

    with tempfile.TemporaryDirectory(prefix="ci-tools-bench-") as tmp:
        big = Path(tmp)
        for i in range(10):
            shutil.copytree(CORPUS, big / f"copy{i}", ignore=shutil.ignore_patterns("*.json", "*.tsv"))
        argv = [str(BIN / "ci-tools"), "check", "--no-shellcheck", "--format", "json", "."]
        timed(argv, big)
        walls, peak = [], 0
        for _ in range(3):
            wall, _rc, rss_kb = timed(argv, big)
            walls.append(wall)
            peak = max(peak, rss_kb)
        ten = statistics.median(walls)
        print(f"10x corpus: {len(files) * 10} files, median {ten * 1000:.1f} ms = {ten / ours:.2f} x the 1x time "
              f"(goal <= 11), peak RSS {peak / 1024:.1f} MB (goal < 500)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
