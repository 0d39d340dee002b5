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
"""

from __future__ import annotations

import atexit
import glob
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ci_tools.gha.evaluate import evaluate, to_str, truthy
from ci_tools.gha.expressions import (
    FUNCTIONS,
    STATUS_FUNCTIONS,
    Call,
    ExpressionError,
    find_expressions,
    parse,
    walk,
)

REPO = Path(__file__).resolve().parents[2]
SHELLS = {
    "bash": ("bash --noprofile --norc -eo pipefail {0}", ".sh"),
    "sh": ("sh -e {0}", ".sh"),
    "python": ("python3 {0}", ".py"),
}
_TEMP_ROOTS: list[str] = []


class _Loader(yaml.SafeLoader):
    """YAML as GitHub reads it (1.2 core booleans): ``on``/``yes``/``no`` stay strings."""


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {k: [r for r in v if r[0] != _BOOL]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))
atexit.register(lambda: [shutil.rmtree(p, ignore_errors=True) for p in _TEMP_ROOTS])


class StandInFailure(Exception):
    """Raised by a stand-in to fail its ``uses:`` step; the message becomes an ``::error::``."""


@dataclass
class StepCall:
    """What a stand-in for a ``uses:`` step receives."""

    uses: str  # as written, with @ref
    inputs: dict[str, str]  # evaluated `with:`
    env: dict[str, str]  # the process environment the step would have had
    workspace: Path
    temp: Path  # RUNNER_TEMP


@dataclass
class StepResult:
    """One step as the ``steps`` context sees it, plus what it printed. A ``continue-on-error``
    step that failed has outcome ``failure`` and conclusion ``success``."""

    id: str
    name: str
    outcome: str  # success | failure | skipped | cancelled
    conclusion: str
    outputs: dict[str, str] = field(default_factory=dict)
    stdout: str = ""
    stderr: str = ""
    skipped: bool = False
    exit_code: int | None = None


@dataclass
class ActionResult:
    """The whole run. ``failed``: a step concluded ``failure``. ``errors``/``warnings``/``notices``:
    messages of annotations, the runner's own failures (missing stand-in, timeout, bad expression)
    included. Output texts are masked (``::add-mask::`` values, ``github.token``); outputs are not."""

    outputs: dict[str, str]
    failed: bool
    steps: list[StepResult]
    summary: str
    errors: list[str]
    warnings: list[str]
    notices: list[str]
    stdout: str
    stderr: str
    env: dict[str, str]  # everything exported through GITHUB_ENV
    temp: Path  # RUNNER_TEMP (kept until the test process exits)

    def step(self, step_id: str) -> StepResult:
        for s in self.steps:
            if s.id == step_id:
                return s
        raise KeyError(f"no step with id {step_id!r}; ids: {[s.id for s in self.steps]}")


# ---------------------------------------------------------------- expressions

# The runner's functions on top of GitHub's built-ins: the job status and hashFiles.
_RUNNER_FUNCTIONS = {**FUNCTIONS, **STATUS_FUNCTIONS}


@dataclass
class Scope:
    """What an expression can see: the named contexts plus step status for success()/failure()."""

    contexts: dict[str, Any]
    failed: bool = False
    workspace: Path = Path(".")

    def evaluate(self, text: str) -> Any:
        """The value of one expression, parsed and evaluated by ``ci_tools.gha`` (GitHub's grammar)."""
        node = parse(text, names=self.contexts, functions=_RUNNER_FUNCTIONS)
        status = {"success": not self.failed, "failure": self.failed, "always": True, "cancelled": False}
        functions: dict[str, Callable[[list[Any]], Any]] = {name: _constant(v) for name, v in status.items()}
        functions["hashfiles"] = lambda args: hash_files(self.workspace, [to_str(a) for a in args])
        return evaluate(node, self.contexts, functions)


def _constant(value: Any) -> Callable[[list[Any]], Any]:
    return lambda _args: value


def hash_files(workspace: Path, patterns: list[str]) -> str:
    """hashFiles(): sha256 over the sha256 digests of the matching files (sorted), '' if none.

    Patterns are globs relative to the workspace (``**`` included, dotfiles too); a pattern that
    matches a directory takes the files beneath it; ``!pattern`` excludes."""
    lines = [p.strip() for pat in patterns for p in pat.splitlines() if p.strip()]

    def expand(globs: list[str]) -> set[Path]:
        found: set[Path] = set()
        for pattern in globs:
            for match in glob.glob(pattern.removeprefix("./"), root_dir=workspace, recursive=True,
                                   include_hidden=True):
                hit = workspace / match
                found.update(f for f in ([hit] if hit.is_file() else hit.rglob("*")) if f.is_file())
        return {f for f in found if f.resolve().is_relative_to(workspace.resolve())}

    files = sorted(expand([p for p in lines if not p.startswith("!")]) - expand([p[1:] for p in lines if p.startswith("!")]))
    if not files:
        return ""
    total = hashlib.sha256()
    for f in files:
        total.update(hashlib.sha256(f.read_bytes()).digest())
    return total.hexdigest()


def _split_template(text: str) -> list[tuple[bool, str]]:
    """Split ``a ${{ x }} b`` into literal and expression parts; ``}}`` inside '...' does not close."""
    try:
        found = find_expressions(text)
    except ExpressionError as exc:
        raise ExpressionError("The expression is not closed. An unescaped ${{ sequence was found, but the closing "
                              f"}}}} sequence was not found: {text}", exc.offset) from None
    parts, pos = [], 0
    for e in found:
        if e.start > pos:
            parts.append((False, text[pos:e.start]))
        parts.append((True, e.body.strip()))
        pos = e.end
    if pos < len(text) or not parts:
        parts.append((False, text[pos:]))
    return parts


def render(scope: Scope, value: Any) -> str:
    """Evaluate a YAML scalar holding ``${{ }}`` parts into the string GitHub would produce."""
    if not isinstance(value, str):
        return to_str(value)  # YAML null, booleans and numbers as GitHub writes them: '', 'true', '5'
    parts = _split_template(value)
    if len(parts) == 1 and parts[0][0]:
        return to_str(scope.evaluate(parts[0][1]), objects_as_json=True)
    return "".join(to_str(scope.evaluate(t)) if is_expr else t for is_expr, t in parts)


def condition(scope: Scope, text: Any) -> bool:
    """An ``if:``: always an expression; without a status function it means ``success() && (...)``."""
    raw = to_str(text).strip()
    parts = _split_template(raw) if "${{" in raw else [(True, raw or "success()")]
    if len(parts) != 1 or not parts[0][0]:
        return truthy(render(scope, raw))  # a string with text around ${{ }}: non-empty -> true
    expr = parts[0][1] or "success()"
    tree = parse(expr, names=scope.contexts, functions=_RUNNER_FUNCTIONS)
    uses_status = any(isinstance(n, Call) and n.name.lower() in STATUS_FUNCTIONS for n in walk(tree))
    return truthy(scope.evaluate(expr if uses_status else f"success() && ({expr})"))


# ---------------------------------------------------------------- file and workflow commands

def parse_file_command(text: str) -> dict[str, str]:
    """``name=value`` and ``name<<DELIM`` ... ``DELIM`` lines, as GITHUB_OUTPUT / GITHUB_ENV use."""
    out: dict[str, str] = {}
    lines = text.replace("\r\n", "\n").split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        eq, hd = line.find("="), line.find("<<")
        if eq >= 0 and (hd < 0 or eq < hd):
            key, value = line[:eq], line[eq + 1:]
        elif hd >= 0:
            key, delim = line[:hd], line[hd + 2:]
            if not key or not delim:
                raise ValueError(f"Invalid format '{line}'")
            body = []
            while i < len(lines) and lines[i] != delim:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise ValueError(f"Invalid value. Matching delimiter not found '{delim}'")
            i += 1
            value = "\n".join(body)
        else:
            raise ValueError(f"Invalid format '{line}'")
        if not key:
            raise ValueError(f"Invalid format '{line}'. Name must not be empty")
        out[key] = value
    return out


_COMMAND = re.compile(r"^::([^\s:]+)(?: ([^:]*))?::(.*)$")


def _unescape(text: str, prop: bool = False) -> str:
    pairs = [("%0D", "\r"), ("%0A", "\n")] + ([("%3A", ":"), ("%2C", ",")] if prop else []) + [("%25", "%")]
    for a, b in pairs:
        text = text.replace(a, b)
    return text


# ---------------------------------------------------------------- running

@dataclass
class _Run:
    """State shared by the whole run (and nested actions): what the real runner keeps per job."""

    workspace: Path
    temp: Path
    files: Path
    deadline: float
    timeout: float
    base_env: dict[str, str]
    github: dict[str, Any]
    runner: dict[str, Any]
    stand_ins: dict[str, Callable[[StepCall], dict[str, str] | None]]
    exported: dict[str, str] = field(default_factory=dict)
    prepend_path: list[str] = field(default_factory=list)
    masks: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    groups: list[int] = field(default_factory=list)
    timed_out: bool = False

    def mask(self, text: str) -> str:
        """Replace registered secrets by ``***``; values under 4 characters are left alone so a
        test token such as ``"t"`` does not turn every ``t`` of the output into ``***``."""
        for m in sorted((m for m in self.masks if len(m) >= 4), key=len, reverse=True):
            text = text.replace(m, "***")
        return text


def _load(action_dir: Path) -> dict[str, Any]:
    path = action_dir / "action.yml"
    if not path.is_file():
        path = action_dir / "action.yaml"
    if not path.is_file():
        raise ValueError(f"no action.yml in {action_dir}")
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}  # _Loader is a SafeLoader
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        raise ValueError(f"{path}: only composite actions can run here (runs.using={runs.get('using')!r})")
    for n, step in enumerate(runs.get("steps") or []):
        if ("run" in step) == ("uses" in step):
            raise ValueError(f"{path}: step {n + 1} needs exactly one of run/uses")
        if "run" in step and "shell" not in step:
            raise ValueError(f"{path}: step {n + 1}: composite run steps require `shell`")
    return doc


def _resolve_inputs(doc: dict, given: dict[str, Any], scope: Scope, where: str) -> dict[str, str]:
    declared = doc.get("inputs") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"{where}: unknown input(s) {unknown}; declared: {sorted(declared)}")
    inputs = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in given:
            inputs[name] = to_str(given[name])
        elif "default" in spec:
            inputs[name] = render(scope, to_str(spec["default"]))
        elif spec.get("required") in (True, "true"):
            raise ValueError(f"{where}: required input {name!r} not given and has no default")
        else:
            inputs[name] = ""
    return inputs


def _process_env(run: _Run, step_env: dict[str, str], extra: dict[str, str]) -> dict[str, str]:
    env = {**run.base_env, **run.exported, **step_env, **extra}
    env["PATH"] = os.pathsep.join([*reversed(run.prepend_path), env.get("PATH", "")])
    return env


def _run_process(run: _Run, argv: list[str], cwd: Path, env: dict[str, str], step: StepResult) -> bool:
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
            _kill_group(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=2)
            except subprocess.TimeoutExpired:
                _kill_group(proc.pid, signal.SIGKILL)
                proc.wait()
            run.timed_out = True
    step.stdout = out_path.read_bytes().decode("utf-8", "replace")
    step.stderr = err_path.read_bytes().decode("utf-8", "replace")
    if run.timed_out:
        run.errors.append(f"The action has timed out after {run.timeout:g} seconds (step {step.id} killed).")
        return False
    return step.exit_code == 0


def _kill_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _workflow_commands(run: _Run, text: str, outputs: dict[str, str]) -> None:
    """Act on ``::cmd props::data`` lines the way the runner's command manager does."""
    stop_token = None
    for line in text.splitlines():
        m = _COMMAND.match(line.lstrip())
        if not m:
            continue
        name, props, data = m.group(1).lower(), m.group(2) or "", _unescape(m.group(3))
        if stop_token is not None:
            if name == stop_token.lower():
                stop_token = None
            continue
        if name == "error":
            run.errors.append(data)
        elif name == "warning":
            run.warnings.append(data)
        elif name == "notice":
            run.notices.append(data)
        elif name == "add-mask" and data.strip():
            run.masks.append(data.strip())
        elif name == "stop-commands":
            stop_token = data
        elif name == "set-output":
            key = dict(p.split("=", 1) for p in props.split(",") if "=" in p).get("name", "")
            outputs[_unescape(key, prop=True)] = data
            run.warnings.append("The `set-output` command is deprecated and will be disabled soon.")
        elif name in ("set-env", "add-path"):
            run.errors.append(f"The `{name}` command is disabled.")


def _apply_files(run: _Run, files: dict[str, Path], outputs: dict[str, str]) -> str | None:
    """Read the step's GITHUB_OUTPUT/ENV/PATH/STEP_SUMMARY; return an error message if malformed."""
    try:
        outputs.update(parse_file_command(files["GITHUB_OUTPUT"].read_text(encoding="utf-8")))
        run.exported.update(parse_file_command(files["GITHUB_ENV"].read_text(encoding="utf-8")))
    except ValueError as exc:
        return str(exc)
    for line in files["GITHUB_PATH"].read_text(encoding="utf-8").splitlines():
        if line.strip():
            if line in run.prepend_path:
                run.prepend_path.remove(line)
            run.prepend_path.append(line)
    run.summary.append(files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"))
    return None


def _execute(run: _Run, action_dir: Path, inputs: dict[str, Any], outer_env: dict[str, str],
             where: str) -> tuple[list[StepResult], dict[str, str], bool]:
    """Run one composite action: its steps, then its outputs. Returns (steps, outputs, failed)."""
    doc = _load(action_dir)
    github = {**run.github, "action_path": str(action_dir)}
    contexts: dict[str, Any] = {"github": github, "runner": run.runner, "job": {"status": "success"},
                                "env": {**outer_env, **run.exported}, "steps": {}, "inputs": {}}
    scope = Scope(contexts, workspace=run.workspace)
    contexts["inputs"] = _resolve_inputs(doc, inputs, scope, where)
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


def _run_step(run: _Run, action_dir: Path, step: dict, res: StepResult, scope: Scope,
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
            ok = _shell(run, step, res, scope, env)
    except ExpressionError as exc:
        run.errors.append(f"Step {res.id}: {exc}")
        return False
    if "run" in step:  # a nested action's steps have acted on their own commands already
        _workflow_commands(run, res.stdout + "\n" + res.stderr, res.outputs)
    returned = dict(res.outputs)
    problem = _apply_files(run, files, res.outputs)
    res.outputs.update(returned)
    if problem:
        run.errors.append(f"Step {res.id}: {problem}")
        return False
    return ok


def _shell(run: _Run, step: dict, res: StepResult, scope: Scope, env: dict[str, str]) -> bool:
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
    return _run_process(run, argv, cwd, env, res)


def _uses(run: _Run, uses: str, with_: dict[str, str], env: dict[str, str], step_env: dict[str, str],
          res: StepResult) -> bool:
    """A ``uses:`` step: a local action runs nested; anything else goes to its stand-in."""
    if uses.startswith(("./", "$/")):
        nested_dir = (REPO / uses[2:]).resolve()
        try:
            steps, outputs, failed = _execute(run, nested_dir, with_, step_env, uses)
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
    """Run the composite action in ``action_dir`` like a job step would; see the module docstring.

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
    run = _Run(workspace=ws, temp=root / "temp", files=root / "files", deadline=time.monotonic() + timeout,
               timeout=timeout, base_env=_base_env(env or {}, gh, runner, root / "temp", event_path), github=gh,
               runner=runner, stand_ins=dict(stand_ins or {}), prepend_path=[str(p) for p in reversed(path or [])])
    if gh.get("token"):
        run.masks.append(str(gh["token"]))
    try:
        steps, outputs, failed = _execute(run, Path(action_dir).resolve(), dict(inputs or {}), {}, str(action_dir))
    finally:
        for pgid in run.groups:  # like the runner's orphan-process cleanup at the end of a job
            _kill_group(pgid, signal.SIGKILL)
    for s in steps:
        s.stdout, s.stderr = run.mask(s.stdout), run.mask(s.stderr)
    return ActionResult(
        outputs=outputs, failed=failed, steps=steps, summary=run.mask("".join(run.summary)),
        errors=[run.mask(e) for e in run.errors], warnings=[run.mask(w) for w in run.warnings],
        notices=[run.mask(n) for n in run.notices], stdout="".join(s.stdout for s in steps),
        stderr="".join(s.stderr for s in steps), env=dict(run.exported), temp=run.temp)
