"""Stand-in for ``kubectl`` and the ``kubectl-argo-rollouts`` plugin, playing a scripted Rollout.

There is no Kubernetes cluster (nor Argo Rollouts controller) on this machine, so the tests put
this script on PATH as ``kubectl`` and serve it, as the plugin binary, from a loopback "release".
It behaves like the real tools at the version the action pins (argoproj/argo-rollouts v1.9.1,
commit b6bd3bcf8f60d717a98763d26acc983db7f97cb0) where canary.py can tell the difference:

- ``kubectl get rollout NAME -n NS -o json``: the Rollout as JSON (4-space indent, like kubectl),
  ``Error from server (NotFound): rollouts.argoproj.io "NAME" not found`` with exit 1 when absent,
  klog lines then ``The connection to the server ... was refused`` with exit 1 when unreachable.
- ``kubectl argo rollouts ...`` runs ``kubectl-argo-rollouts`` from PATH like kubectl's plugin
  lookup, or fails with ``Error: unknown command "argo" for "kubectl"`` when it is not installed.
- The plugin's commands follow their sources: ``set image``
  (``pkg/kubectl-argo-rollouts/cmd/set/set_image.go``: every container, init container and
  ephemeral container of that name gets the image; a spec change, so the generation goes up while
  the status stays stale until the controller observes it), ``promote`` (clears
  ``status.pauseConditions``, or ``spec.paused``, or bumps ``currentStepIndex``), ``abort``
  (``cmd/abort/abort.go``: the merge patch ``{"status":{"abort":true}}``) and ``undo``
  (``cmd/undo/undo.go``, see :func:`undo`: the ReplicaSets the Rollout controls, the second-newest
  revision or ``--to-revision``, the pod template copied back without its hash label), with the
  plugin's own messages (``rollout 'web' promoted``; errors as ``Error: ...``, exit 1).

ReplicaSets are kept in the state (``replicasets``) the way the controller keeps them
(``rollout/sync.go``): each carries ``rollout.argoproj.io/revision`` and the
``rollouts-pod-template-hash`` label and the Rollout as its controller. A ReplicaSet comes into
being when a frame moves ``status.currentPodHash`` to a hash no ReplicaSet has (the controller writes
that hash only once the new ReplicaSet exists), with the Rollout's pod template and revision
max+1 (``createDesiredReplicaSet``); a frame that moves it to an existing ReplicaSet's hash makes
that one the newest again (``syncReplicaSetRevision``). The pod template hash itself is the frame's:
the controller's FNV hash of a Go struct is not recomputed here, nor are the API server's
defaults of a ReplicaSet's pod template.

The "controller" is a script in a JSON state file (``CANARY_STANDIN_STATE``)::

    {"name": ..., "namespace": ..., "current": <Rollout or null>, "replicasets": [...],
     "queue": [<frame>...],                   # what the next ``get`` calls show, one each
     "after": {"set-image": [<frame>...], "promote": [[<frame>...], ...],
               "abort": [<frame>...], "undo": [<frame>...]},   # the queue after each command
     "fail": {"set-image": "message", ...},   # make a plugin command fail like the real one
     "delay": {"abort": 0.5, ...},            # seconds a plugin command takes (after it is logged)
     "calls": [...]}                          # every invocation, recorded when it starts

A frame is a whole Rollout (``"kind": "Rollout"``), ``{"$patch": {...}}`` (a JSON merge patch
on the current object, as the controller's status updates are), ``{"$fail": "unreachable"}``,
``{"$raw": "text"}`` (printed as is), ``{"$external": "promote"}`` (someone else runs the
plugin command now), or ``{"$controller": "replicaset-create-error", "hash": ..., "error": ...}``:
the status the v1.9.1 controller writes when the API server refuses the new ReplicaSet (an
admission webhook, a quota), see :func:`refuse_replicaset`. When the queue is empty, ``get``
shows the current object.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import shutil
import sys
import time
from pathlib import Path

STATE_ENV = "CANARY_STANDIN_STATE"
REVISION = "rollout.argoproj.io/revision"
HASH_LABEL = "rollouts-pod-template-hash"  # v1alpha1.DefaultRolloutUniqueLabelKey


def load() -> tuple[Path, dict]:
    path = Path(os.environ[STATE_ENV])
    return path, json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, state: dict) -> None:
    temp = path.with_suffix(f".{os.getpid()}.tmp")
    temp.write_text(json.dumps(state, indent=2), encoding="utf-8")
    os.replace(temp, path)


def merge_patch(target: object, patch: object) -> object:
    """RFC 7386 JSON merge patch, as ``kubectl patch --type merge`` applies it."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = copy.deepcopy(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def fail(message: str, code: int = 1) -> int:
    sys.stderr.write(message + "\n")
    return code


def take_namespace(args: list[str]) -> tuple[list[str], str]:
    rest, namespace, i = [], "default", 0
    while i < len(args):
        if args[i] in ("-n", "--namespace") and i + 1 < len(args):
            namespace, i = args[i + 1], i + 2
        elif args[i].startswith("--namespace="):
            namespace, i = args[i].split("=", 1)[1], i + 1
        else:
            rest.append(args[i])
            i += 1
    return rest, namespace


def take_flag(args: list[str], flag: str) -> tuple[list[str], str | None]:
    """``--flag=value`` or ``--flag value`` (cobra accepts both), removed from ``args``."""
    rest, value, i = [], None, 0
    while i < len(args):
        if args[i] == flag and i + 1 < len(args):
            value, i = args[i + 1], i + 2
        elif args[i].startswith(flag + "="):
            value, i = args[i].split("=", 1)[1], i + 1
        else:
            rest.append(args[i])
            i += 1
    return rest, value


def exists(state: dict, name: str, namespace: str) -> bool:
    return state.get("current") is not None and name == state["name"] and namespace == state["namespace"]


def now_text() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# ---------------------------------------------------------------------------- the controller


def calculate_rollout_phase(spec: dict, status: dict) -> tuple[str, str]:
    """``CalculateRolloutPhase`` of ``utils/rollout/rolloututil.go`` (v1.9.1), for the fields kept here."""
    for cond in status.get("conditions") or []:
        if cond.get("type") == "InvalidSpec":
            return "Degraded", f"InvalidSpec: {cond.get('message', '')}"
        if cond.get("reason") in ("RolloutAborted", "ProgressDeadlineExceeded"):
            return "Degraded", f"{cond['reason']}: {cond.get('message', '')}"
    if spec.get("paused"):
        return "Paused", "manually paused"
    for pause in status.get("pauseConditions") or []:
        return "Paused", str(pause.get("reason", ""))
    replicas = spec.get("replicas", 1)
    if status.get("updatedReplicas", 0) < replicas:
        return "Progressing", "more replicas need to be updated"
    if status.get("availableReplicas", 0) < status.get("updatedReplicas", 0):
        return "Progressing", "updated replicas are still becoming available"
    strategy = spec.get("strategy") or {}
    fully_promoted = status.get("stableRS", "") == status.get("currentPodHash", "")
    if "blueGreen" in strategy:
        active = (status.get("blueGreen") or {}).get("activeSelector", "")
        if not active or active != status.get("currentPodHash", ""):
            return "Progressing", "active service cutover pending"
        if not status.get("stableRS") or not fully_promoted:
            return "Progressing", "waiting for post-promotion verification to complete"
    elif "canary" in strategy:
        if not (strategy["canary"] or {}).get("trafficRouting"):
            if status.get("replicas", 0) > status.get("updatedReplicas", 0):
                return "Progressing", "old replicas are pending termination"
        if not status.get("stableRS") or not fully_promoted:
            return "Progressing", "waiting for all steps to complete"
    return "Healthy", ""


def set_condition(status: dict, condition: dict) -> None:
    """``SetRolloutCondition`` (utils/conditions/conditions.go): same status and reason is left as is;
    the same status keeps its lastTransitionTime; the condition moves to the end of the list."""
    conditions = status.get("conditions") or []
    current = next((c for c in conditions if c.get("type") == condition["type"]), None)
    if current and current.get("status") == condition["status"] and current.get("reason") == condition["reason"]:
        return
    if current and current.get("status") == condition["status"]:
        condition["lastTransitionTime"] = current.get("lastTransitionTime")
    status["conditions"] = [c for c in conditions if c.get("type") != condition["type"]] + [condition]


def refuse_replicaset(state: dict, frame: dict) -> None:
    """The API server refused the new ReplicaSet: ``createDesiredReplicaSet``'s error branch.

    rollout/sync.go (v1.9.1) records a ``Progressing`` condition, status ``False``, reason
    ``ReplicaSetCreateError`` with ``Failed to create new replica set "<name>": <error>``, and
    ``patchCondition`` writes it with ``observedGeneration`` set to the new generation and the
    phase recomputed by ``CalculateRolloutPhase`` from the otherwise unchanged status: the old
    ReplicaSet is still stable and current, so the phase reads Healthy at the old revision. No
    ReplicaSet is created, and neither the revision annotation nor ``currentPodHash`` moves.
    """
    ro = state["current"]
    status = ro.setdefault("status", {})
    name = f"{ro['metadata']['name']}-{frame['hash']}"
    stamp = now_text()
    set_condition(status, {"lastTransitionTime": stamp, "lastUpdateTime": stamp,
                           "message": f'Failed to create new replica set "{name}": {frame["error"]}',
                           "reason": "ReplicaSetCreateError", "status": "False", "type": "Progressing"})
    status["observedGeneration"] = str(ro["metadata"]["generation"])
    status["phase"], status["message"] = calculate_rollout_phase(ro["spec"], status)
    if not status["message"]:
        status.pop("message")


def revision_of(obj: dict) -> int:
    """``revision()`` of undo.go: a missing annotation is revision 0."""
    return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))


def pod_hash(rs: dict) -> str:
    return rs["metadata"]["labels"].get(HASH_LABEL, "")


def new_replicaset(ro: dict, template_hash: str, revision: int) -> dict:
    """The ReplicaSet ``createDesiredReplicaSet`` writes: the template with the hash label added."""
    template = copy.deepcopy(ro["spec"]["template"])
    labels = dict(template.get("metadata", {}).get("labels") or {})
    labels[HASH_LABEL] = template_hash
    template.setdefault("metadata", {})["labels"] = labels
    selector = copy.deepcopy(ro["spec"]["selector"])
    selector.setdefault("matchLabels", {})[HASH_LABEL] = template_hash
    meta = ro["metadata"]
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": f"{meta['name']}-{template_hash}", "namespace": meta.get("namespace", "default"),
                         "annotations": {REVISION: str(revision)}, "labels": labels,
                         "ownerReferences": [{"apiVersion": "argoproj.io/v1alpha1", "kind": "Rollout",
                                              "name": meta["name"], "uid": meta.get("uid", ""), "controller": True,
                                              "blockOwnerDeletion": True}]},
            "spec": {"replicas": 0, "selector": selector, "template": template}}


def sync_replicasets(state: dict) -> None:
    """The ReplicaSet of ``status.currentPodHash`` exists and is the newest revision (sync.go)."""
    ro = state.get("current")
    current = ((ro or {}).get("status") or {}).get("currentPodHash")
    if not current:
        return
    replicasets = state.setdefault("replicasets", [])
    others = [rs for rs in replicasets if pod_hash(rs) != current]
    newest = max((revision_of(rs) for rs in others), default=0) + 1
    mine = next((rs for rs in replicasets if pod_hash(rs) == current), None)
    if mine is None:
        replicasets.append(new_replicaset(ro, current, newest))
    elif revision_of(mine) < newest:
        mine["metadata"]["annotations"][REVISION] = str(newest)
    else:
        newest = revision_of(mine)
    ro["metadata"].setdefault("annotations", {})[REVISION] = str(newest)


def apply_frame(state: dict, frame: dict) -> None:
    """What the controller did between two reads: a merge patch, a whole object, or a refused ReplicaSet."""
    previous = ((state.get("current") or {}).get("status") or {}).get("currentPodHash")
    if frame.get("$controller") == "replicaset-create-error":
        refuse_replicaset(state, frame)
    elif "$controller" in frame:
        raise ValueError(f"stand-in: unknown controller frame {frame['$controller']!r}")
    elif "$patch" in frame:
        state["current"] = merge_patch(state["current"], frame["$patch"])
    else:
        state["current"] = copy.deepcopy(frame)
    if ((state.get("current") or {}).get("status") or {}).get("currentPodHash") != previous:
        sync_replicasets(state)


# ------------------------------------------------------------------------------------ kubectl


def kubectl(argv: list[str]) -> int:
    if argv[:2] == ["argo", "rollouts"]:
        plugin = shutil.which("kubectl-argo-rollouts")
        if not plugin:
            return fail('Error: unknown command "argo" for "kubectl"')
        os.execv(plugin, [plugin, *argv[2:]])
    path, state = load()
    state["calls"].append({"tool": "kubectl", "args": argv})
    try:
        return kubectl_get(path, state, argv)
    finally:
        save(path, state)


def kubectl_get(path: Path, state: dict, argv: list[str]) -> int:
    args, namespace = take_namespace(argv)
    args = [a for a in args if not a.startswith("--request-timeout=")]
    if len(args) != 5 or args[:2] != ["get", "rollout"] or args[3:] != ["-o", "json"]:
        return fail(f"stand-in kubectl: unsupported arguments {argv}", 2)
    name = args[2]
    while state["queue"]:
        frame = state["queue"].pop(0)
        if "$fail" in frame:
            sys.stderr.write(
                'E1130 22:02:05.154950   16695 memcache.go:265] "Unhandled Error" err="couldn\'t get current'
                ' server API group list: Get \\"https://127.0.0.1:6443/api?timeout=30s\\": dial tcp'
                ' 127.0.0.1:6443: connect: connection refused"\n'
            )
            return fail("The connection to the server 127.0.0.1:6443 was refused - did you specify the right host or port?")
        if "$raw" in frame:
            sys.stdout.write(frame["$raw"])
            return 0
        if "$external" in frame:
            state["calls"].append({"tool": "external", "args": [frame["$external"]]})
            code, _ = PLUGIN_COMMANDS[frame["$external"]](state, [state["name"]])
            if code:
                return fail(f"stand-in: external {frame['$external']} failed", 2)
            break
        apply_frame(state, frame)
        break
    if not exists(state, name, namespace):
        return fail(f'Error from server (NotFound): rollouts.argoproj.io "{name}" not found')
    sys.stdout.write(json.dumps(state["current"], indent=4) + "\n")
    return 0


# ------------------------------------------------------------------------------------- plugin


def containers(rollout: dict) -> list[dict]:
    spec = rollout["spec"]["template"]["spec"]
    return [c for key in ("initContainers", "containers", "ephemeralContainers") for c in spec.get(key, [])]


def set_image(state: dict, args: list[str]) -> tuple[int, str]:
    if len(args) != 3 or args[2].count("=") != 1:
        return 1, "Error: accepts 2 args"
    name, (container, image) = args[1], args[2].split("=")
    ro = state["current"]
    found = [c for c in containers(ro) if c["name"] == container or container == "*"]
    if not found:
        return 1, f'Error: unable to find container named "{container}"'
    if any(c["image"] != image for c in found):
        for c in found:
            c["image"] = image
        ro["metadata"]["generation"] += 1  # a spec change; status.observedGeneration stays behind
    return 0, f'rollout "{name}" image updated'


def promote(state: dict, args: list[str]) -> tuple[int, str]:
    """The default branch of the plugin's ``getPatches``: no flags."""
    ro = state["current"]
    status = ro.setdefault("status", {})
    if ro["spec"].get("paused"):
        ro["spec"]["paused"] = False
        ro["metadata"]["generation"] += 1
    if status.get("pauseConditions"):
        status.pop("pauseConditions")
    elif "canary" in ro["spec"]["strategy"]:
        steps = ro["spec"]["strategy"]["canary"].get("steps", [])
        index = status.get("currentStepIndex", 0)
        status["currentStepIndex"] = min(index + 1, len(steps))
    return 0, f"rollout '{args[0]}' promoted"


def abort(state: dict, args: list[str]) -> tuple[int, str]:
    state["current"].setdefault("status", {})["abort"] = True
    return 0, f"rollout '{args[0]}' aborted"


def deep_derivative(a: object, b: object) -> bool:
    """``apiequality.Semantic.DeepDerivative(a, b)``: what ``a`` sets, ``b`` has; ``a``'s unset fields
    (empty values) are ignored. Used by undo.go's ``equalIgnoreHash``."""
    if a in (None, "", 0, False, [], {}):
        return True
    if isinstance(a, dict):
        return isinstance(b, dict) and all(deep_derivative(v, b.get(k)) for k, v in a.items())
    if isinstance(a, list):
        return isinstance(b, list) and len(a) == len(b) and all(deep_derivative(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def controlled_replicasets(state: dict) -> list[dict]:
    """``listReplicaSets`` of undo.go: the Rollout's selector matches, and the Rollout is the controller."""
    ro = state["current"]
    wanted = ro["spec"]["selector"].get("matchLabels") or {}
    uid = ro["metadata"].get("uid", "")
    owned = []
    for rs in state.get("replicasets") or []:
        labels = rs["metadata"].get("labels") or {}
        refs = rs["metadata"].get("ownerReferences") or []
        if all(labels.get(k) == v for k, v in wanted.items()) and any(
            r.get("controller") and r.get("uid") == uid for r in refs
        ):
            owned.append(rs)
    return owned


def undo(state: dict, args: list[str]) -> tuple[int, str]:
    """``RunUndoRollout`` of ``pkg/kubectl-argo-rollouts/cmd/undo/undo.go`` (v1.9.1).

    Without ``--to-revision`` (0) the target is the ReplicaSet with the *second-highest* revision
    among those the Rollout controls (``rolloutRevision``), whatever was running before: when the
    newest revision was never created (a refused ReplicaSet), that is the release before the stable
    one. With ``--to-revision=N`` it is the ReplicaSet whose revision is N. A template already equal
    to the target's (``equalIgnoreHash``: DeepDerivative without the hash label) is skipped;
    otherwise ``/spec/template`` is replaced by the target's template without its hash label.
    """
    args, to_text = take_flag(args, "--to-revision")
    name = args[0]
    try:
        to_revision = int(to_text or "0")
    except ValueError:
        return 1, f'Error: invalid argument "{to_text}" for "--to-revision" flag: strconv.ParseInt: parsing ' \
                  f'"{to_text}": invalid syntax'
    ro = state["current"]
    latest, latest_rev, previous, previous_rev = None, -1, None, -1
    target = None
    for rs in controlled_replicasets(state):
        rev = revision_of(rs)
        if to_revision == 0:
            if latest_rev < rev:
                previous, previous_rev, latest, latest_rev = latest, latest_rev, rs, rev
            elif previous_rev < rev:
                previous, previous_rev = rs, rev
        elif rev == to_revision:
            target = rs
            break
    if to_revision > 0 and target is None:
        return 1, f"Error: unable to find specified revision {to_revision} in history"
    if to_revision == 0:
        if previous is None:
            return 1, f'Error: no revision found for rollout "{name}"'
        target = previous
    template = copy.deepcopy(target["spec"]["template"])
    mine = copy.deepcopy(ro["spec"]["template"])
    for t in (template, mine):
        ((t.get("metadata") or {}).get("labels") or {}).pop(HASH_LABEL, None)
    if deep_derivative(mine, template):
        return 0, f"skipped rollback (current template already matches revision {to_revision})"
    ro["spec"]["template"] = template
    ro["metadata"]["generation"] += 1
    return 0, f"rollout '{name}' undo"


PLUGIN_COMMANDS = {"promote": promote, "abort": abort, "undo": undo}


def plugin(argv: list[str]) -> int:
    path, state = load()
    state["calls"].append({"tool": "plugin", "args": argv})
    save(path, state)  # logged when it starts: tests wait for a command to be under way
    try:
        args, namespace = take_namespace(argv)
        if not args:
            return fail('Error: unknown command "" for "kubectl-argo-rollouts"')
        command = "set-image" if args[:2] == ["set", "image"] else args[0]
        rest = args[1:]  # set image: ["image", NAME, "C=IMG"]; the others: [NAME, flags...]
        positional = [a for a in rest if not a.startswith("--")]
        names = positional[1:2] if command == "set-image" else positional[:1]
        name = names[0] if names else ""
        if command not in ("set-image", *PLUGIN_COMMANDS):
            return fail(f'Error: unknown command "{args[0]}" for "kubectl-argo-rollouts"')
        time.sleep(float(state.get("delay", {}).get(command, 0)))
        _, state = load()  # what happened while this command was running
        if not exists(state, name, namespace):
            return fail(f'Error: rollouts.argoproj.io "{name}" not found')
        if command in state.get("fail", {}):
            return fail(f"Error: {state['fail'][command]}")
        handler = set_image if command == "set-image" else PLUGIN_COMMANDS[command]
        code, message = handler(state, rest)
        if code:
            return fail(message, code)
        print(message)
        after = state.get("after", {}).get(command)
        if command == "promote" and after is not None:
            after = after.pop(0) if after else None
        if after is not None:
            state["queue"] = list(after)
        return 0
    finally:
        save(path, state)


if __name__ == "__main__":
    role, *rest = sys.argv[1:]
    sys.exit(kubectl(rest) if role == "kubectl" else plugin(rest))
