"""`ci-tools docs`: the tables between the markers of action READMEs and of the pages documenting
reusable workflows, written from the YAML, format-preserving, atomically; `--check` writes nothing.
Run as a user runs it (`python -m ci_tools docs`) in real git repositories."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

ACTION = """\
name: Build
description: Build the project.
author: org
branding:
  icon: package
  color: blue
inputs:
  target:
    description: >-
      Make target,
      for example `all`.
    required: false
    default: all
  pipe:
    description: "a | b, <kbd>"
    required: true
  empty:
    description: An empty default.
    default: ""
  sha:
    description: Commit.
    default: ${{ github.sha }}
outputs:
  artifact:
    description: Path of the artifact.
    value: ${{ steps.b.outputs.artifact }}
runs:
  using: composite
  steps:
    - id: b
      shell: bash
      run: |
        set -euo pipefail
        make
"""

ACTION_TABLES = """\
<!-- ci-tools-docs:inputs -->

| Input | Description | Required | Default |
|---|---|---|---|
| `target` | Make target, for example `all`. | no | `all` |
| `pipe` | a \\| b, &lt;kbd> | yes | |
| `empty` | An empty default. | no | `""` |
| `sha` | Commit. | no | `${{ github.sha }}` |

<!-- /ci-tools-docs:inputs -->
"""

WORKFLOW = """\
name: deploy
on:
  workflow_call:
    inputs:
      environment:
        description: Environment.
        type: string
        required: true
      dry-run:
        description: Only print.
        type: boolean
        default: false
    secrets:
      token:
        description: A token.
permissions: {}
jobs:
  deploy:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo deploy
"""

PAGE = """\
# Workflows

Hand-written text stays.

<!-- ci-tools-docs:inputs .github/workflows/deploy.yml -->
<!-- /ci-tools-docs:inputs -->
<!-- ci-tools-docs:secrets .github/workflows/deploy.yml -->
old text
<!-- /ci-tools-docs:secrets -->

```markdown
<!-- ci-tools-docs:inputs .github/workflows/none.yml -->
```
"""


def _write(path: Path, text: str, newline: str = "\n") -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.replace("\n", newline).encode("utf-8"))
    return path


@pytest.fixture
def repo(repo_dir: Path) -> Path:
    _write(repo_dir / "actions" / "build" / "action.yml", ACTION)
    _write(repo_dir / "actions" / "build" / "README.md",
           "# build\n\n<!-- ci-tools-docs:inputs -->\n<!-- /ci-tools-docs:inputs -->\n\n"
           "## Outputs\n<!-- ci-tools-docs:outputs -->\n<!-- /ci-tools-docs:outputs -->\ntrailer")
    _write(repo_dir / ".github" / "workflows" / "deploy.yml", WORKFLOW)
    _write(repo_dir / "docs" / "workflows.md", PAGE)
    return repo_dir


def test_writes_the_tables_then_has_nothing_to_change(repo: Path, cli):
    out = cli("docs", cwd=repo)
    assert out.returncode == 1, out.stderr  # files changed
    assert sorted(out.stdout.splitlines()) == ["updated actions/build/README.md", "updated docs/workflows.md"]
    readme = (repo / "actions" / "build" / "README.md").read_text(encoding="utf-8")
    assert readme.startswith("# build\n\n" + ACTION_TABLES + "\n## Outputs\n<!-- ci-tools-docs:outputs -->\n")
    assert "| `artifact` | Path of the artifact. |\n\n<!-- /ci-tools-docs:outputs -->\ntrailer" in readme
    assert readme.endswith("trailer")  # no final newline added
    page = (repo / "docs" / "workflows.md").read_text(encoding="utf-8")
    assert "| `environment` | Environment. | string | yes | |\n| `dry-run` | Only print. | boolean | no | `false` |" \
        in page
    assert "| `token` | A token. | no |" in page and "old text" not in page
    assert page.startswith("# Workflows\n\nHand-written text stays.\n\n")
    assert page.endswith("```markdown\n<!-- ci-tools-docs:inputs .github/workflows/none.yml -->\n```\n")
    before = {p: p.read_bytes() for p in (repo / "actions" / "build" / "README.md", repo / "docs" / "workflows.md")}
    again = cli("docs", cwd=repo)
    assert again.returncode == 0 and again.stdout == "", again.stderr
    assert {p: p.read_bytes() for p in before} == before
    assert cli("docs", "--check", cwd=repo).returncode == 0


def test_check_lists_the_drifted_tables_and_writes_nothing(repo: Path, cli):
    readme = repo / "actions" / "build" / "README.md"
    original = readme.read_bytes()
    out = cli("docs", "--check", cwd=repo)
    assert out.returncode == 1
    assert out.stdout.splitlines() == [
        'actions/build/README.md:3:1: the inputs table of "actions/build/action.yml" differs from its YAML; '
        "run `ci-tools docs` to regenerate it",
        'actions/build/README.md:7:1: the outputs table of "actions/build/action.yml" differs from its YAML; '
        "run `ci-tools docs` to regenerate it",
        'docs/workflows.md:5:1: the inputs table of ".github/workflows/deploy.yml" differs from its YAML; '
        "run `ci-tools docs` to regenerate it",
        'docs/workflows.md:7:1: the secrets table of ".github/workflows/deploy.yml" differs from its YAML; '
        "run `ci-tools docs` to regenerate it",
    ]
    assert "2 files out of date" in out.stderr
    assert readme.read_bytes() == original


def test_crlf_is_kept_and_only_the_region_changes(repo: Path, cli):
    readme = _write(repo / "actions" / "build" / "README.md",
                    "# build\n\ntext  with  spaces\t\n<!-- ci-tools-docs:inputs -->\nstale\n<!-- /ci-tools-docs:inputs -->\n"
                    "<!-- ci-tools-docs:outputs -->\n<!-- /ci-tools-docs:outputs -->\n", newline="\r\n")
    out = cli("docs", "actions/build/README.md", cwd=repo)
    assert out.returncode == 1, out.stderr  # files changed
    data = readme.read_bytes()
    assert data.startswith(b"# build\r\n\r\ntext  with  spaces\t\r\n<!-- ci-tools-docs:inputs -->\r\n\r\n| Input |")
    assert b"\n" not in data.replace(b"\r\n", b"")
    assert data.endswith(b"|\r\n\r\n<!-- /ci-tools-docs:outputs -->\r\n")


def test_the_file_mode_is_kept(repo: Path, cli):
    readme = repo / "actions" / "build" / "README.md"
    os.chmod(readme, 0o640)
    assert cli("docs", cwd=repo).returncode == 1  # files changed
    assert stat.S_IMODE(readme.stat().st_mode) == 0o640
    assert not [p for p in readme.parent.iterdir() if p.name.endswith(".tmp")]


def test_an_action_without_readme_or_markers_is_an_error_and_the_rest_is_written(repo: Path, cli):
    _write(repo / "actions" / "lint" / "action.yml", ACTION)
    _write(repo / "actions" / "test" / "action.yml", ACTION)
    _write(repo / "actions" / "test" / "README.md", "# test\n\n<!-- ci-tools-docs:inputs -->\n"
                                                    "<!-- /ci-tools-docs:inputs -->\n")
    out = cli("docs", cwd=repo)
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.splitlines()
    assert lines[0].startswith('actions/lint/action.yml:1:1: "actions/lint/action.yml" has no README.md beside it; '
                               'create one with "<!-- ci-tools-docs:inputs -->"')
    assert lines[1].startswith('actions/test/action.yml:1:1: the README.md beside "actions/test/action.yml" has no '
                               '"<!-- ci-tools-docs:outputs -->" marker; add it')
    assert len(lines) == 2
    assert "| `target` |" in (repo / "actions" / "build" / "README.md").read_text(encoding="utf-8")
    assert "| `target` |" in (repo / "actions" / "test" / "README.md").read_text(encoding="utf-8")  # what it has


def test_broken_markers_and_bad_targets_are_reported(repo: Path, cli):
    _write(repo / ".github" / "workflows" / "ci.yml", "on: push\njobs: {}\n")
    _write(repo / "docs" / "other.md", "<!-- ci-tools-docs:inputs .github/workflows/ci.yml -->\n"
                                       "<!-- /ci-tools-docs:inputs -->\n"
                                       "<!-- ci-tools-docs:outputs ../outside.yml -->\n"
                                       "<!-- /ci-tools-docs:outputs -->\n"
                                       "<!-- ci-tools-docs:inputs -->\n<!-- /ci-tools-docs:inputs -->\n"
                                       "<!-- ci-tools-docs:secrets .github/workflows/deploy.yml -->\n")
    out = cli("docs", "docs/other.md", cwd=repo)
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        'docs/other.md:7:1: marker "ci-tools-docs:secrets" is never closed; add '
        '"<!-- /ci-tools-docs:secrets -->" after it',
        'docs/other.md:1:1: ".github/workflows/ci.yml" is neither an action nor a reusable workflow '
        '(no "on: workflow_call")',
        'docs/other.md:3:1: "../outside.yml" is outside the repository; name a file relative to the repository root',
        'docs/other.md:5:1: marker "ci-tools-docs:inputs" names no file and there is no action.yml beside this '
        'file; name the file, as in "<!-- ci-tools-docs:inputs .github/workflows/x.yml -->"',
    ]


def test_a_workflow_path_regenerates_the_pages_naming_it(repo: Path, cli):
    out = cli("docs", ".github/workflows/deploy.yml", cwd=repo)
    assert out.returncode == 1, out.stderr  # files changed
    assert out.stdout == "updated docs/workflows.md\n"
    assert "<!-- ci-tools-docs:inputs -->\n<!-- /ci-tools-docs:inputs -->" in \
        (repo / "actions" / "build" / "README.md").read_text(encoding="utf-8")
    _write(repo / ".github" / "workflows" / "lonely.yml", WORKFLOW)
    out = cli("docs", ".github/workflows/lonely.yml", cwd=repo)
    assert out.returncode == 1
    assert out.stderr.startswith('.github/workflows/lonely.yml:1:1: no markdown file has markers for '
                                 '".github/workflows/lonely.yml"; add')


def test_excluded_paths_are_left_alone(repo: Path, cli):
    _write(repo / ".github" / "ci-tools.toml", 'exclude = ["tests/**"]\n')
    fixture = _write(repo / "tests" / "fixtures" / "README.md",
                     "<!-- ci-tools-docs:inputs .github/workflows/deploy.yml -->\nstale\n<!-- /ci-tools-docs:inputs -->\n")
    _write(repo / "tests" / "fixtures" / "actions" / "x" / "action.yml", ACTION)
    assert cli("docs", cwd=repo).returncode == 1  # files changed
    assert "stale" in fixture.read_text(encoding="utf-8")


def test_nothing_to_do(repo_dir: Path, cli):
    _write(repo_dir / "README.md", "# nothing generated here\n")
    out = cli("docs", cwd=repo_dir)
    assert out.returncode == 0
    assert "nothing to do" in out.stderr


@pytest.mark.parametrize(("args", "message"), [
    (["missing.md"], "ci-tools docs: missing.md: no such file or directory"),
    (["--check", "--write"], "not allowed with argument"),
])
def test_usage_errors(repo: Path, cli, args: list[str], message: str):
    out = cli("docs", *args, cwd=repo)
    assert out.returncode == 2
    assert message in out.stderr and "Traceback" not in out.stderr


def test_this_repository_is_up_to_date(cli):
    """`make docs` has been run: every action README and docs/workflows.md match their YAML."""
    out = cli("docs", "--check")
    assert out.returncode == 0, out.stdout + out.stderr


def test_permissions_line(repo: Path, cli):
    _write(repo / ".github" / "workflows" / "open.yml",
           WORKFLOW.replace("permissions: {}\n", "").replace("    timeout-minutes: 5\n", "    timeout-minutes: 5\n"
                                                                "    permissions:\n      issues: write\n")
           + "  report:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n    steps:\n      - run: echo\n")
    _write(repo / "docs" / "workflows.md", PAGE + "<!-- ci-tools-docs:permissions .github/workflows/deploy.yml -->\n"
                                                  "<!-- /ci-tools-docs:permissions -->\n"
                                                  "<!-- ci-tools-docs:permissions .github/workflows/open.yml -->\n"
                                                  "<!-- /ci-tools-docs:permissions -->\n")
    assert cli("docs", "docs/workflows.md", cwd=repo).returncode == 1  # files changed
    page = (repo / "docs" / "workflows.md").read_text(encoding="utf-8")
    assert ("<!-- ci-tools-docs:permissions .github/workflows/deploy.yml -->\n\n"
            "**The caller grants:** nothing (`permissions: {}`)\n\n<!-- /ci-tools-docs:permissions -->") in page
    assert ("**The caller grants:** `issues: write`; whatever the jobs that set no `permissions:` (`report`) need: "
            "they get the caller's token as is\n") in page


def test_an_undocumented_reusable_workflow_is_an_error_once_others_are_documented(repo: Path, cli):
    _write(repo / ".github" / "workflows" / "rollback.yml", WORKFLOW)
    _write(repo / ".github" / "workflows" / "ci.yml", "on: push\njobs: {}\n")  # not reusable: no docs needed
    out = cli("docs", cwd=repo)
    assert out.returncode == 1
    assert out.stderr.splitlines() == [
        '.github/workflows/rollback.yml:1:1: reusable workflow ".github/workflows/rollback.yml" is documented '
        'nowhere, unlike the others ("docs/workflows.md"); add a section with '
        '"<!-- ci-tools-docs:inputs .github/workflows/rollback.yml -->" markers (and secrets, outputs, '
        "permissions) and run `ci-tools docs`"]
    (repo / "docs" / "workflows.md").write_text(PAGE.replace("deploy.yml", "nothing.yml").split("<!--")[0],
                                                encoding="utf-8")
    out = cli("docs", cwd=repo)
    assert out.returncode == 0, out.stderr  # no workflow documented at all: none is required to be
