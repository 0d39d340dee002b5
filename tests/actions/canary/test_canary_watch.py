"""The canary's state machine, driven in-process with an injected clock (no real sleeping).

The cluster is a scripted stand-in (no Kubernetes here): frames in the shapes the Argo Rollouts
v1.9 controller writes, and ``promote`` applying the same patch as the real plugin (see
kubectl_standin.py). The kubectl wrapper's retries run against the stand-in executable.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
from canary_world import (
    NEW_IMAGE,
    OLD_IMAGE,
    STALE,
    UNREACHABLE,
    aborted,
    apply,
    degraded,
    healthy,
    initial_state,
    observed,
    paused_at,
    progressing,
    refused,
    rollout,
)


class FakeClock:
    """Time that moves only when the watch sleeps (or a test says so)."""

    def __init__(self) -> None:
        self.t = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        return self.t

    def now(self) -> dt.datetime:
        return dt.datetime(2026, 11, 30, 22, 0, tzinfo=dt.UTC) + dt.timedelta(seconds=self.t - 1000.0)

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


class FakeCluster:
    """The Rollout after ``set image`` (generation 8), then the frames, one per ``get``."""

    def __init__(self, canary, frames: list, after_promote: list[list] | None = None, image: str = NEW_IMAGE) -> None:
        import kubectl_standin

        self.canary = canary
        self.standin = kubectl_standin
        self.state = initial_state()
        kubectl_standin.set_image(self.state, ["image", "web", f"web={image}"])
        self.frames = list(frames)
        self.after_promote = list(after_promote or [])
        self.gets = 0
        self.promotes: list[int] = []

    def read(self) -> dict:
        self.gets += 1
        if self.frames:
            frame = self.frames.pop(0)
            if "$fail" in frame:
                raise self.canary.KubectlError("The connection to the server 127.0.0.1:6443 was refused")
            self.standin.apply_frame(self.state, frame)
        return self.state["current"]

    def promote(self) -> str:
        self.promotes.append(self.state["current"]["status"].get("currentStepIndex"))
        _, message = self.standin.promote(self.state, ["web"])
        if self.after_promote:
            self.frames = self.after_promote.pop(0)
        return message


def settings(canary, **changes):
    values = dict(rollout="web", namespace="shop", container="web", image=NEW_IMAGE, timeout_s=600.0, poll_s=10.0,
                  promote="manual", promote_up_to=None)
    values.update(changes)
    return canary.Settings(**values)


def before(canary):
    """The fixture as the action records it before set image: revision 4, pod hash 5d8f7c9b6 stable."""
    return canary.Before.of(canary.read_view(rollout(), "web"))


def watch(canary, cluster, **changes):
    clock = FakeClock()
    outcome = canary.watch(cluster, settings(canary, **changes), clock, before(canary), log=lambda line: None)
    return outcome, clock


# ------------------------------------------------------------------------ reading a Rollout


def test_status_of_an_older_generation_is_not_trusted(canary):
    obj = rollout()
    obj["metadata"]["generation"] = 8  # `set image` happened; the controller has not looked yet
    view = canary.read_view(obj)
    assert view.phase == "Healthy" and not view.trusted


@pytest.mark.parametrize("observed_generation", ["8", 8])
def test_observed_generation_is_compared_as_text(canary, observed_generation):
    obj = apply(rollout(), observed("Progressing", 0, None))
    obj["metadata"]["generation"] = 8
    obj["status"]["observedGeneration"] = observed_generation
    assert canary.read_view(obj).trusted


def test_a_rollout_being_unpaused_is_not_trusted(canary):
    """After ``promote`` the plugin clears pauseConditions; controllerPause stays until the controller acts."""
    obj = apply(apply(rollout(), {"$patch": {"metadata": {"generation": 8}}}), paused_at(1))
    obj["status"].pop("pauseConditions")
    view = canary.read_view(obj)
    assert view.phase == "Paused" and not view.trusted


def test_view_reads_step_revision_and_pause_reason(canary):
    obj = apply(apply(rollout(), {"$patch": {"metadata": {"generation": 8}}}), paused_at(3))
    view = canary.read_view(obj)
    assert (view.trusted, view.phase, view.step_index, view.revision) == (True, "Paused", 3, "5")
    assert view.pause_reasons == ("CanaryPauseStep",)
    assert view.step_text == "pause 30s"


@pytest.mark.parametrize(
    ("index", "text"),
    [(0, "setWeight 20"), (1, "pause (until promoted)"), (3, "pause 30s"), (6, "all steps complete"), (None, "-")],
)
def test_describe_step(canary, index, text):
    assert canary.describe_step(rollout()["spec"]["strategy"]["canary"]["steps"], index) == text


def test_describe_other_steps(canary):
    steps = [{"analysis": {"templates": [{"templateName": "rate"}]}}, {"setCanaryScale": {"replicas": 2}}]
    assert [canary.describe_step(steps, i) for i in (0, 1)] == ["analysis", "setCanaryScale replicas 2"]


# ------------------------------------------------------------------------------- the watch


def test_stale_healthy_is_ignored_until_the_new_generation_is_observed(canary):
    cluster = FakeCluster(canary, [STALE, STALE, STALE, progressing(0), healthy()])
    outcome, clock = watch(canary, cluster)
    assert outcome.result == "healthy" and outcome.revision == "5"
    assert cluster.gets == 5
    assert [o.phase for o in outcome.observations] == ["Progressing", "Healthy"]
    assert clock.sleeps == [10.0] * 4


def test_a_generation_never_observed_times_out(canary):
    cluster = FakeCluster(canary, [STALE])
    outcome, clock = watch(canary, cluster, timeout_s=60.0)
    assert outcome.result == "timeout" and outcome.phase == ""
    assert "never reported the new generation" in outcome.message
    assert clock.t - 1000.0 == 60.0 and cluster.gets == 7


def test_auto_promotes_indefinite_pauses_and_lets_timed_pauses_run(canary):
    cluster = FakeCluster(
        canary,
        [STALE, progressing(0), paused_at(1)],
        after_promote=[
            [STALE, progressing(2), paused_at(3), paused_at(3), progressing(4), paused_at(5)],
            [STALE, healthy()],
        ],
    )
    outcome, _ = watch(canary, cluster, promote="auto")
    assert outcome.result == "healthy"
    assert cluster.promotes == [1, 5]
    assert [a.action for a in outcome.actions] == ["promote at step 1", "promote at step 5"]
    assert [(o.step_index, o.phase) for o in outcome.observations] == [
        (0, "Progressing"), (1, "Paused"), (2, "Progressing"), (3, "Paused"), (4, "Progressing"), (5, "Paused"),
        (6, "Healthy"),
    ]


def test_auto_stops_promoting_at_the_configured_step(canary):
    cluster = FakeCluster(
        canary, [progressing(0), paused_at(1)], after_promote=[[STALE, progressing(4), paused_at(5)]]
    )
    outcome, _ = watch(canary, cluster, promote="auto", promote_up_to=5, timeout_s=120.0)
    assert cluster.promotes == [1]
    assert outcome.result == "timeout" and outcome.phase == "Paused"
    assert outcome.message.endswith("(last phase Paused at step 5)")


def test_manual_never_promotes_and_sees_someone_elses_promotion(canary):
    frames = [progressing(0), paused_at(1), paused_at(1), STALE, progressing(2), healthy()]
    cluster = FakeCluster(canary, frames)
    outcome, _ = watch(canary, cluster, promote="manual")
    assert cluster.promotes == [] and outcome.result == "healthy"


def test_a_step_is_promoted_once_even_if_the_controller_is_slow(canary):
    """A second promote of an unpaused canary would bump currentStepIndex and skip a step."""
    cluster = FakeCluster(canary, [paused_at(1)], after_promote=[[paused_at(1), paused_at(1), progressing(2), healthy()]])
    outcome, _ = watch(canary, cluster, promote="auto")
    assert cluster.promotes == [1] and outcome.result == "healthy"


def test_inconclusive_analysis_waits_for_a_human(canary):
    inconclusive = observed("Paused", 1, "InconclusiveAnalysisRun", controllerPause=True,
                            pauseConditions=[{"reason": "InconclusiveAnalysisRun", "startTime": "2026-11-30T22:10:00Z"}])
    cluster = FakeCluster(canary, [inconclusive])
    outcome, _ = watch(canary, cluster, promote="auto", timeout_s=30.0)
    assert outcome.result == "timeout" and cluster.promotes == []


def test_a_manual_pause_waits_for_a_human(canary):
    """``spec.paused`` is someone's decision to hold the rollout; auto mode must not undo it."""
    frame = paused_at(1)
    frame["$patch"]["spec"] = {"paused": True}
    cluster = FakeCluster(canary, [frame])
    outcome, _ = watch(canary, cluster, promote="auto", timeout_s=30.0)
    assert outcome.result == "timeout" and cluster.promotes == []


def test_the_same_pause_is_promoted_in_auto_mode(canary):
    """The counterpart of the two tests above: the same frame without their difference is promoted."""
    cluster = FakeCluster(canary, [paused_at(1)])
    outcome, _ = watch(canary, cluster, promote="auto", timeout_s=30.0)
    assert cluster.promotes == [1]


def test_degraded(canary):
    outcome, _ = watch(canary, FakeCluster(canary, [STALE, progressing(0), degraded(0)]))
    assert outcome.result == "degraded" and outcome.phase == "Degraded"
    assert outcome.message.startswith("ProgressDeadlineExceeded: ")


def test_aborted_is_reported_as_aborted_not_degraded(canary):
    outcome, _ = watch(canary, FakeCluster(canary, [progressing(0), aborted(0)]))
    assert outcome.result == "aborted"
    assert outcome.message == "RolloutAborted: Rollout aborted update to revision 5"


def test_read_failures_are_retried_with_backoff_until_the_deadline(canary):
    """The watcher losing the cluster is no verdict: it backs off (doubling from the poll interval, at most 30s,
    never past the deadline) and, at the deadline, ends as kubectl-failed for the rollback to follow."""
    cluster = FakeCluster(canary, [progressing(0), *[UNREACHABLE] * 20])
    outcome, clock = watch(canary, cluster, timeout_s=100.0)
    assert outcome.result == "kubectl-failed"
    assert outcome.message == ("kubectl could not read the rollout until the deadline (1m40s): The connection to the"
                               " server 127.0.0.1:6443 was refused")
    assert clock.sleeps == [10.0, 10.0, 20.0, 30.0, 30.0] and cluster.gets == 6
    assert outcome.phase == "Progressing"


def test_the_watch_goes_on_when_reads_come_back(canary, capsys):
    cluster = FakeCluster(canary, [progressing(0), UNREACHABLE, UNREACHABLE, healthy(), ])
    outcome, clock = watch(canary, cluster)
    assert outcome.result == "healthy" and clock.sleeps == [10.0, 10.0, 20.0]
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("::warning::")]
    assert warnings == ["::warning::The connection to the server 127.0.0.1:6443 was refused; retrying with backoff"
                        " until the deadline"]


def test_a_rollout_that_disappears_ends_the_watch(canary):
    class Deleted(FakeCluster):
        def read(self) -> dict:
            raise canary.KubectlError('Error from server (NotFound): rollouts.argoproj.io "web" not found',
                                      not_found=True)

    outcome, clock = watch(canary, Deleted(canary, []))
    assert outcome.result == "kubectl-failed" and clock.sleeps == []


def test_healthy_at_the_recorded_revision_is_not_success(canary):
    """rollout/sync.go after a refused ReplicaSet: generation observed, phase Healthy, revision 4, old pod hash."""
    cluster = FakeCluster(canary, [STALE, refused()])
    outcome, _ = watch(canary, cluster, timeout_s=30.0)
    assert outcome.result == "timeout" and outcome.phase == "Healthy" and outcome.revision == ""
    assert outcome.message.startswith("the rollout did not run the new pod template within 30s (the controller could"
                                      ' not create the new ReplicaSet: Failed to create new replica set "web-7f9c4d2a1":')
    assert [(o.phase, o.message.split(":")[0]) for o in outcome.observations] == [
        ("Healthy", "still revision 4, not the new pod template")]


def test_success_when_set_image_changed_nothing(canary):
    """The image was already the Rollout's (a re-run): Healthy at the same revision is the new template."""
    cluster = FakeCluster(canary, [], image=OLD_IMAGE)
    outcome, _ = watch(canary, cluster, image=OLD_IMAGE)
    assert outcome.result == "healthy" and outcome.revision == "4"


def test_healthy_wins_over_a_deadline_reached_at_the_same_time(canary):
    cluster = FakeCluster(canary, [progressing(0), healthy()])
    outcome, _ = watch(canary, cluster, timeout_s=10.0)
    assert outcome.result == "healthy"


# ---------------------------------------------------------------------------- pure helpers


def test_parse_checksums_reads_the_release_format(canary):
    text = f"{'a' * 64}  kubectl-argo-rollouts-linux-amd64\n{'B' * 64} *./dist/kubectl-argo-rollouts-darwin-arm64\nnoise\n"
    assert canary.parse_checksums(text) == {
        "kubectl-argo-rollouts-linux-amd64": "a" * 64,
        "kubectl-argo-rollouts-darwin-arm64": "b" * 64,
    }


def test_first_line_skips_klog_noise(canary):
    stderr = 'E1130 22:02:05.154950   16695 memcache.go:265] "Unhandled Error"\nThe connection was refused\n'
    assert canary._first_line(stderr) == "The connection was refused"


@pytest.mark.parametrize(("system", "arch", "asset"), [
    ("Linux", "X64", "kubectl-argo-rollouts-linux-amd64"),
    ("Linux", "ARM64", "kubectl-argo-rollouts-linux-arm64"),
    ("macOS", "ARM64", "kubectl-argo-rollouts-darwin-arm64"),
])
def test_platform_asset(canary, monkeypatch, system, arch, asset):
    monkeypatch.setenv("RUNNER_OS", system)
    monkeypatch.setenv("RUNNER_ARCH", arch)
    assert canary.platform_asset() == asset


def test_platform_asset_windows_is_refused(canary, monkeypatch):
    monkeypatch.setenv("RUNNER_OS", "Windows")
    monkeypatch.setenv("RUNNER_ARCH", "X64")
    with pytest.raises(canary.ActionFailure) as failure:
        canary.platform_asset()
    assert failure.value.reason == "plugin-install-failed"


# ------------------------------------------------------------- kubectl wrapper (stand-in on PATH)


def kubectl_for(canary, world, **changes):
    env = {**os.environ, **world.env, "PATH": f"{world.bin}{os.pathsep}/bin"}
    return canary.Kubectl(settings(canary, poll_s=0.0, **changes), env, sleep=lambda s: None)


def test_get_retries_transient_failures(canary, world):
    world.script([UNREACHABLE, UNREACHABLE, UNREACHABLE, progressing(0)])
    assert kubectl_for(canary, world).get()["status"]["phase"] == "Progressing"
    assert len(world.calls("kubectl")) == 4


def test_get_gives_up_after_four_failures_with_kubectls_verdict(canary, world):
    world.script([UNREACHABLE] * 5)
    with pytest.raises(canary.KubectlError) as error:
        kubectl_for(canary, world).get()
    assert error.value.message == (
        "kubectl get rollout failed 4 times: The connection to the server 127.0.0.1:6443 was refused"
        " - did you specify the right host or port?"
    )
    assert len(world.calls("kubectl")) == 4


def test_get_not_found_is_not_retried(canary, world):
    with pytest.raises(canary.KubectlError) as error:
        kubectl_for(canary, world, rollout="api").get()
    assert error.value.not_found
    assert error.value.message == 'Error from server (NotFound): rollouts.argoproj.io "api" not found'
    assert len(world.calls("kubectl")) == 1


def test_malformed_json_is_one_line(canary, world):
    world.script([{"$raw": '{"kind": "Rollout", "status": {'}])
    with pytest.raises(canary.KubectlError) as error:
        kubectl_for(canary, world).get()
    assert error.value.message.startswith("kubectl get rollout printed malformed JSON (")
    assert "\n" not in error.value.message


def test_plugin_commands_report_the_plugins_error(canary, world):
    world.install_plugin()
    with pytest.raises(canary.KubectlError) as error:
        kubectl_for(canary, world, container="api").set_image()
    assert error.value.message == 'Error: unable to find container named "api"'
    assert kubectl_for(canary, world).set_image() == 'rollout "web" image updated'
    assert world.image() == NEW_IMAGE
    assert world.state()["current"]["metadata"]["generation"] == 8


def test_kubectl_without_the_plugin_says_so(canary, world):
    with pytest.raises(canary.KubectlError) as error:
        kubectl_for(canary, world).promote()
    assert error.value.message == 'Error: unknown command "argo" for "kubectl"'


# ------------------------------------------------------------------------------- summary


def test_summary_lists_steps_actions_and_result(canary):
    cluster = FakeCluster(canary, [progressing(0), paused_at(1)], after_promote=[[STALE, progressing(2), healthy()]])
    outcome, _ = watch(canary, cluster, promote="auto")
    text = canary.render_summary(settings(canary), outcome, ["Plugin: test"])
    assert "| 0 | setWeight 20 | Progressing: more replicas need to be updated | 2026-11-30 22:00:00 | 0s |" in text
    assert "| 1 | pause (until promoted) | Paused: CanaryPauseStep | 2026-11-30 22:00:10 | 10s |" in text
    assert "| 6 | all steps complete | Healthy | 2026-11-30 22:00:40 | 40s |" in text
    assert "| 2026-11-30 22:00:10 | promote at step 1 | ok: rollout 'web' promoted |" in text
    assert text.rstrip().endswith("**Result**: Healthy at revision 5.")


def test_a_failed_promote_is_recorded_and_the_watch_goes_on(canary, capsys):
    class Refusing(FakeCluster):
        def promote(self) -> str:
            raise canary.KubectlError('Error: rollouts.argoproj.io "web" is forbidden')

    cluster = Refusing(canary, [paused_at(1), paused_at(1), progressing(2), healthy()])
    outcome, _ = watch(canary, cluster, promote="auto")
    assert outcome.result == "healthy"
    assert [(a.action, a.ok, a.output) for a in outcome.actions] == [
        ("promote at step 1", False, 'Error: rollouts.argoproj.io "web" is forbidden')
    ]
    assert '::warning::promote failed: Error: rollouts.argoproj.io "web" is forbidden' in capsys.readouterr().out


def test_a_multi_line_message_stays_on_one_line(canary):
    obj = apply(rollout(), observed("Degraded", 0, "line one\n::error::injected", generation="7"))
    assert canary.read_view(obj).message == "line one ::error::injected"
