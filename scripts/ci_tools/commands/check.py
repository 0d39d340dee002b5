"""``ci-tools check``: actionlint, schemas and the organisation's policy in one pass."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

NAME = "check"
HELP = "lint workflows, composite actions, templates and Dependabot configuration"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_output_arguments, add_repository_arguments

    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or directories (default: this repository's workflows, actions, "
                             "templates and Dependabot configuration)")
    add_output_arguments(parser)
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB",
                        help="skip paths matching GLOB (repeatable)")
    parser.add_argument("--no-shellcheck", action="store_true", help="do not run shellcheck through actionlint")
    parser.add_argument("--no-actionlint", action="store_true", help="do not run actionlint")
    parser.add_argument("--select", action="append", default=None, metavar="CHECK",
                        help="run only these checks (repeatable)")
    parser.add_argument("--explain", metavar="CHECK", help="print the documentation of a check and exit")
    parser.add_argument("--list", action="store_true", help="list the checks and exit")
    add_repository_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ci_tools.commands._common import emit, finalize, load_settings
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.gha.discovery import DiscoveryError
    from ci_tools.lint import actionlint, checks, engine
    from ci_tools.lint.reference import section

    if args.list:
        for check_id, summary in sorted(checks.summaries().items()):
            print(f"{check_id:24} {summary}")
        return 0
    if args.explain:
        text = section(args.explain)
        if text is None:
            if args.explain in checks.summaries():
                print(f"{args.explain}: {checks.summaries()[args.explain]}")
                return 0
            raise UsageError(f'unknown check "{args.explain}"; run `ci-tools check --list`')
        sys.stdout.write(text)
        return 0

    import gc

    gc.disable()  # node trees hold no cycles; collections over millions of nodes only cost time
    root, config = load_settings(args)
    only = set(args.select) if args.select else None
    if only:
        unknown = only - checks.known_ids()
        if unknown:
            raise UsageError(f'unknown check "{sorted(unknown)[0]}"; run `ci-tools check --list`')
    try:
        files = engine.collect_files(list(args.paths), root, config, args.exclude, require=True)
    except DiscoveryError as exc:
        raise UsageError(str(exc)) from None

    try:
        findings, docs = engine.lint(files, root, config, only, actionlint=not args.no_actionlint,
                                     shellcheck=not args.no_shellcheck)
    except actionlint.ActionlintError as exc:
        raise FatalError(str(exc)) from None
    return emit(finalize(findings, config, docs), args, docs)
