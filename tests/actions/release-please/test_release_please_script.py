"""release.py run as the action runs it: ``normalise`` on every shape of release-please-action's
outputs, and ``move-tags`` against a real bare ``origin`` (git over a file path, pushes included).

The outputs fed to ``normalise`` are built by ``rp_action_standin.action_outputs``, the port of
release-please-action v4.1.4's ``outputReleases``/``outputPRs`` (src/index.ts), from CreatedRelease
and PullRequest objects shaped as release-please returns them.
"""

from __future__ import annotations

import json
import re
import stat

import pytest
from rp_action_standin import action_outputs
from rp_world import AuthGitServer, dumps

SHA = "3f4784dbc19347947972489b7ed79193ff704b10"


def created(tag: str = "v1.3.0", version: str = "1.3.0", path: str = ".", sha: str = SHA, **extra) -> dict:
    """A CreatedRelease as release-please 16.14.1's Manifest.createReleases returns it (no prNumber: 17.x)."""
    major, minor, patch = re.split(r"[-+]", version)[0].split(".")
    return {"id": 101, "name": tag, "tagName": tag, "sha": sha, "notes": "### Features\n\n* a thing (#7)\n",
            "url": f"https://github.com/org/svc/releases/tag/{tag}", "draft": False,
            "uploadUrl": "https://uploads.github.com/repos/org/svc/releases/101/assets{?name,label}", "path": path,
            "version": version, "major": int(major), "minor": int(minor), "patch": int(patch), **extra}


def pull(number: int = 8) -> dict:
    return {"headBranchName": "release-please--branches--main", "baseBranchName": "main", "number": number,
            "title": "chore(main): release 1.4.0", "body": ":robot: I have created a release *beep* *boop*",
            "files": [], "labels": ["autorelease: pending"]}


def normalise(script, outputs: dict[str, str] | str, path: str = ".", **env: str):
    raw = outputs if isinstance(outputs, str) else dumps(outputs)
    return script("normalise", {"RP_OUTPUTS": raw, "INPUT_PATH": path, **env})


EMPTY = {"release-created": "false", "tag": "", "version": "", "sha": "", "major": "", "minor": "", "patch": "",
         "draft": "false", "pr": "", "paths-released": "[]"}


# ---------------------------------------------------------------------------------------- normalise


def test_the_mapping_matches_release_please_action_for_a_root_release():
    """The port sets what index.ts sets: unprefixed keys for `.`, renamed keys, JSON for non-strings."""
    out = action_outputs([created()], [])
    assert out["release_created"] == "true" and out["releases_created"] == "true"
    assert out["tag_name"] == "v1.3.0" and out["html_url"].endswith("/v1.3.0") and out["body"].startswith("### ")
    assert out["major"] == "1" and out["draft"] == "false" and "prNumber" not in out
    assert out["paths_released"] == '["."]' and out["prs_created"] == "false" and "pr" not in out
    component = action_outputs([created(tag="api-v2.0.0", version="2.0.0", path="packages/api")], [pull()])
    assert component["packages/api--release_created"] == "true" and "release_created" not in component
    assert json.loads(component["pr"])["number"] == 8


def test_a_root_release_is_normalised(script):
    ran = normalise(script, action_outputs([created()], []))
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs == {"release-created": "true", "tag": "v1.3.0", "version": "1.3.0", "sha": SHA, "major": "1",
                           "minor": "3", "patch": "0", "draft": "false", "pr": "", "paths-released": '["."]'}
    assert "Released [v1.3.0](https://github.com/org/svc/releases/tag/v1.3.0)" in ran.summary
    assert f"(https://github.com/org/svc/commit/{SHA})" in ran.summary


def test_nothing_released_and_no_pull_request_gives_false_not_empty(script):
    ran = normalise(script, action_outputs([], []))
    assert ran.code == 0 and ran.outputs == EMPTY
    assert "No release in this run." in ran.summary


def test_the_release_pull_request_number_comes_from_the_pr_json(script):
    ran = normalise(script, action_outputs([], [pull(12)]))
    assert ran.code == 0 and ran.outputs == {**EMPTY, "pr": "12"}
    assert "[#12](https://github.com/org/svc/pull/12)" in ran.summary


def test_a_release_and_a_new_pull_request_in_one_run(script):
    ran = normalise(script, action_outputs([created()], [pull(9)]))
    assert ran.outputs["release-created"] == "true" and ran.outputs["pr"] == "9"


@pytest.mark.parametrize("path", ["packages/api", "./packages/api/", "packages/api/"])
def test_a_package_at_a_path_reads_the_prefixed_outputs(script, path):
    outputs = action_outputs([created(tag="api-v2.1.0", version="2.1.0", path="packages/api")], [])
    ran = normalise(script, outputs, path=path)
    assert ran.code == 0, ran.stdout
    assert ran.outputs["release-created"] == "true" and ran.outputs["tag"] == "api-v2.1.0"
    assert ran.outputs["version"] == "2.1.0" and ran.outputs["major"] == "2" and ran.outputs["minor"] == "1"
    assert "package `packages/api`" in ran.summary


def test_another_packages_release_is_not_this_packages(script):
    outputs = action_outputs([created(tag="api-v2.1.0", version="2.1.0", path="packages/api")], [])
    assert normalise(script, outputs, path=".").outputs == {**EMPTY, "paths-released": '["packages/api"]'}
    assert normalise(script, action_outputs([created()], []), path="packages/web").outputs == {
        **EMPTY, "paths-released": '["."]'}


def test_several_packages_released_in_one_run(script):
    outputs = action_outputs([created(), created(tag="api-v2.1.0", version="2.1.0", path="packages/api")], [])
    ran = normalise(script, outputs, path="packages/api")
    assert ran.outputs["tag"] == "api-v2.1.0" and json.loads(ran.outputs["paths-released"]) == [".", "packages/api"]
    assert normalise(script, outputs).outputs["tag"] == "v1.3.0"


@pytest.mark.parametrize("path", [".", "", "./", "/"])
def test_the_root_path_is_spelled_many_ways(script, path):
    assert normalise(script, action_outputs([created()], []), path=path).outputs["tag"] == "v1.3.0"


def test_a_prerelease_and_build_metadata_are_versions(script):
    ran = normalise(script, action_outputs([created(tag="v2.0.0-rc.1", version="2.0.0-rc.1")], []))
    assert ran.outputs["version"] == "2.0.0-rc.1" and ran.outputs["major"] == "2" and ran.outputs["patch"] == "0"
    ran = normalise(script, action_outputs([created(tag="1.3.0+b5", version="1.3.0+b5")], []))
    assert ran.code == 0 and ran.outputs["tag"] == "1.3.0+b5"


def bad(**changes: str) -> dict[str, str]:
    out = action_outputs([created()], [])
    out.update(changes)
    return out


@pytest.mark.parametrize(("outputs", "why"), [
    ("", "were not passed"),
    ("{not json", "not JSON"),
    ('["release_created"]', "not an object of strings"),
    (dumps(bad(release_created="yes")), "expected true or unset"),
    (dumps(bad(sha="")), "no commit SHA"),
    (dumps(bad(sha="HEAD")), "no commit SHA"),
    (dumps(bad(version="")), "no semantic version"),
    (dumps(bad(version="1.3")), "no semantic version"),
    (dumps(bad(tag_name="v1.4.0")), "does not end with its version"),
    (dumps(bad(tag_name="v1.3.0; rm -rf /")), "does not end with its version"),
    (dumps(bad(minor="4")), "minor is 4"),
    (dumps({**action_outputs([], []), "pr": "{"}), "`pr` output is not JSON"),
    (dumps({**action_outputs([], []), "pr": '{"number": "8"}'}), "no pull request number"),
    (dumps({**action_outputs([], []), "paths_released": '{".": true}'}), "`paths_released` output is not a JSON list"),
])
def test_outputs_release_please_action_never_sets_fail_as_invalid_output(script, outputs, why):
    ran = normalise(script, outputs)
    assert ran.code == 1
    assert ran.outputs["failure-reason"] == "invalid-output"
    assert why in ran.stdout and "::error title=invalid-output::" in ran.stdout
    assert "Traceback" not in ran.stderr and "**Failed** (`invalid-output`)" in ran.summary


def test_a_bad_move_tags_input_fails_every_run(script):
    ran = normalise(script, action_outputs([], []), INPUT_MOVE_TAGS="sometimes")
    assert ran.code == 1 and ran.outputs == {"failure-reason": "invalid-input"}
    assert 'move-tags must be true or false, not "' in ran.stdout


def test_usage(script):
    ran = script("publish", {})
    assert ran.code == 1 and ran.outputs["failure-reason"] == "invalid-input" and "usage:" in ran.stdout


# ---------------------------------------------------------------------------------------- move-tags


def move(script, origin, tag: str, sha: str, **env: str):
    base = {"RELEASE_TAG": tag, "RELEASE_VERSION": tag.rsplit("v", 1)[-1], "RELEASE_SHA": sha,
            "INPUT_MOVE_TAGS": "true", "GITHUB_SERVER_URL": origin.server_url, "GITHUB_REPOSITORY": "org/svc"}
    return script("move-tags", {**base, **env})


def test_a_release_moves_the_major_and_minor_tags_as_lightweight_tags(script, origin):
    sha = origin.release("v1.3.0")
    origin.push_all()
    before = origin.tags()
    ran = move(script, origin, "v1.3.0", sha)
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs == {"moved-tags": "v1,v1.3"}
    after = origin.tags()
    assert after["v1"] == sha and after["v1.3"] == sha
    assert origin.tag_type("v1") == "commit" and origin.tag_type("v1.3") == "commit"  # plain tags now
    assert after["v1.2"] == before["v1.2"] == origin.released["v1.2.0"]  # the older minor line stays
    assert set(after) == set(before) | {"v1.3"}
    assert "`v1` moved to v1.3.0" in ran.summary and "`v1.3` moved to v1.3.0 (new)" in ran.summary


def test_only_the_major_tag_when_asked(script, origin):
    sha = origin.release("v1.3.0")
    origin.push_all()
    ran = move(script, origin, "v1.3.0", sha, INPUT_MOVE_TAGS="false", INPUT_MOVE_MAJOR_TAG="true")
    assert ran.code == 0 and ran.outputs == {"moved-tags": "v1"}
    assert origin.tags()["v1"] == sha and "v1.3" not in origin.tags()


def test_only_the_minor_tag_when_asked(script, origin):
    sha = origin.release("v1.3.0")
    origin.push_all()
    ran = move(script, origin, "v1.3.0", sha, INPUT_MOVE_TAGS="", INPUT_MOVE_MINOR_TAG="true")
    assert ran.code == 0 and ran.outputs == {"moved-tags": "v1.3"}
    assert origin.tags()["v1"] == origin.released["v1.2.0"]


def test_a_patch_of_an_older_minor_line_never_moves_the_major_tag_backwards(script, origin):
    origin.work.git("checkout", "-q", "-b", "release-1.1", "v1.1.0")
    sha = origin.release("v1.1.1", "fix: backport")
    origin.work.git("tag", "v1.1", origin.released["v1.1.0"])
    origin.push_all()
    ran = move(script, origin, "v1.1.1", sha)
    assert ran.code == 0, ran.stdout
    tags = origin.tags()
    assert tags["v1"] == origin.released["v1.2.0"]  # v1.2.0 is newer: v1 stays
    assert tags["v1.1"] == sha and ran.outputs == {"moved-tags": "v1.1"}
    assert "`v1` not moved: v1.2.0 is a newer release" in ran.summary


def test_an_older_patch_never_moves_the_minor_tag_backwards(script, origin):
    """A re-run for v1.2.0 after v1.2.1 shipped: neither v1 nor v1.2 goes back."""
    newer = origin.release("v1.2.1")
    origin.work.git("tag", "-f", "v1", newer)
    origin.work.git("tag", "-f", "v1.2", newer)
    origin.push_all()
    ran = move(script, origin, "v1.2.0", origin.released["v1.2.0"])
    assert ran.code == 0 and ran.outputs == {"moved-tags": ""}
    assert origin.tags()["v1"] == origin.tags()["v1.2"] == newer
    assert "`v1.2` not moved: v1.2.1 is a newer release" in ran.summary


def test_prereleases_of_a_higher_version_do_not_hold_the_tags_back(script, origin):
    origin.release("v1.4.0-rc.1")
    sha = origin.release("v1.3.0")
    origin.push_all()
    ran = move(script, origin, "v1.3.0", sha)
    assert ran.outputs == {"moved-tags": "v1,v1.3"}


def test_a_prerelease_moves_nothing(script, origin):
    sha = origin.release("v1.3.0-rc.1")
    origin.push_all()
    before = origin.tags()
    ran = move(script, origin, "v1.3.0-rc.1", sha)
    assert ran.code == 0 and ran.outputs == {"moved-tags": ""}
    assert "::notice::v1.3.0-rc.1 is a prerelease: v1, v1.3 not moved" in ran.stdout
    assert origin.tags() == before


def test_a_release_tag_pointing_elsewhere_is_a_tag_mismatch(script, origin):
    sha = origin.release("v1.3.0")
    origin.work.git("tag", "-f", "v1.3.0", origin.released["v1.2.0"])  # someone pushed the tag by hand before
    origin.push_all()
    before = origin.tags()
    ran = move(script, origin, "v1.3.0", sha)
    assert ran.code == 1 and ran.outputs["failure-reason"] == "tag-mismatch"
    assert f"release tag v1.3.0 points at {origin.released['v1.2.0']}, not at the release commit {sha}" in ran.stdout
    assert origin.tags() == before


def test_a_release_tag_missing_from_origin_is_a_tag_mismatch(script, origin):
    sha = origin.work.commit("feat: unreleased")
    origin.push_all()
    ran = move(script, origin, "v1.3.0", sha)
    assert ran.code == 1 and ran.outputs["failure-reason"] == "tag-mismatch" and "is not in org/svc" in ran.stdout


def test_a_rejected_push_is_push_failed_and_moves_nothing(script, origin):
    sha = origin.release("v1.3.0")
    origin.push_all()
    hook = origin.bare / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'refusing: tags matching v* are protected' >&2\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    before = origin.tags()
    ran = move(script, origin, "v1.3.0", sha, INPUT_TOKEN="ghs_secretvalue123")
    assert ran.code == 1 and ran.outputs["failure-reason"] == "push-failed"
    assert "git push failed: ! [remote rejected] v1 -> v1 (pre-receive hook declined)" in ran.stdout
    assert origin.tags() == before
    assert "ghs_secretvalue123" not in ran.stdout + ran.stderr + ran.summary


def test_tags_already_in_place_are_not_pushed_again(script, origin):
    hook = origin.bare / "hooks" / "pre-receive"  # any push would fail
    hook.write_text("#!/bin/sh\nexit 1\n")
    hook.chmod(hook.stat().st_mode | stat.S_IEXEC)
    ran = move(script, origin, "v1.2.0", origin.released["v1.2.0"])
    assert ran.code == 0 and ran.outputs == {"moved-tags": ""}
    assert "`v1` already at v1.2.0" in ran.summary and "`v1.2` already at v1.2.0" in ran.summary


def test_a_component_prefix_is_kept(script, origin):
    sha = origin.release("api-v2.0.0")
    origin.push_all()
    ran = move(script, origin, "api-v2.0.0", sha)
    assert ran.code == 0 and ran.outputs == {"moved-tags": "api-v2,api-v2.0"}
    assert origin.tags()["api-v2"] == sha and origin.tags()["v1"] == origin.released["v1.2.0"]


def test_a_missing_repository_is_fetch_failed(script, origin):
    ran = move(script, origin, "v1.2.0", origin.released["v1.2.0"], GITHUB_REPOSITORY="org/gone")
    assert ran.code == 1 and ran.outputs["failure-reason"] == "fetch-failed" and "git ls-remote failed" in ran.stdout


def test_the_token_goes_as_a_header_to_the_server_only(script, origin, tmp_path):
    """Over real smart HTTP that, like GitHub, wants ``x-access-token`` basic auth: the right token works."""
    sha = origin.release("v1.3.0")
    origin.push_all()
    with AuthGitServer(origin.server_root, "ghs_righttoken") as server:
        ran = move(script, origin, "v1.3.0", sha, GITHUB_SERVER_URL=server.url, INPUT_TOKEN="ghs_righttoken")
        assert ran.code == 0, ran.stdout + ran.stderr
        assert origin.tags()["v1"] == sha and ran.outputs == {"moved-tags": "v1,v1.3"}
        assert server.auth and all(a and a.lower() == server.expected.lower() for a in server.auth)
        wrong = move(script, origin, "v1.3.0", sha, GITHUB_SERVER_URL=server.url, INPUT_TOKEN="ghs_wrongtoken")
        assert wrong.code == 1 and wrong.outputs["failure-reason"] == "fetch-failed"
        assert "ghs_wrongtoken" not in wrong.stdout + wrong.stderr + wrong.summary


def test_a_bad_repository_name_is_invalid_input(script, origin):
    ran = move(script, origin, "v1.2.0", origin.released["v1.2.0"], GITHUB_REPOSITORY="org/svc/../x")
    assert ran.code == 1 and ran.outputs["failure-reason"] == "invalid-input"


def test_not_asked_touches_nothing(script, origin):
    ran = move(script, origin, "v1.3.0", SHA, INPUT_MOVE_TAGS="false", GITHUB_REPOSITORY="org/gone")
    assert ran.code == 0 and ran.outputs == {"moved-tags": ""} and "not asked" in ran.stdout


def test_a_draft_release_moves_no_tag_and_touches_no_remote(script, tmp_path):
    """A draft has no tag on GitHub yet: move-tags says so and does not even look at the remote."""
    ran = script("move-tags", {"INPUT_MOVE_TAGS": "true", "RELEASE_TAG": "v1.3.0", "RELEASE_VERSION": "1.3.0",
                               "RELEASE_SHA": SHA, "RELEASE_DRAFT": "true", "GITHUB_SERVER_URL": "http://127.0.0.1:9"})
    assert ran.code == 0, ran.stdout + ran.stderr
    assert ran.outputs == {"moved-tags": ""}
    assert ran.stdout.splitlines() == ["::notice::v1.3.0 is a draft release: GitHub creates its tag when the draft is "
                                       "published; v1, v1.3 not moved (move them after publishing)"]


def test_a_draft_output_that_is_no_boolean_is_invalid_output(script):
    outputs = action_outputs([created()], [])
    outputs["draft"] = "maybe"
    ran = normalise(script, outputs)
    assert ran.code == 1 and ran.outputs["failure-reason"] == "invalid-output"
    assert ran.errors == ["release v1.3.0: draft is 'maybe', expected true or false"]


def test_a_draft_release_is_normalised(script):
    outputs = action_outputs([created(draft=True)], [])
    ran = normalise(script, outputs)
    assert ran.outputs["draft"] == "true" and ran.outputs["release-created"] == "true"
    assert "as a **draft** (GitHub creates its tag when the draft is published)" in ran.summary
