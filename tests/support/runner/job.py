"""``run_action``: the job around one action, with the contexts and environment GitHub gives.

The ``github`` context defaults to a push to ``main`` of ``org/svc`` (a test overrides any key;
``repository_owner``, ``ref_name``, ``ref_type``, ``workflow_ref`` follow from the others, and a
``pull_request`` event fills ``head_ref``/``base_ref``), the ``runner`` context is a GitHub-hosted
Linux X64 runner, and each process gets a clean environment: HOME, LANG, TMPDIR and PATH of the
test process, the ``GITHUB_*`` and ``RUNNER_*`` variables, ``CI``/``GITHUB_ACTIONS``, the event at
GITHUB_EVENT_PATH, then the test's ``env``. ``github.token`` is masked in every output text.
The run's RUNNER_TEMP is kept until the test process exits, so a test can read what was left there.
"""

from __future__ import annotations

import atexit
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ci_tools.gha.evaluate import to_str

from .process import kill_group
from .results import ActionResult, StepCall
from .state import Run
from .steps import execute

_TEMP_ROOTS: list[str] = []


@atexit.register
def _remove_temp_roots() -> None:
    for root in _TEMP_ROOTS:
        shutil.rmtree(root, ignore_errors=True)


def _github_context(workspace: Path, overrides: dict[str, Any]) -> dict[str, Any]:
    gh: dict[str, Any] = {
        "repository": "org/svc", "sha": "6dcb09b5b57875f334f61aebed695e2e4193db5e", "ref": "refs/heads/main",
        "event_name": "push", "event": {}, "workspace": str(workspace), "token": "",
        "server_url": "https://github.com", "api_url": "https://api.github.com",
        "graphql_url": "https://api.github.com/graphql", "run_id": "1", "run_number": "1", "run_attempt": "1",
        "actor": "octocat", "triggering_actor": "octocat", "workflow": "CI", "job": "build", "head_ref": "",
        "base_ref": "", "retention_days": "90", **overrides}
    gh.setdefault("repository_owner", gh["repository"].split("/")[0])
    gh.setdefault("ref_name", re.sub(r"^refs/(heads|tags)/", "", gh["ref"]))
    gh.setdefault("ref_type", "tag" if gh["ref"].startswith("refs/tags/") else "branch")
    gh.setdefault("workflow_ref", f"{gh['repository']}/.github/workflows/ci.yml@{gh['ref']}")
    pr = (gh["event"] or {}).get("pull_request") or {}
    if pr and "head_ref" not in overrides:
        gh["head_ref"] = (pr.get("head") or {}).get("ref", "")
    if pr and "base_ref" not in overrides:
        gh["base_ref"] = (pr.get("base") or {}).get("ref", "")
    return gh


def _base_env(env: dict[str, str], gh: dict[str, Any], runner: dict[str, Any], temp: Path,
              event_path: Path) -> dict[str, str]:
    base = {k: os.environ[k] for k in ("HOME", "LANG", "TMPDIR") if k in os.environ}
    base["PATH"] = os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")
    for key in ("repository", "repository_owner", "sha", "ref", "ref_name", "ref_type", "event_name",
                "api_url", "server_url", "graphql_url", "workspace", "run_id", "run_number", "run_attempt",
                "actor", "triggering_actor", "workflow", "workflow_ref", "job", "head_ref", "base_ref",
                "retention_days"):
        base[f"GITHUB_{key.upper()}"] = to_str(gh[key])
    base.update(GITHUB_EVENT_PATH=str(event_path), RUNNER_TEMP=str(temp), RUNNER_OS=runner["os"],
                RUNNER_ARCH=runner["arch"], RUNNER_NAME=runner["name"], RUNNER_TOOL_CACHE=runner["tool_cache"],
                RUNNER_ENVIRONMENT="github-hosted", CI="true", GITHUB_ACTIONS="true")
    base.update({str(k): to_str(v) for k, v in env.items()})
    return base


def run_action(action_dir: Path | str, inputs: dict[str, Any] | None = None, workspace: Path | str | None = None,
               env: dict[str, str] | None = None, path: list[Path | str] | None = None,
               github: dict[str, Any] | None = None,
               stand_ins: dict[str, Callable[[StepCall], dict[str, str] | None]] | None = None,
               timeout: float = 300) -> ActionResult:
    """Run the composite action in ``action_dir`` like a job step would; see the package docstring.

    Raises ValueError for an unknown input, a missing required input, or an action this runner
    cannot run; everything that goes wrong *inside* the action shows in the result instead."""
    root = Path(tempfile.mkdtemp(prefix="ci-runner-"))
    _TEMP_ROOTS.append(str(root))
    for sub in ("temp", "tool_cache", "files"):
        (root / sub).mkdir()
    ws = Path(workspace).resolve() if workspace is not None else root / "workspace"
    ws.mkdir(parents=True, exist_ok=True)
    gh = _github_context(ws, dict(github or {}))
    runner = {"os": "Linux", "arch": "X64", "name": "local-runner", "temp": str(root / "temp"),
              "tool_cache": str(root / "tool_cache"), "environment": "github-hosted", "debug": ""}
    event_path = root / "event.json"
    event_path.write_text(json.dumps(gh["event"] or {}), encoding="utf-8")
    run = Run(workspace=ws, temp=root / "temp", files=root / "files", deadline=time.monotonic() + timeout,
              timeout=timeout, base_env=_base_env(env or {}, gh, runner, root / "temp", event_path), github=gh,
              runner=runner, stand_ins=dict(stand_ins or {}), prepend_path=[str(p) for p in reversed(path or [])])
    if gh.get("token"):
        run.masks.append(str(gh["token"]))
    try:
        steps, outputs, failed = execute(run, Path(action_dir).resolve(), dict(inputs or {}), {}, str(action_dir))
    finally:
        for pgid in run.groups:  # like the runner's orphan-process cleanup at the end of a job
            kill_group(pgid, signal.SIGKILL)
    for s in steps:
        s.stdout, s.stderr = run.mask(s.stdout), run.mask(s.stderr)
    return ActionResult(
        outputs=outputs, failed=failed, steps=steps, summary=run.mask("".join(run.summary)),
        errors=[run.mask(e) for e in run.errors], warnings=[run.mask(w) for w in run.warnings],
        notices=[run.mask(n) for n in run.notices], stdout="".join(s.stdout for s in steps),
        stderr="".join(s.stderr for s in steps), env=dict(run.exported), temp=run.temp)
