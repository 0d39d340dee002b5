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
CHECK_ID = "commit-message"  # ci_tools.hygiene.commits.CHECK_ID


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
    from ci_tools.core.git import GitError
    from ci_tools.core.output import source_lines
    from ci_tools.core.output.summary import append_summary
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.hygiene import commits, conventional

    if not (args.range or args.title is not None or args.message_file):
        raise UsageError("nothing to check; give BASE..HEAD, --title TEXT or --message-file FILE")
    if args.current_version and conventional.parse_version(args.current_version) is None:
        raise UsageError(f'--current-version "{args.current_version}" is not a version; write X.Y.Z')
    root, config = load_settings(args)
    options = config.raw.get("commits") or {}
    messages = commits.Messages(commits.rules_from(options))

    if args.title is not None:
        title = args.title
        if "\n" in title.strip() or "\r" in title.strip():
            raise UsageError("--title takes one line; use --message-file for a whole message")
        messages.add("title", title.strip(), None, allow_merge=False)  # the squash commit's header: no merge

    if args.message_file:
        try:
            text = args.message_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise FatalError(f"{args.message_file}: not UTF-8 text") from None
        except OSError as exc:
            raise UsageError(f"{args.message_file}: {exc.strerror or exc}") from None
        messages.add(_display(args.message_file), text, commits.comment_char(root), pseudo=False)

    bump_text = ""
    extra: dict = {}
    n_commits = 0
    if args.range:
        try:
            base, head = commits.split_range(args.range)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        try:
            result = commits.check_range(
                root, base, head, messages, current_version=args.current_version,
                bump_minor_pre_major=commits.bump_option(args.bump_minor_pre_major, options, root,
                                                         "bump-minor-pre-major"),
                bump_patch_for_minor_pre_major=commits.bump_option(args.bump_patch_for_minor_pre_major, options,
                                                                   root, "bump-patch-for-minor-pre-major"))
        except GitError as exc:
            raise FatalError(str(exc)) from None
        n_commits, bump_text, extra = result.commits, result.text(), {"bump": result.as_dict()}
        if args.bump_output:
            with open(args.bump_output, "a", encoding="utf-8") as handle:
                handle.write(f"bump={result.bump.level}\nnext-version={result.bump.next or ''}\n")

    sources = messages.sources
    findings = finalize(messages.findings, config, sources)
    if args.summary:
        heading, ok_text = commits.summary_texts(title=args.title is not None, message_file=bool(args.message_file),
                                                 commits=n_commits if args.range else None)
        append_summary(args.summary, heading, findings, source=source_lines(sources), ok_text=ok_text,
                       extra=f"**{bump_text}**" if bump_text else "")
    return emit(findings, args, sources, extra=extra, extra_text=bump_text)


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()
