"""Options of the checks of issue 15 in the configuration: validated by the configuration schema
(a bad value is a usage error naming the file and line), and unable to take built-in entries away."""

from __future__ import annotations

import json
import re

import pytest

WORKFLOW = """\
on: push
permissions: {}
jobs:
  a:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - uses: actions/create-release@v1
      - uses: vendor/retired@v2
"""
DEPENDABOT = """\
version: 2
updates:
  - package-ecosystem: pip
    directory: /
    schedule:
      interval: weekly
    cooldown:
      default-days: 10
"""


def run(repo, cli, config: str, *select: str):
    (repo / ".github" / "workflows").mkdir(parents=True)
    (repo / ".github" / "workflows" / "w.yml").write_text(WORKFLOW)
    (repo / ".github" / "dependabot.yml").write_text(DEPENDABOT)
    (repo / ".github" / "ci-tools.toml").write_text(config)
    args = [arg for check in select for arg in ("--select", check)]
    return cli("check", "--no-actionlint", *args, "--format", "json", cwd=repo)


def test_extra_archived_repositories_add_to_the_list_and_the_list_stays(repo_dir, cli):
    out = run(repo_dir, cli, '[checks.archived-uses]\nextra = ["Vendor/Retired"]\n', "archived-uses")
    assert [f["line"] for f in json.loads(out.stdout)["findings"]] == [8, 9]


def test_a_longer_cooldown_is_required_when_configured(repo_dir, cli):
    out = run(repo_dir, cli, "[checks.dependabot-cooldown]\ndays = 14\n", "dependabot-cooldown")
    found = json.loads(out.stdout)["findings"]
    assert [(f["path"], f["line"]) for f in found] == [(".github/dependabot.yml", 8)]
    assert "fewer than 14 days" in found[0]["message"]


@pytest.mark.parametrize(("config", "words"), [
    ("[checks.dependabot-cooldown]\ndays = -1\n", "days"),
    ('[checks.dependabot-cooldown]\ndays = "7"\n', "days"),
    ('[checks.archived-uses]\nextra = ["not a repository"]\n', "extra"),
    ("[checks.archived-uses]\nallow = [\"actions/create-release\"]\n", "allow"),
])
def test_a_bad_option_is_a_usage_error_with_file_and_line(config: str, words: str, repo_dir, cli):
    out = run(repo_dir, cli, config, "archived-uses")
    assert out.returncode == 2, out.stdout
    # the file by its repository-relative path (tests/lint/test_cli.py), then the line of the table
    assert re.match(r"ci-tools check: \.github/ci-tools\.toml:\d+: ", out.stderr), out.stderr
    assert words in out.stderr and "Traceback" not in out.stderr, out.stderr


@pytest.mark.parametrize(("config", "line", "key", "table"), [
    # a typo of severity: silently ignored before, so the check kept its default severity
    ('[checks.excessive-permissions]\nseverty = "note"\n', 2, "severty", "checks.excessive-permissions"),
    ('[checks.missing-timeout]\nenabled = false\nenable = true\n', 3, "enable", "checks.missing-timeout"),
    ('[checks.dependabot-cooldown]\ndays = 14\nseverty = "error"\n', 3, "severty", "checks.dependabot-cooldown"),
])
def test_an_unknown_key_in_a_check_table_is_a_usage_error(config: str, line: int, key: str, table: str,
                                                          repo_dir, cli):
    out = run(repo_dir, cli, config, "excessive-permissions")
    assert out.returncode == 2, out.stdout
    assert out.stderr.startswith(f'ci-tools check: .github/ci-tools.toml:{line}: unknown key "{key}" in '
                                 f"[tool.ci-tools.{table}]; known keys: "), out.stderr
    assert "enabled" in out.stderr and "severity" in out.stderr
