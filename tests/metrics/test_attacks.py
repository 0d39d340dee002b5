"""What a hostile pull request (or a hostile answer) can put in front of ``ci-tools metrics``.

Names of workflows, jobs, steps, branches, titles and tests are the authors' to choose; artifacts are
uploaded by the run itself; the API's answers may be malformed. The report escapes every name, the
token reaches no output, and every bad input is a named skip or one clear line, never a traceback.
"""

from __future__ import annotations

import io
import json
import re
import zipfile
from datetime import timedelta

import pytest

from support.github_api import GitHubDouble
from support.pipelines import Attempt, Case, Job, Pipelines, Step, junit_xml

from .conftest import TOKEN, UNTIL, UNTIL_TEXT

HOSTILE_WORKFLOW = 'CI</td><script>alert(1)</script> | ![x](https://evil.example/p.png) @org/admins #1 $x^2$'
HOSTILE_BRANCH = "feat/`x`|[click](javascript:alert(1))\n## Injected\x1b[31m"
HOSTILE_TITLE = '"><img src=x onerror=alert(1)> **bold** @everyone \u202eevil\u202c ::error::pwned'
HOSTILE_JOB = 'test"]\n    click x call alert()\n%%{init: {"theme": "dark"}}%%'
HOSTILE_STEP = "pytest ${{ secrets.X }} <b>bold</b> :tada: ~~gone~~"
HOSTILE_CLASS = "<svg onload=alert(1)>"
HOSTILE_TEST = 'test_x"|\n```mermaid\nflowchart LR\n  a-->b'


def evil_pipelines() -> Pipelines:
    p = Pipelines("org/evil", until=UNTIL)
    start = UNTIL - timedelta(days=6)
    for n in range(8):  # the hostile test fails on attempt 1 and passes on attempt 2: flaky, in the tables
        cases_bad = [Case(HOSTILE_CLASS, HOSTILE_TEST, 1.0, "failed", "<b>boom</b>"), Case("t", "ok", 0.1)]
        cases_good = [Case(HOSTILE_CLASS, HOSTILE_TEST, 1.0), Case("t", "ok", 0.1)]
        job = Job(HOSTILE_JOB, [Step("Set up job", 2), Step(HOSTILE_STEP, 30, "failure")], artifact="junit-x",
                  cases=cases_bad)
        again = Job(HOSTILE_JOB, [Step("Set up job", 2), Step(HOSTILE_STEP, 30)], artifact="junit-x", cases=cases_good)
        p.add_run(workflow=HOSTILE_WORKFLOW, event="push", branch="main" if n % 2 else HOSTILE_BRANCH,
                  created=start + timedelta(hours=12 * n), title=HOSTILE_TITLE, attempts=[Attempt([job]), Attempt([again])])
    for n, branch in enumerate(("main", HOSTILE_BRANCH)):
        p.add_run(workflow=HOSTILE_WORKFLOW, event="push", branch=branch, created=start + timedelta(days=5, hours=n),
                  title=HOSTILE_TITLE, attempts=[Attempt([Job(HOSTILE_JOB, [Step(HOSTILE_STEP, 30, "failure")])])])
    return p


@pytest.fixture
def evil():
    with GitHubDouble() as double:
        double.add_repo("org/evil", actions=evil_pipelines().data)
        yield double


def run(cli, double, tmp_path, *args: str, env: dict | None = None, repo: str = "org/evil"):
    full = {"GITHUB_API_URL": double.url, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CI": "true",
            "CI_TOOLS_HTTP_BACKOFF": "0.01", **(env or {})}
    done = cli("metrics", repo, "--until", UNTIL_TEXT, *args, env=full)
    assert "Traceback" not in done.stderr, done.stderr
    return done


def unescaped_pipes(line: str) -> int:
    return len(re.findall(r"(?<!\\)\|", line))


def test_hostile_names_are_escaped_in_the_markdown_report(cli, evil, tmp_path):
    done = run(cli, evil, tmp_path, "--json-output", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stderr
    text = done.stdout
    for raw in ("<script", "<img", "<svg", "<b>", "\x1b", "\u202e", "](javascript:", "![x](", "\n## Injected",
                "**bold**", "~~gone~~", "$x^2$", ":tada:"):
        assert raw not in text, raw
    assert not re.search(r"@\w", text)  # no @-mention survives: a zero-width space follows every @
    assert not re.search(r"(?<!&)#\d", text)  # nor an issue reference
    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert all(re.fullmatch(r"#{1,3} [A-Z][\w ()]*(\(\d+\))?", h) for h in headings), headings
    tables = re.findall(r"((?:^\|.*\n)+)", text, re.M)
    assert len(tables) >= 5
    for table in tables:  # every row of a table keeps the columns of its header
        widths = {unescaped_pipes(row) for row in table.splitlines()}
        assert len(widths) == 1, table
    charts = re.findall(r"```mermaid\n(.*?)```", text, re.S)
    assert charts
    for chart in charts:
        for line in chart.splitlines()[1:]:
            assert re.fullmatch(r'    (title "[\w .:/()+,\-…]*"|x-axis \[("[^"]*"(, )?)+\]|y-axis "minutes" 0 --> \d+|'
                                r'(bar|line) \[[\d., ]+\]|"[\w .:/()+,\-…]*" : \d+)', line), line
    assert "```" not in text.replace("```mermaid\n", "").replace("\n```", "")  # no fence opened by a name
    # the JSON report keeps the names as they are: it is data, escaped by JSON itself
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["workflows"][0]["workflow"] == HOSTILE_WORKFLOW
    assert report["tests"]["flaky"][0]["test"] == f"{HOSTILE_CLASS}::{HOSTILE_TEST}"
    assert any(f["branch"] == HOSTILE_BRANCH for f in report["failures"])


def test_hostile_names_do_not_reach_the_terminal_raw(cli, evil, tmp_path):
    done = run(cli, evil, tmp_path, "--alert-red-after", "1h", "--format", "json")
    assert done.returncode == 1
    assert "alert: org/evil:" in done.stderr
    assert "\x1b" not in done.stderr and "\u202e" not in done.stderr
    assert all(not line.startswith("::") for line in done.stderr.splitlines())


def test_the_token_never_reaches_an_output(cli, evil, tmp_path):
    evil.repos["org/evil"].actions.runs[-1]["display_title"] = f"leaked {TOKEN}"
    evil.repos["org/evil"].actions.runs[0]["name"] = f"wf {TOKEN}"
    out = tmp_path / "r.json"
    done = run(cli, evil, tmp_path, "--json-output", str(out), "--output", str(tmp_path / "r.md"),
               env={"GITHUB_TOKEN": TOKEN})
    assert done.returncode == 0
    assert evil.auth_seen and all(a == f"Bearer {TOKEN}" for a in evil.auth_seen)  # it was used...
    for produced in (done.stdout, done.stderr, out.read_text(), (tmp_path / "r.md").read_text()):
        assert TOKEN not in produced  # ...and shown nowhere
    assert "| wf \\*\\*\\* |" in (tmp_path / "r.md").read_text()  # the name, redacted
    assert "leaked \\*\\*\\*" in (tmp_path / "r.md").read_text()
    assert [f["title"] for f in json.loads(out.read_text())["failures"]][-1] == "leaked ***"
    cached = [path for path in (tmp_path / "cache").rglob("*") if path.is_file()]
    assert cached and all(TOKEN.encode() not in path.read_bytes() for path in cached)  # nor the cache


@pytest.mark.parametrize("body,message", [
    (b'{"total_count": 1, "workflow_runs": "nope"}', "unexpected body for the workflow runs of \"org/evil\""),
    (b'{"total_count": 1, "workflow_runs": [{"name": "no id"}]}', "a run without an id"),
    (b'{"total_count": 1, "workflow_runs": [{"id": 5, "created_at": 7}]}', "workflow run 5 has no created_at"),
    (b'[1, 2, 3]', "unexpected body"),
])
def test_a_malformed_runs_listing_is_one_clear_line(cli, evil, tmp_path, body, message):
    evil.fail(r"/actions/runs\Z", "body", times=100, body=body)
    done = run(cli, evil, tmp_path)
    assert done.returncode == 3
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("ci-tools metrics: error: ") and message in lines[0], lines


def test_an_unparsable_answer_is_retried_then_one_clear_line(cli, evil, tmp_path):
    evil.fail(r"/actions/runs\Z", "body", times=100, body=b'{"total_count": 1, "workflow_ru')
    done = run(cli, evil, tmp_path)
    assert done.returncode == 3
    assert "failed after 5 attempts in " in done.stderr and ": truncated or invalid JSON response" in done.stderr
    assert evil.count(r"/actions/runs\?") == 5


def test_a_malformed_jobs_answer_skips_that_run_by_name(cli, evil, tmp_path):
    victim = evil.repos["org/evil"].actions.runs[0]["id"]
    evil.fail(rf"/actions/runs/{victim}/jobs", "body", times=100, body=b'{"total_count": 1, "jobs": [{"id": "x"}]}')
    done = run(cli, evil, tmp_path, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert [(s["run_id"], s["reason"]) for s in report["skipped"]["items"]] == [(victim, "bad-answer")]
    assert report["totals"]["runs"] == len(evil.repos["org/evil"].actions.runs) - 1
    assert f"run {victim}: jobs: skipped (bad-answer)" in done.stderr


def test_a_missing_repository_is_one_clear_line(cli, evil, tmp_path):
    done = run(cli, evil, tmp_path, repo="org/nowhere")
    assert done.returncode == 3
    assert done.stderr.strip() == ('ci-tools metrics: error: repository "org/nowhere" was not found, or it is private '
                                   "(set GITHUB_TOKEN to read private repositories)")


# ------------------------------------------------------------------------------- hostile artifacts
def zip_members(files: dict[str, bytes], level: int = 9) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()


XXE = (b'<?xml version="1.0"?>\n<!DOCTYPE t [<!ENTITY e SYSTEM "file:///etc/passwd">]>\n'
       b'<testsuite><testcase classname="c" name="&e;"/></testsuite>')
LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
          b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
          b'<testsuite><testcase name="&d;&d;&d;&d;&d;&d;&d;&d;"/></testsuite>')
ARCHIVES = {
    "zip-bomb-size": (zip_members({"junit.xml": b"\0" * (33 * 1024 * 1024)}), "zip-bomb",
                      "junit.xml expands to 34603008 bytes, more than 33554432"),
    "zip-bomb-ratio": (zip_members({"junit.xml": b"<" + b" " * (3 * 1024 * 1024)}), "zip-bomb", "times, more than 200"),
    "zip-bomb-members": (zip_members({f"r{i}.xml": b"<testsuite/>" for i in range(201)}), "zip-bomb",
                         "201 members, more than 200"),
    "not-a-zip": (b"PK\x03\x04 this is not really a zip", "not-a-zip", "not a readable zip archive"),
    "no-junit": (zip_members({"coverage.txt": b"99%"}), "no-junit", "no .xml file"),
    "bad-xml": (zip_members({"junit.xml": b"<testsuite>\n<testcase name='x'>\n</testsuite>"}), "bad-xml",
                "junit.xml:3:3: mismatched tag"),
    "xxe": (zip_members({"junit.xml": XXE}), "xml-doctype", "junit.xml:2:"),
    "billion-laughs": (zip_members({"junit.xml": LAUGHS}), "xml-doctype", "DOCTYPE and entity declarations are refused"),
    "not-junit": (zip_members({"report.xml": b"<html><body>hi</body></html>"}), "not-junit", "report.xml"),
}


@pytest.fixture
def artifacts():
    p = Pipelines("org/evil", until=UNTIL)
    for n, (name, (blob, _, _)) in enumerate(ARCHIVES.items()):
        p.add_run(created=UNTIL - timedelta(days=2, hours=n), title=name,
                  attempts=[Attempt([Job("test", [Step("pytest", 10)], artifact=f"junit-{name}", zip_bytes=blob)])])
    p.add_run(created=UNTIL - timedelta(days=1), title="fine", attempts=[Attempt([Job(
        "test", [Step("pytest", 10)], artifact="junit-fine", junit_xml=junit_xml([Case("c", "t_ok")]))])])
    with GitHubDouble() as double:
        double.add_repo("org/evil", actions=p.data)
        yield double


def test_hostile_artifacts_are_named_skips_and_the_rest_is_reported(cli, artifacts, tmp_path):
    done = run(cli, artifacts, tmp_path, "--format", "json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    got = {s["input"]: (s["reason"], s["detail"]) for s in report["skipped"]["items"]}
    for name, (_, reason, detail) in ARCHIVES.items():
        assert got[f"junit-{name}"][0] == reason, name
        assert detail in got[f"junit-{name}"][1], (name, got[f"junit-{name}"])
    assert report["tests"]["reports"] == 1 and report["tests"]["executions"] == 1  # the good one is still read
    assert "root:" not in done.stdout + done.stderr  # no external entity was ever resolved
    for name, (_, reason, _) in ARCHIVES.items():
        assert f"junit-{name}: skipped ({reason})" in done.stderr
    markdown = run(cli, artifacts, tmp_path).stdout  # warm: the verdicts come from the cache, same report
    assert "## Skipped inputs" in markdown and "`zip-bomb`: 3" in markdown and "`xml-doctype`: 2" in markdown
    assert artifacts.count(r"/_blobs/") == len(ARCHIVES) + 1  # each archive was downloaded once


def test_an_artifact_larger_than_the_limit_is_not_downloaded_whole(cli, artifacts, tmp_path):
    done = run(cli, artifacts, tmp_path, "--format", "json", "--max-artifact-mb", "0.0001")
    report = json.loads(done.stdout)
    reasons = {s["reason"] for s in report["skipped"]["items"]}
    assert "too-large" in reasons and report["tests"]["reports"] == 0
