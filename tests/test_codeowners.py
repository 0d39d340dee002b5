"""CODEOWNERS gives everything whose code runs in service repositories' pipelines the owners of
``actions/`` (issue 10, item 14).

The actions run ci-tools from ``scripts/`` and install the dependencies of the requirements files;
pre-commit installs this repository as a package (``pyproject.toml``, ``.pre-commit-hooks.yaml``);
the Makefile bootstraps it. The owners are computed with GitHub's rules (gitignore-style patterns,
the last matching line wins), for every tracked file of those paths.
"""

from __future__ import annotations

import re
import subprocess

import pytest

from support.paths import REPO

CODEOWNERS = REPO / ".github" / "CODEOWNERS"
# what runs in callers' pipelines, and what decides who may change that
RUNS_IN_CALLERS = ("actions/", "scripts/", ".github/workflows/", "workflow-templates/")
ROOT_FILES = ("requirements.in", "requirements.txt", "pyproject.toml", "Makefile", ".pre-commit-hooks.yaml",
              ".github/CODEOWNERS", ".github/dependabot.yml")


def _regex(pattern: str) -> re.Pattern[str]:
    """A CODEOWNERS pattern as a regular expression over repository-relative paths: a pattern with a
    slash before its end is anchored at the root, one without matches at any depth; a match of a
    directory covers everything below it."""
    if any(c in pattern for c in "[]!\\"):
        raise ValueError(f"pattern {pattern!r}: this test does not implement that syntax")
    anchored = "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    out = ""
    i = 0
    while i < len(body):
        if body.startswith("**", i):
            out += ".*"
            i += 2
        elif body[i] == "*":
            out += "[^/]*"
            i += 1
        elif body[i] == "?":
            out += "[^/]"
            i += 1
        else:
            out += re.escape(body[i])
            i += 1
    prefix = "" if anchored else "(?:.*/)?"
    return re.compile(f"^{prefix}{out}(?:/.*)?$")


def owners(path: str, rules: list[tuple[re.Pattern[str], tuple[str, ...]]]) -> tuple[str, ...]:
    found: tuple[str, ...] = ()
    for regex, who in rules:
        if regex.match(path):
            found = who
    return found


def rules() -> list[tuple[re.Pattern[str], tuple[str, ...]]]:
    out = []
    for line in CODEOWNERS.read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            pattern, *who = line.split()
            out.append((_regex(pattern), tuple(sorted(who))))
    return out


def tracked() -> list[str]:
    return subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True,
                          check=True).stdout.splitlines()


def test_the_matcher_follows_githubs_rules():
    table = [(_regex("*"), ("a",)), (_regex("/actions/"), ("b",)), (_regex("Makefile"), ("c",))]
    assert owners("README.md", table) == ("a",)
    assert owners("actions/check/action.yml", table) == ("b",)
    assert owners("docs/actions/x.md", table) == ("a",)  # anchored: only at the root
    assert owners("Makefile", table) == ("c",) and owners("sub/Makefile", table) == ("c",)


def test_code_that_runs_in_callers_pipelines_has_the_owners_of_actions():
    table = rules()
    reference = owners("actions/check/action.yml", table)
    assert reference == ("@org/platform", "@org/security")
    paths = [p for p in tracked() if p.startswith(RUNS_IN_CALLERS) or p in ROOT_FILES]
    assert set(ROOT_FILES) <= set(paths) and any(p.startswith("scripts/ci_tools/") for p in paths)
    assert any(p.startswith("actions/_lib/") for p in paths)
    wrong = {p: owners(p, table) for p in paths if owners(p, table) != reference}
    assert wrong == {}


@pytest.mark.parametrize("path", ["README.md", "docs/checks.md", "tests/test_codeowners.py"])
def test_the_rest_keeps_the_platform_team(path):
    assert owners(path, rules()) == ("@org/platform",)
