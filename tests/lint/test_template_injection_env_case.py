"""template-injection's advice for `${{ env.X }}` names the variable as the workflow defines it: a
shell's variable names are case-sensitive, so `"$Body"` would read nothing when the env: key is
BODY (GitHub's env context is read case-insensitively, the shell's environment is not)."""

from __future__ import annotations

import json

import pytest

WORKFLOW = """\
on: issues
permissions: {{}}
env:
  BODY: ${{{{ github.event.issue.body }}}}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo "${{{{ env.{written} }}}}"
      - uses: actions/github-script@f28e40c7f34bde8b3046d885e986cb6290c5673b # v7.1.0
        with:
          script: console.log("${{{{ env.{written} }}}}")
"""


@pytest.mark.parametrize("written", ["Body", "body", "BODY"])
def test_the_advice_names_the_variable_as_defined(written: str, repo_dir, cli):
    (repo_dir / ".github" / "workflows").mkdir(parents=True)
    (repo_dir / ".github" / "workflows" / "w.yml").write_text(WORKFLOW.format(written=written))
    out = cli("check", "--no-actionlint", "--select", "template-injection", "--format", "json", cwd=repo_dir)
    assert out.returncode == 1, out.stderr
    run, script = json.loads(out.stdout)["findings"]
    assert run["message"].endswith('use "$BODY" instead'), run["message"]
    assert script["message"].endswith('use "process.env.BODY" instead'), script["message"]
