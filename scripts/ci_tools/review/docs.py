"""What ``ci-tools docs`` regenerates: the markdown files chosen from the paths given, the problems
found choosing them, and each file's tables regenerated (:mod:`ci_tools.gha.docsgen` renders them).

- :func:`gather`: the :class:`Plan` for the paths (none: the whole repository, where every action
  under ``actions/`` needs a README and, once markers name some reusable workflow, every one does);
- :func:`regenerate`: each chosen file's tables, as new contents to write or as drift to report.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ci_tools.gha.source import Document

Skip = Callable[[Path], bool]


class Plan:
    """The markdown files to regenerate and the problems found while choosing them."""

    def __init__(self) -> None:
        self.markdown: dict[str, Path] = {}  # realpath -> path
        self.actions: dict[str, Path] = {}
        self.workflows: dict[str, Path] = {}
        self.problems: list[str] = []

    def add(self, bucket: dict[str, Path], path: Path) -> None:
        bucket.setdefault(os.path.realpath(path), path)


def gather(paths: list[Path], root: Path, skip: Skip) -> Plan:
    """The markdown files to regenerate for ``paths`` (none: the repository) and the problems found."""
    from ci_tools.gha import docsgen
    from ci_tools.gha.source import display_path

    plan = choose(paths, root, skip)
    show = lambda p: display_path(Path(p))  # noqa: E731 - paths as the user typed them, relative to cwd
    for action in plan.actions.values():
        problem = docsgen.action_readme_problem(action, root, rel(action, root))
        if problem:
            plan.problems.append(f"{show(action)}:1:1: {problem}")
        elif (action.parent / docsgen.README).is_file():
            plan.add(plan.markdown, action.parent / docsgen.README)
    for workflow in plan.workflows.values():
        naming = [md for md in docsgen.markdown_files(root, skip) if names(md, workflow, root)]
        if not naming:
            where = rel(workflow, root)
            plan.problems.append(f'{show(workflow)}:1:1: no markdown file has markers for "{where}"; add '
                                 f'"<!-- ci-tools-docs:inputs {where} -->" and its closing marker where it is documented')
        for md in naming:
            plan.add(plan.markdown, md)
    if not paths:
        plan.problems += undocumented(plan, root, skip)
    return plan


@dataclass
class Regenerated:
    """``pending``: (path, new contents, shown path) to write; ``drift``: one line per table out of
    date (``path:line:col: message``); ``drifted``: how many files are out of date."""

    problems: list[str] = field(default_factory=list)
    drift: list[str] = field(default_factory=list)
    drifted: int = 0
    pending: list[tuple[Path, bytes, str]] = field(default_factory=list)


def regenerate(plan: Plan, root: Path) -> Regenerated:
    """Each chosen markdown file's tables regenerated, in path order; nothing is written here."""
    from ci_tools.gha import docsgen
    from ci_tools.gha.source import display_path, load

    show = lambda p: display_path(Path(p))  # noqa: E731
    loaded: dict[str, Document] = {}

    def load_yaml(path: Path) -> Document:
        key = os.path.realpath(path)
        if key not in loaded:
            loaded[key] = load(path, root=root, display=rel(path, root))
        return loaded[key]

    out = Regenerated(problems=list(plan.problems))
    for path in sorted(plan.markdown.values(), key=lambda p: rel(p, root)):
        try:
            markdown = docsgen.read_markdown(path)
        except (OSError, UnicodeDecodeError) as exc:
            out.problems.append(f"{show(path)}:1:1: cannot read: {getattr(exc, 'strerror', None) or exc}")
            continue
        result = docsgen.regenerate(markdown, root, load_yaml)
        out.problems += [f"{show(path)}:{p.line}:{p.col}: {p.message}" for p in result.problems]
        if not result.changed:
            continue
        out.drifted += 1
        for region in result.drifted:
            message = docsgen.drift_message(region, rel(result.targets[region], root))
            out.drift.append(f"{show(path)}:{region.line}:{region.col}: {message}")
        out.pending.append((path, result.text.encode("utf-8"), show(path)))
    return out


def choose(paths: list[Path], root: Path, skip: Skip) -> Plan:
    from ci_tools.errors import UsageError
    from ci_tools.gha import docsgen
    from ci_tools.gha.discovery import default_files, expand
    from ci_tools.gha.source import classify, display_path, load

    plan = Plan()
    if not paths:
        paths = [root]
    from ci_tools.gha.discovery import DiscoveryError, check_path

    for path in paths:
        try:
            check_path(path)
        except DiscoveryError as exc:
            raise UsageError(str(exc)) from None
        if path.is_dir():
            for md in docsgen.markdown_files(path, skip):
                plan.add(plan.markdown, md)
            files = default_files(root) if path.resolve() == root else expand([path], root)
            for f in files:
                if classify(f) == "action" and docsgen.is_org_action(f, root) and not skip(f):
                    plan.add(plan.actions, f)
        elif path.suffix == ".md":
            plan.add(plan.markdown, path)
            try:
                if not docsgen.has_markers(path.read_text(encoding="utf-8", errors="replace")):
                    plan.problems.append(f"{display_path(path)}:1:1: no ci-tools-docs markers in this file; add "
                                         '"<!-- ci-tools-docs:inputs PATH -->" ... "<!-- /ci-tools-docs:inputs -->"')
            except OSError:
                pass
        elif classify(path) == "action":
            if docsgen.is_org_action(path, root):
                plan.add(plan.actions, path)
            elif (path.parent / docsgen.README).is_file():
                plan.add(plan.markdown, path.parent / docsgen.README)
            else:
                plan.problems.append(f"{display_path(path)}:1:1: no README.md beside this action")
        elif classify(path) == "workflow" and docsgen.is_reusable(load(path, root=root)):
            plan.add(plan.workflows, path)
        else:
            raise UsageError(f"{path}: not a directory, a markdown file, an action or a reusable workflow")
    return plan


def undocumented(plan: Plan, root: Path, skip: Skip) -> list[str]:
    """The repository's reusable workflows no marker names, once markers name some of them."""
    from ci_tools.gha import docsgen
    from ci_tools.gha.discovery import YAML_SUFFIXES
    from ci_tools.gha.source import display_path, load

    parsed = []
    for path in plan.markdown.values():
        try:
            parsed.append(docsgen.read_markdown(path))
        except (OSError, UnicodeDecodeError):
            continue
    named = docsgen.workflow_targets(parsed, root)
    folder = root / ".github" / "workflows"
    if not named or not folder.is_dir():
        return []
    example = rel(sorted(named.values())[0], root)
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in YAML_SUFFIXES or not path.is_file() or skip(path) or os.path.realpath(path) in named:
            continue
        if docsgen.is_reusable(load(path, root=root)):
            message = docsgen.undocumented_message(rel(path, root), example)
            out.append(f"{display_path(path)}:1:1: {message}")
    return out


def names(markdown: Path, target: Path, root: Path) -> bool:
    """Whether a markdown file has a marker naming ``target``."""
    from ci_tools.gha import docsgen

    try:
        parsed = docsgen.read_markdown(markdown)
    except (OSError, UnicodeDecodeError):
        return False
    want = os.path.realpath(target)
    for region in parsed.regions:
        found = docsgen.target_of(region, markdown, root)
        if isinstance(found, Path) and os.path.realpath(found) == want:
            return True
    return False


def rel(path: Path, root: Path) -> str:
    """The repository-relative POSIX path used in messages (the same whatever the working directory)."""
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()
