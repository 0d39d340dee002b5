"""Golden tests for each output format, plus the contracts of each (JSON schema of our own, SARIF
as GitHub code scanning reads it, workflow-command escaping). Regenerate with UPDATE_GOLDEN=1."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import ci_tools

GOLDEN = Path(__file__).resolve().parent / "golden"
ARGS = ("check", "--select", "schema", "--select", "syntax", "--select", "actionlint", "--no-shellcheck",
        ".github/workflows/golden.yml")


def run(cli, fmt: str):
    return cli(*ARGS, "--format", fmt, cwd=GOLDEN / "repo", env={"ACTIONLINT": "actionlint"})


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_golden(fmt, cli):
    out = run(cli, fmt)
    assert out.returncode == 1, out.stderr
    expected = GOLDEN / f"expected.{fmt}"
    # the tool's version (SARIF's driver) is the release's, not part of the format
    got = out.stdout.replace(f'"version": "{ci_tools.__version__}"', '"version": "<ci-tools version>"')
    if os.environ.get("UPDATE_GOLDEN"):
        expected.write_text(got)
    assert got == expected.read_text()


def test_json_contract(cli):
    data = json.loads(run(cli, "json").stdout)
    assert data["version"] == 1
    keys = {"check", "severity", "message", "path", "line", "col", "end_line", "end_col"}
    assert data["findings"] and all(set(f) == keys for f in data["findings"])
    assert all(not f["path"].startswith("/") for f in data["findings"])


def test_sarif_is_what_code_scanning_accepts(cli):
    log = json.loads(run(cli, "sarif").stdout)
    assert log["version"] == "2.1.0" and log["$schema"].endswith("sarif-2.1.0.json")
    (sarif_run,) = log["runs"]
    driver = sarif_run["tool"]["driver"]
    rule_ids = [r["id"] for r in driver["rules"]]
    assert driver["name"] == "ci-tools" and len(rule_ids) == len(set(rule_ids))
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["help"]["text"]
    for result in sarif_run["results"]:
        assert result["ruleId"] in rule_ids and rule_ids[result["ruleIndex"]] == result["ruleId"]
        assert result["level"] in ("error", "warning", "note") and result["message"]["text"]
        (location,) = result["locations"]
        region = location["physicalLocation"]["region"]
        assert region["startLine"] >= 1 and region["startColumn"] >= 1
        assert region["endLine"] >= region["startLine"]
        assert not location["physicalLocation"]["artifactLocation"]["uri"].startswith("/")


def test_github_format_escapes_properties_and_data(cli):
    lines = run(cli, "github").stdout.splitlines()
    assert all(line.startswith(("::error ", "::warning ", "::notice ")) for line in lines)
    for line in lines:
        props, _, message = line[2:].partition("::")
        assert "\n" not in message
        assert all(":" not in value and "," not in value
                   for value in (p.split("=", 1)[1] for p in props.split(" ", 1)[1].split(",")))


def test_github_is_the_default_inside_actions(cli):
    out = cli(*ARGS, cwd=GOLDEN / "repo", env={"GITHUB_ACTIONS": "true"})
    assert out.stdout.startswith("::error file=.github/workflows/golden.yml,")


def test_output_file_is_written_whole(cli, tmp_path):
    target = tmp_path / "report.sarif"
    out = cli(*ARGS, "--format", "sarif", "--output", str(target), cwd=GOLDEN / "repo")
    assert out.returncode == 1 and out.stdout == ""
    assert json.loads(target.read_text())["version"] == "2.1.0"


@pytest.mark.parametrize("level,status", [("error", 1), ("warning", 1), ("note", 1)])
def test_fail_level(level, status, cli):
    assert cli(*ARGS, "--fail-level", level, cwd=GOLDEN / "repo").returncode == status


def test_text_shows_each_findings_severity(repo_dir, cli):
    (repo_dir / ".github" / "workflows").mkdir(parents=True)
    (repo_dir / ".github" / "workflows" / "a.yml").write_text(
        "on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
        "      - uses: actions/checkout@v4\n        with:\n          persist-credentials: false\n")
    (repo_dir / ".github" / "ci-tools.toml").write_text(
        '[checks.missing-timeout]\nseverity = "note"\n[checks.unpinned-uses]\nseverity = "warning"\n')
    out = cli("check", "--no-actionlint", cwd=repo_dir)
    heads = [line for line in out.stdout.splitlines() if line.startswith(".github/")]
    assert heads == [
        '.github/workflows/a.yml:4:3: note: job "a" has no "timeout-minutes", so a hung step holds the runner for up '
        'to 6 hours; set "timeout-minutes:" to a little more than its usual run time [missing-timeout]',
        '.github/workflows/a.yml:7:15: warning: "actions/checkout@v4" is not pinned to a commit; pin it as '
        '"actions/checkout@<sha> # v4.x.y" (`ci-tools pin` writes it) [unpinned-uses]',
    ]


def test_text_escapes_control_characters_of_messages_and_paths(tmp_path):
    import io

    from ci_tools.core.findings import Finding, Location, Severity
    from ci_tools.core.output.text import render

    out = io.StringIO()
    name = "feature/\x1b[2J\x1b]0;owned\x07\r\nx\u202e\x85"
    render([Finding("branch-name", Severity.ERROR, f'branch name "{name}" is bad', Location(f"{name}.yml", 1, 1))],
           out, lambda path, line: name)
    text = out.getvalue()
    assert not any(c in text.replace("\n", "") for c in "\x1b\x07\r\u202e\x85")
    first, source = text.splitlines()[:2]
    assert first == ('feature/\\x1b[2J\\x1b]0;owned\\x07\\r\\nx\\u202e\\x85.yml:1:1: error: branch name '
                     '"feature/\\x1b[2J\\x1b]0;owned\\x07\\r\\nx\\u202e\\x85" is bad [branch-name]')
    assert source == "feature/?[2J?]0;owned?" "??x??"


def test_output_to_a_device_or_pipe_is_written_into_not_replaced(cli, tmp_path):
    """`--output /dev/null` must not swap the device for a regular file (the atomic rename would):
    a target that is no regular file, here a named pipe, is written into."""
    import stat
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    out = cli(*ARGS, "--format", "json", "--output", str(fifo), cwd=GOLDEN / "repo", env={"ACTIONLINT": "actionlint"})
    if not got and stat.S_ISFIFO(fifo.lstat().st_mode):
        reader.join(timeout=30)
    assert out.returncode == 1, out.stderr
    assert stat.S_ISFIFO(fifo.lstat().st_mode), "the pipe was replaced by a file"
    assert json.loads(got[0])["version"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["pipe"]  # no temporary file left beside it
