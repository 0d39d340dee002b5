"""`# ci-tools: ignore[check-id] reason` suppresses that check on that line only; an unknown id or a
missing reason is an `invalid-ignore` finding (and suppresses nothing)."""

from __future__ import annotations

import json
from pathlib import Path

from ci_tools.core.config import Config
from ci_tools.core.findings import finalize
from ci_tools.gha.source import load
from ci_tools.lint import engine
from ci_tools.lint.checks import Context, known_ids

WORKFLOW = """\
name: ci
on: push
permissions: {{}}
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: 10
    steps:
      - uses: vendor/one@v1 {first}
        with:
          persist-credentials: false
      - uses: vendor/two@v1
"""


def _run(tmp_path: Path, first: str):
    path = tmp_path / ".github" / "workflows" / "ci.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(WORKFLOW.format(first=first), encoding="utf-8")
    docs = [load(path, root=tmp_path, display="ci.yml")]
    config = Config()
    findings = engine.run_checks(docs, Context(root=tmp_path, config=config, documents=docs), {"unpinned-uses"})
    findings = finalize(findings, config, docs, known_ids=known_ids())
    return [(f.check, f.location.line, f.location.col, f.message) for f in findings]


def test_without_comment_both_lines_are_reported(tmp_path):
    assert [(c, line) for c, line, _, _ in _run(tmp_path, "")] == [("unpinned-uses", 9), ("unpinned-uses", 12)]


def test_ignore_with_reason_suppresses_that_line_only(tmp_path):
    got = _run(tmp_path, "# ci-tools: ignore[unpinned-uses] vendored action")
    assert [(c, line) for c, line, _, _ in got] == [("unpinned-uses", 12)]


def test_ignore_of_another_check_suppresses_nothing(tmp_path):
    got = _run(tmp_path, "# ci-tools: ignore[persist-credentials] not this one")
    assert [(c, line) for c, line, _, _ in got] == [("unpinned-uses", 9), ("unpinned-uses", 12)]


def test_several_ids_in_one_comment(tmp_path):
    got = _run(tmp_path, "# ci-tools: ignore[disallowed-action, unpinned-uses] vendored action")
    assert [(c, line) for c, line, _, _ in got] == [("unpinned-uses", 12)]


def test_unknown_id_is_invalid_ignore(tmp_path):
    got = _run(tmp_path, "# ci-tools: ignore[unpinned-use] typo")
    assert ("invalid-ignore", 9, 29, 'unknown check "unpinned-use" in ignore comment; '
            "use an id from `ci-tools check --list`") in got
    assert ("unpinned-uses", 9) in [(c, line) for c, line, _, _ in got]  # the typo suppressed nothing


def test_missing_reason_is_invalid_ignore_and_suppresses_nothing(tmp_path):
    got = _run(tmp_path, "# ci-tools: ignore[unpinned-uses]")
    assert [(c, line) for c, line, _, _ in got] == [("unpinned-uses", 9), ("invalid-ignore", 9), ("unpinned-uses", 12)]
    assert "gives no reason" in next(m for c, _, _, m in got if c == "invalid-ignore")


def test_empty_brackets_are_invalid_ignore(tmp_path):
    got = _run(tmp_path, "# ci-tools: ignore[] because")
    assert any(c == "invalid-ignore" and "names no check" in m for c, _, _, m in got)


def test_ignore_in_a_run_script_line(tmp_path, cli):
    """A finding inside a block scalar is suppressed by a comment on its own script line."""
    (tmp_path / ".git").mkdir()
    wf = tmp_path / ".github" / "workflows" / "t.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text("on: issues\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
                  "    steps:\n      - run: |\n"
                  "          echo ${{ github.event.issue.title }} # ci-tools: ignore[template-injection] test only\n"
                  "          echo ${{ github.event.issue.body }}\n", encoding="utf-8")
    out = cli("check", "--no-actionlint", "--format", "json", "--select", "template-injection", cwd=tmp_path)
    got = [(f["check"], f["line"]) for f in json.loads(out.stdout)["findings"]]
    assert got == [("template-injection", 10)]
    assert out.returncode == 1
