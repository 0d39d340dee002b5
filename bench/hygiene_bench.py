"""Benchmark of the pull request hygiene commands on generated repositories.

- `ci-tools commits BASE..HEAD` over a branch of 2,000 commits (made with `git fast-import`);
- `ci-tools secrets BASE` over a pull request adding 200 files of 100 lines each (20,000 added
  lines, none of them a secret), against `detect-secrets scan` of the same files for reference.

Medians of 3 runs, in seconds. Figures only: nothing here asserts.
"""

from __future__ import annotations

import os
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


def secrets_repo(root: Path, files: int, lines: int) -> None:
    git(root, "init", "-q", "-b", "main")
    git(root, "commit", "-q", "--allow-empty", "-m", "chore: init")
    git(root, "checkout", "-q", "-b", "feature/bench")
    for f in range(files):
        path = root / "src" / f"module_{f}.py"
        path.parent.mkdir(exist_ok=True)
        path.write_text("".join(f"def function_{f}_{n}(value):\n    return value + {n}\n" for n in range(lines // 2)))
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "feat: many modules")


def median(argv: list[str], cwd: Path) -> float:
    samples = []
    for _ in range(RUNS):
        start = time.perf_counter()
        subprocess.run(argv, cwd=cwd, env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        repo = Path(tmp, "commits")
        repo.mkdir()
        commits_repo(repo, 2000)
        t = median([str(BIN / "ci-tools"), "commits", "main..feature/bench", "--format", "json"], repo)
        print(f"ci-tools commits, 2000 commits: {t:.2f} s")
        repo = Path(tmp, "secrets")
        repo.mkdir()
        secrets_repo(repo, 200, 100)
        t = median([str(BIN / "ci-tools"), "secrets", "main", "--format", "json"], repo)
        ref = median([str(BIN / "detect-secrets"), "scan", "src"], repo)
        print(f"ci-tools secrets, 200 files / 20000 added lines: {t:.2f} s "
              f"(detect-secrets scan of the same files: {ref:.2f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
