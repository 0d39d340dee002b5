"""No Python of the caller's checkout runs when an action starts Python (issue 10, item 1).

The checkout is the pull request's: it can hold ``ci_tools/__main__.py`` (a green gate), ``yaml.py``,
``pip/``, ``venv/``, ``sitecustomize.py``, a shadowed ``encodings``, a project pip would build, and a
caller (or an earlier step writing ``GITHUB_ENV``) can leave ``PYTHONPATH``/``PYTHONUSERBASE``
pointing into it. Each test here plants all of that (``support.hostile``) and runs the actions as
the runner does: the gates end to end through the local runner, with their real install path (venv
and pip, every index switched off) and with ``CI_TOOLS_PYTHON``; every other action's scripts by
the exact command lines of their ``action.yml``. None of the planted files may run, and the gates
must still fail on the real finding in the same checkout.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.fake_credentials import AWS_KEY
from support.gitrepo import Repo
from support.hostile import hostile_env, plant, ran
from support.paths import REPO
from support.runner import run_action

sys.path.insert(0, str(Path(__file__).resolve().parent / "check"))
from check_support import BAD, USES, VENV_PYTHON, UploadSarif  # noqa: E402

ACTIONS = sorted(p.parent for p in (REPO / "actions").glob("*/action.yml"))
NO_INDEX = {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INDEX": "1"}
WF = ".github/workflows/ci.yml"


def _checkout(tmp: Path) -> tuple[Repo, Path, str, str]:
    """A pull request whose head adds the hostile tree, a workflow with a template injection and a key."""
    marker = tmp / "ran.txt"
    repo = Repo(tmp / "ws")
    repo.commit("chore: init", {"README.md": "service\n"})
    base = repo.git("rev-parse", "HEAD")
    repo.branch("fix/x")
    plant(repo.path, marker)
    repo.git("add", "-A")
    repo.commit("fix: x", {WF: BAD, "keys.py": f'KEY = "{AWS_KEY}"\n'})
    return repo, marker, base, repo.git("rev-parse", "HEAD")


def _event(base: str, head: str) -> dict:
    return {"event_name": "pull_request", "head_ref": "fix/x", "base_ref": "main",
            "event": {"number": 1, "pull_request": {"number": 1, "title": "fix: x", "base": {"sha": base, "ref": "main"},
                                                    "head": {"sha": head, "ref": "fix/x"}}}}


# ------------------------------------------------------------------------------ the gates, end to end
# the checkout alone (the pull request's files), then with the environment pointing into it as well
ENVIRONMENTS = pytest.mark.parametrize("hostile", [False, True], ids=["checkout", "checkout+environment"])


def _env(repo: Repo, hostile: bool) -> dict[str, str]:
    return hostile_env(repo.path) if hostile else {}


@ENVIRONMENTS
def test_check_runs_nothing_of_the_checkout_and_still_fails_on_the_finding(tmp_path: Path, hostile: bool):
    repo, marker, base, head = _checkout(tmp_path)
    result = run_action(REPO / "actions" / "check", workspace=repo.path,
                        env={"CI_TOOLS_PYTHON": str(VENV_PYTHON), **_env(repo, hostile)},
                        github=_event(base, head), stand_ins={USES: UploadSarif()})
    assert ran(marker) == []
    assert result.failed and result.outputs["failure-reason"] == "findings", result.stdout + result.stderr
    assert "| error | `template-injection` | `.github/workflows/ci.yml:14:20` |" in result.summary


@ENVIRONMENTS
def test_check_install_runs_the_real_venv_and_pip(tmp_path: Path, hostile: bool):
    """No CI_TOOLS_PYTHON: venv and pip start in the checkout's directory; the checkout's venv/ and pip/
    would answer 0, the real pip finds no index and says so."""
    repo, marker, base, head = _checkout(tmp_path)
    result = run_action(REPO / "actions" / "check", workspace=repo.path, env={**NO_INDEX, **_env(repo, hostile)},
                        github=_event(base, head), stand_ins={USES: UploadSarif()})
    assert ran(marker) == []
    assert result.failed and result.outputs["failure-reason"] == "install-failed"
    assert "No matching distribution found" in result.stdout


@ENVIRONMENTS
def test_pr_hygiene_runs_nothing_of_the_checkout_and_still_finds_the_secret(tmp_path: Path, hostile: bool):
    repo, marker, base, head = _checkout(tmp_path)
    result = run_action(REPO / "actions" / "pr-hygiene", workspace=repo.path,
                        env={"CI_TOOLS_PYTHON": str(VENV_PYTHON), **_env(repo, hostile)},
                        github=_event(base, head), timeout=180)
    assert ran(marker) == []
    assert result.failed and result.outputs["failed-checks"] == "secrets", (result.errors, result.stderr)
    assert any("possible secret (AWS Access Key)" in e for e in result.errors)


@ENVIRONMENTS
def test_pr_hygiene_install_runs_the_real_venv_and_pip(tmp_path: Path, hostile: bool):
    repo, marker, base, head = _checkout(tmp_path)
    result = run_action(REPO / "actions" / "pr-hygiene", workspace=repo.path, env={**NO_INDEX, **_env(repo, hostile)},
                        github=_event(base, head), timeout=180)
    assert ran(marker) == []
    assert result.failed and result.outputs["failure-reason"] == "install-failed"
    assert "No matching distribution found" in result.stdout + result.stderr


# ------------------------------------------------------------------------------ every other action's scripts
def _python_lines(action: Path) -> list[str]:
    doc = yaml.safe_load((action / "action.yml").read_text(encoding="utf-8"))
    lines = []
    for step in doc["runs"].get("steps", []):
        for line in str(step.get("run", "")).splitlines():
            if re.search(r"\bpython3?\b", line) and "$GITHUB_ACTION_PATH" in line and "command -v" not in line:
                lines.append(line.strip())
    return lines


SCRIPT_LINES = [(action.name, line) for action in ACTIONS for line in _python_lines(action)]


@pytest.mark.parametrize("encodings", [True, False], ids=["encodings", "site"])
@pytest.mark.parametrize(("action", "line"), SCRIPT_LINES, ids=[f"{a}: {line}" for a, line in SCRIPT_LINES])
def test_each_script_line_of_each_action_runs_nothing_of_the_checkout(tmp_path: Path, action: str, line: str,
                                                                      encodings: bool):
    """The exact `run:` line, in a hostile checkout with a hostile environment, no inputs (each script stops
    at its first missing input; downloads go to a closed port): whatever it does, no planted file runs."""
    ws = tmp_path / "ws"
    marker = tmp_path / "ran.txt"
    plant(ws, marker, encodings=encodings)
    env = {k: os.environ[k] for k in ("HOME", "LANG", "PATH") if k in os.environ}
    env.update(hostile_env(ws), GITHUB_ACTION_PATH=str(REPO / "actions" / action), GITHUB_WORKSPACE=str(ws),
               GITHUB_OUTPUT=str(tmp_path / "output"), GITHUB_STEP_SUMMARY=str(tmp_path / "summary"),
               RUNNER_TEMP=str(tmp_path), http_proxy="http://127.0.0.1:9", https_proxy="http://127.0.0.1:9",
               CI_TOOLS_PYTHON=str(VENV_PYTHON))
    subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", line], cwd=ws, env=env,
                   stdin=subprocess.DEVNULL, capture_output=True, timeout=120)
    assert ran(marker) == []


def test_every_action_with_python_is_attacked_above():
    starting = {action.name for action in ACTIONS if _python_lines(action)}
    # pr-hygiene starts Python from its shell scripts, attacked end to end above
    assert starting == {"build-push", "canary", "check", "issue-report", "pipeline-metrics", "release-please", "terraform-apply",
                        "terraform-plan"}


# ------------------------------------------------------------------------------ the rule, for new code
_INTERPRETER = r'(?:python3?|"\$python"|"\$venv/bin/python"|"\$\{?CI_TOOLS_PYTHON\}?")'
# where a shell line starts a command: its start, after `!`, `if`, `then`, `;`, `&&`, `||`, `|`, `$(`,
# or an assignment prefix such as `FOO=bar `
_COMMAND = r"(?:^|[;&|(]|\$\(|\bif|\bthen|!)\s*(?:[A-Za-z_][A-Za-z0-9_]*=\S*\s+)*"


def test_every_python_start_passes_minus_capital_i():
    """Beside the attacks: every interpreter started by an action.yml, a shell script or a Python script
    of the actions passes -I (isolated: no PYTHON* variables, no user site, neither the working directory
    nor the script's directory on sys.path)."""
    offenders = []
    for action in ACTIONS:
        sources = [action / "action.yml", *sorted(action.glob("*.sh"))]
        for source in sources:
            for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), 1):
                code = line.split("#", 1)[0] if source.suffix == ".sh" else line
                if re.search(_COMMAND + _INTERPRETER + r"\s+(?!-I\b)", code):
                    offenders.append(f"{source.relative_to(REPO)}:{number}: {line.strip()}")
        for script in sorted(action.glob("*.py")):
            text = script.read_text(encoding="utf-8")
            for m in re.finditer(r'\[\s*(?:sys\.executable|python|str\(python\)|inputs\.python)\s*,(?!\s*"-I")', text):
                number = text.count("\n", 0, m.start()) + 1
                offenders.append(f"{script.relative_to(REPO)}:{number}: {text.splitlines()[number - 1].strip()}")
    assert offenders == []
