"""Test helpers for the canary action: a scripted Rollout world behind stand-in kubectl, a loopback release.

No Kubernetes cluster, Argo Rollouts controller or real plugin can run here: ``kubectl`` and
``kubectl-argo-rollouts`` are played by ``kubectl_standin.py`` (see its docstring for how closely),
and the controller by frames the tests script, in the shapes v1.9's controller writes (compare
argoproj/argo-rollouts ``pkg/kubectl-argo-rollouts/info/testdata/canary/*.yaml`` and
``utils/rollout/rolloututil.go``; the fixture here is our own).
"""

from __future__ import annotations

import copy
import hashlib
import importlib.util
import json
import sys
from pathlib import Path

from support.github_api import GitHubDouble

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
ACTION = REPO / "actions" / "canary"
STANDIN = HERE / "kubectl_standin.py"
FIXTURE = HERE / "fixtures" / "rollout-healthy.json"
REVISION = "rollout.argoproj.io/revision"
OLDER_IMAGE = "registry.example.test/shop/web@sha256:" + "0" * 64  # the release before the stable one
OLD_IMAGE = "registry.example.test/shop/web@sha256:" + "1" * 64  # stable: revision 4
NEW_IMAGE = "registry.example.test/shop/web@sha256:" + "2" * 64
OLDER_HASH = "6c4b8d9f2"
OLD_HASH = "5d8f7c9b6"
NEW_HASH = "7f9c4d2a1"
NEW_GENERATION = "8"  # the fixture is at generation 7; `set image` makes it 8


def load_canary():
    """canary.py as a module, for the state-machine tests (it is a script, not a package)."""
    spec = importlib.util.spec_from_file_location("canary_action", ACTION / "canary.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["canary_action"] = module
    spec.loader.exec_module(module)
    return module


def rollout() -> dict:
    """A Healthy canary Rollout at generation 7, revision 4, six steps (pauses at 1, 3 (30s), 5)."""
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def replicasets(obj: dict) -> list[dict]:
    """The ReplicaSets the controller left: revision 3 (the release before) and 4 (stable, running)."""
    import kubectl_standin  # beside this file, on sys.path through conftest

    older = copy.deepcopy(obj)
    older["spec"]["template"]["spec"]["containers"][0]["image"] = OLDER_IMAGE
    return [kubectl_standin.new_replicaset(older, OLDER_HASH, 3), kubectl_standin.new_replicaset(obj, OLD_HASH, 4)]


def initial_state() -> dict:
    obj = rollout()
    return {"name": "web", "namespace": "shop", "current": obj, "replicasets": replicasets(obj), "queue": [],
            "after": {}, "fail": {}, "delay": {}, "calls": []}


# ------------------------------------------------------------ controller frames (merge patches)

STALE = {"$patch": {}}  # the object as it is: after `set image`, old status at the new generation
UNREACHABLE = {"$fail": "unreachable"}


def observed(phase: str, step: int, message: str | None, generation: str = NEW_GENERATION, **status) -> dict:
    """What the controller writes once it has reconciled the new generation."""
    body = {"observedGeneration": generation, "phase": phase, "message": message, "currentStepIndex": step,
            "currentPodHash": NEW_HASH, **status}
    return {"$patch": {"metadata": {"annotations": {REVISION: "5"}}, "status": body}}


def progressing(step: int) -> dict:
    return observed("Progressing", step, "more replicas need to be updated", controllerPause=None)


def paused_at(step: int) -> dict:
    conditions = [{"reason": "CanaryPauseStep", "startTime": "2026-11-30T22:10:00Z"}]
    return observed("Paused", step, "CanaryPauseStep", pauseConditions=conditions, controllerPause=True)


def healthy() -> dict:
    return observed("Healthy", 6, None, stableRS=NEW_HASH, pauseConditions=None, controllerPause=None)


def degraded(step: int) -> dict:
    message = 'ProgressDeadlineExceeded: ReplicaSet "web-7f9c4d2a1" has timed out progressing.'
    condition = {"lastTransitionTime": "2026-11-30T22:20:00Z", "lastUpdateTime": "2026-11-30T22:20:00Z",
                 "message": 'ReplicaSet "web-7f9c4d2a1" has timed out progressing.',
                 "reason": "ProgressDeadlineExceeded", "status": "False", "type": "Progressing"}
    return observed("Degraded", step, message, conditions=[condition])


def refused(error: str = 'admission webhook "images.policy.example.test" denied the request: image is not '
            "signed") -> dict:
    """The API server refuses the new ReplicaSet; the controller writes what rollout/sync.go writes then."""
    return {"$controller": "replicaset-create-error", "hash": NEW_HASH, "error": error}


def aborted(step: int) -> dict:
    return observed("Degraded", step, "RolloutAborted: Rollout aborted update to revision 5", abort=True,
                    pauseConditions=None, controllerPause=None)


def apply(obj: dict, frame: dict) -> dict:
    """A frame applied to an object, in-process (for the state-machine tests)."""
    import kubectl_standin  # beside this file, on sys.path through conftest

    state = {"current": copy.deepcopy(obj), "replicasets": replicasets(rollout())}
    kubectl_standin.apply_frame(state, frame)
    return state["current"]


# ------------------------------------------------------------------------------ the world


class World:
    """A state file and a bin directory with ``kubectl`` (and, if asked, the plugin) on it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "bin"
        self.bin.mkdir(parents=True)
        self.state_path = root / "state.json"
        self.write(initial_state())
        (self.bin / "kubectl").write_text(self.wrapper("kubectl"), encoding="utf-8")
        (self.bin / "kubectl").chmod(0o755)

    @staticmethod
    def wrapper(role: str) -> str:
        return f'#!/bin/sh\nexec "{sys.executable}" "{STANDIN}" {role} "$@"\n'

    def install_plugin(self) -> None:
        """For runs with ``install-plugin: false``: the plugin already on the runner's PATH."""
        (self.bin / "kubectl-argo-rollouts").write_text(self.wrapper("plugin"), encoding="utf-8")
        (self.bin / "kubectl-argo-rollouts").chmod(0o755)

    def write(self, state: dict) -> None:
        self.state_path.write_text(json.dumps(state, indent=2), encoding="utf-8")

    def state(self) -> dict:
        return json.loads(self.state_path.read_text(encoding="utf-8"))

    def script(self, queue: list | None = None, **after) -> None:
        """Set the frames shown by ``get`` now (``queue``) and after each command (``set_image=...``)."""
        state = self.state()
        if queue is not None:
            state["queue"] = queue
        for command, frames in after.items():
            state["after"][command.replace("_", "-")] = frames
        self.write(state)

    def update(self, **changes) -> None:
        state = self.state()
        state.update(changes)
        self.write(state)

    def calls(self, tool: str = "plugin") -> list[list[str]]:
        return [c["args"] for c in self.state()["calls"] if c["tool"] == tool]

    def commands(self) -> list[str]:
        """The plugin commands run, in order: ``set image``, ``promote``, ``abort``, ``undo``."""
        return [" ".join(a[:2]) if a[:2] == ["set", "image"] else a[0] for a in self.calls("plugin")]

    def image(self) -> str:
        return self.state()["current"]["spec"]["template"]["spec"]["containers"][0]["image"]

    def revisions(self) -> dict[str, str]:
        """Each ReplicaSet's revision by its image."""
        return {rs["spec"]["template"]["spec"]["containers"][0]["image"]: rs["metadata"]["annotations"][REVISION]
                for rs in self.state()["replicasets"]}

    @property
    def env(self) -> dict[str, str]:
        return {"CANARY_STANDIN_STATE": str(self.state_path)}


# --------------------------------------------------------------------------- the "release"


class Release:
    """argoproj/argo-rollouts' release assets where GitHub serves them
    (``/<owner>/<repo>/releases/download/<tag>/<asset>``), on the GitHub double
    (:class:`support.github_api.GitHubDouble`); :attr:`url` is the download base the action's
    ``download-url`` names, :attr:`requests` the paths below it that were asked for."""

    REPO = "argoproj/argo-rollouts"

    def __init__(self) -> None:
        self.github = GitHubDouble()
        self.url = f"{self.github.start()}/{self.REPO}/releases/download"

    @property
    def requests(self) -> list[str]:
        prefix = f"/{self.REPO}/releases/download"
        return [path.removeprefix(prefix) for path in self.github.log]

    def publish(self, version: str, binary: bytes, checksum: str | None = None, listed: bool = True) -> str:
        """Publish the linux-amd64 binary and ``argo-rollouts-checksums.txt`` (shasum format)."""
        actual = hashlib.sha256(binary).hexdigest()
        lines = [f"{'3' * 64}  kubectl-argo-rollouts-darwin-amd64"]
        if listed:
            lines.append(f"{checksum or actual}  kubectl-argo-rollouts-linux-amd64")
        lines.append(f"{'4' * 64}  kubectl-argo-rollouts-linux-arm64")
        self.github.assets[f"{self.REPO}/{version}/kubectl-argo-rollouts-linux-amd64"] = binary
        self.github.assets[f"{self.REPO}/{version}/argo-rollouts-checksums.txt"] = ("\n".join(lines) + "\n").encode()
        return actual

    def close(self) -> None:
        self.github.stop()
