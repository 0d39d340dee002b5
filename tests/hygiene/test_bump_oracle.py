"""The bump of ``ci-tools commits`` against real release-please (npm), on the same messages.

release_please_oracle.js runs release-please's own ``parseConventionalCommits``,
``DefaultVersioningStrategy`` and ``DefaultChangelogNotes``: the pieces that decide a release's
version and whether there is a release at all. Each history is compared: the next version, or
"no release".
"""

from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

from ci_tools.hygiene.conventional import Rules, check_message, compute_bump
from support.npm_release_please import release_please_dir

ORACLE = Path(__file__).with_name("release_please_oracle.js")
TYPES = ["feat", "fix", "perf", "revert", "chore", "docs", "ci", "refactor", "test", "build", "style", "feature",
         "Feat", "FIX", "deps"]
CURATED = [
    ["chore: a", "docs: b"],
    ["fix: a", "chore: b"],
    ["Feat: a"],
    ["feature: a"],
    ["chore!: drop node 16"],
    ["docs: a\n\nBREAKING CHANGE: the docs moved"],
    ["fix: a\n\nBREAKING-CHANGE: b"],
    ["Update README", "Merge branch 'main' into feature/x"],
    ['Revert "feat: x"\n\nThis reverts commit 0123456.'],
    ["revert: feat: x"],
    ["fix: newer\n\nRelease-As: 3.0.0", "feat: older\n\nRelease-As: 2.0.0"],
    ["fix: a\n\nRelease-As: 2.0.0\n\nRefs: #1"],
    ["feat(api)!: new endpoints", "fix: typo"],
    ["feat:no space"],
]


def generated(seed: int, count: int) -> list[list[str]]:
    rng = random.Random(seed)

    def message() -> str:
        kind = rng.random()
        scope = f"({rng.choice(['api', 'ui'])})" if rng.random() < 0.3 else ""
        bang = "!" if rng.random() < 0.1 else ""
        parts = []
        if rng.random() < 0.4:
            parts.append(rng.choice(["Some body text.", "Line one\nline two"]))
        if rng.random() < 0.15:
            parts.append(rng.choice(["BREAKING CHANGE: x changed", "BREAKING-CHANGE: y",
                                     "Reviewed-by: Z\nBREAKING CHANGE: w"]))
        if rng.random() < 0.05:
            parts.append("Release-As: 3.1.4")
        body = "".join(f"\n\n{p}" for p in parts)
        if kind < 0.06:
            return "Update the readme" + body
        return f"{rng.choice(TYPES)}{scope}{bang}: do things{body}"

    return [[message() for _ in range(rng.randint(1, 4))] for _ in range(count)]


def oracle(cases: list[dict]) -> list[dict]:
    done = subprocess.run(["node", str(ORACLE)], input=json.dumps(cases), capture_output=True, text=True,
                          env={"RELEASE_PLEASE_DIR": str(release_please_dir()), "PATH": "/usr/bin:/bin"},
                          timeout=120, check=True)
    return json.loads(done.stdout.split("RESULT ")[-1])


def ours(case: dict) -> str | None:
    messages = [check_message(m, Rules())[0] for m in case["messages"]]
    bump = compute_bump(messages, case["version"], bump_minor_pre_major=case["minorPre"],
                        bump_patch_for_minor_pre_major=case["patchPre"])
    return None if bump.level == "none" else bump.next


@pytest.mark.slow
def test_bump_equals_release_please():
    histories = CURATED + generated(20261122, 600)
    cases = [{"messages": h, "version": version, "minorPre": minor, "patchPre": patch}
             for i, h in enumerate(histories)
             for version, minor, patch in [(("0.4.1", "1.2.3")[i % 2], i % 3 == 0, i % 5 == 0)]]
    expected = [None if r["empty"] else r["next"] for r in oracle(cases)]
    mismatches = [(c, e, ours(c)) for c, e in zip(cases, expected, strict=True) if ours(c) != e]
    assert mismatches == []
    assert len({e for e in expected}) > 5  # the histories cover none, patch, minor and major


@pytest.mark.slow
def test_range_on_a_real_history_equals_release_please(cli, repo):
    repo.commit("chore: init", {".release-please-manifest.json": '{".": "0.9.0"}\n'})
    repo.branch("feature/x")
    for message in ["feat(api): add search", "Merge-free history", "fix: empty query\n\nRefs: #4",
                    "perf!: new index\n\nBREAKING CHANGE: rebuild the index"]:
        repo.commit(message)
    done = cli("commits", "main..HEAD", "--format", "json", cwd=repo.path)
    bump = json.loads(done.stdout)["bump"]
    log = repo.git("log", "-z", "--format=%B", "main..HEAD").split("\0")
    (theirs,) = oracle([{"messages": [m for m in log if m.strip()], "version": "0.9.0",
                         "minorPre": False, "patchPre": False}])
    assert (bump["level"], bump["next_version"]) == ("major", theirs["next"]) == ("major", "1.0.0")
