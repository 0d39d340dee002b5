"""terraform-apply's script against real Terraform: the artifact is made by terraform-plan's own
script from a real plan, copied as download-artifact would, then checked and applied for real.

The state lock is held for real by a second ``terraform apply`` on the same local-backend state
file (:func:`support.terraform.hold_state_lock`); a stale plan is made for real by applying
another change after planning.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from support.terraform import Terraform, hold_state_lock, load_script, run_script, write_config

REPO = Path(__file__).resolve().parents[3]
PLAN = REPO / "actions" / "terraform-plan" / "plan.py"
APPLY = REPO / "actions" / "terraform-apply" / "apply.py"
apply_module = load_script(APPLY, "terraform_apply_script")

pytestmark = pytest.mark.slow
BACKEND = "path=state/terraform.tfstate"
LOCK_HEADER = (
    '# This file is maintained automatically by "terraform init".\n# Manual edits may be lost in future updates.\n'
)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    write_config(tmp_path / "ws" / "infra")
    return tmp_path / "ws"


def make_plan(terraform: Terraform, ws: Path, temp: Path, **inputs: str) -> Path:
    """Plan with terraform-plan's script; return the artifact as download-artifact would leave it."""
    env = {"INPUT_WORKING_DIRECTORY": "infra", "INPUT_BACKEND_CONFIG": BACKEND}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    run = run_script(PLAN, env, terraform=terraform, workspace=ws, temp=temp / "plan")
    assert run.code == 0, run.stdout + run.stderr
    downloaded = temp / "download"
    shutil.copytree(run.outputs["artifact-dir"], downloaded)
    return downloaded


def apply(terraform: Terraform, ws: Path, temp: Path, plan_dir: Path, **inputs: str):
    env = {
        "INPUT_WORKING_DIRECTORY": "infra",
        "INPUT_BACKEND_CONFIG": BACKEND,
        "INPUT_LOCK_TIMEOUT": "1s",
        "PLAN_DIR": str(plan_dir),
    }
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return run_script(APPLY, env, terraform=terraform, workspace=ws, temp=temp / "apply")


def manifest_sha(plan_dir: Path) -> str:
    return json.loads((plan_dir / "plan.json").read_text())["plan_sha256"]


def resources(ws: Path) -> dict[str, dict]:
    state_file = ws / "infra" / "state" / "terraform.tfstate"
    if not state_file.exists():
        return {}
    state = json.loads(state_file.read_text())
    out = {}
    for res in state["resources"]:
        prefix = f"{res['module']}." if "module" in res else ""
        out[f"{prefix}{res['type']}.{res['name']}"] = res["instances"][0]["attributes"]
    return out


def test_applies_the_reviewed_plan(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    manifest = json.loads((plan_dir / "plan.json").read_text())
    run = apply(terraform, ws, tmp_path, plan_dir, plan_sha256=manifest["plan_sha256"])
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["applied"] == "true"
    assert run.outputs["plan-sha256"] == manifest["plan_sha256"]
    assert sorted(resources(ws)) == [
        "module.child.terraform_data.this",
        "terraform_data.keep",
        "terraform_data.rotated",
    ]
    assert "rotated to generation 1" in run.stdout  # the local-exec provisioner really ran
    assert ":white_check_mark: Applied." in run.summary and "| 3 | 0 | 0 | 0 |" in run.summary
    assert list((tmp_path / "apply").glob("terraform-apply-*")) == []  # the plan file holds secrets


def test_a_configuration_other_than_the_reviewed_one_is_refused_with_the_difference(
    terraform: Terraform, ws: Path, tmp_path: Path
) -> None:
    """The apply plans again and compares the normalised plan with the reviewed one (no plan file
    leaves the plan job): what differs is named, address and attribute, and nothing is applied."""
    plan_dir = make_plan(terraform, ws, tmp_path)
    assert sorted(p.name for p in plan_dir.iterdir()) == ["plan.json"]  # no plan file, no plan text
    write_config(ws / "infra", generation="9", keep="unreviewed")  # not what was reviewed
    run = apply(terraform, ws, tmp_path, plan_dir)
    _refused(run, "the plan made now differs from the reviewed plan")
    assert '`terraform_data.keep`: after.input: reviewed "stable", now "unreviewed"' in run.summary
    assert '`terraform_data.rotated`: after.triggers_replace[0]: reviewed "1", now "9"' in run.summary
    assert resources(ws) == {}
    assert list((tmp_path / "apply").glob("terraform-apply-*")) == []  # nor the refused plan's file


def test_workspace_plan_applies_to_that_workspace(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path, workspace="staging")
    run = apply(terraform, ws, tmp_path, plan_dir, workspace="staging")
    assert run.code == 0, run.stdout
    assert (ws / "infra" / "terraform.tfstate.d" / "staging" / "terraform.tfstate").is_file()
    assert resources(ws) == {}  # the default workspace is untouched


# --------------------------------------------------------------------------- plan-changed


def _refused(run, *phrases: str) -> None:
    assert run.code == 1
    assert run.outputs["failure-reason"] == "plan-changed"
    assert run.outputs["applied"] == "false"
    assert run.errors[0].startswith("refusing to apply: ")
    for phrase in phrases:
        assert phrase in run.errors[0]
    assert "Refused: the plan is not the reviewed one." in run.summary


def test_manifest_edited(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    manifest = json.loads((plan_dir / "plan.json").read_text())
    manifest["plan"]["resource_changes"] = []
    (plan_dir / "plan.json").write_text(json.dumps(manifest))
    run = apply(terraform, ws, tmp_path, plan_dir)
    _refused(run, "the manifest's plan does not have its SHA-256")
    assert resources(ws) == {}


def test_plan_file_other_than_the_reviewed_sha(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    run = apply(terraform, ws, tmp_path, plan_dir, plan_sha256="ab" * 32)
    _refused(run, f"the manifest's plan has SHA-256 {manifest_sha(plan_dir)}, the reviewed plan-sha256 is {'ab' * 32}")


def test_lock_file_changed_since_the_plan(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    lock = ws / "infra" / ".terraform.lock.hcl"
    lock.write_text(LOCK_HEADER)
    plan_dir = make_plan(terraform, ws, tmp_path)
    manifest = json.loads((plan_dir / "plan.json").read_text())
    assert manifest["lock_file_sha256"] is not None
    lock.write_text(LOCK_HEADER + "\n# another provider selection\n")
    run = apply(terraform, ws, tmp_path, plan_dir)
    _refused(run, ".terraform.lock.hcl has SHA-256 ", f"at plan time {manifest['lock_file_sha256']}")


def test_lock_file_appeared_since_the_plan(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    (ws / "infra" / ".terraform.lock.hcl").write_text(LOCK_HEADER)
    _refused(apply(terraform, ws, tmp_path, plan_dir), "at plan time absent")


def test_lock_file_unchanged_applies(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    (ws / "infra" / ".terraform.lock.hcl").write_text(LOCK_HEADER)
    plan_dir = make_plan(terraform, ws, tmp_path)
    assert apply(terraform, ws, tmp_path, plan_dir).code == 0


def test_terraform_version_differs(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    """A plan made by another Terraform version: the manifest says 1.14.9, this one is real 1.15.x."""
    plan_dir = make_plan(terraform, ws, tmp_path)
    manifest = json.loads((plan_dir / "plan.json").read_text())
    manifest["terraform_version"] = "1.14.9"
    (plan_dir / "plan.json").write_text(json.dumps(manifest))
    _refused(
        apply(terraform, ws, tmp_path, plan_dir), f"Terraform is {terraform.version()}, the plan was made with 1.14.9"
    )


def test_every_difference_is_named(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    manifest = json.loads((plan_dir / "plan.json").read_text())
    manifest["terraform_version"] = "1.14.9"
    (plan_dir / "plan.json").write_text(json.dumps(manifest))
    (ws / "infra" / ".terraform.lock.hcl").write_text(LOCK_HEADER)
    run = apply(terraform, ws, tmp_path, plan_dir, plan_sha256="ab" * 32)
    _refused(run, "the reviewed plan-sha256 is", "Terraform is", ".terraform.lock.hcl")
    assert run.summary.count("\n- ") == 3


def test_plan_for_another_workspace(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    _refused(
        apply(terraform, ws, tmp_path, plan_dir, workspace="prod"), "the plan was made for infra (workspace default)"
    )


def test_artifact_without_manifest(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    (plan_dir / "plan.json").unlink()
    run = apply(terraform, ws, tmp_path, plan_dir)
    assert run.outputs["failure-reason"] == "plan-changed"
    assert "plan manifest plan.json cannot be read" in run.errors[0]


# --------------------------------------------------------------------------- what Terraform reports


def test_state_locked_names_the_holder(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    state = ws / "infra" / "state" / "terraform.tfstate"
    with hold_state_lock(terraform, tmp_path / "holder", state) as info:
        run = apply(terraform, ws, tmp_path, plan_dir)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "state-locked"
    assert run.outputs["lock-id"] == info["ID"]
    assert run.outputs["lock-who"] == info["Who"]
    assert run.outputs["lock-created"].startswith(info["Created"][:19].replace("T", " "))
    message = run.errors[0]
    assert message.startswith(f"the state is locked, held by {info['Who']} since ")
    assert f"lock ID {info['ID']}, operation OperationTypeApply" in message
    assert f"terraform force-unlock {info['ID']}" in message
    assert info["ID"] in run.summary


def test_state_changed_since_the_review(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    """Someone applied another change after the review: the plan made now differs (it was stale-plan
    when the saved plan file itself was applied)."""
    infra = ws / "infra"
    plan_dir = make_plan(terraform, ws, tmp_path)
    write_config(infra, keep="hotfix")
    terraform.run("apply", "-auto-approve", "-input=false", cwd=infra)
    write_config(infra)
    run = apply(terraform, ws, tmp_path, plan_dir)
    _refused(run, "the plan made now differs from the reviewed plan")
    assert "`terraform_data.keep`: reviewed create, now update" in run.summary
    assert resources(ws)["terraform_data.keep"]["input"]["value"] == "hotfix"


def test_apply_failed(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    (ws / "infra" / "boom.tf").write_text(
        'resource "terraform_data" "boom" {\n  provisioner "local-exec" {\n    command = "echo disk full >&2; exit 3"\n  }\n}\n'
    )
    plan_dir = make_plan(terraform, ws, tmp_path)
    run = apply(terraform, ws, tmp_path, plan_dir)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "apply-failed"
    assert run.errors[0] == "terraform apply failed: local-exec provisioner error"
    assert "disk full" in run.stdout


def test_init_failed(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    plan_dir = make_plan(terraform, ws, tmp_path)
    run = apply(terraform, ws, tmp_path, plan_dir, backend_config="no_such_setting=1")
    assert run.outputs["failure-reason"] == "init-failed"
    assert run.errors[0].startswith("terraform init failed: ")


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"plan_sha256": "xyz"}, "plan-sha256 must be 64 hexadecimal digits"),
        ({"lock_timeout": "forever"}, "must be a duration"),
        ({"working_directory": "/etc"}, "must be a path inside the workspace"),
    ],
)
def test_bad_input(terraform: Terraform, ws: Path, tmp_path: Path, inputs: dict, message: str) -> None:
    run = apply(terraform, ws, tmp_path, tmp_path / "nothing", **inputs)
    assert run.outputs["failure-reason"] == "invalid-input"
    assert message in run.errors[0] and "Traceback" not in run.stderr


# --------------------------------------------------------------------------- parsing


def test_lock_block_parsing_of_terraforms_text() -> None:
    """The block as Terraform 1.15 prints it (captured from the real run in test_state_locked_names_the_holder)."""
    output = (
        "Acquiring state lock. This may take a few moments...\n\nError: Error acquiring the state lock\n\n"
        "Error message: resource temporarily unavailable\nLock Info:\n  ID:        f4b2c398-d08e-fd2c-6d68-c78f97ded9e1\n"
        "  Path:      state/terraform.tfstate\n  Operation: OperationTypeApply\n  Who:       runner@host\n"
        "  Version:   1.15.5\n  Created:   2026-11-30 22:00:03.033574446 +0000 UTC\n  Info:      \n\n\n"
        "Terraform acquires a state lock to protect the state from being written\n"
    )
    lock = apply_module.parse_lock_error(output)
    assert lock is not None
    assert (lock.id, lock.who, lock.operation, lock.version, lock.info) == (
        "f4b2c398-d08e-fd2c-6d68-c78f97ded9e1",
        "runner@host",
        "OperationTypeApply",
        "1.15.5",
        "",
    )
    assert lock.created == "2026-11-30 22:00:03.033574446 +0000 UTC"
    assert apply_module.parse_lock_error("Error: Saved plan is stale") is None


def test_apply_time_code_cannot_reach_runner_files_or_the_oidc_token(
    terraform: Terraform, ws: Path, tmp_path: Path
) -> None:
    """A local-exec provisioner of the configuration runs while applying: it gets no file-command
    path, no OIDC request variable and no input of the step."""
    dump = tmp_path / "provisioner-env"
    (ws / "infra" / "hostile.tf").write_text(
        'resource "terraform_data" "hostile" {\n  provisioner "local-exec" {\n'
        f'    command = "env > {dump}; for f in \\"$GITHUB_ENV\\" \\"$GITHUB_PATH\\" \\"$GITHUB_STATE\\"; '
        'do [ -n \\"$f\\" ] && echo forged=1 >> \\"$f\\"; done; true"\n  }\n}\n'
    )
    plan_dir = make_plan(terraform, ws, tmp_path)
    files = {name: tmp_path / name.lower() for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")}
    for path in files.values():
        path.write_text("")
    secrets = {"ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/t", "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-abc"}
    env = {
        "INPUT_WORKING_DIRECTORY": "infra",
        "INPUT_BACKEND_CONFIG": BACKEND,
        "INPUT_LOCK_TIMEOUT": "1s",
        "PLAN_DIR": str(plan_dir),
    } | {name: str(path) for name, path in files.items()} | secrets
    run = run_script(APPLY, env, terraform=terraform, workspace=ws, temp=tmp_path / "apply")
    assert run.code == 0, run.stdout + run.stderr
    seen = {line.split("=", 1)[0] for line in dump.read_text().splitlines() if "=" in line}
    assert not seen & {*files, "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", *secrets}
    assert not any(name.startswith("INPUT_") for name in seen)
    assert all(path.read_text() == "" for path in files.values())
    assert "forged" not in run.outputs


# --------------------------------------------------------------------------- a plan of another run (run-id)

HERE = "6dcb09b5b57875f334f61aebed695e2e4193db5e"  # GITHUB_SHA of every run_script run


@pytest.fixture
def github(tmp_path: Path):
    from support.github_api import GitHubDouble
    from support.gitrepo import Repo

    repo = Repo(tmp_path / "svc")
    repo.commit("init", {"README.md": "svc\n"})
    with GitHubDouble() as double:
        entry = double.add_repo("org/svc", repo.path)
        yield double, entry


def other_run_plan(terraform: Terraform, ws: Path, temp: Path, commit: str, run_id: str) -> Path:
    env = {"INPUT_WORKING_DIRECTORY": "infra", "INPUT_BACKEND_CONFIG": BACKEND,
           "GITHUB_SHA": commit, "GITHUB_RUN_ID": run_id}
    run = run_script(PLAN, env, terraform=terraform, workspace=ws, temp=temp / "plan")
    assert run.code == 0, run.stdout + run.stderr
    shutil.copytree(run.outputs["artifact-dir"], temp / "download")
    return temp / "download"


def apply_from(terraform, ws, tmp_path, plan_dir, github, run_id: str, **inputs):
    double, _ = github
    extra = {"INPUT_RUN_ID": run_id, "INPUT_GITHUB_TOKEN": "ghs_applyToken000", "GITHUB_API_URL": double.url}
    return run_script(
        APPLY,
        {"INPUT_WORKING_DIRECTORY": "infra", "INPUT_BACKEND_CONFIG": BACKEND, "INPUT_LOCK_TIMEOUT": "1s",
         "PLAN_DIR": str(plan_dir)} | extra | {f"INPUT_{k.upper()}": v for k, v in inputs.items()},
        terraform=terraform, workspace=ws, temp=tmp_path / "apply",
    )


def test_plan_of_a_push_on_the_default_branch_at_this_commit_is_applied(terraform, ws, tmp_path, github) -> None:
    _, entry = github
    entry.workflow_runs[556] = {"event": "push", "head_branch": "main", "head_sha": HERE}
    plan_dir = other_run_plan(terraform, ws, tmp_path, HERE, "556")
    run = apply_from(terraform, ws, tmp_path, plan_dir, github, "556")
    assert run.code == 0, run.stdout
    assert len(resources(ws)) == 3
    assert "ghs_applyToken000" not in run.stdout + run.stderr


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({"event": "pull_request", "head_branch": "feature"}, 'run 555 was triggered by "pull_request", not a push'),
        ({"event": "push", "head_branch": "feature"}, 'run 555 ran on branch "feature", not the default branch "main"'),
        ({"event": "push", "head_branch": "main", "head_repository": "mallory/svc"}, 'run 555 is of "mallory/svc"'),
    ],
)
def test_swapped_plan_with_its_own_manifest_is_refused(terraform, ws, tmp_path, github, source, message) -> None:
    """A plan made by a run the pull request's author controls, with a manifest that vouches for it
    (in v0.1.0 neither its commit nor its run was checked and plan-sha256 was optional)."""
    _, entry = github
    entry.workflow_runs[555] = {"head_sha": HERE} | source
    write_config(ws / "infra", keep="mallory-was-here")
    plan_dir = other_run_plan(terraform, ws, tmp_path, HERE, "555")
    write_config(ws / "infra")
    run = apply_from(terraform, ws, tmp_path, plan_dir, github, "555")
    assert run.code == 1
    assert run.outputs["failure-reason"] == "source-run", run.errors
    assert message in run.errors[0]
    assert resources(ws) == {}


def test_swapped_plan_of_another_commit_is_refused(terraform, ws, tmp_path, github) -> None:
    _, entry = github
    other = "1" * 40
    entry.workflow_runs[557] = {"event": "push", "head_branch": "main", "head_sha": other}
    plan_dir = other_run_plan(terraform, ws, tmp_path, other, "557")
    run = apply_from(terraform, ws, tmp_path, plan_dir, github, "557")
    _refused(run, f"the plan was made at commit {other}, this run is at {HERE}")
    allowed = apply_from(terraform, ws, tmp_path, plan_dir, github, "557", allow_other_commit="true")
    assert allowed.code == 0, allowed.stdout


def test_swapped_plan_against_the_reviewed_sha_is_refused(terraform, ws, tmp_path, github) -> None:
    """With plan-sha256 (the SHA-256 reviewers saw) no API call is needed: the swapped manifest's is another."""
    reviewed = json.loads((make_plan(terraform, ws, tmp_path / "honest") / "plan.json").read_text())["plan_sha256"]
    write_config(ws / "infra", keep="mallory-was-here")
    plan_dir = other_run_plan(terraform, ws, tmp_path, HERE, "555")
    run = apply_from(terraform, ws, tmp_path, plan_dir, github, "555", plan_sha256=reviewed)
    _refused(run, f"the reviewed plan-sha256 is {reviewed}")
    assert github[0].count("/actions/runs/") == 0


def test_manifest_of_another_run_than_the_one_named(terraform, ws, tmp_path, github) -> None:
    _, entry = github
    entry.workflow_runs[556] = {"event": "push", "head_branch": "main", "head_sha": HERE}
    plan_dir = other_run_plan(terraform, ws, tmp_path, HERE, "999")
    _refused(apply_from(terraform, ws, tmp_path, plan_dir, github, "556"), "the manifest is from run 999, not run 556")


def test_source_run_unknown_to_the_api_fails_closed(terraform, ws, tmp_path, github) -> None:
    plan_dir = other_run_plan(terraform, ws, tmp_path, HERE, "404")
    run = apply_from(terraform, ws, tmp_path, plan_dir, github, "404")
    assert run.outputs["failure-reason"] == "source-run"
    assert "answered 404" in run.errors[0]
