"""``ci-tools branch [NAME]``: the head branch of a pull request against the allowed name patterns.

Patterns are Python regular expressions that must match the whole name. The defaults follow the
GitFlow model the organisation teaches (the README draws it): work happens on short-lived branches
off ``develop``, merged back by pull request; ``develop`` is promoted by pull request to ``test``,
then through ``release/vX.Y.Z`` to ``main``. So the long-lived ``develop`` and ``test`` are
pull-request heads too, and so are the branches bots open::

    develop  test
    feature/<name>  feat/<name>  fix/<name>  hotfix/<name>  release/vX.Y.Z
    dependabot/...  renovate/...  release-please--...  pre-commit-ci-update-config

``feat/`` is there because ``feat`` is the Conventional Commit type people also name branches
after. Configuration (``[tool.ci-tools.branches]``): ``patterns`` replaces the list,
``extra-patterns`` adds to it (``extra-patterns = ["staging"]`` for one more long-lived branch).
NAME defaults to ``$GITHUB_HEAD_REF`` (set on ``pull_request`` runs), else the current branch.
"""

from __future__ import annotations

import argparse

NAME = "branch"
HELP = ("check a branch name against the allowed patterns (GitFlow: develop, test, feature/..., feat/..., fix/..., "
        "hotfix/..., release/vX.Y.Z and the bots' branches)")
CHECK_ID = "branch-name"

_NAME = r"[A-Za-z0-9][A-Za-z0-9._/-]*"
_VERSION = r"v(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)\.(?:0|[1-9][0-9]*)"
DEFAULT_PATTERNS: tuple[tuple[str, str], ...] = (
    ("develop", "develop"),
    ("test", "test"),
    (rf"feature/{_NAME}", "feature/<name>"),
    (rf"feat/{_NAME}", "feat/<name>"),
    (rf"fix/{_NAME}", "fix/<name>"),
    (rf"hotfix/{_NAME}", "hotfix/<name>"),
    (rf"release/{_VERSION}", "release/vX.Y.Z"),
    (r"dependabot/.+", "dependabot/... (Dependabot)"),
    (r"renovate/.+", "renovate/... (Renovate)"),
    (r"release-please--.+", "release-please--... (release-please)"),
    (r"pre-commit-ci-update-config", "pre-commit-ci-update-config (pre-commit.ci)"),
)
_PREFIX_HINTS = {"features": "feature", "bugfix": "fix", "bug": "fix", "fixes": "fix", "hot-fix": "hotfix",
                 "hotfixes": "hotfix", "releases": "release"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_common_arguments

    parser.add_argument("name", nargs="?", metavar="NAME",
                        help="branch name (default: $GITHUB_HEAD_REF, else the current branch)")
    add_common_arguments(parser)


def patterns_from(options: dict) -> list[tuple[str, str]]:
    """``(regex, description)`` pairs from ``[tool.ci-tools.branches]``; bad regexes are usage errors."""
    import re

    from ci_tools.errors import UsageError

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


def _matches(name: str, patterns: list[tuple[str, str]]) -> bool:
    import re

    return any(re.fullmatch(regex, name) for regex, _ in patterns)


def _suggestion(name: str, patterns: list[tuple[str, str]]) -> str | None:
    """A name the patterns accept that is one slip away from ``name``, or None."""
    import re

    candidates = [name.lower()]
    prefix, slash, rest = name.partition("/")
    if not slash:  # "feature-login", "hotfix_12": the separator typed in place of "/"
        m = re.match(r"([A-Za-z-]+?)[-_](.+)\Z", name)
        if m:
            prefix, slash, rest = m[1], "/", m[2]
    if slash:
        fixed = _PREFIX_HINTS.get(prefix.lower(), prefix.lower())
        candidates.append(f"{fixed}/{rest}")
        if fixed == "release" and re.fullmatch(r"[0-9]+\.[0-9]+\.[0-9]+", rest):
            candidates.append(f"release/v{rest}")
        if rest:
            candidates.append(f"{fixed}/{re.sub(r'[^A-Za-z0-9._/-]+', '-', rest).strip('-')}")
    return next((c for c in candidates if c != name and _matches(c, patterns)), None)


def check_name(name: str, patterns: list[tuple[str, str]]):
    """A :class:`~ci_tools.hygiene.conventional.Problem` when ``name`` matches no pattern, else None."""
    from ci_tools.hygiene.conventional import Problem

    if _matches(name, patterns):
        return None
    allowed = ", ".join(desc for _, desc in patterns)
    suggestion = _suggestion(name, patterns)
    prefix = name.partition("/")[0]
    start, end = 1, len(name) + 1
    if suggestion and "/" in name and suggestion.split("/", 1)[0] != prefix \
            and suggestion.split("/", 1)[1] == name.split("/", 1)[1]:
        end = len(prefix) + 1  # the prefix is what is wrong
    hint = f'rename it, e.g. "{suggestion}"' if suggestion else "rename it"
    return Problem(1, start, max(end, start + 1),
                   f'branch name "{name}" matches none of the allowed patterns; {hint} '
                   f"(git branch -m); allowed: {allowed}")


def run(args: argparse.Namespace) -> int:
    import os

    from ci_tools.commands._common import emit, finalize, load_settings
    from ci_tools.core.findings import Finding, Location
    from ci_tools.core.git import GitError, git
    from ci_tools.core.output import TextSource
    from ci_tools.core.output.summary import append_summary
    from ci_tools.errors import UsageError

    root, config = load_settings(args)
    name = args.name or os.environ.get("GITHUB_HEAD_REF") or ""
    if not name:
        try:
            name = git(["symbolic-ref", "--quiet", "--short", "HEAD"], root).decode().strip()
        except GitError:
            raise UsageError("no branch name given and HEAD is detached; pass NAME") from None
    name = name.removeprefix("refs/heads/")
    patterns = patterns_from(config.raw.get("branches") or {})
    problem = check_name(name, patterns)
    findings = []
    if problem is not None:
        findings.append(Finding(CHECK_ID, problem.severity, problem.message,
                                Location("branch", 1, problem.col, 1, problem.end_col)))
    source = TextSource("branch", name)
    findings = finalize(findings, config, [source])
    if args.summary:
        append_summary(args.summary, "Branch name", findings, source=lambda p, n: source.line_text(n),
                               ok_text=f'"{name}" matches the allowed patterns')
    return emit(findings, args, [source])
