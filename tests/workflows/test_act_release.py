"""release.yml end to end under act, called by workflow-templates/release.yml on pushes to main.

Real: act, git (the service ``org/svc`` released up to v1.2.0, served by ``git http-backend`` on
127.0.0.1 as ``github.server_url``, wanting the job's token; the
floating tag moved by a real push), release-please itself (npm, 16.14.1: the version
release-please-action v4.1.4 bundles) computing the release pull request and the release from the
history, the release-please action's scripts at the commit under test. Stand-in:
googleapis/release-please-action, the one the action's own tests use
(tests/actions/release-please/rp_action_standin.py: real release-please, GitHub's writes played
by support.release_github against the real origin and a loopback API; a draft release gets no tag,
as on GitHub). The world is theirs (``World`` of test_release_please_action.py), with the starter
template added as the service's workflow.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from support.service_repo import template
from support.terraform import load_script

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "actions" / "release-please"))  # rp_world, rp_action_standin
RELEASE_TESTS = load_script(HERE.parent / "actions" / "release-please" / "test_release_please_action.py",
                            "act_release_please_world")
JOB = "release/Release/release-please"


def adopted(act_session, package: dict | None = None):
    """The release world of the action's tests, its service having adopted the starter workflow."""
    from support.act import add_observer

    w = RELEASE_TESTS.World(act_session.new_dir("release"), package)
    workflow = w.origin.work.path / ".github" / "workflows" / "release.yml"
    workflow.parent.mkdir(parents=True)
    workflow.write_text(template("release", act_session.act.served.sha), encoding="utf-8")
    add_observer(workflow)
    w.origin.work.git("add", "-A")
    w.origin.work.commit("ci: release with org/ci's starter workflow")
    w.origin.push_all()
    return w


@pytest.fixture(scope="module")
def world(act_session):
    w = adopted(act_session)
    yield w
    w.stop()


@pytest.fixture(scope="module")
def draft_world(act_session):
    w = adopted(act_session, {"draft": True})
    yield w
    w.stop()


def release(act_session, world):
    work = world.origin.work
    sha = work.git("rev-parse", "HEAD")
    payload = {"ref": "refs/heads/main", "before": work.git("rev-parse", "HEAD~1"), "after": sha,
               "repository": {"name": "svc", "full_name": "org/svc", "default_branch": "main"}}
    github = {"GITHUB_REPOSITORY": "org/svc", "GITHUB_REF": "refs/heads/main", "SHA_REF": sha,
              "GITHUB_API_URL": world.github.url, "GITHUB_RUN_ID": "99",
              # the action authenticates git for GITHUB_SERVER_URL (an extraheader for that URL),
              # so here the server URL itself is the loopback one, as in the action's own tests
              "GITHUB_SERVER_URL": world.git_server.url}
    return act_session.act.run(work.path, "push", "release.yml", payload, github=github,
                               handlers={"googleapis/release-please-action": world.action},
                               secrets={"GITHUB_TOKEN": "ghs_runtoken"})


def test_release_pull_request_then_the_release_with_its_outputs_and_moved_major_tag(act_session, world):
    first = release(act_session, world)
    assert first.succeeded, first.text()[-8000:]
    assert first.needs["release"] == {"result": "success", "outputs": {
        "release-created": "false", "tag": "", "version": "", "sha": "", "draft": "false"}}
    [pull] = world.github.pulls
    assert pull["title"] == "chore(main): release 1.3.0"
    assert "export endpoint" in pull["body"] and "handle empty input" in pull["body"]
    assert "No release in this run." in first.summary(JOB)

    merge = world.merge_release("1.3.0", pull["number"])
    before = world.origin.tags()
    second = release(act_session, world)
    assert second.succeeded, second.text()[-8000:]
    assert second.needs["release"] == {"result": "success", "outputs": {
        "release-created": "true", "tag": "v1.3.0", "version": "1.3.0", "sha": merge, "draft": "false"}}
    tags = world.origin.tags()
    assert tags["v1.3.0"] == tags["v1"] == merge  # move-major-tag: true in the template
    assert tags["v1.2"] == before["v1.2"]  # move-minor-tag stays off
    assert world.github.gh_releases[-1]["tagName"] == "v1.3.0"
    assert any(auth for auth in world.git_server.auth)  # the tag went up with the job's token


def test_a_draft_release_is_created_without_a_tag_and_moves_no_floating_tag(act_session, draft_world):
    """release-please's ``draft: true``: GitHub creates the tag only when the draft is published, so the
    caller sees the release with ``draft: true`` and no tag moved, instead of a tag-mismatch failure."""
    first = release(act_session, draft_world)
    assert first.succeeded, first.text()[-8000:]
    [pull] = draft_world.github.pulls
    merge = draft_world.merge_release("1.3.0", pull["number"])
    before = draft_world.origin.tags()
    second = release(act_session, draft_world)
    assert second.succeeded, second.text()[-8000:]
    assert second.needs["release"] == {"result": "success", "outputs": {
        "release-created": "true", "tag": "v1.3.0", "version": "1.3.0", "sha": merge, "draft": "true"}}
    assert draft_world.origin.tags() == before  # no v1.3.0 until the draft is published; v1 stays
    assert draft_world.github.gh_releases[-1]["draft"] is True
    assert "as a **draft** (GitHub creates its tag when the draft is published)" in second.summary(JOB)
