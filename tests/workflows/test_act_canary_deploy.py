"""canary-deploy.yml end to end under act, called by workflow-templates/canary-deploy.yml: the image
is built, pushed, scanned and signed (container.yml, as in test_act_container.py), then rolled out by
digest.

Real: everything test_act_container.py lists, act passing the ``image-ref`` output of one called
workflow to the next, the canary action's script at the commit under test, the plugin's download
from a loopback release mirror and its SHA-256 check, and (with ``verify-signature``) ``cosign
verify`` of the deployed digest against the signature container.yml stored in the real registry.
Stand-ins (no cluster here), shared with the canary action's own tests (tests/actions/canary/):
``kubectl`` on the runner's PATH and the ``kubectl-argo-rollouts`` binary the mirror serves
(kubectl_standin.py, the v1.9.1 plugin's commands, ``undo --to-revision`` included), and the Argo
Rollouts controller as scripted frames (canary_world.py, the statuses the v1.9.1 controller
writes). act does not enforce the ``production`` environment's protection rules.

The caller is the template with its placeholders filled as its comment asks (``<rollout-name>`` and
``<namespace>``: the Rollout ``web`` in namespace ``web``), its image in the organisation's registry
with that registry's credentials (as in the container test), and its plugin mirror and the plugin's
checksum (``plugin-download-url``, ``plugin-sha256``), as a runner that cannot reach github.com must.
``canary-verified.yml`` is the same caller with ``verify-signature`` on, bound to container.yml at
the commit under test; its signer repository comes from the ``SIGNER_REPOSITORY`` variable (empty:
the calling repository, as the workflow defaults).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .test_act_container import ContainerWorld

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "actions" / "canary"))
import canary_world  # noqa: E402

CANARY = "canary/Canary deploy/Canary web in production"
KUBECONFIG = "apiVersion: v1\nkind: Config\nclusters: []\n"
VERIFIED = "canary-verified"


class CanaryWorld:
    def __init__(self, act_session, scanner) -> None:
        root = act_session.new_dir("canary")
        self.images = ContainerWorld(act_session, scanner, root, "web", ["canary-deploy"])
        repo = self.images.repo
        repo.replace_input("canary-deploy", "rollout", "web")
        repo.replace_input("canary-deploy", "namespace", "web")
        self.release = canary_world.Release()
        self.cluster = canary_world.World(root / "cluster")
        plugin_sha256 = self.release.publish("v1.9.1", self.cluster.wrapper("plugin").encode())
        repo.add_inputs("canary-deploy", {"plugin-download-url": self.release.url, "plugin-sha256": plugin_sha256},
                        job="canary")
        workflows = repo.path / ".github" / "workflows"
        (workflows / f"{VERIFIED}.yml").write_text((workflows / "canary-deploy.yml").read_text(encoding="utf-8"),
                                                   encoding="utf-8")
        repo.add_inputs(VERIFIED, {"verify-signature": "true",
                                   "certificate-identity": f"https://github.com/{self.images.workflow_ref}",
                                   "certificate-github-workflow-repository": "${{ vars.SIGNER_REPOSITORY }}"},
                        job="canary")
        self.installs = self.images.installs

    def fresh_cluster(self) -> None:
        """The Rollout ``web`` as the stable release left it: revision 4 running, revision 3 before it."""
        state = canary_world.initial_state()
        state["namespace"] = "web"
        self.cluster.write(state)

    def deploy(self, workflow: str = "canary-deploy", variables: dict | None = None):
        payload, github = self.images.repo.push_event()
        return self.images.run(f"{workflow}.yml", "push", payload, github, env=self.cluster.env,
                               path=[self.cluster.bin], secrets={"KUBECONFIG": KUBECONFIG}, variables=variables)

    def stop(self) -> None:
        self.release.close()
        self.images.stop()


@pytest.fixture(scope="module")
def world(act_session, scanner):
    w = CanaryWorld(act_session, scanner)
    yield w
    w.stop()


def test_the_signed_image_rolls_out_by_digest(world):
    world.fresh_cluster()
    world.cluster.script(set_image=[canary_world.healthy()])
    result = world.deploy()
    assert result.succeeded, result.text()[-8000:]
    image_ref = result.outputs("image")["image-ref"]
    assert image_ref.startswith(world.images.image + "@sha256:")
    assert world.images.referrers(image_ref.split("@")[1])  # the image deployed is the one scanned and signed
    assert result.outputs("canary") == {"phase": "Healthy", "revision": "5", "failure-reason": ""}
    assert world.cluster.image() == image_ref  # the rollout runs the pushed digest, never a tag
    assert world.cluster.revisions()[image_ref] == "5"  # as the new pod template, revision 5
    assert world.cluster.commands() == ["set image"]
    assert "**Result**: Healthy at revision 5." in result.summary(CANARY)


def test_a_degraded_rollout_is_rolled_back_to_the_recorded_revision_and_fails_the_run(world):
    world.fresh_cluster()
    world.cluster.script(set_image=[canary_world.degraded(0)], abort=[canary_world.aborted(0)])
    result = world.deploy()
    assert not result.succeeded
    assert result.jobs[CANARY] == "failure"
    assert world.cluster.commands() == ["set image", "abort", "undo"]
    deployed = next(arg.split("=", 1)[1] for arg in world.cluster.calls()[0] if arg.startswith("web="))
    assert deployed.startswith(world.images.image + "@sha256:")
    undo = world.cluster.calls()[2]
    assert "--to-revision=4" in undo  # the revision recorded before set image, not the plugin's second-newest
    assert world.cluster.image() == canary_world.OLD_IMAGE  # back on the stable release's pod template
    assert set(result.step_outputs(CANARY, "failure-reason")) == {"degraded"}
    assert any(e.startswith("canary degraded: ProgressDeadlineExceeded") and e.endswith("ran abort and undo to "
                                                                                        "revision 4")
               for e in result.errors(CANARY)), result.errors(CANARY)
    summary = result.summary(CANARY)
    assert "(`degraded`)" in summary and "| undo to revision 4 | ok: rollout 'web' undo |" in summary


def test_verify_signature_checks_the_container_workflows_signature_by_digest_before_the_rollout(world):
    world.fresh_cluster()
    world.cluster.script(set_image=[canary_world.healthy()])
    installs = len(world.installs)
    result = world.deploy(VERIFIED)
    assert result.succeeded, result.text()[-8000:]
    image_ref = result.outputs("image")["image-ref"]
    assert world.cluster.image() == image_ref
    assert [i["cosign-release"] for i in world.installs[installs:]] == ["v3.1.2", "v3.1.2"]  # build-push's, canary's
    verify = [c for c in world.images.cosign_calls() if c[0] == "verify" and "--certificate-github-workflow-ref"
              not in c]
    assert verify[-1] == ["verify", "--certificate-identity", f"https://github.com/{world.images.workflow_ref}",
                          "--certificate-oidc-issuer", "https://token.actions.githubusercontent.com",
                          "--certificate-github-workflow-repository", "org/web", image_ref]
    assert f"Signature of `{image_ref.split('@')[1]}` verified by cosign" in result.summary(CANARY)


def test_a_signature_bound_to_another_repository_stops_the_deployment_before_the_rollout(world):
    """The image is signed by container.yml, but for this caller: a deployment that expects another
    repository's signature refuses it and never touches the rollout."""
    world.fresh_cluster()
    world.cluster.script(set_image=[canary_world.healthy()])
    result = world.deploy(VERIFIED, variables={"SIGNER_REPOSITORY": "org/other"})
    assert not result.succeeded
    assert result.jobs[CANARY] == "failure"
    assert world.cluster.commands() == []  # refused before set image
    assert world.cluster.image() == canary_world.OLD_IMAGE
    assert set(result.step_outputs(CANARY, "failure-reason")) == {"signature-invalid"}
    assert any("no matching attestations" in e for e in result.errors(CANARY)), result.errors(CANARY)
