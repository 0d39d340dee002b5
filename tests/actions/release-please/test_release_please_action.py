"""The release-please action end to end through the local runner (``support.runner``).

Real: the action's own steps (``release.py`` with the runner's python3); git (a bare ``org/svc``
served by ``git http-backend`` over HTTP on 127.0.0.1 as ``GITHUB_SERVER_URL``, wanting the token
as GitHub does; tags read, fetched and force-pushed for real; a ``pre-receive`` hook playing a tag
protection rule); and release-please itself (npm), which computes the release pull request from
the real commit history and the release from the merged pull request.

Stand-in: ``googleapis/release-please-action`` is a node action that needs GitHub. In its place,
``rp_action_standin.ReleasePleaseAction`` runs the real release-please library as the action's
``src/index.ts`` does, plays GitHub's writes (create the release and its tag, open the pull
request) against the real ``origin`` and a loopback GitHub API, and sets exactly the outputs
release-please-action v4.1.4 sets (its ``outputReleases``/``outputPRs``, ported). See that
module's docstring for the exact line between real, played and mapped. The workspace is empty:
the action needs no checkout.
"""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from rp_action_standin import PENDING, ReleaseGitHub, ReleasePleaseAction
from rp_world import ACTION, AuthGitServer, Origin

from support.runner import StepCall, run_action

pytestmark = pytest.mark.slow
USES = "googleapis/release-please-action"


class World:
    """A service repository `org/svc` released up to v1.2.0, with a feature and a fix since."""

    def __init__(self, root: Path, package: dict | None = None) -> None:
        self.root = root
        self.origin = Origin(root)
        config = {"packages": {".": {"release-type": "simple", **(package or {})}},
                  "$schema": "https://raw.githubusercontent.com/googleapis/release-please/main/schemas/config.json"}
        self.origin.work.commit("chore: start", {
            "release-please-config.json": json.dumps(config, indent=2) + "\n",
            ".release-please-manifest.json": json.dumps({".": "1.0.0"}) + "\n",
            "version.txt": "1.0.0\n", "CHANGELOG.md": "# Changelog\n"})
        self.origin.work.git("tag", "v1.0.0")
        self.origin.released["v1.0.0"] = self.origin.work.git("rev-parse", "HEAD")
        for version in ("1.1.0", "1.2.0"):
            self.origin.work.commit("feat: something", {"src.txt": version})
            self.merge_release(version)
        v120 = self.origin.released["v1.2.0"]
        self.origin.work.git("tag", "-a", "-m", "v1", "v1", v120)
        self.origin.work.git("tag", "v1.2", v120)
        self.origin.work.commit("feat: export endpoint", {"src.txt": "export"})
        self.origin.work.commit("fix: handle empty input", {"src.txt": "export, empty"})
        self.origin.push_all()
        self.workspace = root / "workspace"  # no checkout: the action needs none
        self.workspace.mkdir()
        self.github = ReleaseGitHub("org/svc", self.origin.bare)
        self.github.start()
        self.git_server = AuthGitServer(self.origin.server_root, "ghs_runtoken")
        self.git_server.start()
        for tag in ("v1.0.0", "v1.1.0", "v1.2.0"):
            self.github.gh_releases.append({"id": 1, "name": tag, "tagName": tag, "sha": self.origin.released[tag],
                                            "tagCommit": self.origin.released[tag], "notes": "",
                                            "url": f"https://github.com/org/svc/releases/tag/{tag}", "draft": False})
        self.action = ReleasePleaseAction(self.github)

    def merge_release(self, version: str, number: int | None = None) -> str:
        """The release pull request merged (squash): manifest, version file, changelog, tagged on release."""
        suffix = f" (#{number})" if number else ""
        sha = self.origin.work.commit(f"chore(main): release {version}{suffix}", {
            ".release-please-manifest.json": json.dumps({".": version}) + "\n", "version.txt": version + "\n",
            "CHANGELOG.md": f"# Changelog\n\n## {version}\n"})
        if number is None:  # history from before the test: released already
            self.origin.work.git("tag", f"v{version}")
            self.origin.released[f"v{version}"] = sha
        else:
            self.origin.push_all()
            self.github.merge_pull(number, sha)
        return sha

    def run(self, stand_in=None, **inputs):
        return run_action(ACTION, inputs=inputs, workspace=self.workspace,
                          github={"repository": "org/svc", "token": "ghs_runtoken", "api_url": self.github.url,
                                  "server_url": self.git_server.url},
                          stand_ins={USES: stand_in or self.action})

    def stop(self) -> None:
        self.github.stop()
        self.git_server.stop()

    def open_and_merge(self) -> tuple[int, str]:
        """Run once (release-please opens the release pull request), then merge it."""
        first = self.run()
        assert first.outputs["release-created"] == "false" and first.outputs["pr"], first.stdout + str(first.errors)
        number = int(first.outputs["pr"])
        pull = next(p for p in self.github.pulls if p["number"] == number)
        version = pull["title"].rsplit(" ", 1)[-1]
        return number, self.merge_release(version, number)


@pytest.fixture
def world(tmp_path):
    w = World(tmp_path)
    yield w
    w.stop()


def test_no_release_yet_opens_the_release_pull_request(world):
    result = world.run()
    assert not result.failed, result.errors
    assert result.outputs == {"release-created": "false", "tag": "", "version": "", "sha": "", "major": "",
                              "minor": "", "patch": "", "draft": "false", "pr": "7", "paths-released": "[]",
                              "moved-tags": "",
                              "failure-reason": ""}
    pull = world.github.pulls[0]  # what the real release-please proposed from the history
    assert pull["title"] == "chore(main): release 1.3.0" and pull["labels"] == [PENDING]
    assert "export endpoint" in pull["body"] and "handle empty input" in pull["body"]
    assert result.step("move-tags").skipped
    assert "No release in this run." in result.summary
    assert f"[#7]({world.git_server.url}/org/svc/pull/7)" in result.summary
    call: StepCall = world.action.calls[0]
    assert call.inputs["config-file"] == "release-please-config.json" and call.inputs["token"] == "ghs_runtoken"
    assert call.inputs["manifest-file"] == ".release-please-manifest.json" and "path" not in call.inputs


def test_a_merged_release_pull_request_is_released_and_the_floating_tags_move(world):
    number, merge = world.open_and_merge()
    before = world.origin.tags()
    result = world.run(**{"move-tags": "true"})
    assert not result.failed, result.errors
    assert result.outputs == {"release-created": "true", "tag": "v1.3.0", "version": "1.3.0", "sha": merge,
                              "major": "1", "minor": "3", "patch": "0", "draft": "false", "pr": "",
                              "paths-released": '["."]',
                              "moved-tags": "v1,v1.3",
                              "failure-reason": ""}
    tags = world.origin.tags()
    assert tags["v1.3.0"] == tags["v1"] == tags["v1.3"] == merge
    assert world.origin.tag_type("v1") == "commit"
    assert "export endpoint" in world.github.gh_releases[-1]["notes"]  # notes from the merged pull request
    assert tags["v1.2"] == before["v1.2"]
    assert "Released [v1.3.0](https://github.com/org/svc/releases/tag/v1.3.0)" in result.summary
    assert "`v1` moved to v1.3.0" in result.summary
    assert world.git_server.auth and all(a == world.git_server.expected for a in world.git_server.auth)
    # the next run finds the pull request tagged: nothing more to release
    again = world.run(**{"move-tags": "true"})
    assert again.outputs["release-created"] == "false" and not again.failed
    assert again.step("move-tags").skipped


def test_the_reusable_workflows_major_only_input(world):
    world.open_and_merge()
    result = world.run(**{"move-major-tag": "true"})
    assert result.outputs["moved-tags"] == "v1" and "v1.3" not in world.origin.tags()


def test_a_release_without_move_tags_leaves_them(world):
    world.open_and_merge()
    before = world.origin.tags()
    result = world.run()
    assert result.outputs["release-created"] == "true" and result.outputs["moved-tags"] == ""
    assert world.origin.tags()["v1"] == before["v1"]


def test_a_prerelease_is_released_but_moves_no_tag(tmp_path):
    world = World(tmp_path, {"release-as": "1.3.0-rc.1", "prerelease": True})
    try:
        number, merge = world.open_and_merge()
        assert world.github.pulls[0]["title"] == "chore(main): release 1.3.0-rc.1"
        before = world.origin.tags()
        result = world.run(**{"move-tags": "true"})
        assert not result.failed, result.errors
        assert result.outputs["release-created"] == "true" and result.outputs["version"] == "1.3.0-rc.1"
        assert result.outputs["moved-tags"] == ""
        assert "v1.3.0-rc.1 is a prerelease: v1, v1.3 not moved" in result.notices
        tags = world.origin.tags()
        assert tags["v1.3.0-rc.1"] == merge and tags["v1"] == before["v1"] and "v1.3" not in tags
    finally:
        world.stop()


def test_a_release_tag_that_already_existed_elsewhere_is_a_tag_mismatch(world):
    number, merge = world.open_and_merge()
    world.origin.work.git("tag", "v1.3.0", world.origin.released["v1.2.0"])  # pushed by hand, on the wrong commit
    world.origin.push_all()
    before = world.origin.tags()
    result = world.run(**{"move-tags": "true"})
    assert result.failed
    assert result.outputs["failure-reason"] == "tag-mismatch"
    assert result.outputs["release-created"] == "true" and result.outputs["sha"] == merge
    assert any("release tag v1.3.0 points at" in e for e in result.errors)
    assert world.origin.tags() == before
    assert "**Failed** (`tag-mismatch`)" in result.summary


def test_a_rejected_tag_push_is_push_failed(world):
    world.open_and_merge()
    hook = world.origin.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refs/tags/v1: protected by a tag rule' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    before = world.origin.tags()
    result = world.run(**{"move-tags": "true"})
    assert result.failed and result.outputs["failure-reason"] == "push-failed"
    assert world.origin.tags()["v1"] == before["v1"] and "v1.3" not in world.origin.tags()
    assert any("git push failed" in e for e in result.errors), result.errors


def test_release_please_failing_is_release_please_failed(world):
    result = world.run(**{"config-file": "release-please-config.missing.json"})
    assert result.failed
    assert result.outputs["failure-reason"] == "release-please-failed"
    assert result.outputs["release-created"] == "false"
    assert any(e.startswith("release-please failed:") for e in result.errors), result.errors
    assert result.step("normalise").skipped and result.step("move-tags").skipped
    assert "**Failed** (`release-please-failed`)" in result.summary


def test_outputs_release_please_action_would_never_set_are_invalid_output(world):
    """A deliberately wrong stand-in: a release without its commit SHA (as a changed upstream might)."""

    def broken(call: StepCall) -> dict[str, str]:
        return {"releases_created": "true", "release_created": "true", "tag_name": "v1.3.0", "version": "1.3.0",
                "paths_released": '["."]', "prs_created": "false"}

    result = world.run(broken, **{"move-tags": "true"})
    assert result.failed and result.outputs["failure-reason"] == "invalid-output"
    assert result.outputs["release-created"] == "false" and result.step("move-tags").skipped


def test_a_token_the_server_refuses_is_fetch_failed(world):
    world.open_and_merge()
    before = world.origin.tags()
    result = world.run(**{"move-tags": "true", "token": "ghs_revoked"})
    assert result.failed and result.outputs["failure-reason"] == "fetch-failed"
    assert result.outputs["release-created"] == "true"  # released; only the tags could not move
    assert any("git ls-remote failed" in e for e in result.errors), result.errors
    assert world.origin.tags()["v1"] == before["v1"]


def test_a_bad_move_tags_value_is_invalid_input(world):
    result = world.run(**{"move-tags": "sometimes"})
    assert result.failed and result.outputs["failure-reason"] == "invalid-input"


# --------------------------------------------------- issue 10, item 17: what GitHub and the shipped version do


def test_a_draft_release_has_no_tag_so_no_floating_tag_moves(tmp_path):
    """GitHub creates a draft release's tag only when the draft is published: moving v1 to it must not
    fail every release with tag-mismatch, and must not create the release tag ahead of the publisher."""
    world = World(tmp_path, {"draft": True})
    try:
        number, merge = world.open_and_merge()
        before = world.origin.tags()
        result = world.run(**{"move-tags": "true"})
        assert not result.failed, result.errors
        assert result.outputs["release-created"] == "true" and result.outputs["draft"] == "true"
        assert result.outputs["tag"] == "v1.3.0" and result.outputs["sha"] == merge
        assert result.outputs["moved-tags"] == ""
        assert world.origin.tags() == before  # no v1.3.0 yet: the draft is not published
        assert world.github.gh_releases[-1]["draft"] is True
        assert result.notices == ["v1.3.0 is a draft release: GitHub creates its tag when the draft is published; "
                                  "v1, v1.3 not moved (move them after publishing)"]
        assert "Released [v1.3.0](https://github.com/org/svc/releases/tag/untagged-" in result.summary
        assert "draft" in result.summary
    finally:
        world.stop()


def test_force_tag_creation_does_not_exist_in_the_release_please_that_ships(tmp_path):
    """force-tag-creation came with release-please 17; release-please-action v4.1.4 bundles 16.14.1, which
    ignores it: the draft still has no tag, so the floating tags are still not moved."""
    world = World(tmp_path, {"draft": True, "force-tag-creation": True})
    try:
        world.open_and_merge()
        result = world.run(**{"move-tags": "true"})
        assert not result.failed, result.errors
        assert "v1.3.0" not in world.origin.tags() and result.outputs["moved-tags"] == ""
    finally:
        world.stop()


def test_a_published_release_outputs_draft_false(world):
    world.open_and_merge()
    result = world.run()
    assert result.outputs["draft"] == "false" and result.outputs["release-created"] == "true"
