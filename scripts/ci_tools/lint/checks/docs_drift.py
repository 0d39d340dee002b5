"""`docs-drift`: the README tables of actions and reusable workflows match their YAML.

The tables are what ``ci-tools docs`` writes between ``<!-- ci-tools-docs:KIND [PATH] -->`` markers
(:mod:`ci_tools.gha.docsgen`); this check runs the same generator and reports, at the opening marker of
the markdown file, each table that differs. Each action under ``actions/`` must have a
``README.md`` with its inputs and outputs markers (reported on the action's first line); other
actions are checked when their README has markers, and a reusable workflow where a markdown file's
markers name it (found by walking the repository's ``*.md`` files once per run, skipping the
configured exclusions); once any marker names a workflow of ``.github/workflows/``, every reusable
workflow there must be named by one (reported on its first line). Broken markers of those files are
reported too.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from ci_tools.core.findings import Finding, Location, Severity
from ci_tools.gha import docsgen
from ci_tools.gha.discovery import excluded
from ci_tools.gha.source import Document, display_path, load

ID = "docs-drift"
SUMMARY = "README tables of actions and reusable workflows match their YAML"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "action"}


def keep(doc: Document) -> bool:
    return doc.kind == "action" or docsgen.is_reusable(doc)


def check_all(docs: list[Document], ctx) -> Iterator[Finding]:
    root = Path(ctx.root)
    checked = {os.path.realpath(d.path): d for d in docs if d.root is not None and keep(d)}
    if not checked:
        return
    show = _displayer(list(checked.values()), root)
    markdown: dict[str, Path] = {}
    for doc in checked.values():
        if doc.kind != "action":
            continue
        problem = docsgen.action_readme_problem(doc.path, root, _rel(doc.path, root))
        if problem:
            yield doc.finding(ID, problem, None, SEVERITY)
        readme = doc.path.parent / docsgen.README
        if readme.is_file():
            markdown.setdefault(os.path.realpath(readme), readme)
    workflows = [d for d in checked.values() if d.kind == "workflow"]
    if workflows:
        patterns = list(ctx.config.exclude)
        for md in docsgen.markdown_files(root, lambda p: excluded(p, root, patterns)):
            markdown.setdefault(os.path.realpath(md), md)
        yield from _undocumented(workflows, list(markdown.values()), root)

    def load_yaml(path: Path) -> Document:
        return checked.get(os.path.realpath(path)) or load(path, root=root, display=_rel(path, root))

    for path in sorted(markdown.values()):
        yield from _check_markdown(path, root, checked, load_yaml, show)


def _check_markdown(path: Path, root: Path, checked: dict[str, Document], load_yaml, show) -> Iterator[Finding]:
    try:
        parsed = docsgen.read_markdown(path)
    except (OSError, UnicodeDecodeError):
        return  # unreadable markdown is not this check's to report
    ours = [r for r in parsed.regions if _target_key(r, path, root) in checked]
    if not ours and not (path.name == docsgen.README and _target_key_beside(path) in checked):
        return  # a markdown file about none of the files being checked
    result = docsgen.regenerate(parsed, root, load_yaml)
    display = show(path)
    for problem in result.problems:
        yield Finding(ID, SEVERITY, problem.message, Location(display, problem.line, problem.col))
    for region in result.drifted:
        target = result.targets[region]
        if os.path.realpath(target) in checked:
            yield Finding(ID, SEVERITY, docsgen.drift_message(region, _rel(target, root)),
                          Location(display, region.line, region.col))


def _undocumented(workflows: list[Document], markdown: list[Path], root: Path) -> Iterator[Finding]:
    """Once a repository documents reusable workflows with markers, each of its reusable workflows must be."""
    parsed = []
    for path in markdown:
        try:
            parsed.append(docsgen.read_markdown(path))
        except (OSError, UnicodeDecodeError):
            continue
    named = docsgen.workflow_targets(parsed, root)
    if not named:
        return
    example = _rel(sorted(named.values())[0], root)
    home = os.path.realpath(root / ".github" / "workflows")
    for doc in workflows:
        key = os.path.realpath(doc.path)
        if key not in named and os.path.dirname(key) == home:
            yield doc.finding(ID, docsgen.undocumented_message(_rel(doc.path, root), example), None, SEVERITY)


def _target_key(region: docsgen.Region, markdown: Path, root: Path) -> str | None:
    target = docsgen.target_of(region, markdown, root)
    return os.path.realpath(target) if isinstance(target, Path) else None


def _target_key_beside(readme: Path) -> str | None:
    action = docsgen.beside_action(readme)
    return os.path.realpath(action) if action is not None else None


def _rel(path: Path, root: Path) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()


def _displayer(docs: list[Document], root: Path):
    """Display paths for markdown files in the same style as the documents' (relative to the same base)."""
    for doc in docs:
        rel = _rel(doc.path, root)
        if doc.display == rel or doc.display.endswith("/" + rel):
            prefix = doc.display[: len(doc.display) - len(rel)]
            return lambda p: prefix + _rel(p, root)
    return lambda p: display_path(Path(p))
