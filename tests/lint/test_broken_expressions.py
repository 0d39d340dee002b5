"""A workflow whose expression GitHub would refuse is still checked: the fallback scan finds the
untrusted values it mentions, and a cut-off expression never stops `ci-tools check` (it exited 3
with an IndexError on `${{ fromJSON(github.event.issue.body).x[ }}`)."""

from __future__ import annotations

import json

import pytest

WORKFLOW = """\
on: issues
permissions: {{}}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo "${{{{ {expression} }}}}"
"""


@pytest.mark.parametrize(("expression", "reported"), [
    ("fromJSON(github.event.issue.body).x[", True),
    ("format('{0}', github.event.issue.body", True),
    # an index of the body, cut off: the scan reads `github.event.issue.body.*`, a part of the text
    # that no table names; GitHub refuses the workflow, so nothing of it ever runs
    ("github.event.issue.body[", False),
    ("github.event.issue.body['a'", False),
])
def test_a_cut_off_expression_is_checked_not_a_crash(expression: str, reported: bool, repo_dir, cli):
    (repo_dir / ".github" / "workflows").mkdir(parents=True)
    (repo_dir / ".github" / "workflows" / "w.yml").write_text(WORKFLOW.format(expression=expression))
    out = cli("check", "--no-actionlint", "--select", "template-injection", "--format", "json", cwd=repo_dir)
    assert "Traceback" not in out.stderr and "IndexError" not in out.stderr, out.stderr
    assert out.returncode == (1 if reported else 0), out.stderr
    findings = json.loads(out.stdout)["findings"]
    assert [(f["check"], f["line"]) for f in findings] == ([("template-injection", 8)] if reported else [])
    assert all("github.event.issue.body" in f["message"] for f in findings)
