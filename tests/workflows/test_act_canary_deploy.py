"""canary-deploy.yml end to end under act, called by workflow-templates/canary-deploy.yml: the image
is built, pushed and signed (container.yml, as in test_act_container.py), then rolled out by digest.

Real: everything test_act_container.py lists, act passing the ``image-ref`` output of one called
workflow to the next, the canary action's script at the commit under test, the plugin's download
from a loopback release mirror and its SHA-256 check. Stand-ins (no cluster here), shared with the
canary action's own tests (tests/actions/canary/): ``kubectl`` on the runner's PATH and the
``kubectl-argo-rollouts`` binary the mirror serves (kubectl_standin.py), and the Argo Rollouts
controller as scripted frames (canary_world.py). act does not enforce the ``production``
environment's protection rules. The service's rollout and namespace are its repository's name,
``web``, as the template says.

Like the container test, the caller is the template with its image in the organisation's
registry; it also names its plugin mirror and the plugin's checksum (``plugin-download-url``,
``plugin-sha256``), as a runner that cannot reach github.com must.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .test_act_container import TOKEN, ContainerWorld

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "actions" / "canary"))
import canary_world  # noqa: E402

CANARY = "canary/Canary deploy/Canary web in production"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"


@pytest.fixture(scope="module")
def world(act_session):
    root = act_session.new_dir("canary")
    images = ContainerWorld(act_session, root, "web", ["canary-deploy"])
    release = canary_world.Release()
    cluster = canary_world.World(root / "cluster")
    cluster.update(namespace="web")
    plugin_sha256 = release.publish("v1.9.1", cluster.wrapper("plugin").encode())
    images.repo.add_inputs("canary-deploy", {"plugin-download-url": release.url, "plugin-sha256": plugin_sha256},
                           job="canary")
    yield images, cluster, release
    release.close()
    images.stop()


def deploy(act_session, world):
    images, cluster, _ = world
    payload, github = images.repo.push_event()
    return act_session.act.run(images.repo.path, "push", "canary-deploy.yml", payload, github=github,
                               handlers=images.handlers(), env={**images.env, **cluster.env},
                               path=[images.cosign_bin, cluster.bin],
                               secrets={"GITHUB_TOKEN": TOKEN, "KUBECONFIG": KUBECONFIG})


def test_the_signed_image_rolls_out_by_digest(act_session, world):
    images, cluster, release = world
    cluster.script(set_image=[canary_world.healthy()])
    result = deploy(act_session, world)
    assert result.succeeded, result.text()[-8000:]
    image_ref = result.outputs("image")["image-ref"]
    assert image_ref.startswith(images.image + "@sha256:")
    assert result.outputs("canary") == {"phase": "Healthy", "revision": "5", "failure-reason": ""}
    assert cluster.image() == image_ref  # the rollout runs the pushed digest, never a tag
    assert cluster.commands() == ["set image"]
    assert "**Result**: Healthy at revision 5." in result.summary(CANARY)


def test_a_degraded_rollout_is_rolled_back_and_fails_the_run(act_session, world):
    images, cluster, _ = world
    cluster.update(calls=[])
    cluster.script(set_image=[canary_world.degraded(1)])
    result = deploy(act_session, world)
    assert not result.succeeded
    assert result.jobs[CANARY] == "failure"
    assert cluster.commands() == ["set image", "abort", "undo"]
    deployed = next(arg.split("=", 1)[1] for arg in cluster.calls()[0] if arg.startswith("web="))
    assert deployed.startswith(images.image + "@sha256:")
    assert cluster.image() != deployed  # undone: the rollout's template is back at the previous revision
    assert set(result.step_outputs(CANARY, "failure-reason")) == {"degraded"}
    assert any("ProgressDeadlineExceeded" in error for error in result.errors(CANARY)), result.errors(CANARY)
    assert "(`degraded`)" in result.summary(CANARY)
