"""Benchmark of `ci-tools pin` over a copy of ../shared/corpus against the GitHub API double.

The double (tests/support/github_api.py) answers every request after 50 ms, like a distant API.
For every repository the corpus names, a synthetic git repository is generated with the tags and
branches the corpus uses (a ``vN`` ref also gets a ``vN.0.0`` tag on the same commit, as releases
have); commits the corpus already pins are listed as tags named by their version comment.

Printed: unique repositories, occurrences, requests made and wall time of a cold run (empty cache),
then of a warm re-run over the pinned files, and what one request per occurrence would cost at the
same latency (the pinners that resolve line by line). Figures only: nothing here asserts.

Goals (issue 3): cold <= 3 requests per unique repository and wall <= half of requests x latency
(real concurrency); warm: zero requests.

Then the growth with the size of one file (issue 12): one workflow with 2,000, 8,000 and 18,000
`uses:` of one repository, `pin --diff` and `pin` wall times (the double answering at once, no cache).
Goal: linear, 18,000 under 5 s with `--diff` (it took 118 s when the diff was difflib's).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO.parent / "shared" / "corpus"
LATENCY = 0.05
sys.path.insert(0, str(REPO / "scripts"))
sys.path.insert(0, str(REPO / "tests"))

GIT_ENV = {**os.environ, "GIT_AUTHOR_NAME": "Bench", "GIT_AUTHOR_EMAIL": "bench@example.invalid",
           "GIT_COMMITTER_NAME": "Bench", "GIT_COMMITTER_EMAIL": "bench@example.invalid",
           "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull}


def copy_corpus(target: Path) -> list[Path]:
    files = []
    for path in sorted(CORPUS.rglob("*")):
        if path.suffix in (".yml", ".yaml") and path.is_file():
            dest = target / path.relative_to(CORPUS)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
            files.append(dest)
    return files


def scan(files: list[Path], root: Path):
    """Occurrences of remote uses: and what each repository needs to serve."""
    from ci_tools.lint.engine import load_documents
    from ci_tools.pin.occurrences import collect

    docs = load_documents(files, root)
    occurrences = collect(docs)
    needs: dict[str, dict] = {}
    for occ in occurrences:
        entry = needs.setdefault(occ.repo.lower(), {"name": occ.repo, "refs": set(), "pinned": {}})
        if occ.ref.is_sha:
            token = occ.version_token()
            entry["pinned"][occ.ref.ref] = token[0] if token else None
        else:
            entry["refs"].add(occ.ref.ref)
    return occurrences, needs


def make_repo(path: Path, refs: set[str]) -> None:
    """One commit per ref through git fast-import: tags for version-like refs, branches otherwise."""
    subprocess.run(["git", "init", "-q", "--bare", str(path)], check=True, env=GIT_ENV)
    lines, mark = [], 0
    tags: list[tuple[str, int]] = []
    branches: list[tuple[str, int]] = [("main", 0)]
    for ref in ["<root>", *sorted(refs)]:
        mark += 1
        message = f"release {ref}".encode()
        lines.append(b"commit refs/heads/main\n")
        lines.append(f"mark :{mark}\ncommitter Bench <bench@example.invalid> {1700000000 + mark} +0000\n".encode())
        lines.append(f"data {len(message)}\n".encode() + message + b"\n")
        if mark > 1:
            lines.append(f"from :{mark - 1}\n".encode())
        if ref == "<root>":
            continue
        if re.match(r"v?\d+(\.\d+){0,2}([-+].*)?\Z", ref) or ref.startswith("release"):
            tags.append((ref, mark))
            m = re.match(r"(v?)(\d+)(?:\.(\d+))?\Z", ref)
            if m:
                tags.append((f"{m[1]}{m[2]}.{m[3] or 0}.0", mark))
        elif ref != "main":
            branches.append((ref, mark))
    branches[0] = ("main", mark)
    for name, at in tags:
        if not re.search(r"(^|/)\.|\.\.|[\s~^:?*\[\\]|@\{|\.lock$|/$", name):
            lines.append(f"reset refs/tags/{name}\nfrom :{at}\n\n".encode())
    for name, at in branches:
        if not re.search(r"(^|/)\.|\.\.|[\s~^:?*\[\\]|@\{|\.lock$|/$", name):
            lines.append(f"reset refs/heads/{name}\nfrom :{at}\n\n".encode())
    subprocess.run(["git", "--git-dir", str(path), "fast-import", "--quiet", "--force"], input=b"".join(lines),
                   check=True, env=GIT_ENV, capture_output=True)


def run_pin(target: Path, env: dict, cache: Path) -> tuple[float, int]:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "ci_tools", "pin", "--allow-branches", "--cache-dir", str(cache),
                           "--format", "json", "--fail-level", "error", "."], cwd=target, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"pin failed ({done.returncode}): {done.stderr.strip()}")
    return wall, done.returncode


def one_big_file(tmp_path: Path, env: dict) -> None:
    """`pin --diff` and `pin` over one workflow with N uses: (the per-file work, not the network)."""
    from support.github_api import GitHubDouble

    git_dir = tmp_path / "big.git"
    make_repo(git_dir, {"v1.0.0", "v2.0.0"})
    double = GitHubDouble()
    double.add_repo("acme/big", git_dir)
    with double:
        env = {**env, "GITHUB_API_URL": double.url}
        for n in (2000, 8000, 18000):
            work = tmp_path / f"big{n}"
            wf = work / ".github" / "workflows" / "big.yml"
            wf.parent.mkdir(parents=True)
            steps = "".join(f"      - uses: acme/big@v{1 + i % 2}.0.0 # step {i}\n" for i in range(n))
            wf.write_text("on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n" + steps)
            timings = []
            for argv in (["pin", "--diff", "--no-cache"], ["pin", "--no-cache"]):
                start = time.perf_counter()
                done = subprocess.run([sys.executable, "-m", "ci_tools", *argv], cwd=work, env=env,
                                      capture_output=True, text=True)
                timings.append(time.perf_counter() - start)
                if done.returncode not in (0, 1):
                    raise SystemExit(f"pin failed ({done.returncode}): {done.stderr.strip()}")
            print(f"  one file, {n} uses: pin --diff {timings[0]:.2f}s, pin {timings[1]:.2f}s"
                  + ("  (goal: --diff under 5 s)" if n == 18000 else ""))


def main() -> int:
    if not CORPUS.is_dir():
        print(f"corpus not found beside the repository ({CORPUS.name}); nothing to measure")
        return 1
    from support.github_api import GitHubDouble

    with tempfile.TemporaryDirectory(prefix="ci-tools-pin-bench-") as tmp:
        tmp_path = Path(tmp)
        target = tmp_path / "corpus"
        files = copy_corpus(target)
        occurrences, needs = scan(files, target)
        t0 = time.perf_counter()
        double = GitHubDouble(latency=LATENCY)
        for key, need in sorted(needs.items()):
            git_dir = tmp_path / "repos" / (key.replace("/", "+") + ".git")
            make_repo(git_dir, need["refs"])
            extra = {}
            for sha, version in need["pinned"].items():
                extra[version if version and version not in need["refs"] else f"pinned-{sha[:12]}"] = sha
            double.add_repo(need["name"], git_dir, extra_tags=extra)
        setup = time.perf_counter() - t0
        env = {**os.environ, "GITHUB_API_URL": "", "CI": "true", "PYTHONPATH": str(REPO / "scripts")}
        env.pop("GITHUB_TOKEN", None)
        env.pop("GH_TOKEN", None)
        with double:
            env["GITHUB_API_URL"] = double.url
            cache = tmp_path / "cache"
            cold_wall, _ = run_pin(target, env, cache)
            cold_requests = double.count()
            double.reset_log()
            warm_wall, _ = run_pin(target, env, cache)
            warm_requests = double.count()
        repos = len(needs)
        print(f"files: {len(files)}, remote uses: occurrences {len(occurrences)}, unique repositories {repos} "
              f"(synthetic repositories built in {setup:.1f}s), latency {LATENCY * 1000:.0f} ms per request")
        print(f"  cold: {cold_requests} requests ({cold_requests / repos:.2f} per repository, goal <= 3), "
              f"wall {cold_wall:.2f}s; serial cost of those requests {cold_requests * LATENCY:.2f}s, "
              f"ratio {cold_wall / (cold_requests * LATENCY):.2f} (goal <= 0.50)")
        print(f"  warm: {warm_requests} requests (goal 0), wall {warm_wall:.2f}s")
        print(f"  one request per occurrence, serial: {len(occurrences)} requests, "
              f"{len(occurrences) * LATENCY:.2f}s of latency alone "
              f"({len(occurrences) / max(cold_requests, 1):.1f}x the requests of the cold run)")
        one_big_file(tmp_path, env)
    return 0


if __name__ == "__main__":
    sys.exit(main())
