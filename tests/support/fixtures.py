"""Running one check over a fixture the way `ci-tools check --select ID` does, for the fixture tests.

A fixture is ``tests/lint/fixtures/<check-id>/{ok,bad}/<name>``: a single YAML or JSON file, or a
directory holding a small repository tree (``actions/x/action.yml``, ``workflow-templates/...``)
when the check needs a file's place in a repository. Each bad fixture has ``<name>.expected``
beside it with the text output lines ``path:line:col: message [check-id]``, paths relative to the
``ok``/``bad`` folder. A fixture folder may hold ``ci-tools.toml`` (the check's configuration);
otherwise the configuration is :data:`DEFAULT_CONFIG`, this repository's own.
"""

from __future__ import annotations

from pathlib import Path

from ci_tools.core.config import Config, load_config
from ci_tools.core.findings import finalize
from ci_tools.gha.discovery import expand
from ci_tools.gha.source import load
from ci_tools.lint import engine
from ci_tools.lint.checks import Context, known_ids

FIXTURES = Path(__file__).resolve().parents[1] / "lint" / "fixtures"
DEFAULT_CONFIG = {"repository": "org/ci", "organisation_owners": ["org"]}


def fixture_config(check_dir: Path) -> Config:
    toml = check_dir / "ci-tools.toml"
    if toml.is_file():
        return load_config(check_dir, toml, known_ids=known_ids())
    return Config(**DEFAULT_CONFIG)


def fixture_entries(check_dir: Path, kind: str) -> list[Path]:
    folder = check_dir / kind
    if not folder.is_dir():
        return []
    return [p for p in sorted(folder.iterdir())
            if not p.name.endswith(".expected") and not p.name.startswith(".")]


def run_fixture(entry: Path, only: set[str] | None, config: Config):
    """Findings (after configuration and ignore comments) and documents of one fixture."""
    folder = entry.parent
    root = entry if entry.is_dir() else folder
    files = expand([entry], root)
    docs = [load(f, root=root, display=f.relative_to(folder).as_posix()) for f in files]
    ctx = Context(root=root, config=config, documents=docs)
    findings = engine.run_checks(docs, ctx, only)
    return finalize(findings, config, docs, known_ids=known_ids()), docs


def text_lines(findings, check_id: str) -> list[str]:
    return [f"{f.location.path}:{f.location.line}:{f.location.col}: {f.message} [{f.check}]"
            for f in findings if f.check == check_id]
