"""Running a composite action's steps in order, as the runner does.

Each step: its ``if:`` (skipped once the run has timed out), its ``env:`` rendered over the
exported variables, fresh file-command files, then either its ``run:`` in a shell or its ``uses:``.
A local ``./`` action (a path from the repository root) runs nested with the same job state; any
other ``uses:`` goes to the stand-in the test gave for ``owner/repo`` (no stand-in, or a
``StandInFailure``, fails the step). A failed step fails the action unless its
``continue-on-error`` is true (outcome ``failure``, conclusion ``success``); the ``steps`` and
``job.status`` contexts follow. Outputs are rendered after the last step. An expression error
fails its step (or output) with an error, as on GitHub.
"""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path
from typing import Any

from ci_tools.gha.evaluate import to_str
from ci_tools.gha.expressions import ExpressionError

from .action import load_action, resolve_inputs
from .commands import apply_files, workflow_commands
from .process import run_shell
from .results import StandInFailure, StepCall, StepResult
from .scope import Scope, condition, render
from .state import Run

REPO = Path(__file__).resolve().parents[3]


def execute(run: Run, action_dir: Path, inputs: dict[str, Any], outer_env: dict[str, str],
            where: str) -> tuple[list[StepResult], dict[str, str], bool]:
    """Run one composite action: its steps, then its outputs. Returns (steps, outputs, failed)."""
    doc = load_action(action_dir)
    github = {**run.github, "action_path": str(action_dir)}
    contexts: dict[str, Any] = {"github": github, "runner": run.runner, "job": {"status": "success"},
                                "env": {**outer_env, **run.exported}, "steps": {}, "inputs": {}}
    scope = Scope(contexts, workspace=run.workspace)
    contexts["inputs"] = resolve_inputs(doc, inputs, scope, where)
    results: list[StepResult] = []
    for n, step in enumerate(doc["runs"].get("steps") or []):
        sid = str(step.get("id") or f"__{n + 1}")
        res = StepResult(id=sid, name=str(step.get("name") or step.get("uses") or f"Run {sid}"),
                         outcome="skipped", conclusion="skipped", skipped=True)
        results.append(res)
        contexts["env"] = {**outer_env, **run.exported}
        contexts["job"]["status"] = "failure" if scope.failed else "success"
        try:
            go = not run.timed_out and condition(scope, step.get("if"))
        except ExpressionError as exc:
            run.errors.append(f"Step {sid}: {exc}")
            go, scope.failed = False, True
            res.outcome = res.conclusion = "failure"
        if go:
            res.skipped = False
            ok = _run_step(run, action_dir, step, res, scope, outer_env)
            res.outcome = "success" if ok else "failure"
            try:
                ignore = not ok and _continue_on_error(scope, step.get("continue-on-error"))
            except ExpressionError as exc:
                run.errors.append(f"Step {sid}: {exc}")
                ignore = False
            res.conclusion = "success" if ok or ignore else "failure"
            scope.failed = scope.failed or res.conclusion == "failure"
        contexts["steps"][sid] = {"outputs": res.outputs, "outcome": res.outcome, "conclusion": res.conclusion}
    outputs = {}
    contexts["env"] = {**outer_env, **run.exported}
    contexts["job"]["status"] = "failure" if scope.failed else "success"
    for name, spec in (doc.get("outputs") or {}).items():
        try:
            outputs[name] = render(scope, (spec or {}).get("value"))
        except ExpressionError as exc:
            run.errors.append(f"Output {name}: {exc}")
            scope.failed = True
    return results, outputs, scope.failed


def _continue_on_error(scope: Scope, value: Any) -> bool:
    if value is None or isinstance(value, bool):
        return bool(value)
    text = render(scope, value)
    return text.strip().lower() == "true"


def _process_env(run: Run, step_env: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    env = {**run.base_env, **run.exported, **step_env, **extra}
    env["PATH"] = os.pathsep.join([*reversed(run.prepend_path), env.get("PATH", "")])
    return env


def _run_step(run: Run, action_dir: Path, step: dict, res: StepResult, scope: Scope,
              outer_env: dict[str, str]) -> bool:
    """Run one step that passed its ``if:``; fill ``res``; True on success."""
    try:
        res.name = render(scope, res.name)
        step_env = {**outer_env, **{str(k): render(scope, v) for k, v in (step.get("env") or {}).items()}}
        scope.contexts["env"] = {**scope.contexts["env"], **step_env}
        files = {k: run.files / f"{k.lower()}_{uuid.uuid4().hex}" for k in
                 ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY", "GITHUB_STATE")}
        for f in files.values():
            f.touch()
        extra = {k: str(v) for k, v in files.items()}
        extra.update(GITHUB_ACTION_PATH=str(action_dir), GITHUB_ACTION=res.id)
        env = _process_env(run, step_env, extra)
        if "uses" in step:
            with_ = {str(k): render(scope, v) for k, v in (step.get("with") or {}).items()}
            ok = _uses(run, step["uses"], with_, env, step_env, res)
        else:
            ok = run_shell(run, step, res, scope, env)
    except ExpressionError as exc:
        run.errors.append(f"Step {res.id}: {exc}")
        return False
    if "run" in step:  # a nested action's steps have acted on their own commands already
        workflow_commands(run, res.stdout + "\n" + res.stderr, res.outputs)
    returned = dict(res.outputs)
    problem = apply_files(run, files, res.outputs)
    res.outputs.update(returned)
    if problem:
        run.errors.append(f"Step {res.id}: {problem}")
        return False
    return ok


def _uses(run: Run, uses: str, with_: dict[str, str], env: dict[str, str], step_env: dict[str, str],
          res: StepResult) -> bool:
    """A ``uses:`` step: a local action runs nested; anything else goes to its stand-in."""
    if uses.startswith(("./", "$/")):
        nested_dir = (REPO / uses[2:]).resolve()
        try:
            steps, outputs, failed = execute(run, nested_dir, with_, step_env, uses)
        except ValueError as exc:
            run.errors.append(f"Step {res.id}: {exc}")
            return False
        res.outputs.update(outputs)
        res.stdout = "".join(s.stdout for s in steps)
        res.stderr = "".join(s.stderr for s in steps)
        return not failed
    key = uses.split("@", 1)[0]
    stand_in = run.stand_ins.get(key)
    if stand_in is None:
        run.errors.append(f"Step {res.id}: no stand-in for `uses: {uses}`: pass stand_ins={{{key!r}: fn}}")
        return False
    if time.monotonic() > run.deadline:
        run.timed_out = True
        run.errors.append(f"The action has timed out after {run.timeout:g} seconds.")
        return False
    try:
        returned = stand_in(StepCall(uses=uses, inputs=with_, env=env, workspace=run.workspace, temp=run.temp))
    except StandInFailure as exc:
        run.errors.append(str(exc))
        return False
    res.outputs.update({k: to_str(v) for k, v in (returned or {}).items()})
    return True
