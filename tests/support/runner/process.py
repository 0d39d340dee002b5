"""``run:`` steps: the shell, the script file, the process and its clean-up.

Shells as GitHub names them (``bash`` is ``bash --noprofile --norc -eo pipefail {0}``, ``sh`` is
``sh -e {0}``, ``python`` is ``python3 {0}``) or a custom template holding ``{0}``; the script is
written to RUNNER_TEMP and run in ``working-directory`` under the workspace. Each process gets its
own process group: when the run's deadline passes the group gets SIGTERM, then SIGKILL, and the
remaining steps are skipped; at the end of the run every group is killed, like the runner's
orphan-process clean-up at the end of a job.
"""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import time
import uuid
from pathlib import Path

from ci_tools.gha.expressions import ExpressionError

from .results import StepResult
from .scope import Scope, render
from .state import Run

SHELLS = {
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ".sh"),
    "sh": ("sh -e {0}", ".sh"),
    "python": ("python3 {0}", ".py"),
}


def run_shell(run: Run, step: dict, res: StepResult, scope: Scope, env: dict[str, str]) -> bool:
    """Write the step's ``run:`` to a script and run it in its shell; True on exit code 0."""
    shell = render(scope, step["shell"]).strip()
    template, suffix = SHELLS.get(shell, (shell, ""))
    if "{0}" not in template:
        raise ExpressionError(f"Unsupported shell {shell!r} (known: {sorted(SHELLS)}, or a template with {{0}})", 0)
    script = run.temp / f"{uuid.uuid4()}{suffix}"
    script.write_text(render(scope, step["run"]), encoding="utf-8")
    argv = [a.replace("{0}", str(script)) for a in shlex.split(template)]
    argv[0] = shutil.which(argv[0], path=env["PATH"]) or argv[0]
    cwd = run.workspace / render(scope, step.get("working-directory") or ".")
    if not cwd.is_dir():
        run.errors.append(f"Step {res.id}: working directory '{cwd}' does not exist")
        return False
    return run_process(run, argv, cwd, env, res)


def run_process(run: Run, argv: list[str], cwd: Path, env: dict[str, str], step: StepResult) -> bool:
    """Run one process in its own process group; kill the group when the run's deadline passes."""
    out_path, err_path = run.files / f"{uuid.uuid4().hex}.out", run.files / f"{uuid.uuid4().hex}.err"
    with open(out_path, "wb") as out, open(err_path, "wb") as err:
        try:
            proc = subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                    start_new_session=True)
        except OSError as exc:
            run.errors.append(f"An error occurred trying to start process '{argv[0]}' with working directory '{cwd}'. {exc.strerror}")
            return False
        run.groups.append(proc.pid)
        try:
            step.exit_code = proc.wait(timeout=max(run.deadline - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
            run.timed_out = True
    step.stdout = out_path.read_bytes().decode("utf-8", "replace")
    step.stderr = err_path.read_bytes().decode("utf-8", "replace")
    if run.timed_out:
        run.errors.append(f"The action has timed out after {run.timeout:g} seconds (step {step.id} killed).")
        return False
    return step.exit_code == 0


def kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass
