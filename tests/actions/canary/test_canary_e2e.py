"""The canary action end to end through the local runner (tests/support/runner.py).

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
    OLD_IMAGE,
    STALE,
    UNREACHABLE,
    World,
    aborted,
    degraded,
    healthy,
    paused_at,
    progressing,
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
                  "out progressing; ran abort and undo")
    assert result.outputs["phase"] == "Degraded" and result.outputs["revision"] == "5"
    assert world.commands() == ["set image", "abort", "undo"]
    assert world.image() == OLD_IMAGE
    assert world.state()["current"]["status"]["abort"] is True
    assert "| abort | ok: rollout 'web' aborted |" in result.summary
    assert "| undo | ok: rollout 'web' undo |" in result.summary


def test_aborted_by_someone_else_is_undone(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), aborted(0)])
    result = canary(world, release, tmp_path)
    assert_failed(result, "aborted", "canary aborted: RolloutAborted: Rollout aborted update to revision 5; "
                  "ran abort and undo")
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE


def test_timeout_is_aborted_and_undone(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), paused_at(1)])
    result = canary(world, release, tmp_path, timeout="1s", promote="manual")
    assert_failed(result, "timeout", "canary timeout: the rollout did not become Healthy within 1s "
                  "(last phase Paused at step 1); ran abort and undo")
    assert result.outputs["phase"] == "Paused"
    assert world.commands() == ["set image", "abort", "undo"] and world.image() == OLD_IMAGE


def test_failing_undo_is_reported(world, release, published, tmp_path):
    world.script(set_image=[STALE, degraded(0)])
    world.update(fail={"undo": "failed restoring revision 4: the server rejected our request"})
    result = canary(world, release, tmp_path)
    assert result.outputs["failure-reason"] == "degraded"
    assert result.errors[-1].endswith("; ran abort; undo FAILED")
    assert result.warnings == ["kubectl argo rollouts undo failed: Error: failed restoring revision 4: the server "
                               "rejected our request"]


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
    assert_failed(result, "invalid-input", "image 'registry.example.test/shop/web:latest' is not pinned by digest; "
                  "use name@sha256:<digest> (or set allow-tag: true)")
    assert release.requests == [] and world.calls("kubectl") == []


def test_rollout_not_found(world, release, published, tmp_path):
    result = canary(world, release, tmp_path, rollout="api")
    assert_failed(result, "rollout-not-found", 'Error from server (NotFound): rollouts.argoproj.io "api" not found')


def test_malformed_json_is_kubectl_failed(world, release, published, tmp_path):
    world.script(set_image=[STALE, progressing(0), {"$raw": "<html>502 Bad Gateway</html>\n"}])
    result = canary(world, release, tmp_path)
    assert_failed(result, "kubectl-failed", "kubectl get rollout printed malformed JSON (Expecting value at line 1)")
    assert world.commands() == ["set image"]


def test_transient_failures_are_retried_then_kubectl_failed(world, release, published, tmp_path):
    world.script(set_image=[STALE, UNREACHABLE, UNREACHABLE, progressing(0), UNREACHABLE, UNREACHABLE, UNREACHABLE,
                            UNREACHABLE])
    result = canary(world, release, tmp_path)
    assert_failed(result, "kubectl-failed", "kubectl get rollout failed 4 times: The connection to the server "
                  "127.0.0.1:6443 was refused - did you specify the right host or port?")
    assert result.outputs["phase"] == "Progressing"
