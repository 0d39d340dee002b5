"""Stand-in for ``kubectl`` and the ``kubectl-argo-rollouts`` plugin, playing a scripted Rollout.

There is no Kubernetes cluster (nor Argo Rollouts controller) on this machine, so the tests put
this script on PATH as ``kubectl`` and serve it, as the plugin binary, from a loopback "release".
It behaves like the real tools where canary.py can tell the difference:

- ``kubectl get rollout NAME -n NS -o json``: the Rollout as JSON (4-space indent, like kubectl),
  ``Error from server (NotFound): rollouts.argoproj.io "NAME" not found`` with exit 1 when absent,
  klog lines then ``The connection to the server ... was refused`` with exit 1 when unreachable.
- ``kubectl argo rollouts ...`` runs ``kubectl-argo-rollouts`` from PATH like kubectl's plugin
  lookup, or fails with ``Error: unknown command "argo" for "kubectl"`` when it is not installed.
- The plugin applies the same patches as argo-rollouts v1.9's ``set image`` (spec update: the
  generation goes up, status stays stale until the controller observes it), ``promote`` (clears
  ``status.pauseConditions``, or ``spec.paused``, or bumps ``currentStepIndex``), ``abort``
  (``status.abort: true``) and ``undo`` (template back to the previous image), and prints the
  plugin's own messages (``rollout 'web' promoted``; errors as ``Error: ...``, exit 1).

The "controller" is a script in a JSON state file (``CANARY_STANDIN_STATE``)::

    {"name": ..., "namespace": ..., "current": <Rollout or null>,
     "queue": [<frame>...],                   # what the next ``get`` calls show, one each
     "after": {"set-image": [<frame>...], "promote": [[<frame>...], ...],
               "abort": [<frame>...], "undo": [<frame>...]},   # the queue after each command
     "fail": {"set-image": "message", ...},   # make a plugin command fail like the real one
     "calls": [...]}                          # every invocation, recorded

A frame is a whole Rollout (``"kind": "Rollout"``), ``{"$patch": {...}}`` (a JSON merge patch
on the current object, as the controller's status updates are), ``{"$fail": "unreachable"}``,
``{"$raw": "text"}`` (printed as is), or ``{"$external": "promote"}`` (someone else runs the
plugin command now). When the queue is empty, ``get`` shows the current object.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import sys
from pathlib import Path

STATE_ENV = "CANARY_STANDIN_STATE"


def load() -> tuple[Path, dict]:
    path = Path(os.environ[STATE_ENV])
    return path, json.loads(path.read_text(encoding="utf-8"))


def save(path: Path, state: dict) -> None:
    temp = path.with_suffix(".tmp")
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


def exists(state: dict, name: str, namespace: str) -> bool:
    return state.get("current") is not None and name == state["name"] and namespace == state["namespace"]


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
        if "$patch" in frame:
            state["current"] = merge_patch(state["current"], frame["$patch"])
        else:
            state["current"] = frame
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
        state.setdefault("previous_images", []).append({c["name"]: c["image"] for c in containers(ro)})
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


def undo(state: dict, args: list[str]) -> tuple[int, str]:
    previous = state.get("previous_images") or []
    if not previous:
        return 1, f'Error: no revision found for rollout "{args[0]}"'
    images = previous.pop()
    ro = state["current"]
    for c in containers(ro):
        c["image"] = images.get(c["name"], c["image"])
    ro["metadata"]["generation"] += 1
    return 0, f"rollout '{args[0]}' undo"


PLUGIN_COMMANDS = {"promote": promote, "abort": abort, "undo": undo}


def plugin(argv: list[str]) -> int:
    path, state = load()
    state["calls"].append({"tool": "plugin", "args": argv})
    try:
        args, namespace = take_namespace(argv)
        if not args:
            return fail('Error: unknown command "" for "kubectl-argo-rollouts"')
        command = "set-image" if args[:2] == ["set", "image"] else args[0]
        rest = args[1:]  # set image: ["image", NAME, "C=IMG"]; the others: [NAME]
        names = rest[1:2] if command == "set-image" else rest[:1]
        name = names[0] if names else ""
        if command not in ("set-image", *PLUGIN_COMMANDS):
            return fail(f'Error: unknown command "{args[0]}" for "kubectl-argo-rollouts"')
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
