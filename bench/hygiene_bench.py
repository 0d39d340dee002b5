"""Benchmark of the pull request hygiene commands on generated repositories.

- `ci-tools commits BASE..HEAD` over a branch of 2,000 commits (made with `git fast-import`);
- `ci-tools secrets BASE` over pull requests that add 60,000 lines (issue 13: goal at most 1.2 times
  detect-secrets alone on the same lines), against detect-secrets scanning the same files, once as
  its CLI runs on a repository (`detect-secrets scan --all-files DIR`, a process per core) and once
  as its library scans them (`SecretsCollection.scan_files` with the default settings). Two shapes:
  60 files of 1,000 lines (Python and YAML, with strings, URLs and keyword assignments that keep
  every plugin busy), and one file of 60,000 lines (detect-secrets scans a file in one process).
  The added files hold no secret, so no plugin's network verification runs.

Medians of 3 interleaved runs, in seconds, and the ratios. Figures only: nothing here asserts.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent
RUNS = 3
ENV = {**os.environ, "GIT_AUTHOR_NAME": "B", "GIT_AUTHOR_EMAIL": "b@example.invalid",
       "GIT_COMMITTER_NAME": "B", "GIT_COMMITTER_EMAIL": "b@example.invalid"}


def git(cwd: Path, *args: str, input: bytes | None = None) -> None:
    subprocess.run(["git", *args], cwd=cwd, env=ENV, input=input, check=True, capture_output=True)


def commits_repo(root: Path, count: int) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "chore: init")
    stream = bytearray()
    kinds = ["feat(api): add endpoint", "fix: handle empty input", "chore: bump deps", "Update README"]
    for i in range(count):
        msg = f"{kinds[i % len(kinds)]} {i}\n\nBody line of commit {i}.\n".encode()
        parent = "from refs/heads/main\n" if i == 0 else ""
        stream += (f"commit refs/heads/feature/bench\ncommitter B <b@example.invalid> {1700000000 + i} +0000\n"
                   f"data {len(msg)}\n").encode() + msg + parent.encode() + b"\n"
    git(root, "fast-import", "--quiet", input=bytes(stream))


def _python_line(f: int, n: int) -> str:
    kinds = (f"def handler_{f}_{n}(request, limit={n}):",
             f'    name = "component-{f}-{n}"',
             f'    url = "https://api.example.invalid/v1/items/{n}?page={f}"',
             f"    total = sum(item.value for item in request.items[:{n}])",
             f'    logger.info("processed %s items for %s", total, "{f}-{n}")',
             f"    return Response(status=200, body={{'count': total, 'id': {n}}})",
             f"# note {n}: values are cached for {f} seconds",
             f'TIMEOUT_{f}_{n} = {n % 97}  # seconds')
    return kinds[n % len(kinds)]


def _yaml_line(f: int, n: int) -> str:
    kinds = (f"service_{n}:", f"  image: registry.example.invalid/team/app-{f}:{n % 40}.{n % 7}.0",
             f'  description: "worker {n} of group {f}"', f"  replicas: {n % 5 + 1}",
             f"  port: {8000 + n % 1000}")
    return kinds[n % len(kinds)]


def secrets_repo(root: Path, layout: list[tuple[str, int]]) -> None:
    """A pull request adding the files of ``layout`` (name, lines), on a branch off main."""
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "chore: init")
    git(root, "checkout", "-q", "-b", "feature/bench")
    for f, (name, lines) in enumerate(layout):
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        line = _yaml_line if name.endswith(".yaml") else _python_line
        path.write_text("".join(line(f, n) + "\n" for n in range(lines)))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feat: many modules")


LIBRARY = ("import sys\nfrom detect_secrets.core.secrets_collection import SecretsCollection\n"
           "from detect_secrets.settings import default_settings\n"
           "with default_settings():\n    SecretsCollection().scan_files(*sys.argv[1:])\n")


def median(argv: list[str], cwd: Path) -> float:
    return medians({"run": argv}, cwd)["run"][0]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def medians(commands: dict[str, list[str]], cwd: Path) -> dict[str, tuple[float, float]]:
    """Median wall time and CPU time (all processes) of each command, runs interleaved so that a busy
    machine hurts all alike; the CPU time is the steadier figure on a shared machine."""
    samples: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
    for _ in range(RUNS):
        for name, argv in commands.items():
            start, cpu = time.perf_counter(), _cpu()
            subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            samples[name].append((time.perf_counter() - start, _cpu() - cpu))
    return {name: (statistics.median(w for w, _ in values), statistics.median(c for _, c in values))
            for name, values in samples.items()}


def secrets(tmp: str, label: str, layout: list[tuple[str, int]]) -> None:
    repo = Path(tmp, label.replace(" ", "-"))
    repo.mkdir()
    secrets_repo(repo, layout)
    files = [name for name, _ in layout]
    lines = sum(count for _, count in layout)
    t = medians({"ci-tools": [str(BIN / "ci-tools"), "secrets", "main", "--format", "json"],
                 "cli": [str(BIN / "detect-secrets"), "scan", "--all-files", "src"],
                 "library": [sys.executable, "-c", LIBRARY, *files]}, repo)
    ours = t["ci-tools"]
    print(f"ci-tools secrets, {label} ({lines} added lines): wall {ours[0]:.2f} s, CPU {ours[1]:.2f} s", flush=True)
    for name, what in (("cli", "detect-secrets scan (CLI)"), ("library", "detect-secrets library")):
        wall, cpu = t[name]
        print(f"  {what} on the same files: wall {wall:.2f} s (ratio {ours[0] / wall:.2f}), CPU {cpu:.2f} s "
              f"(ratio {ours[1] / cpu:.2f})", flush=True)


def main() -> int:
    print(f"cores available: {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()}")
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp, "commits")
        repo.mkdir()
        commits_repo(repo, 2000)
        t = median([str(BIN / "ci-tools"), "commits", "main..feature/bench", "--format", "json"], repo)
        print(f"ci-tools commits, 2000 commits: {t:.2f} s", flush=True)
        secrets(tmp, "60 files of 1000 lines", [(f"src/module_{f}.{'yaml' if f % 6 == 5 else 'py'}", 1000)
                                                for f in range(60)])
        secrets(tmp, "1 file of 60000 lines", [("src/big.py", 60000)])
    return 0


if __name__ == "__main__":
    sys.exit(main())
