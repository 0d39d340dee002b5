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


def run(args: argparse.Namespace) -> int:
    from ci_tools.commands._common import load_settings
    from ci_tools.gha.discovery import excluded
    from ci_tools.review import docs

    root, config = load_settings(args)

    def skip(path: Path) -> bool:
        return excluded(path, root, list(config.exclude))

    plan = docs.gather(args.paths, root, skip)
    if not plan.markdown and not plan.problems:
        sys.stderr.write("ci-tools docs: nothing to do: no ci-tools-docs markers and no action under actions/\n")
        return 0
    done = docs.regenerate(plan, root)
    if args.check:
        for line in done.drift:
            sys.stdout.write(f"{line}\n")
    elif done.pending:  # every table or none (a failure puts back what was written and says so)
        from ci_tools.core.fsutil import WriteError, write_all
        from ci_tools.errors import FatalError

        try:
            write_all(done.pending)
        except WriteError as exc:
            raise FatalError(str(exc)) from None
        for _, _, shown in done.pending:
            sys.stdout.write(f"updated {shown}\n")
    for problem in done.problems:
        sys.stderr.write(f"{problem}\n")
    if args.check and done.drifted:
        sys.stderr.write(f"ci-tools docs: {done.drifted} file{'s' * (done.drifted != 1)} out of date; "
                         "run `ci-tools docs`\n")
    return 1 if done.problems or done.drifted else 0  # a fixing command exits 1 when it changed files (STYLE.md)
