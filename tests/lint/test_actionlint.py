"""actionlint runs once over all files, in either option dialect, and its findings keep exact positions."""

from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

BIN = Path(sys.executable).parent

WORKFLOW = """\
on: push
permissions: {}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo $UNQUOTED_VARIABLE
      - run: echo "${{ github.sha.nope.nope }}" && echo ok
        if: ${{ matrix.missing }}
"""


def lay(repo: Path, count: int = 1) -> list[str]:
    paths = []
    for i in range(count):
        path = repo / ".github" / "workflows" / f"w{i}.yml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(WORKFLOW)
        paths.append(path.relative_to(repo).as_posix())
    return paths


def wrapper(tmp: Path, name: str, target: str) -> Path:
    """A real executable that logs its argv, then runs the real linter (no stand-in)."""
    log = tmp / f"{name}.log"
    script = tmp / name
    script.write_text(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{log}'\nexec '{BIN / target}' \"$@\"\n")
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return script


def findings(out) -> list[dict]:
    assert "Traceback" not in out.stderr, out.stderr
    return [f for f in json.loads(out.stdout)["findings"] if f["check"] == "actionlint"]


@pytest.mark.parametrize("linter", ["actionlint", "jactionlint"])
def test_both_dialects_report_shellcheck_and_expression_problems_at_exact_positions(linter, repo_dir, cli):
    lay(repo_dir)
    out = cli("check", "--format", "json", "--select", "actionlint", cwd=repo_dir, env={"ACTIONLINT": linter})
    got = findings(out)
    assert out.returncode == 1
    shellcheck = [f for f in got if "SC2086" in f["message"]]
    assert [(f["path"], f["line"], f["col"]) for f in shellcheck] == [(".github/workflows/w0.yml", 8, 19)]
    matrix = [f for f in got if '"missing"' in f["message"]]
    assert [(f["line"], f["col"], f["end_col"]) for f in matrix] == [(10, 17, 31)]


def test_no_shellcheck_drops_shellcheck_findings_only(repo_dir, cli):
    lay(repo_dir)
    out = cli("check", "--format", "json", "--select", "actionlint", "--no-shellcheck", cwd=repo_dir)
    got = findings(out)
    assert not [f for f in got if "SC2086" in f["message"]]
    assert [f for f in got if '"missing"' in f["message"]]


@pytest.mark.parametrize("target", ["actionlint", "jactionlint"])
def test_linter_runs_once_over_all_files_and_its_dialect_is_detected(target, repo_dir, tmp_path_factory, cli):
    tools = tmp_path_factory.mktemp("tools")
    script = wrapper(tools, "custom-linter", target)
    lay(repo_dir, count=5)
    out = cli("check", "--format", "json", "--select", "actionlint", cwd=repo_dir, env={"ACTIONLINT": str(script)})
    got = findings(out)
    assert {f["path"] for f in got} == {f".github/workflows/w{i}.yml" for i in range(5)}
    calls = [line for line in (tools / "custom-linter.log").read_text().splitlines() if "--help" not in line]
    assert len(calls) == 1, calls
    assert all(f"w{i}.yml" in calls[0] for i in range(5))
    assert ("--format json" in calls[0]) == (target == "jactionlint")


def test_missing_linter_named_by_environment_is_a_fatal_one_liner(repo_dir, cli):
    lay(repo_dir)
    out = cli("check", cwd=repo_dir, env={"ACTIONLINT": "no-such-linter-here"})
    assert out.returncode == 3
    assert out.stderr.strip().count("\n") == 0 and "no-such-linter-here" in out.stderr


def test_a_crashing_linter_is_a_fatal_error_not_a_traceback(repo_dir, tmp_path_factory, cli):
    tools = tmp_path_factory.mktemp("tools")
    broken = tools / "broken-linter"
    broken.write_text("#!/bin/sh\necho 'panic: boom' >&2\nexit 3\n")
    broken.chmod(0o755)
    lay(repo_dir)
    out = cli("check", cwd=repo_dir, env={"ACTIONLINT": str(broken)})
    assert out.returncode == 3 and "actionlint failed: panic: boom" in out.stderr
    assert "Traceback" not in out.stderr


def test_own_check_and_actionlint_report_an_injection_once(repo_dir, cli):
    path = repo_dir / ".github" / "workflows" / "inj.yml"
    path.parent.mkdir(parents=True)
    path.write_text("on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
                    "    steps:\n      - run: echo \"${{ github.event.issue.title }}\"\n")
    out = cli("check", "--format", "json", "--select", "actionlint", "--select", "template-injection", cwd=repo_dir)
    data = json.loads(out.stdout)["findings"]
    on_line = [f for f in data if f["line"] == 8]
    assert [f["check"] for f in on_line] == ["template-injection"], on_line


def test_actionlint_is_not_run_when_not_selected(repo_dir, tmp_path_factory, cli):
    tools = tmp_path_factory.mktemp("tools")
    script = wrapper(tools, "custom-linter", "actionlint")
    lay(repo_dir)
    cli("check", "--select", "schema", cwd=repo_dir, env={"ACTIONLINT": str(script)})
    log = tools / "custom-linter.log"
    assert not log.exists() or all("--help" in line for line in log.read_text().splitlines())


def test_environment_is_passed_through_untouched(repo_dir, cli):
    # the linter finds shellcheck from this virtual environment even when PATH does not have it
    lay(repo_dir)
    env = {"PATH": "/usr/bin:/bin"}
    out = cli("check", "--format", "json", "--select", "actionlint", cwd=repo_dir, env=env)
    assert any("SC2086" in f["message"] for f in findings(out)), os.environ.get("PATH")


def test_shellcheck_severities_map_info_and_style_to_note(repo_dir, cli):
    path = repo_dir / ".github" / "workflows" / "a.yml"
    path.parent.mkdir(parents=True)
    path.write_text("on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
                    "    steps:\n      - run: echo $FOO\n      - run: ls `pwd`\n")
    out = cli("check", "--format", "json", "--select", "actionlint", cwd=repo_dir)
    got = {(f["message"].split(":", 2)[1].strip().split()[-1] if "SC" in f["message"] else f["message"], f["severity"])
           for f in json.loads(out.stdout)["findings"]}
    assert got == {("SC2086", "note"), ("SC2006", "note"), ("SC2046", "warning")}
    # only notes: the default fail level lets them pass
    path.write_text(path.read_text().replace("      - run: ls `pwd`\n", ""))
    out = cli("check", "--select", "actionlint", cwd=repo_dir)
    assert out.returncode == 0 and ": note: shellcheck reported issue in this script: SC2086:info:" in out.stdout


# A real case: actionlint reports `"image" is missing in "container" section` at the `container:` key
# of job "a"; the position correction once moved it to the `image:` line of job "b". Likewise
# `"type" is missing at "x" input` moved to the `type:` of the next input.
MISPLACED = """\
on:
  workflow_call:
    inputs:
      first:
        description: no type
      second:
        description: typed
        type: string
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    container:
      options: --cpus 1
    steps:
      - run: echo a
  b:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    container:
      image: node:24
    steps:
      - run: echo b
"""


@pytest.mark.parametrize("linter", ["actionlint", "jactionlint"])
def test_a_message_stays_in_its_job_and_is_not_moved_to_the_next_occurrence_of_its_word(linter, repo_dir, cli):
    path = repo_dir / ".github" / "workflows" / "misplaced.yml"
    path.parent.mkdir(parents=True)
    path.write_text(MISPLACED)
    out = cli("check", "--format", "json", "--select", "actionlint", "--no-shellcheck", cwd=repo_dir,
              env={"ACTIONLINT": linter})
    got = findings(out)
    image = [(f["line"], f["col"]) for f in got if f["message"].startswith('"image" is missing')]
    assert image == [(14, 5)], got
    typed = [(f["line"], f["col"]) for f in got if f["message"].startswith('"type" is missing')]
    assert typed == [(4, 7)], got


def test_correction_searches_only_the_block_scalar_of_the_reported_key():
    from ci_tools.gha.source import load_text
    from ci_tools.lint.actionlint import _correct

    doc = load_text(
        "jobs:\n"
        "  a:\n"
        "    steps:\n"
        "      - run: |\n"
        "          echo one\n"
        "          echo \"${{ github.event.issue.title }}\"\n"
        "        shell: bash\n"
        "        env:\n"
        "          T: ${{ github.event.issue.body }}\n"
        "  b:\n"
        "    container:\n"
        "      options: x\n"
        "    services:\n"
        "      image: y\n")
    title = '"github.event.issue.title" is potentially untrusted'
    assert _correct(doc, title, 4, 9, 4, 12) == (6, 21, 6, 45)  # inside the block: found
    body = '"github.event.issue.body" is potentially untrusted'
    assert _correct(doc, body, 4, 9, 4, 12) == (4, 9, 4, 12)  # past the block's end: left alone
    image = '"image" is missing in "container" section'
    assert _correct(doc, image, 11, 5, 11, 14) == (11, 5, 11, 14)  # not a block scalar: left alone
