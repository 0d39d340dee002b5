"""Every before/after example of docs/checks.md runs through the engine: the "before" of a section
yields at least one finding of that section's check, the "after" yields none of it."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from ci_tools import engine
from ci_tools.checks import Context
from ci_tools.config import Config
from ci_tools.docs_reference import sections
from ci_tools.source import load

DOCS = Path(__file__).resolve().parents[2] / "docs" / "checks.md"
# The configuration the examples are written for; docs/checks.md says so in its introduction.
CONFIG = Config(repository="org/ci", organisation_owners=["org"], allowed_owners=["actions"])
EXAMPLE = re.compile(r"^### (Before|After)\n+```yaml(?: file=(\S+))?\n(.*?)^```", re.M | re.S)
# The file an example is written to, unless its block names another (```yaml file=.github/dependabot.yml)
DEFAULT_FILE = ".github/workflows/example.yml"
# Further files of an example (docs-drift reads a markdown file beside the workflow): a fenced block
# of the Before or After part whose info string names the file, as in ```markdown file=docs/x.md
BESIDE = re.compile(r"^```\w+ file=(\S+)\n(.*?)^```", re.M | re.S)


def _examples():
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## `([a-z0-9-]+)`\s*$", text, flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        found = {kind: (body, name or DEFAULT_FILE) for kind, name, body in EXAMPLE.findall(parts[i + 1])}
        yield parts[i], found


def _beside() -> dict[tuple[str, str], dict[str, str]]:
    """(check id, Before or After) -> {repository-relative path: text} of the example's further files."""
    out: dict[tuple[str, str], dict[str, str]] = {}
    text = DOCS.read_text(encoding="utf-8")
    parts = re.split(r"^## `([a-z0-9-]+)`\s*$", text, flags=re.M)
    for i in range(1, len(parts) - 1, 2):
        pieces = re.split(r"^### (Before|After)\s*$", parts[i + 1], flags=re.M)
        for j in range(1, len(pieces) - 1, 2):
            files = dict(BESIDE.findall(pieces[j + 1].split("\n### ", 1)[0]))
            if files:
                out[(parts[i], pieces[j])] = files
    return out


EXAMPLES = list(_examples())
BESIDE_FILES = _beside()


def _findings(check_id: str, example: tuple[str, str], tmp_path: Path, cli,
              beside: dict[str, str] | None = None) -> list[str]:
    yaml_text, name = example
    repo = tmp_path / "repo"
    target = repo / name
    target.parent.mkdir(parents=True)
    target.write_text(yaml_text, encoding="utf-8")
    for name, text in (beside or {}).items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    if check_id == "actionlint":  # the real linter, as `ci-tools check` runs it
        subprocess.run(["git", "init", "-q", str(repo)], check=True)
        out = cli("check", "--format", "json", "--select", "actionlint", cwd=repo)
        assert out.returncode in (0, 1), out.stderr
        return [f["check"] for f in json.loads(out.stdout)["findings"]]
    docs = [load(target, root=repo, display=name)]
    only = set() if check_id in ("syntax", "invalid-ignore") else {check_id}
    findings = engine.run_checks(docs, Context(root=repo, config=CONFIG, documents=docs), only)
    findings = engine.apply_ignores(engine.configure(findings, CONFIG), docs)
    return [f.check for f in findings]


def test_every_section_has_a_before_and_an_after():
    assert len(EXAMPLES) >= 13
    for check_id, found in EXAMPLES:
        assert set(found) == {"Before", "After"}, f"{check_id} needs one Before and one After yaml block"


@pytest.mark.parametrize(("check_id", "found"), EXAMPLES, ids=[c for c, _ in EXAMPLES])
def test_before_yields_the_check_and_after_does_not(check_id: str, found: dict, tmp_path: Path, cli):
    before = _findings(check_id, found["Before"], tmp_path / "before", cli, BESIDE_FILES.get((check_id, "Before")))
    after = _findings(check_id, found["After"], tmp_path / "after", cli, BESIDE_FILES.get((check_id, "After")))
    assert check_id in before, f"the Before example of {check_id} yields {before}"
    assert check_id not in after, f"the After example of {check_id} still yields {check_id}"
    if check_id != "syntax":  # an example that does not parse would pass for the wrong reason
        assert "syntax" not in before + after


def test_explain_prints_a_section():
    assert set(sections()) >= {check_id for check_id, _ in EXAMPLES}
