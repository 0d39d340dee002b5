"""terraform-apply cancelled in the middle of an apply, the way the runner cancels a job.

The job times out (or is cancelled) while real Terraform applies a resource whose ``local-exec``
provisioner is still running. The runner signals the step's own process only (SIGINT, SIGTERM
7.5 s later, then it kills the process tree): the step's ``exec`` makes that process the script,
which asks Terraform to stop with one SIGINT and waits for it. Terraform then stops the
provisioner, writes the state (the resource tainted) and releases the state lock, and the step
fails with ``cancelled``. Before, bash kept the SIGINT and died of the SIGTERM, and Python and
Terraform went on without anyone waiting for them, the lock held.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from support.actionscript import Step, step_run
from support.terraform import Terraform, run_script

REPO = Path(__file__).resolve().parents[3]
ACTION = REPO / "actions" / "terraform-apply"
PLAN = REPO / "actions" / "terraform-plan" / "plan.py"

pytestmark = pytest.mark.slow
BACKEND = "path=state/terraform.tfstate"
SLOW_TF = """terraform {{
  backend "local" {{}}
}}

resource "terraform_data" "slow" {{
  provisioner "local-exec" {{
    command = "touch {started}; exec sleep 60"
  }}
}}
"""


def test_a_cancelled_apply_stops_terraform_which_writes_the_state_and_releases_the_lock(
    terraform: Terraform, tmp_path: Path
) -> None:
    started = tmp_path / "provisioner-started"
    infra = tmp_path / "ws" / "infra"
    infra.mkdir(parents=True)
    (infra / "main.tf").write_text(SLOW_TF.format(started=started))
    inputs = {"INPUT_WORKING_DIRECTORY": "infra", "INPUT_BACKEND_CONFIG": BACKEND}
    planned = run_script(PLAN, inputs, terraform=terraform, workspace=tmp_path / "ws", temp=tmp_path / "plan")
    assert planned.code == 0, planned.stdout + planned.stderr
    shutil.copytree(planned.outputs["artifact-dir"], tmp_path / "download")

    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python3").symlink_to(os.path.realpath(shutil.which("python3") or "/usr/bin/python3"))
    env = {k: v for k, v in terraform.env.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    env.update(inputs, PATH=f"{terraform.bin_dir}{os.pathsep}{tmp_path / 'bin'}{os.pathsep}{env['PATH']}",
               GITHUB_ACTION_PATH=str(ACTION), GITHUB_WORKSPACE=str(tmp_path / "ws"), RUNNER_TEMP=str(tmp_path / "t"),
               GITHUB_REPOSITORY="org/svc", GITHUB_SHA="6dcb09b5b57875f334f61aebed695e2e4193db5e",
               PLAN_DIR=str(tmp_path / "download"), INPUT_PLAN_SHA256=planned.outputs["plan-sha256"],
               INPUT_LOCK_TIMEOUT="1s")
    (tmp_path / "t").mkdir()
    step = Step(step_run(ACTION, "apply"), env, cwd=tmp_path / "ws", files=tmp_path / "step")
    try:
        for _ in range(1200):
            if started.exists() or step.proc.poll() is not None:
                break
            time.sleep(0.05)
        assert started.exists(), step.run().stdout
        step.cancel_like_the_runner()
    finally:
        left = step.leftovers()
    run = step.run()
    assert not left, "Terraform or the script was left running"
    assert run.outputs["failure-reason"] == "cancelled", run.stdout[-3000:] + run.stderr
    assert run.outputs["applied"] == "false"
    assert run.errors == ["SIGINT received: the job was cancelled or timed out"]
    assert "SIGINT received: asking terraform to stop, and waiting for it" in run.stdout
    assert "Interrupt received." in run.stdout and "Gracefully shutting down..." in run.stdout
    state = json.loads((infra / "state" / "terraform.tfstate").read_text())
    assert [(r["name"], r["instances"][0]["status"]) for r in state["resources"]] == [("slow", "tainted")]
    assert not (infra / "state" / ".terraform.tfstate.lock.info").exists()  # the lock was released
    assert "Traceback" not in run.stdout + run.stderr
