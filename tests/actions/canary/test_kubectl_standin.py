"""The stand-in against the sources it follows (argo-rollouts v1.9.1): if it drifts, the canary's tests lie.

rollout/sync.go (createDesiredReplicaSet, patchCondition), utils/rollout/rolloututil.go
(CalculateRolloutPhase), utils/conditions/conditions.go (SetRolloutCondition) and
pkg/kubectl-argo-rollouts/cmd/undo/undo.go (RunUndoRollout, rolloutRevision, equalIgnoreHash).
"""

from __future__ import annotations

import copy

import kubectl_standin as standin
import pytest
from canary_world import (
    NEW_HASH,
    NEW_IMAGE,
    OLD_HASH,
    OLD_IMAGE,
    OLDER_IMAGE,
    REVISION,
    initial_state,
    paused_at,
    progressing,
    refused,
)


def after_set_image(image: str = NEW_IMAGE) -> dict:
    state = initial_state()
    standin.set_image(state, ["image", "web", f"web={image}"])
    return state


def image(state: dict) -> str:
    return state["current"]["spec"]["template"]["spec"]["containers"][0]["image"]


def test_a_refused_replicaset_reads_healthy_at_the_old_revision():
    state = after_set_image()
    before = copy.deepcopy(state["current"]["status"])
    standin.apply_frame(state, refused("quota exceeded"))
    status = state["current"]["status"]
    assert status["observedGeneration"] == "8"  # patchCondition: strconv.Itoa(generation)
    assert status["phase"] == "Healthy" and "message" not in status
    assert state["current"]["metadata"]["annotations"][REVISION] == "4"
    assert (status["currentPodHash"], status["stableRS"]) == (OLD_HASH, OLD_HASH)
    assert [c["type"] for c in status["conditions"]] == ["Available", "Healthy", "Completed", "Progressing"]
    progressing_ = status["conditions"][-1]
    assert {k: progressing_[k] for k in ("type", "status", "reason", "message")} == {
        "type": "Progressing", "status": "False", "reason": "ReplicaSetCreateError",
        "message": f'Failed to create new replica set "web-{NEW_HASH}": quota exceeded'}
    assert progressing_["lastTransitionTime"] != before["conditions"][-1]["lastTransitionTime"]
    assert len(state["replicasets"]) == 2
    again = copy.deepcopy(status)
    standin.apply_frame(state, refused("quota exceeded"))  # same status and reason: left as it is
    assert state["current"]["status"] == again


@pytest.mark.parametrize(("change", "phase"), [
    ({}, ("Healthy", "")),
    ({"status": {"updatedReplicas": 1}}, ("Progressing", "more replicas need to be updated")),
    ({"status": {"availableReplicas": 4}}, ("Progressing", "updated replicas are still becoming available")),
    ({"status": {"replicas": 6}}, ("Progressing", "old replicas are pending termination")),
    ({"status": {"currentPodHash": NEW_HASH}}, ("Progressing", "waiting for all steps to complete")),
    ({"spec": {"paused": True}}, ("Paused", "manually paused")),
    ({"status": {"pauseConditions": [{"reason": "CanaryPauseStep"}]}}, ("Paused", "CanaryPauseStep")),
    ({"status": {"conditions": [{"type": "Progressing", "reason": "RolloutAborted", "message": "m"}]}},
     ("Degraded", "RolloutAborted: m")),
    ({"status": {"conditions": [{"type": "InvalidSpec", "reason": "x", "message": "bad"}]}},
     ("Degraded", "InvalidSpec: bad")),
])
def test_calculate_rollout_phase(change, phase):
    ro = standin.merge_patch(initial_state()["current"], change)
    assert standin.calculate_rollout_phase(ro["spec"], ro["status"]) == phase


def test_a_new_pod_hash_creates_the_next_revision():
    state = after_set_image()
    standin.apply_frame(state, progressing(0))
    rs = state["replicasets"][-1]
    assert rs["metadata"]["name"] == f"web-{NEW_HASH}" and rs["metadata"]["annotations"][REVISION] == "5"
    assert rs["spec"]["template"]["metadata"]["labels"][standin.HASH_LABEL] == NEW_HASH
    assert rs["spec"]["template"]["spec"]["containers"][0]["image"] == NEW_IMAGE
    standin.apply_frame(state, paused_at(1))  # the same hash: nothing new
    assert len(state["replicasets"]) == 3


def test_plain_undo_takes_the_second_newest_revision():
    """No new ReplicaSet (refused): revisions 3 and 4 exist, so undo goes to 3, past the stable release."""
    state = after_set_image()
    standin.apply_frame(state, refused())
    assert standin.undo(state, ["web"]) == (0, "rollout 'web' undo")
    assert image(state) == OLDER_IMAGE
    assert standin.HASH_LABEL not in state["current"]["spec"]["template"]["metadata"]["labels"]
    assert state["current"]["metadata"]["generation"] == 9


def test_plain_undo_after_a_new_replicaset_goes_to_the_stable_one():
    state = after_set_image()
    standin.apply_frame(state, progressing(0))
    assert standin.undo(state, ["web"]) == (0, "rollout 'web' undo") and image(state) == OLD_IMAGE


@pytest.mark.parametrize("flag", [["--to-revision=4"], ["--to-revision", "4"]])
def test_undo_to_a_revision(flag):
    state = after_set_image()
    standin.apply_frame(state, refused())
    assert standin.undo(state, ["web", *flag]) == (0, "rollout 'web' undo") and image(state) == OLD_IMAGE


def test_undo_to_the_running_template_is_skipped():
    state = initial_state()
    assert standin.undo(state, ["web", "--to-revision=4"]) == (
        0, "skipped rollback (current template already matches revision 4)")
    assert standin.undo(state, ["web"]) == (0, "rollout 'web' undo")  # plain undo: revision 3
    assert state["current"]["metadata"]["generation"] == 8


def test_undo_errors():
    state = initial_state()
    assert standin.undo(state, ["web", "--to-revision=9"]) == (1, "Error: unable to find specified revision 9 in "
                                                                  "history")
    state["replicasets"] = state["replicasets"][1:]
    assert standin.undo(state, ["web"]) == (1, 'Error: no revision found for rollout "web"')


def test_undo_ignores_replicasets_the_rollout_does_not_control():
    state = after_set_image()
    standin.apply_frame(state, refused())
    for rs in state["replicasets"][:1]:
        rs["metadata"]["ownerReferences"][0]["uid"] = "someone-else"
    assert standin.undo(state, ["web"]) == (1, 'Error: no revision found for rollout "web"')
    assert image(state) == NEW_IMAGE
