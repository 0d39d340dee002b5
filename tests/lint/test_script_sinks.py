"""The table of script inputs (template-injection's sinks): the configuration adds to it, never takes
away from it, and a malformed entry is a usage error that names the file and line."""

from __future__ import annotations

import json
import re

import pytest

from ci_tools.lint.checks.template_injection import SCRIPT_SINKS

WORKFLOW = """\
on: issue_comment
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - uses: actions/github-script@v7
        with:
          script: console.log("${{ github.event.comment.body }}")
      - uses: org/run-lua@v1
        with:
          chunk: print("${{ github.event.comment.body }}")
"""


def run(repo, cli, config: str):
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "w.yml").write_text(WORKFLOW)
    (repo / ".github" / "ci-tools.toml").write_text(config)
    return cli("check", "--no-actionlint", "--select", "template-injection", "--format", "json", cwd=repo)


def test_a_configured_sink_is_added_and_the_built_in_ones_stay(repo_dir, cli):
    """A pull request that redefines github-script's script input cannot take it off the table."""
    out = run(repo_dir, cli, '[[checks.template-injection.script-sinks]]\naction = "org/run-lua"\n'
                             'input = "chunk"\nlanguage = "Lua"\n'
                             '[[checks.template-injection.script-sinks]]\naction = "actions/github-script"\n'
                             'input = "script"\nlanguage = "harmless text"\nfix = "nothing to do"\n')
    lines = [f["line"] for f in json.loads(out.stdout)["findings"]]
    assert lines == [10, 13], out.stdout


def test_without_configuration_only_the_built_in_table_applies(repo_dir, cli):
    out = run(repo_dir, cli, 'repository = "org/ci"\n')
    assert [f["line"] for f in json.loads(out.stdout)["findings"]] == [10]


@pytest.mark.parametrize(("entry", "words"), [
    ('action = "org/run-lua"\nlanguage = "Lua"\n', "input"),
    ('action = "org/run-lua@v1"\ninput = "chunk"\nlanguage = "Lua"\n', "action"),
    ('action = "org/run-lua"\ninput = "chunk"\nlanguage = "Lua"\nshell = "bash"\n', "shell"),
])
def test_a_malformed_sink_is_a_usage_error_with_file_and_line(entry: str, words: str, repo_dir, cli):
    out = run(repo_dir, cli, "[[checks.template-injection.script-sinks]]\n" + entry)
    assert out.returncode == 2, out.stdout
    # the file by its repository-relative path (tests/lint/test_cli.py), then the line of the entry
    assert re.match(r"ci-tools check: \.github/ci-tools\.toml:\d+: ", out.stderr), out.stderr
    assert words in out.stderr and "Traceback" not in out.stderr


def test_the_table_names_each_action_once_per_input():
    keys = [(s.action.lower(), s.input.lower()) for s in SCRIPT_SINKS]
    assert len(keys) == len(set(keys))
    assert {"actions/github-script", "azure/cli", "azure/powershell", "mikefarah/yq", "amadevus/pwsh-script",
            "jannekem/run-python-script-action", "tibdex/backport"} <= {a for a, _ in keys}
