"""The canary action end to end through the local runner (tests/support/runner/).

Real: the action.yml, canary.py, the plugin download over HTTP from a loopback "release"
(``download-url``, as a mirror would serve it), its SHA-256 verification, installation under
RUNNER_TEMP and kubectl's plugin lookup on PATH. Stand-ins (no cluster can run here): kubectl and
the kubectl-argo-rollouts binary the release serves are kubectl_standin.py, and the Argo Rollouts
controller is the frames each test scripts (see canary_world.py).
"""

from __future__ import annotations

import hashlib

import pytest
from canary_world import (
    ACTION,
    NEW_IMAGE,
    OLD_HASH,
    OLD_IMAGE,
    OLDER_IMAGE,
    REVISION,
    STALE,
    UNREACHABLE,
    World,
    aborted,
    degraded,
    healthy,
    observed,
    paused_at,
    progressing,
    refused,
)

from support.runner import run_action

VERSION = "v1.9.1"


@pytest.fixture
def published(world: World, release) -> str:
    """The plugin stand-in published as the v1.9.1 linux-amd64 release asset; returns its SHA-256."""
    return release.publish(VERSION, world.wrapper("plugin").encode())


def canary(world: World, release, tmp_path, **inputs):
    given = {"rollout": "web", "namespace": "shop", "container": "web", "image": NEW_IMAGE, "poll-interval": "0",
             "timeout": "20s", "download-url": release.url, **inputs}
    return run_action(ACTION, inputs=given, workspace=tmp_path / "ws", env=world.env, path=[world.bin], timeout=120)


def assert_failed(result, reason: str, message: str) -> None:
    assert result.failed
    assert result.outputs["failure-reason"] == reason
    assert result.errors == [message]
    assert f"**Failed** (`{reason}`)" in result.summary
    assert "Traceback" not in result.stderr


def test_healthy_after_auto_promotion_through_the_steps(world, release, published, tmp_path):
    world.script(
        set_image=[STALE, progressing(0), paused_at(1)],
        promote=[
            [STALE, progressing(2), paused_at(3), paused_at(3), progressing(4), paused_at(5)],
            [STALE, progressing(6), healthy()],
        ],
    )
    result = canary(world, release, tmp_path, promote="auto", **{"plugin-sha256": published})
    assert not result.failed, result.stdout + result.stderr
    assert result.outputs == {"phase": "Healthy", "revision": "5", "failure-reason": ""}
    assert world.commands() == ["set image", "promote", "promote"]
    assert world.calls()[1] == ["promote", "web", "-n", "shop"]
    assert world.image() == NEW_IMAGE
    installed = result.temp / "argo-rollouts-bin" / "kubectl-argo-rollouts"
    assert hashlib.sha256(installed.read_bytes()).hexdigest() == published
    assert release.requests == [f"/{VERSION}/argo-rollouts-checksums.txt", f"/{VERSION}/kubectl-argo-rollouts-linux-amd64"]
    summary = result.summary
    assert f"Plugin: kubectl-argo-rollouts {VERSION}, SHA-256 `{published}` verified." in summary
    for row in ("| 0 | setWeight 20 | Progressing", "| 1 | pause (until promoted) | Paused", "| 3 | pause 30s | Paused",
                "| 5 | pause (until promoted) | Paused", "| 6 | all steps complete | Healthy"):
        assert row in summary
    assert "| promote at step 1 | ok: rollout 'web' promoted |" in summary
    assert "| promote at step 5 | ok: rollout 'web' promoted |" in summary
    assert "**Result**: Healthy at revision 5." in summary


def test_manual_waits_until_someone_promotes(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), paused_at(1), paused_at(1), paused_at(1), {"$external": "promote"},
                            progressing(2), healthy()])
    result = canary(world, release, tmp_path, promote="manual")
    assert not result.failed and result.outputs["phase"] == "Healthy"
    assert world.commands() == ["set image"]
    assert world.calls("external") == [["promote"]]
    assert result.notices == ["rollout web is paused at step 1 (pause (until promoted)); waiting for: "
                              "kubectl argo rollouts promote web -n shop"]


def test_stale_healthy_of_the_old_generation_is_not_success(world, release, published, tmp_path):
    """Right after set image the old status says Healthy (revision 4): the action must wait for generation 8."""
    world.script(set_image=[STALE, STALE, STALE, STALE, progressing(0), healthy()])
    result = canary(world, release, tmp_path)
    assert not result.failed
    assert result.outputs["revision"] == "5"
    assert len(world.calls("kubectl")) == 1 + 6  # the read before set image, then every frame
    assert "| 6 | all steps complete | Healthy" in result.summary


def test_degraded_is_aborted_and_undone(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), degraded(0)], abort=[aborted(0)])
    result = canary(world, release, tmp_path)
    assert_failed(result, "degraded", 'canary degraded: ProgressDeadlineExceeded: ReplicaSet "web-7f9c4d2a1" has timed '
                  "out progressing; ran abort and undo to revision 4")
    assert result.outputs["phase"] == "Degraded" and result.outputs["revision"] == "5"
    assert world.commands() == ["set image", "abort", "undo"]
    assert world.image() == OLD_IMAGE
    assert world.state()["current"]["status"]["abort"] is True
    assert "| abort | ok: rollout 'web' aborted |" in result.summary
    assert "| undo to revision 4 | ok: rollout 'web' undo |" in result.summary


def test_aborted_by_someone_else_is_undone(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), aborted(0)])
    result = canary(world, release, tmp_path)
    assert_failed(result, "aborted", "canary aborted: RolloutAborted: Rollout aborted update to revision 5; "
                  "ran abort and undo to revision 4")
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE


def test_timeout_is_aborted_and_undone(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), paused_at(1)])
    result = canary(world, release, tmp_path, timeout="1s", promote="manual")
    assert_failed(result, "timeout", "canary timeout: the rollout did not become Healthy within 1s "
                  "(last phase Paused at step 1); ran abort and undo to revision 4")
    assert result.outputs["phase"] == "Paused"
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE


def test_failing_undo_is_reported_and_the_image_is_set_back(world, release, published, tmp_path):
    world.script(set_image=[STALE, degraded(0)])
    world.update(fail={"undo": "failed restoring revision 4: the server rejected our request"})
    result = canary(world, release, tmp_path)
    assert result.outputs["failure-reason"] == "degraded"
    assert result.errors[-1].endswith("; ran abort and set image back; undo to revision 4 FAILED")
    assert result.warnings == ["undo to revision 4 failed: Error: failed restoring revision 4: the server "
                               "rejected our request"]
    assert world.commands() == ["set image", "abort", "undo", "set image"]
    assert world.calls()[-1] == ["set", "image", "web", f"web={OLD_IMAGE}", "-n", "shop"]
    assert world.image() == OLD_IMAGE and "Not rolled back" not in result.summary


def test_a_recorded_revision_taken_by_the_canary_is_caught_by_the_check(world, release, published, tmp_path):
    """Revision 4's ReplicaSet was deleted by hand: the controller numbers the canary's ReplicaSet 4 again
    (max+1, rollout/sync.go), so undo --to-revision=4 finds the canary itself and skips. The read after the
    undo sees the canary's image and sets the recorded one back."""
    state = world.state()
    state["replicasets"] = [rs for rs in state["replicasets"] if rs["metadata"]["annotations"][REVISION] != "4"]
    world.write(state)
    world.script(set_image=[STALE, degraded(0)])
    result = canary(world, release, tmp_path)
    assert world.revisions() == {OLDER_IMAGE: "3", NEW_IMAGE: "4"}
    assert "| undo to revision 4 | ok: skipped rollback (current template already matches revision 4) |" in result.summary
    assert world.commands() == ["set image", "abort", "undo", "set image"] and world.image() == OLD_IMAGE
    assert result.errors[-1].endswith("; ran abort and undo to revision 4 and set image back")


def test_set_image_failure(world, release, published, tmp_path):
    world.update(fail={"set-image": 'rollouts.argoproj.io "web" is forbidden: User "ci" cannot update resource'})
    result = canary(world, release, tmp_path)
    assert_failed(result, "set-image-failed", 'kubectl argo rollouts set image failed: Error: rollouts.argoproj.io "web"'
                  ' is forbidden: User "ci" cannot update resource')
    assert world.commands() == ["set image"] and world.image() == OLD_IMAGE


def test_checksum_file_mismatch(world, release, tmp_path):
    actual = release.publish(VERSION, world.wrapper("plugin").encode(), checksum="e" * 64)
    result = canary(world, release, tmp_path)
    assert_failed(result, "plugin-checksum-mismatch", f"kubectl-argo-rollouts-linux-amd64 {VERSION} has SHA-256 "
                  f"{actual}, but the release's argo-rollouts-checksums.txt says {'e' * 64}")
    assert not (result.temp / "argo-rollouts-bin" / "kubectl-argo-rollouts").exists()
    assert world.calls("kubectl") == []


def test_pinned_checksum_mismatch(world, release, published, tmp_path):
    result = canary(world, release, tmp_path, **{"plugin-sha256": "F" * 64})
    assert_failed(result, "plugin-checksum-mismatch", f"kubectl-argo-rollouts-linux-amd64 {VERSION} has SHA-256 "
                  f"{published}, but plugin-sha256 says {'f' * 64}")
    assert world.calls("kubectl") == []


def test_release_not_found(world, release, published, tmp_path):
    result = canary(world, release, tmp_path, **{"plugin-version": "v1.8.0"})
    assert_failed(result, "plugin-install-failed", f"downloading {release.url}/v1.8.0/argo-rollouts-checksums.txt "
                  "failed: HTTP 404")


def test_asset_not_in_checksums(world, release, tmp_path):
    release.publish(VERSION, b"binary", listed=False)
    result = canary(world, release, tmp_path)
    assert_failed(result, "plugin-install-failed",
                  f"argo-rollouts-checksums.txt of {VERSION} lists no kubectl-argo-rollouts-linux-amd64")


def test_preinstalled_plugin(world, release, tmp_path):
    world.install_plugin()
    world.script(set_image=[STALE, healthy()])
    result = canary(world, release, tmp_path, **{"install-plugin": "false"})
    assert not result.failed and result.outputs["phase"] == "Healthy"
    assert release.requests == []


def test_invalid_input(world, release, published, tmp_path):
    result = canary(world, release, tmp_path, image="registry.example.test/shop/web:latest")
    assert_failed(result, "invalid-input", 'image "registry.example.test/shop/web:latest" is not pinned by digest; '
                  "use name@sha256:<digest> (or set allow-tag: true)")
    assert release.requests == [] and world.calls("kubectl") == []


def test_rollout_not_found(world, release, published, tmp_path):
    result = canary(world, release, tmp_path, rollout="api")
    assert_failed(result, "rollout-not-found", 'Error from server (NotFound): rollouts.argoproj.io "api" not found')


def test_a_malformed_answer_is_retried_like_a_failed_read(world, release, published, tmp_path):
    """A proxy's error page instead of JSON: one bad read, not a verdict."""
    world.script(set_image=[STALE, progressing(0), {"$raw": "<html>502 Bad Gateway</html>\n"}, healthy()])
    result = canary(world, release, tmp_path)
    assert not result.failed, result.stdout
    assert result.warnings == ["kubectl get rollout printed malformed JSON (Expecting value at line 1); retrying "
                               "with backoff until the deadline"]


def test_transient_failures_are_retried(world, release, published, tmp_path):
    world.script(set_image=[STALE, UNREACHABLE, UNREACHABLE, progressing(0), *[UNREACHABLE] * 3, healthy()])
    result = canary(world, release, tmp_path, timeout="1m")
    assert not result.failed, result.stdout
    assert result.outputs["phase"] == "Healthy" and world.commands() == ["set image"]


# ------------------------------------------------- issue 10, items 15, 16 and 11: what really happens


def test_a_refused_replicaset_is_not_success(world, release, published, tmp_path):
    """An admission webhook refuses the new ReplicaSet: rollout/sync.go marks the generation observed and
    recomputes the phase from the old status, so the Rollout reads Healthy at revision 4. That is the old
    pod template, not the canary: the action must not report success, and must put revision 4 back."""
    world.script(set_image=[STALE, refused(), refused()])
    result = canary(world, release, tmp_path, timeout="2s")
    assert result.failed
    assert result.outputs["failure-reason"] == "timeout"
    assert result.outputs["phase"] == "Healthy" and result.outputs["revision"] == ""
    assert result.errors == [
        "canary timeout: the rollout did not run the new pod template within 2s (the controller could not create "
        'the new ReplicaSet: Failed to create new replica set "web-7f9c4d2a1": admission webhook '
        '"images.policy.example.test" denied the request: image is not signed); ran abort and undo to revision 4'
    ]
    current = world.state()["current"]
    assert (current["metadata"]["generation"], current["status"]["observedGeneration"]) == (9, "8")  # 9: the undo
    assert world.image() == OLD_IMAGE


def test_undo_goes_back_to_the_recorded_revision_not_the_second_newest(world, release, published, tmp_path):
    """The plugin's own ``undo`` picks the second-newest ReplicaSet (undo.go): with the new ReplicaSet never
    created that is revision 3, the release *before* the stable one. The action names revision 4."""
    world.script(set_image=[STALE, refused()])
    result = canary(world, release, tmp_path, timeout="1s")
    assert result.outputs["failure-reason"] == "timeout"
    assert world.commands() == ["set image", "abort", "undo"]
    assert world.calls()[-1] == ["undo", "web", "--to-revision=4", "-n", "shop"]
    assert world.image() == OLD_IMAGE and world.image() != OLDER_IMAGE
    assert world.revisions() == {OLDER_IMAGE: "3", OLD_IMAGE: "4"}  # no ReplicaSet of the canary was ever made
    assert "| undo to revision 4 | ok: rollout 'web' undo |" in result.summary


def test_healthy_needs_the_new_replicaset_to_be_stable(world, release, published, tmp_path):
    """Healthy with the new pod hash current but the old one still stable is not the end of a canary."""
    half = observed("Healthy", 6, None, stableRS=OLD_HASH)
    world.script(set_image=[STALE, progressing(0), half, half, healthy()])
    result = canary(world, release, tmp_path)
    assert not result.failed, result.stdout + result.stderr
    assert len(world.calls("kubectl")) == 1 + 5
    assert result.outputs["revision"] == "5"
    assert world.revisions() == {OLDER_IMAGE: "3", OLD_IMAGE: "4", NEW_IMAGE: "5"}


def test_the_image_changed_by_someone_else_is_not_our_success(world, release, published, tmp_path):
    """Someone sets another image during the canary: the Rollout goes Healthy, but not with this image."""
    other = "registry.example.test/shop/web@sha256:" + "9" * 64
    someone = {"$patch": {"metadata": {"generation": 9}, "spec": {"template": {"spec": {"containers": [
        {"name": "web", "image": other}]}}}}}
    theirs = observed("Healthy", 6, None, generation="9", stableRS="8a8a8a8a8", currentPodHash="8a8a8a8a8")
    world.script(set_image=[STALE, progressing(0), someone, theirs])
    result = canary(world, release, tmp_path, timeout="1s")
    assert result.failed and result.outputs["failure-reason"] == "timeout"


def test_kubectl_dying_mid_watch_is_retried_until_the_deadline_then_rolled_back(world, release, published, tmp_path):
    """The API server goes away after set image: reads are retried with backoff until the deadline, then the
    rollout is aborted and put back (here the cluster is back in time for the rollback)."""
    world.script(set_image=[STALE, progressing(0), *[UNREACHABLE] * 200])
    result = canary(world, release, tmp_path, timeout="2s")
    assert_failed(result, "kubectl-failed", "canary kubectl-failed: kubectl could not read the rollout until the "
                  "deadline (2s): kubectl get rollout failed: The connection to the server 127.0.0.1:6443 was refused "
                  "- did you specify the right host or port?; ran abort and undo to revision 4")
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE
    assert result.outputs["phase"] == "Progressing"
    assert result.warnings == ["kubectl get rollout failed: The connection to the server 127.0.0.1:6443 was refused - "
                               "did you specify the right host or port?; retrying with backoff until the deadline"]


def test_a_rollback_that_cannot_reach_the_cluster_names_the_state_left(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), *[UNREACHABLE] * 200])
    world.update(fail={"abort": "Get \"https://127.0.0.1:6443\": dial tcp: connection refused",
                       "undo": "Get \"https://127.0.0.1:6443\": dial tcp: connection refused"})
    result = canary(world, release, tmp_path, timeout="1s")
    assert result.outputs["failure-reason"] == "kubectl-failed"
    assert result.errors[-1].endswith("; abort and undo to revision 4 FAILED")
    assert world.image() == NEW_IMAGE
    assert ("**Not rolled back**: the rollout may still run the canary. Run `kubectl argo rollouts abort web -n shop`"
            " then `kubectl argo rollouts undo web --to-revision=4 -n shop`.") in result.summary


def test_a_rollback_whose_abort_failed_is_not_reported_as_done(world, release, published, tmp_path):
    """Issue 14: the template is put back, but traffic may still go to the canary while its abort has
    not run: the job must say so, not "rolled back"."""
    world.script(set_image=[STALE, progressing(0), *[UNREACHABLE] * 200])
    world.update(fail={"abort": "Get \"https://127.0.0.1:6443\": dial tcp: connection refused"})
    result = canary(world, release, tmp_path, timeout="1s")
    assert result.outputs["failure-reason"] == "kubectl-failed"
    assert "FAILED" in result.errors[-1] and "abort" in result.errors[-1]
    assert "**Not rolled back**" in result.summary
