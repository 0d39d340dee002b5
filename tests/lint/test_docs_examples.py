"""Every before/after example of docs/checks.md runs through the whole `ci-tools check` (every check,
actionlint and shellcheck included), as `.github/workflows/example.yml` (or the path the block's
``file=PATH`` names) of a repository with the page's configuration: the "before" of a check's
section yields that check and nothing else but what a ``<!-- ci-tools-example: expect ... -->``
marker names, the "after" yields nothing. (The page's other YAML blocks, and those of every other
markdown file, are checked by tests/docs/test_examples.py.)"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from ci_tools.lint.checks import ENGINE_IDS, modules
from ci_tools.lint.reference import sections
from support.examples import Example, checks_page

# The configuration the examples are written for; docs/checks.md says so in its introduction.
PAGE_CONFIG = """\
repository = "org/ci"
organisation-owners = ["org"]
allowed-owners = ["actions", "hashicorp", "pypa", "tj-actions"]
"""
PAGE = checks_page()
CHECK_IDS = sorted({m.ID for m in modules()} | set(ENGINE_IDS))
CASES = [(check_id, part) for check_id in sorted(PAGE) for part in sorted(PAGE[check_id])]


def _findings(example: Example, beside: dict[str, str], tmp_path: Path, cli) -> list[dict]:
    repo = tmp_path / "repo"
    target = repo / (example.file or ".github/workflows/example.yml")
    target.parent.mkdir(parents=True)
    target.write_text(example.text, encoding="utf-8")
    (repo / ".github" / "ci-tools.toml").write_text(PAGE_CONFIG, encoding="utf-8")
    for name, text in beside.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    out = cli("check", "--format", "json", cwd=repo)
    assert out.returncode in (0, 1), out.stderr
    return json.loads(out.stdout)["findings"]


def _show(findings: list[dict]) -> str:
    return "\n".join(f"  {f['path']}:{f['line']}: {f['message']} [{f['check']}]" for f in findings) or "  nothing"


def test_every_check_has_a_before_and_an_after():
    for check_id in CHECK_IDS:
        assert set(PAGE.get(check_id, {})) == {"Before", "After"}, \
            f"the section of {check_id} needs one Before and one After yaml block"


@pytest.mark.parametrize(("check_id", "part"), CASES, ids=[f"{c}-{p}" for c, p in CASES])
def test_before_yields_the_check_and_after_yields_nothing(check_id: str, part: str, tmp_path: Path, cli):
    example, beside = PAGE[check_id][part]
    found = _findings(example, beside, tmp_path, cli)
    assert {f["check"] for f in found} == example.expect, (
        f"the {part} example of {check_id} ({example.id}) should yield {sorted(example.expect) or 'nothing'}; "
        f"it yields:\n{_show(found)}")


def test_explain_prints_a_section():
    assert set(sections()) >= set(CHECK_IDS)
