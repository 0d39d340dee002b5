"""A local runner for composite actions, faithful enough to test them end to end.

Why: the real GitHub runner cannot run here, yet our actions are shell and Python that *can*.
``run_action`` reads ``action.yml``, evaluates ``${{ }}`` with GitHub's expression semantics (the
grammar and evaluator of ``ci_tools.gha``, checked against the test data of GitHub's expression library),
runs each ``run:`` step in a real shell with the environment and file commands
(GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY) the real runner gives, acts on workflow commands
(``::error::``, ``::add-mask::``...), runs local ``./`` actions nested, and hands every other
``uses:`` step to a stand-in the test supplies::

    result = run_action(action_dir, inputs={...}, workspace=tmp_path, env={...}, path=[bin_dir],
                        github={"event_name": "pull_request", "event": {...}, "api_url": url},
                        stand_ins={"actions/upload-artifact": fn}, timeout=300)
    result.outputs, result.failed, result.errors, result.step("plan").outcome, result.summary

Where it knowingly differs from the real runner (all on the side of catching mistakes):
unknown inputs and missing required inputs raise ValueError (GitHub only warns); workflow
commands are read from stdout and stderr alike (as the runner does) but the runner's own
"Process completed with exit code N." is not added to ``errors`` (see ``StepResult.exit_code``);
a field holding only ``${{ object }}`` renders as JSON; secrets under 4 characters are not masked;
the run's ``timeout`` stops the action (remaining steps skipped) rather than a job.

The package, one module per job:

- ``job``: ``run_action``, the ``github``/``runner`` contexts and the process environment of the job;
- ``steps``: the steps of a composite action in order, ``if:``, ``continue-on-error``, nested ``./``
  actions and stand-ins for every other ``uses:``;
- ``action``: reading ``action.yml`` (YAML 1.2 booleans) and resolving its inputs;
- ``scope``: expressions over the contexts, status functions, ``hashFiles``, ``${{ }}`` templates;
- ``process``: ``run:`` steps in a shell, in their own process group, under the run's deadline;
- ``commands``: file commands (GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY) and ``::`` workflow commands;
- ``state``: what the job keeps across steps (exported env, PATH, masks, annotations, summary);
- ``results``: ``ActionResult``, ``StepResult``, and ``StepCall``/``StandInFailure`` for stand-ins.
"""

from ci_tools.gha.expressions import ExpressionError

from .action import load_action
from .commands import parse_file_command
from .job import run_action
from .process import SHELLS
from .results import ActionResult, StandInFailure, StepCall, StepResult
from .scope import Scope, condition, hash_files, render

__all__ = [
    "SHELLS",
    "ActionResult",
    "ExpressionError",
    "Scope",
    "StandInFailure",
    "StepCall",
    "StepResult",
    "condition",
    "hash_files",
    "load_action",
    "parse_file_command",
    "render",
    "run_action",
]
