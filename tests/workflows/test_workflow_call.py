"""The `workflow-call` check, end to end: `ci-tools check` over real temporary git repositories.

The check reads callees from the working tree, so each test lays out a small repository (a
reusable workflow and its callers) and runs the CLI in it, asserting the exact positions.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

CALLEE = """\
name: reusable
on:
  workflow_call:
    inputs:
      image:
        description: image name
        type: string
        required: true
      push:
        description: push or not
        type: boolean
        default: true
      retries:
        description: how many times
        type: number
        required: false
      python-version:
        description: a version
        type: string
        default: "3.12"
      with-default:
        description: required, but has a default
        type: string
        required: true
        default: x
    secrets:
      token:
        description: the token
        required: true
      extra:
        description: optional
        required: false
jobs:
  run:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    steps:
      - run: echo hello
"""


def write(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8", newline="")
    return path


def caller(jobs: str, name: str = "caller") -> str:
    return f"name: {name}\non: push\npermissions: {{}}\njobs:\n" + textwrap.indent(textwrap.dedent(jobs), "  ")


@pytest.fixture
def repo(repo_dir: Path) -> Path:
    write(repo_dir, ".github/workflows/reusable.yml", CALLEE)
    write(repo_dir, ".github/ci-tools.toml", 'repository = "org/ci"\n')
    return repo_dir


def findings(cli, root: Path, *paths: str) -> list[dict]:
    out = cli("check", "--select", "workflow-call", "--no-actionlint", "--format", "json", *paths, cwd=root)
    assert out.returncode in (0, 1), out.stderr
    assert "Traceback" not in out.stderr
    result = json.loads(out.stdout)["findings"]
    assert (out.returncode == 1) == bool(result)
    return [f for f in result if f["check"] == "workflow-call"]


def where(items: list[dict]) -> list[tuple[int, int, str]]:
    return [(f["line"], f["col"], f["message"]) for f in items]


def test_matching_calls_have_no_findings(cli, repo):
    write(repo, ".github/workflows/caller.yml", caller("""\
        local:
          uses: ./.github/workflows/reusable.yml
          with:
            image: ghcr.io/org/x
            push: false
            retries: 3
            python-version: "3.10"
          secrets:
            token: ${{ secrets.TOKEN }}
        self:
          uses: $/.github/workflows/reusable.yml
          with:
            IMAGE: ${{ github.repository }}
            push: ${{ github.event_name == 'push' }}
            retries: ${{ fromJSON(vars.RETRIES) }}
          secrets:
            TOKEN: ${{ secrets.TOKEN }}
            extra: x
        inherit:
          uses: ./.github/workflows/reusable.yml
          with:
            image: x
          secrets: inherit
        remote-elsewhere:
          uses: other/repo/.github/workflows/reusable.yml@0123456789abcdef0123456789abcdef01234567
          with:
            anything: goes
        """))
    assert findings(cli, repo) == []


def test_unknown_input_is_reported_at_its_key(cli, repo):
    write(repo, ".github/workflows/caller.yml", caller("""\
        call:
          uses: ./.github/workflows/reusable.yml
          with:
            image: x
            imgae: y
          secrets:
            token: t
        """))
    (item,) = findings(cli, repo)
    assert item["path"] == ".github/workflows/caller.yml"
    assert (item["line"], item["col"]) == (9, 7)
    assert item["message"].startswith('input "imgae" is not defined by ".github/workflows/reusable.yml"; '
                                      'remove it or use one of its inputs: "image", ')


def test_missing_required_input_and_secret_point_at_uses(cli, repo):
    write(repo, ".github/workflows/caller.yml", caller("""\
        call:
          uses: ./.github/workflows/reusable.yml
        """))
    assert where(findings(cli, repo)) == [
        (6, 11, 'required input "image" of ".github/workflows/reusable.yml" is not given; add it under with:'),
        (6, 11, 'required secret "token" of ".github/workflows/reusable.yml" is not passed; add it under secrets:'),
    ]


@pytest.mark.parametrize(("key", "value", "message"), [
    ("push", "yes", 'input "push" is a boolean, but "yes" is a string; write true or false, unquoted'),
    ("push", '"true"', 'input "push" is a boolean, but "true" is a quoted string; write true or false, unquoted'),
    ("push", "1", 'input "push" is a boolean, but "1" is a number; write true or false, unquoted'),
    ("retries", "three", 'input "retries" is a number, but "three" is a string; write a number, unquoted'),
    ("retries", "'3'", 'input "retries" is a number, but "3" is a quoted string; write a number, unquoted'),
    ("retries", "true", 'input "retries" is a number, but "true" is a boolean; write a number, unquoted'),
    ("python-version", "3.10", 'input "python-version" is a string, but 3.10 is a number and arrives as "3.1"; '
                               'quote it: "3.10"'),
    ("image", "[a, b]", 'input "image" is a string, but a list is given; pass a single string value'),
])
def test_type_mismatch_is_reported_at_the_value(cli, repo, key, value, message):
    write(repo, ".github/workflows/caller.yml", caller(f"""\
        call:
          uses: ./.github/workflows/reusable.yml
          with:
            image: x
            {key}: {value}
          secrets:
            token: t
        """.replace("image: x\n            image:", "image:")))
    items = findings(cli, repo)
    assert where(items) == [(9 if key != "image" else 8, 7 + len(key) + 2, message)]


@pytest.mark.parametrize("value", ["3.5", "42", "true", "${{ matrix.v }}", "v-${{ matrix.v }}", "''", ""])
def test_values_that_arrive_unchanged_pass(cli, repo, value):
    write(repo, ".github/workflows/caller.yml", caller(f"""\
        call:
          uses: ./.github/workflows/reusable.yml
          with:
            image: x
            python-version: {value}
          secrets:
            token: t
        """))
    assert findings(cli, repo) == []


def test_undeclared_secret_is_reported_at_its_key(cli, repo):
    write(repo, ".github/workflows/caller.yml", caller("""\
        call:
          uses: $/.github/workflows/reusable.yml
          with:
            image: x
          secrets:
            token: t
            tokne: u
        """))
    assert where(findings(cli, repo)) == [
        (11, 7, 'secret "tokne" is not declared by ".github/workflows/reusable.yml"; remove it or use one of '
                'its secrets: "extra", "token"'),
    ]


def test_missing_and_non_reusable_callees(cli, repo):
    write(repo, ".github/workflows/plain.yml", caller("""\
        build:
          runs-on: ubuntu-latest
          timeout-minutes: 5
          steps:
            - run: echo hi
        """, name="plain"))
    write(repo, ".github/workflows/caller.yml", caller("""\
        gone:
          uses: ./.github/workflows/gone.yml
        plain:
          uses: ./.github/workflows/plain.yml
        escape:
          uses: ./.github/workflows/../../../outside.yml
        """))
    write(repo.parent, "outside.yml", CALLEE)
    assert where(findings(cli, repo, ".github/workflows/caller.yml")) == [
        (6, 11, '".github/workflows/gone.yml" does not exist in this repository; '
                "call an existing reusable workflow or add this one"),
        (8, 11, '".github/workflows/plain.yml" is not a reusable workflow (it has no on.workflow_call); '
                "add the trigger or call another workflow"),
        (10, 11, '".github/workflows/../../../outside.yml" does not exist in this repository; '
                 "call an existing reusable workflow or add this one"),
    ]


def test_templates_calls_of_this_repository_are_checked(cli, repo):
    write(repo, "workflow-templates/starter.yml", """\
        name: starter
        on:
          push:
            branches: [$default-branch]
        permissions: {}
        jobs:
          call:
            uses: org/ci/.github/workflows/reusable.yml@0123456789abcdef0123456789abcdef01234567 # v1.0.0
            with:
              push: true
          other:
            uses: ORG/CI/.github/workflows/missing.yml@0123456789abcdef0123456789abcdef01234567 # v1.0.0
        """)
    assert where(findings(cli, repo, "workflow-templates/starter.yml")) == [
        (8, 11, 'required input "image" of ".github/workflows/reusable.yml" is not given; add it under with:'),
        (8, 11, 'required secret "token" of ".github/workflows/reusable.yml" is not passed; add it under secrets:'),
        (12, 11, '".github/workflows/missing.yml" does not exist in this repository; '
                 "call an existing reusable workflow or add this one"),
    ]


def test_remote_calls_are_ignored_when_the_repository_is_another(cli, repo):
    (repo / ".github/ci-tools.toml").write_text('repository = "org/other"\n', encoding="utf-8")
    write(repo, "workflow-templates/starter.yml", """\
        name: starter
        on: push
        permissions: {}
        jobs:
          call:
            uses: org/ci/.github/workflows/reusable.yml@0123456789abcdef0123456789abcdef01234567 # v1.0.0
        """)
    assert findings(cli, repo, "workflow-templates/starter.yml") == []


def test_unparsable_callee_yields_no_contract_findings(cli, repo):
    (repo / ".github/workflows/reusable.yml").write_text("on: [\n", encoding="utf-8")
    write(repo, ".github/workflows/caller.yml", caller("""\
        call:
          uses: ./.github/workflows/reusable.yml
          with:
            nonsense: 1
        """))
    assert findings(cli, repo, ".github/workflows/caller.yml") == []


def test_crlf_and_bom_callers_keep_positions(cli, repo):
    text = "\ufeff" + caller("""\
        call:
          uses: ./.github/workflows/reusable.yml
          with:
            image: x
            bogus: 1
          secrets:
            token: t
        """).replace("\n", "\r\n")
    (repo / ".github/workflows/caller.yml").parent.mkdir(parents=True, exist_ok=True)
    (repo / ".github/workflows/caller.yml").write_bytes(text.encode("utf-8"))
    assert [(f["line"], f["col"]) for f in findings(cli, repo)] == [(9, 7)]


def test_actionlint_duplicate_is_dropped(cli, repo):
    """actionlint (run for real) reports unknown inputs of local calls too: one finding remains."""
    write(repo, ".github/workflows/caller.yml", caller("""\
        call:
          uses: ./.github/workflows/reusable.yml
          with:
            image: x
            imgae: y
          secrets:
            token: t
        """))
    out = cli("check", "--no-shellcheck", "--format", "json", ".github/workflows/caller.yml", cwd=repo)
    items = [f for f in json.loads(out.stdout)["findings"] if f["line"] == 9]
    assert [f["check"] for f in items] == ["workflow-call"], items


def test_this_repositorys_calls_and_templates_match(cli):
    """The real reusable workflows, their callers here and the starter templates agree."""
    from support.paths import REPO

    out = cli("check", "--select", "workflow-call", "--no-actionlint", "--format", "json", cwd=REPO)
    assert json.loads(out.stdout)["findings"] == [], out.stdout
