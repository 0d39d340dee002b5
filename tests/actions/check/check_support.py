"""Helpers for the tests of actions/check: workspaces, the scripts run as the runner runs them, and a
stand-in for github/codeql-action/upload-sarif.

The stand-in exists because code scanning is a GitHub service. It checks what the real action
checks before uploading (upload-sarif's documented behaviour, `src/upload-lib.ts` of
github/codeql-action v4): the file exists, it is SARIF 2.1.0 with at least one run, each run names
its tool, and runs of one upload do not share a tool and category; then it answers with a
`sarif-id`, as the real action's output. ``UploadSarif(fail=...)`` fails the step with the message
GitHub's API gives a token without ``security-events: write``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from support import actionscript
from support.actionscript import ScriptRun as Ran
from support.runner import StandInFailure, StepCall

REPO = Path(__file__).resolve().parents[3]
ACTION = REPO / "actions" / "check"
VENV_PYTHON = REPO / ".venv" / "bin" / "python"
USES = "github/codeql-action/upload-sarif"

CLEAN = """\
name: ci
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      contents: read
    steps:
      - uses: actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1
        with:
          persist-credentials: false
      - run: make test
"""

# The pull request title reaches the shell unquoted: template-injection, an error.
BAD = CLEAN.replace("on: push", "on: pull_request").replace(
    "      - run: make test\n", '      - run: echo "${{ github.event.pull_request.title }}"\n')

# Passes `check` (both pins are full SHAs with a comment) but not `verify`: one version, two commits.
INCONSISTENT = CLEAN.replace("3d3c42e5aac5ba805825da76410c181273ba90b1", "1" * 40)


def workspace(root: Path, files: dict[str, str]) -> Path:
    """A service repository's checkout: a real git repository holding ``files``."""
    root.mkdir(parents=True, exist_ok=True)
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


@dataclass
class UploadSarif:
    fail: bool = False
    calls: list[StepCall] = field(default_factory=list)
    logs: list[dict] = field(default_factory=list)

    def __call__(self, call: StepCall) -> dict[str, str]:
        self.calls.append(call)
        if self.fail:
            raise StandInFailure("Resource not accessible by integration - "
                                 "https://docs.github.com/rest/code-scanning/code-scanning#upload-an-analysis-as-sarif-data")
        path = Path(call.inputs.get("sarif_file", ""))
        if not path.is_file():
            raise StandInFailure(f"Path does not exist: {path}")
        log = json.loads(path.read_text(encoding="utf-8"))
        if log.get("version") != "2.1.0" or not log.get("runs"):
            raise StandInFailure(f"Invalid SARIF. JSON syntax error or no runs in {path}")
        tools = [run["tool"]["driver"]["name"] for run in log["runs"]]
        if len(tools) != len(set(tools)):
            raise StandInFailure("Aborting upload: only one run of the codeql/analyze or codeql/upload-sarif "
                                 "actions is allowed per job per tool/category")
        for run in log["runs"]:
            rules = run["tool"]["driver"].get("rules", [])
            for result in run.get("results", []):
                if rules[result["ruleIndex"]]["id"] != result["ruleId"]:
                    raise StandInFailure(f"Invalid SARIF: ruleIndex {result['ruleIndex']} is not {result['ruleId']}")
                for loc in result["locations"]:
                    uri = loc["physicalLocation"]["artifactLocation"]["uri"]
                    if uri.startswith(("/", "../")):
                        raise StandInFailure(f"Invalid SARIF: {uri} is not relative to the checkout")
        self.logs.append(log)
        return {"sarif-id": str(uuid.uuid4())}


def run_script(name: str, tmp: Path, env: dict[str, str], cwd: Path) -> Ran:
    """``python3 -I actions/check/NAME`` (as action.yml starts it) with real GITHUB_OUTPUT and
    GITHUB_STEP_SUMMARY files, a clean environment plus ``env``."""
    base = {k: os.environ[k] for k in ("HOME", "LANG", "PATH") if k in os.environ}
    (tmp / "runner-temp").mkdir(parents=True, exist_ok=True)
    full = {**base, "RUNNER_TEMP": str(tmp / "runner-temp"), "GITHUB_ACTIONS": "true", **env}
    return actionscript.run_script([sys.executable, "-I", str(ACTION / name)], full, cwd=cwd, files=tmp)
