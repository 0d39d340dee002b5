"""Every YAML example of every README and of docs/ works when pasted.

Each fenced ``yaml`` block of the tracked markdown (:mod:`support.examples` finds them, completes a
fragment into the file it belongs in, and reads the markers) must

1. parse, as it is written;
2. pass ``ci-tools check`` (actionlint and shellcheck included) with the organisation's policy
   (``organisation-owners = ["org"]``, every check on), or yield exactly the check ids its
   ``<!-- ci-tools-example: expect ... -->`` marker names. The examples are written for a service
   repository, so ``self-repository`` (which is about this repository's own files) is off, and
   ``repository = "org/ci"`` lets ``workflow-call`` check each call of one of our reusable
   workflows against the callee as it is in this tree;
3. use our actions and reusable workflows as they are: with ``org/ci/actions/<name>@<sha>`` read as
   ``./actions/<name>`` and ``org/ci/.github/workflows/<name>@<sha>`` as the local workflow, actionlint
   checks every input, output and secret an example names against this tree's ``action.yml`` and
   workflows, and the permissions a calling job grants against what the callee's jobs need.

Every TOML example of ``[tool.ci-tools...]`` is read as configuration, so a renamed or removed key
fails here too.

docs/checks.md's before/after examples are run one by one by tests/lint/test_docs_examples.py
(each plays ``.github/workflows/example.yml``, with the page's own configuration); its other
blocks are checked here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from support.examples import Example, all_examples, materialise
from support.paths import REPO

EXAMPLES = all_examples()
POLICY = """\
repository = "org/ci"
organisation-owners = ["org"]

[checks.self-repository]
enabled = false
"""
_OUR_ACTION = re.compile(r"\borg/ci/(actions/[A-Za-z0-9_.-]+)@[0-9a-f]{40}(?:[ \t]*#[^\n]*)?")
_OUR_WORKFLOW = re.compile(r"\borg/ci/(\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml)@[0-9a-f]{40}(?:[ \t]*#[^\n]*)?")


def _in_checks_page(example: Example) -> bool:
    """Before/after blocks of docs/checks.md, which test_docs_examples.py runs."""
    return example.source == "docs/checks.md" and example.part in ("Before", "After")


CHECKED = [e for e in EXAMPLES if e.checked and not _in_checks_page(e)]


def _repository(root: Path) -> None:
    """A repository holding this tree's reusable workflows and actions (the callees) and the policy."""
    subprocess.run(["git", "init", "-q", "-b", "main", str(root)], check=True)
    (root / ".github" / "workflows").mkdir(parents=True)
    (root / ".github" / "ci-tools.toml").write_text(POLICY, encoding="utf-8")
    for workflow in (REPO / ".github" / "workflows").glob("*.y*ml"):
        shutil.copy(workflow, root / ".github" / "workflows" / workflow.name)
    for action in (REPO / "actions").glob("*/action.y*ml"):
        (root / "actions" / action.parent.name).mkdir(parents=True, exist_ok=True)
        shutil.copy(action, root / "actions" / action.parent.name / action.name)


def _lay(examples: list[Example], root: Path, rewrite: bool) -> dict[str, dict[str, Example]]:
    """Write each example where it belongs; ``{run name: {path: example}}`` (one dependabot file per run)."""
    runs: dict[str, dict[str, Example]] = {"main": {}}
    for n, example in enumerate(examples):
        try:
            kind, text = materialise(example)
        except yaml.YAMLError:
            continue  # test_example_parses says why
        if rewrite:
            text = _OUR_ACTION.sub(r"./\1", text)
            text = _OUR_WORKFLOW.sub(r"./\1", text)
        if kind == "dependabot":
            run, path = f"dependabot-{n}", ".github/dependabot.yml"
        elif kind == "action":
            run, path = "main", f"actions/example-{n}/action.yml"
        else:
            run, path = "main", f".github/workflows/example-{n}.yml"
        base = root / run
        if not base.exists():
            _repository(base)
        (base / path).parent.mkdir(parents=True, exist_ok=True)
        (base / path).write_text(text, encoding="utf-8")
        runs.setdefault(run, {})[path] = example
    return runs


def _check(root: Path, runs: dict[str, dict[str, Example]], cli, *extra: str) -> dict[str, list[dict]]:
    """Findings by example id, from one `ci-tools check` per repository."""
    found: dict[str, list[dict]] = {}
    for run, files in runs.items():
        if not files:
            continue
        done = cli("check", "--format", "json", *extra, *files, cwd=root / run)
        assert done.returncode in (0, 1), done.stderr
        for finding in json.loads(done.stdout)["findings"]:
            example = files.get(finding["path"])
            assert example is not None, f"a finding outside the examples: {finding}"
            found.setdefault(example.id, []).append(finding)
    return found


def _run_cli(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    """``python -m ci_tools`` as the ``cli`` fixture runs it (that fixture is per test; these runs are
    per module, one for all the examples)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GITHUB_ACTIONS", "GITHUB_TOKEN", "GH_TOKEN")}
    return subprocess.run([sys.executable, "-m", "ci_tools", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def policy_findings(tmp_path_factory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("examples")
    return _check(root, _lay(CHECKED, root, rewrite=False), _run_cli)


@pytest.fixture(scope="module")
def contract_findings(tmp_path_factory) -> dict[str, list[dict]]:
    root = tmp_path_factory.mktemp("contracts")
    return _check(root, _lay(CHECKED, root, rewrite=True), _run_cli, "--select", "actionlint",
                  "--select", "workflow-call")


def _parses(example: Example) -> None:
    try:
        materialise(example)
    except yaml.YAMLError as exc:
        pytest.fail(f"{example.id} is not valid YAML: {exc}")


def _show(findings: list[dict]) -> str:
    return "\n".join(f"  line {f['line']}: {f['message']} [{f['check']}]" for f in findings)


def test_examples_are_found():
    sources = {e.source for e in EXAMPLES}
    assert {"README.md", "docs/checks.md"} <= sources
    assert len([s for s in sources if s.startswith("actions/")]) >= 7, sources


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_example_parses(example: Example):
    from ci_tools.gha.source import load_text

    doc = load_text(example.text, example.id)
    problems = [f"line {f.location.line}: {f.message}" for f in doc.findings if f.check == "syntax"]
    if "syntax" in example.expect:
        assert problems, f"{example.id} is marked to show a syntax error but parses"
    else:
        assert problems == [], f"{example.id} is not valid YAML:\n" + "\n".join(problems)


@pytest.mark.parametrize("example", CHECKED, ids=[e.id for e in CHECKED])
def test_example_passes_the_policy(example: Example, policy_findings):
    _parses(example)
    found = policy_findings.get(example.id, [])
    got = {f["check"] for f in found}
    assert got == example.expect, (f"{example.id}: ci-tools check yields {sorted(got) or 'nothing'}, the example "
                                   f"expects {sorted(example.expect) or 'nothing'}:\n{_show(found)}")


@pytest.mark.parametrize("example", CHECKED, ids=[e.id for e in CHECKED])
def test_example_uses_our_actions_and_workflows_as_they_are(example: Example, contract_findings):
    _parses(example)
    found = [f for f in contract_findings.get(example.id, []) if f["check"] not in example.expect]
    assert found == [], f"{example.id} does not match this tree's actions and workflows:\n{_show(found)}"


def test_markers_name_known_checks():
    from ci_tools.lint.checks import known_ids

    for example in EXAMPLES:
        unknown = example.expect - known_ids()
        assert not unknown, f"{example.id}: the marker names unknown check ids {sorted(unknown)}"


def _toml_examples() -> list:
    from support.examples import blocks, markdown_files

    return [pytest.param(path, block.text, id=f"{path}:{block.line}") for path in markdown_files()
            for block in blocks(path) if block.language == "toml" and "[tool.ci-tools" in block.text]


@pytest.mark.parametrize(("path", "text"), _toml_examples())
def test_configuration_examples_are_valid_configuration(path, text, tmp_path):
    """A TOML example of [tool.ci-tools...] is read by ci-tools as it is written, unknown keys and
    bad values being errors there as they would be in a repository."""
    from ci_tools.core.config import ConfigError, load_config
    from ci_tools.lint.checks import known_ids

    (tmp_path / "pyproject.toml").write_text(text, encoding="utf-8")
    try:
        load_config(tmp_path, known_ids=known_ids())
    except ConfigError as exc:
        pytest.fail(f"{path}: {exc}")
