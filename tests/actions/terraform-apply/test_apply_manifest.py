"""Issue 14: a hostile or stale manifest, field by field, against terraform-apply's ``differences``.

The manifest is the artifact of another job (or, with ``run-id``, of another run): whoever can
write it can try to get another plan applied. Each row below changes or removes one field of a
manifest that fits, and names the phrase that the refusal must contain; a missing field is never
taken as "no constraint". The end-to-end refusals with real Terraform are in test_apply_script.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from support.terraform import load_script

REPO = Path(__file__).resolve().parents[3]
apply_module = load_script(REPO / "actions" / "terraform-apply" / "apply.py", "terraform_apply_manifest")
tfkit = apply_module.tfkit

HERE = "a" * 40
PLAN = {"resource_changes": [{"address": "null_resource.x", "change": {"actions": ["create"]}}]}
LOCK = hashlib.sha256(b"lock").hexdigest()


def manifest(**changes) -> dict:
    base = {"working_directory": "infra", "workspace": "default", "plan": PLAN,
            "plan_sha256": tfkit.plan_digest(PLAN), "terraform_version": "1.15.0", "lock_file_sha256": LOCK,
            "commit": HERE, "run_id": "42", "var_files": ["prod.tfvars"]}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not ...}


CFG = {"working_dir": "infra", "workspace": "default", "allow_other_commit": False, "run_id": "",
       "var_files": ["prod.tfvars"]}


@pytest.fixture(autouse=True)
def _run(monkeypatch):
    monkeypatch.setenv("GITHUB_SHA", HERE)
    monkeypatch.setenv("GITHUB_RUN_ID", "42")


def found(m: dict, expected: str = "", version: str = "1.15.0", lock: str | None = LOCK, **cfg) -> list[str]:
    return apply_module.differences(m, expected, version, lock, {**CFG, **cfg})


def test_a_manifest_that_fits_has_no_difference():
    assert found(manifest()) == []
    assert found(manifest(), expected=tfkit.plan_digest(PLAN)) == []


HOSTILE = [
    # (the manifest's change, what the refusal names)
    ({"commit": ...}, "the plan was made at commit unknown, this run is at " + HERE),
    ({"commit": ""}, "the plan was made at commit unknown"),
    ({"commit": "b" * 40}, "the plan was made at commit " + "b" * 40),
    ({"run_id": ...}, "the manifest is from run unknown, not run 42"),
    ({"run_id": "41"}, "the manifest is from run 41, not run 42"),
    ({"lock_file_sha256": ...}, ".terraform.lock.hcl has SHA-256 " + LOCK + ", at plan time absent"),
    ({"plan_sha256": ...}, "the manifest's plan does not have its SHA-256 None"),
    ({"plan_sha256": "0" * 64}, "the manifest's plan does not have its SHA-256 " + "0" * 64),
    ({"plan": ...}, "the manifest's plan does not have its SHA-256"),
    ({"plan": [PLAN]}, "the manifest's plan does not have its SHA-256"),
    ({"plan": {**PLAN, "extra": 1}}, "the manifest's plan does not have its SHA-256"),
    ({"terraform_version": ...}, "Terraform is 1.15.0, the plan was made with None"),
    ({"working_directory": "other"}, "the plan was made for other (workspace default), not infra"),
    ({"workspace": "staging"}, "the plan was made for infra (workspace staging), not infra (workspace default)"),
    ({"var_files": ...}, "var-files are ['prod.tfvars'], the plan used []"),
    ({"var_files": ["prod.tfvars", "evil.tfvars"]}, "var-files are ['prod.tfvars']"),
]


@pytest.mark.parametrize(("change", "phrase"), HOSTILE)
def test_each_unfit_field_is_named(change: dict, phrase: str):
    got = found(manifest(**change))
    assert any(phrase in item for item in got), got


def test_a_lock_file_deleted_since_the_plan_is_a_difference():
    assert found(manifest(), lock=None) == [f".terraform.lock.hcl has SHA-256 absent, at plan time {LOCK}"]


def test_a_plan_other_than_the_reviewed_one():
    assert found(manifest(), expected="f" * 64) == [
        f"the manifest's plan has SHA-256 {tfkit.plan_digest(PLAN)}, the reviewed plan-sha256 is {'f' * 64}"]


def test_another_commit_only_when_allowed():
    assert found(manifest(commit="b" * 40), allow_other_commit=True) == []


def test_the_run_named_by_run_id_wins_over_this_run():
    assert found(manifest(run_id="42"), run_id="7") == ["the manifest is from run 42, not run 7"]
    assert found(manifest(run_id="7"), run_id="7") == []


# --------------------------------------------------------------------------- the source run (run-id)
@pytest.fixture
def api(tmp_path, monkeypatch):
    from support.github_api import GitHubDouble
    from support.gitrepo import Repo

    repo = Repo(tmp_path / "svc")
    repo.commit("init", {"README.md": "svc\n"})
    with GitHubDouble() as double:
        entry = double.add_repo("org/svc", repo.path)
        monkeypatch.setenv("GITHUB_API_URL", double.url)
        monkeypatch.setenv("GITHUB_REPOSITORY", "org/svc")
        monkeypatch.setenv("INPUT_GITHUB_TOKEN", "ghs_applyToken000")
        yield entry


SOURCE_RUNS = [
    # (the run as the API answers it, the phrase of the refusal)
    ({"event": "pull_request_target"}, 'run 9 was triggered by "pull_request_target", not a push'),
    ({"event": "pull_request"}, 'run 9 was triggered by "pull_request", not a push'),
    ({"event": "workflow_run"}, 'run 9 was triggered by "workflow_run", not a push'),
    ({"head_branch": "feature"}, 'run 9 ran on branch "feature", not the default branch "main"'),
    ({"head_branch": "main2"}, 'run 9 ran on branch "main2"'),
    ({"head_repository": "mallory/svc"}, 'run 9 is of "mallory/svc", not "org/svc"'),
    ({"head_sha": "b" * 40}, f"run 9 ran at {'b' * 40}, the manifest says {HERE}"),
]


@pytest.mark.parametrize(("run", "phrase"), SOURCE_RUNS)
def test_a_source_run_that_is_not_a_push_to_the_default_branch_is_refused(api, run: dict, phrase: str):
    api.workflow_runs[9] = {"event": "push", "head_branch": "main", "head_sha": HERE} | run
    with pytest.raises(apply_module.actionkit.ActionFailure) as failure:
        apply_module.verify_source_run(manifest(), "9")
    assert failure.value.reason == "source-run"
    assert phrase in failure.value.message


def test_a_push_to_the_default_branch_at_the_manifests_commit_is_accepted(api, capsys):
    api.workflow_runs[9] = {"event": "push", "head_branch": "main", "head_sha": HERE, "head_repository": "Org/Svc"}
    apply_module.verify_source_run(manifest(), "9")
    assert capsys.readouterr().out == f"Run 9 is a push to main at {HERE}\n"


def test_a_manifest_without_a_commit_matches_no_run(api):
    api.workflow_runs[9] = {"event": "push", "head_branch": "main", "head_sha": HERE}
    with pytest.raises(apply_module.actionkit.ActionFailure, match=f"run 9 ran at {HERE}, the manifest says None"):
        apply_module.verify_source_run(manifest(commit=...), "9")


def test_a_repository_without_a_default_branch_accepts_no_run(api):
    api.default_branch = ""
    api.workflow_runs[9] = {"event": "push", "head_branch": "", "head_sha": HERE}
    with pytest.raises(apply_module.actionkit.ActionFailure, match='not the default branch ""'):
        apply_module.verify_source_run(manifest(), "9")


def test_without_a_token_the_source_run_is_not_taken_on_trust(api, monkeypatch):
    monkeypatch.delenv("INPUT_GITHUB_TOKEN")
    api.workflow_runs[9] = {"event": "push", "head_branch": "main", "head_sha": HERE}
    with pytest.raises(apply_module.actionkit.ActionFailure, match="pass github-token"):
        apply_module.verify_source_run(manifest(), "9")
