"""``ci-tools branch [NAME]``: the head branch of a pull request against the allowed name patterns.

Patterns are Python regular expressions that must match the whole name. The defaults follow the
organisation's Git guidelines plus the branches bots create::

    feature/<name>  fix/<name>  hotfix/<name>  release/vX.Y.Z
    dependabot/<ecosystem>/<...>  release-please--<...>

Configuration (``[tool.ci-tools.branches]``): ``patterns`` replaces the list, ``extra-patterns``
adds to it. NAME defaults to ``$GITHUB_HEAD_REF`` (set on ``pull_request`` runs), else the
current branch.
"""

from __future__ import annotations

import argparse

NAME = "branch"
HELP = "check a branch name against the allowed patterns (feature/..., fix/..., hotfix/..., release/vX.Y.Z)"
CHECK_ID = "branch-name"

_NAME = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    (rf"feature/{_NAME}", "feature/<name>"),
    (rf"fix/{_NAME}", "fix/<name>"),
    (rf"hotfix/{_NAME}", "hotfix/<name>"),
    (r"release/v(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)", "release/vX.Y.Z"),
    (r"dependabot/.+", "dependabot/... (Dependabot)"),
    (r"release-please--.+", "release-please--... (release-please)"),
)
_PREFIX_HINTS = {"feat": "feature", "features": "feature", "bugfix": "fix", "bug": "fix", "fixes": "fix",
                 "hot-fix": "hotfix", "hotfixes": "hotfix", "releases": "release"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.hygiene import add_common_arguments

    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="branch name (default: $GITHUB_HEAD_REF, else the current branch)")
    add_common_arguments(parser)


def patterns_from(options: dict) -> list[tuple[str, str]]:
    """``(regex, description)`` pairs from ``[tool.ci-tools.branches]``; bad regexes are usage errors."""
    import re

    from ci_tools.cli import UsageError

    if options.get("patterns"):
        patterns = [(p, p) for p in options["patterns"]]
    else:
        patterns = list(DEFAULT_PATTERNS)
    patterns += [(p, p) for p in options.get("extra-patterns") or []]
    for regex, _ in patterns:
        try:
            re.compile(regex)
        except re.error as exc:
            raise UsageError(f'[tool.ci-tools.branches] pattern "{regex}" is not a regular expression: {exc}') from None
    return patterns


def check_name(name: str, patterns: list[tuple[str, str]]):
    """A :class:`~ci_tools.conventional.Problem` when ``name`` matches no pattern, else None."""
    import re

    from ci_tools.conventional import Problem

    if any(re.fullmatch(regex, name) for regex, _ in patterns):
        return None
    allowed = ", ".join(desc for _, desc in patterns)
    prefix, slash, rest = name.partition("/")
    suggestion = None
    if slash:
        fixed = _PREFIX_HINTS.get(prefix.lower(), prefix.lower())
        candidate = f"{fixed}/{rest}"
        if candidate != name and any(re.fullmatch(regex, candidate) for regex, _ in patterns):
            suggestion = candidate
        if suggestion is None and rest:
            candidate = f"{fixed}/{re.sub(r'[^A-Za-z0-9._/-]+', '-', rest).strip('-')}"
            if candidate != name and any(re.fullmatch(regex, candidate) for regex, _ in patterns):
                suggestion = candidate
    start, end = 1, len(name) + 1
    if suggestion and suggestion.split("/", 1)[0] != prefix:
        end = len(prefix) + 1  # the prefix is what is wrong
    hint = f'rename it, e.g. "{suggestion}"' if suggestion else "rename it"
    return Problem(1, start, max(end, start + 1),
                   f'branch name "{name}" matches none of the allowed patterns; {hint} '
                   f"(git branch -m); allowed: {allowed}")


def run(args: argparse.Namespace) -> int:
    import os

    from ci_tools import hygiene
    from ci_tools.cli import UsageError
    from ci_tools.config import load_settings
    from ci_tools.model import Finding, Location

    root, config = load_settings(args)
    name = args.name or os.environ.get("GITHUB_HEAD_REF") or ""
    if not name:
        try:
            name = hygiene.git(["symbolic-ref", "--quiet", "--short", "HEAD"], root).decode().strip()
        except hygiene.GitError:
            raise UsageError("no branch name given and HEAD is detached; pass NAME") from None
    name = name.removeprefix("refs/heads/")
    patterns = patterns_from(config.raw.get("branches") or {})
    problem = check_name(name, patterns)
    findings = []
    if problem is not None:
        findings.append(Finding(CHECK_ID, problem.severity, problem.message,
                                Location("branch", 1, problem.col, 1, problem.end_col)))
    findings = hygiene.configure(findings, config)
    source = hygiene.TextSource("branch", name)
    if args.summary:
        hygiene.append_summary(args.summary, "Branch name", findings, source=lambda p, n: source.line_text(n),
                               ok_text=f'"{name}" matches the allowed patterns')
    return hygiene.emit(findings, args, [source])
