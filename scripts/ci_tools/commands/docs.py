"""``ci-tools docs``: (re)generate the inputs, secrets and outputs tables of actions and reusable workflows.

The tables sit between ``<!-- ci-tools-docs:KIND [PATH] -->`` markers in markdown files
(:mod:`ci_tools.gha.docsgen` describes them). With no PATHS every markdown file of the repository that
holds a marker is regenerated, every action under ``actions/`` must have a ``README.md`` with its
inputs and outputs markers, and once markers name some reusable workflow of
``.github/workflows/``, every reusable workflow there must be named by one. A PATH may be a directory, a markdown file, an action file (its
README) or a reusable workflow (the markdown files whose markers name it).

Only the lines between markers change; files are written atomically. Exit 0 when every table was up
to date, 1 when tables were written (``--check`` writes nothing and exits 1 when one is out of date).
Exit 1 also for a missing README, missing or broken markers or a marker naming a file that is neither
an action nor a reusable workflow; the other files are still written.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

NAME = "docs"
HELP = "generate (or --check) the inputs/secrets/outputs tables of actions and reusable workflows in markdown"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_repository_arguments

    parser.epilog = ("exit status: 0 when nothing needed changing; 1 when files were changed (with --check: would "
                     "be) or a README or marker has a problem; 2 usage error; 3 fatal error (then no file is "
                     "changed); 130 interrupted")
    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="directories, markdown files, action files or reusable workflows "
                             "(default: the whole repository)")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true",
                      help="write nothing; exit 1 listing the tables that are out of date")
    mode.add_argument("--write", action="store_true", help="write the tables (the default)")
    add_repository_arguments(parser, "configuration file (its `exclude` globs are skipped)")


class _Plan:
    """The markdown files to regenerate and the problems found while choosing them."""

    def __init__(self) -> None:
        self.markdown: dict[str, Path] = {}  # realpath -> path
        self.actions: dict[str, Path] = {}
        self.workflows: dict[str, Path] = {}
        self.problems: list[str] = []

    def add(self, bucket: dict[str, Path], path: Path) -> None:
        bucket.setdefault(os.path.realpath(path), path)


def run(args: argparse.Namespace) -> int:
    from ci_tools.commands._common import load_settings
    from ci_tools.gha import docsgen
    from ci_tools.gha.discovery import excluded
    from ci_tools.gha.source import display_path, load

    root, config = load_settings(args)

    def skip(path: Path) -> bool:
        return excluded(path, root, list(config.exclude))

    plan = _choose(args.paths, root, skip)
    show = lambda p: display_path(Path(p))  # noqa: E731 - paths as the user typed them, relative to cwd
    problems = list(plan.problems)
    for action in plan.actions.values():
        problem = docsgen.action_readme_problem(action, root, _rel(action, root))
        if problem:
            problems.append(f"{show(action)}:1:1: {problem}")
        elif (action.parent / docsgen.README).is_file():
            plan.add(plan.markdown, action.parent / docsgen.README)
    for workflow in plan.workflows.values():
        naming = [md for md in docsgen.markdown_files(root, skip) if _names(md, workflow, root)]
        if not naming:
            rel = _rel(workflow, root)
            problems.append(f'{show(workflow)}:1:1: no markdown file has markers for "{rel}"; add '
                            f'"<!-- ci-tools-docs:inputs {rel} -->" and its closing marker where it is documented')
        for md in naming:
            plan.add(plan.markdown, md)
    if not args.paths:
        problems += _undocumented(plan, root, skip)
    if not plan.markdown and not problems:
        sys.stderr.write("ci-tools docs: nothing to do: no ci-tools-docs markers and no action under actions/\n")
        return 0

    loaded: dict[str, object] = {}

    def load_yaml(path: Path):
        key = os.path.realpath(path)
        if key not in loaded:
            loaded[key] = load(path, root=root, display=_rel(path, root))
        return loaded[key]

    drifted = 0
    pending: list[tuple[Path, bytes, str]] = []
    for path in sorted(plan.markdown.values(), key=lambda p: _rel(p, root)):
        try:
            markdown = docsgen.read_markdown(path)
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(f"{show(path)}:1:1: cannot read: {getattr(exc, 'strerror', None) or exc}")
            continue
        result = docsgen.regenerate(markdown, root, load_yaml)
        problems += [f"{show(path)}:{p.line}:{p.col}: {p.message}" for p in result.problems]
        if not result.changed:
            continue
        drifted += 1
        if args.check:
            for region in result.drifted:
                message = docsgen.drift_message(region, _rel(result.targets[region], root))
                sys.stdout.write(f"{show(path)}:{region.line}:{region.col}: {message}\n")
        else:
            pending.append((path, result.text.encode("utf-8"), show(path)))
    if pending:  # every table or none (a failure puts back what was written and says so)
        from ci_tools.core.fsutil import WriteError, write_all
        from ci_tools.errors import FatalError

        try:
            write_all(pending)
        except WriteError as exc:
            raise FatalError(str(exc)) from None
        for _, _, shown in pending:
            sys.stdout.write(f"updated {shown}\n")
    for problem in problems:
        sys.stderr.write(f"{problem}\n")
    if args.check and drifted:
        sys.stderr.write(f"ci-tools docs: {drifted} file{'s' * (drifted != 1)} out of date; run `ci-tools docs`\n")
    return 1 if problems or drifted else 0  # a fixing command exits 1 when it changed files (STYLE.md)


def _choose(paths: list[Path], root: Path, skip) -> _Plan:
    from ci_tools.errors import UsageError
    from ci_tools.gha import docsgen
    from ci_tools.gha.discovery import default_files, expand
    from ci_tools.gha.source import classify, display_path, load

    plan = _Plan()
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


def _undocumented(plan: _Plan, root: Path, skip) -> list[str]:
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
    example = _rel(sorted(named.values())[0], root)
    out = []
    for path in sorted(folder.iterdir()):
        if path.suffix not in YAML_SUFFIXES or not path.is_file() or skip(path) or os.path.realpath(path) in named:
            continue
        if docsgen.is_reusable(load(path, root=root)):
            message = docsgen.undocumented_message(_rel(path, root), example)
            out.append(f"{display_path(path)}:1:1: {message}")
    return out


def _names(markdown: Path, target: Path, root: Path) -> bool:
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


def _rel(path: Path, root: Path) -> str:
    """The repository-relative POSIX path used in messages (the same whatever the working directory)."""
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix()
    except ValueError:
        return Path(path).as_posix()
