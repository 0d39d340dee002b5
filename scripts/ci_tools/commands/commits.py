"""``ci-tools commits``: Conventional Commit messages of a pull request title, a range or a message file.

Three sources, which may be combined in one call:

- ``--title TEXT``: a pull request title (the header of the squash commit GitHub will make);
- ``BASE..HEAD`` (or ``BASE``, meaning ``BASE..HEAD``): every commit reachable from HEAD and not
  from BASE, read with ``git log`` in the repository. **Merge commits are skipped**
  (``--no-merges``): GitHub and ``git merge`` write their headers ("Merge pull request #1 from ...",
  "Merge branch 'main' into ...") and release-please ignores them too. The range also prints the
  semver bump release-please would propose (see :mod:`ci_tools.hygiene.conventional`);
- ``--message-file FILE``: a message being committed, for the ``commit-msg`` pre-commit hook.
  Comment lines (``core.commentChar``, ``#`` by default) and everything below git's scissors line
  are ignored, as git does with ``--cleanup=strip``; a merge message is accepted as it is.

Configuration (``[tool.ci-tools.commits]``): ``types``, ``scopes``, ``require-scope``,
``max-header-length``, ``bump-minor-pre-major``, ``bump-patch-for-minor-pre-major``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "commits"
HELP = "validate Conventional Commit messages (PR title, BASE..HEAD range or message file) and print the bump"
CHECK_ID = "commit-message"


def add_arguments(parser: argparse.ArgumentParser) -> None:

    from ci_tools.commands._common import add_common_arguments

    parser.add_argument("range", nargs="?", metavar="BASE..HEAD",
                        help="commits to check: BASE..HEAD, or BASE for BASE..HEAD (merge commits are skipped)")
    parser.add_argument("--title", metavar="TEXT", help="check a pull request title")
    parser.add_argument("--message-file", type=Path, metavar="FILE",
                        help="check a commit message file (the commit-msg hook passes .git/COMMIT_EDITMSG)")
    parser.add_argument("--current-version", metavar="X.Y.Z",
                        help="version the bump starts from (default: \".\" in .release-please-manifest.json)")
    parser.add_argument("--bump-minor-pre-major", action="store_true", default=None,
                        help="below 1.0.0 a breaking change bumps the minor version (release-please's option of "
                             "the same name; default: from configuration or release-please-config.json, else off)")
    parser.add_argument("--bump-patch-for-minor-pre-major", action="store_true", default=None,
                        help="below 1.0.0 a feature bumps the patch version (release-please's option)")
    parser.add_argument("--bump-output", type=Path, metavar="FILE",
                        help="append bump=LEVEL and next-version=X.Y.Z lines to FILE (the action passes $GITHUB_OUTPUT)")
    add_common_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ci_tools.commands._common import emit, finalize, load_settings
    from ci_tools.core.findings import Finding, Location
    from ci_tools.core.git import GitError, git, verify_revision
    from ci_tools.core.output import TextSource
    from ci_tools.core.output.summary import append_summary
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.hygiene import conventional

    if not (args.range or args.title is not None or args.message_file):
        raise UsageError("nothing to check; give BASE..HEAD, --title TEXT or --message-file FILE")
    if args.current_version and conventional.parse_version(args.current_version) is None:
        raise UsageError(f'--current-version "{args.current_version}" is not a version; write X.Y.Z')
    root, config = load_settings(args)
    options = config.raw.get("commits") or {}
    rules = conventional.Rules(
        types=tuple(options.get("types") or conventional.DEFAULT_TYPES),
        scopes=tuple(options["scopes"]) if options.get("scopes") else None,
        require_scope=bool(options.get("require-scope", False)),
        max_header_length=int(options.get("max-header-length", conventional.DEFAULT_MAX_HEADER_LENGTH)),
    )

    findings: list[Finding] = []
    sources: list[TextSource] = []

    def add(display: str, text: str, comment_char: str | None, pseudo: bool = True,
            allow_merge: bool = True) -> conventional.Message:
        msg, problems = conventional.check_message(text, rules, comment_char, allow_merge)
        sources.append(TextSource(display, text, pseudo))
        for p in problems:
            findings.append(Finding(CHECK_ID, p.severity, p.message, Location(display, p.line, p.col, p.line, p.end_col)))
        return msg

    if args.title is not None:
        title = args.title
        if "\n" in title.strip() or "\r" in title.strip():
            raise UsageError("--title takes one line; use --message-file for a whole message")
        add("title", title.strip(), None, allow_merge=False)  # the squash commit's header: no merge

    if args.message_file:
        try:
            text = args.message_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise FatalError(f"{args.message_file}: not UTF-8 text") from None
        except OSError as exc:
            raise UsageError(f"{args.message_file}: {exc.strerror or exc}") from None
        add(_display(args.message_file), text, _comment_char(root), pseudo=False)

    bump_text = ""
    extra: dict = {}
    n_commits = 0
    if args.range:
        base, head = _split_range(args.range)
        try:
            verify_revision(base, root)
            verify_revision(head, root)
            if not git(["merge-base", base, head], root, check=False).strip():
                raise GitError(f'"{base}" and "{head}" share no history in this clone, so the range would '
                                       "take in commits of the base; fetch the whole history (actions/checkout "
                                       "with fetch-depth: 0)")
            spec = f"{base}..{head}"
            raw = git(["log", "--no-merges", "-z", "--format=%H%n%B", spec, "--"], root)
            merges = int(git(["rev-list", "--count", "--merges", spec, "--"], root).decode().strip() or 0)
        except GitError as exc:
            raise FatalError(str(exc)) from None
        commits = []
        for record in raw.decode("utf-8", "replace").split("\0"):
            if not record.strip():
                continue
            sha, _, body = record.partition("\n")
            commits.append((sha, body))
        n_commits = len(commits)
        messages = []
        for sha, body in reversed(commits):  # oldest first in the report
            messages.append(add(sha[:12], body, None))
        current = args.current_version or _manifest_version(root)
        minor_pre = _option(args.bump_minor_pre_major, options, root, "bump-minor-pre-major")
        patch_pre = _option(args.bump_patch_for_minor_pre_major, options, root, "bump-patch-for-minor-pre-major")
        bump = conventional.compute_bump(list(reversed(messages)), current,
                                         bump_minor_pre_major=minor_pre, bump_patch_for_minor_pre_major=patch_pre)
        bump_text = _bump_text(bump, len(commits), merges)
        extra = {"bump": {
            "level": bump.level, "reason": bump.reason, "commits": len(commits), "conventional": bump.counted,
            "ignored": bump.ignored, "merges_skipped": merges, "current_version": bump.current,
            "next_version": bump.next, "release_as": bump.release_as,
        }}
        if args.bump_output:
            with open(args.bump_output, "a", encoding="utf-8") as handle:
                handle.write(f"bump={bump.level}\nnext-version={bump.next or ''}\n")

    findings = finalize(findings, config, sources)
    if args.summary:
        by_name = {s.display: s for s in sources}

        def lookup(path: str, line: int):
            src = by_name.get(path)
            return src.line_text(line) if src else None

        checked = " and ".join(part for part in (
            "the title" if args.title is not None else "",
            f"{n_commits} commit{'s' if n_commits != 1 else ''}" if args.range else "",
            "the message" if args.message_file else "") if part)
        heading = ("Pull request title" if not (args.range or args.message_file)
                   else "Commit message" if not (args.range or args.title is not None) else "Commit messages")
        append_summary(args.summary, heading, findings, source=lookup,
                               ok_text=f"{checked} follow{'s' if ' and ' not in checked and checked.startswith(('the ', '1 ')) else ''} "
                                       "Conventional Commits",
                               extra=f"**{bump_text}**" if bump_text else "")
    return emit(findings, args, sources, extra=extra, extra_text=bump_text)


def _split_range(text: str) -> tuple[str, str]:
    from ci_tools.errors import UsageError

    if "..." in text:
        raise UsageError(f'"{text}": use BASE..HEAD (two dots): the commits of HEAD that BASE does not have')
    base, sep, head = text.partition("..")
    if not base or (sep and not head):
        raise UsageError(f'"{text}" is not a range; write BASE..HEAD, e.g. origin/main..HEAD')
    return base, head or "HEAD"


def _bump_text(bump, commits: int, merges: int) -> str:
    parts = [f"{commits} commit{'s' if commits != 1 else ''} checked"]
    if bump.ignored:
        parts.append(f"{bump.ignored} not conventional (release-please ignores {'it' if bump.ignored == 1 else 'them'})")
    if merges:
        parts.append(f"{merges} merge commit{'s' if merges != 1 else ''} skipped")
    text = f"semver bump: {bump.level} ({bump.reason}; {', '.join(parts)})"
    if bump.next:
        text += f"; next version {bump.current or '?'} -> {bump.next}"
    return text


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _comment_char(root: Path) -> str:
    """``core.commentChar`` of the repository (``#`` when unset or ``auto``)."""
    from ci_tools.core.git import GitError, git

    try:
        value = git(["config", "--get", "core.commentChar"], root, check=False).decode().strip()
    except GitError:
        return "#"
    return value if value and value != "auto" else "#"


def _read_json(path: Path):
    import json

    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _manifest_version(root: Path) -> str | None:
    data = _read_json(root / ".release-please-manifest.json")
    value = data.get(".") if isinstance(data, dict) else None
    return value if isinstance(value, str) else None


def _option(cli_value: bool | None, options: dict, root: Path, key: str) -> bool:
    """CLI flag, else ``[tool.ci-tools.commits]``, else release-please-config.json (top level or ".")."""
    if cli_value is not None:
        return cli_value
    if key in options:
        return bool(options[key])
    data = _read_json(root / "release-please-config.json")
    if isinstance(data, dict):
        package = (data.get("packages") or {}).get(".") or {}
        if isinstance(package, dict) and key in package:
            return bool(package[key])
        if key in data:
            return bool(data[key])
    return False
