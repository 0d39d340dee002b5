"""``ci-tools diff BASE [HEAD]``: what changed between two revisions, for callers and reviewers.

``HEAD`` defaults to the working tree, uncommitted changes included. What is compared and how (pins
paired by their place, files skipped with why, the interface changes a caller must act on) is
:mod:`ci_tools.review.diff`. Formats: ``markdown`` (default) and ``json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "diff"
HELP = "pins and caller-facing interface changes between two git revisions, as release notes"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_repository_arguments

    parser.add_argument("base", metavar="BASE", help="the older revision (tag, branch or commit)")
    parser.add_argument("head", nargs="?", metavar="HEAD",
                        help="the newer revision (default: the working tree, uncommitted changes included)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown",
                        help="output format (default: markdown)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the notes to FILE")
    add_repository_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import io
    import json
    import sys

    from ci_tools.commands._common import load_settings
    from ci_tools.core.output import write
    from ci_tools.core.redact import redact
    from ci_tools.errors import UsageError
    from ci_tools.review import diff

    root, config = load_settings(args)
    revs = {}
    for label, rev in (("BASE", args.base), ("HEAD", args.head)):
        if rev is None:
            continue
        try:
            revs[label] = diff.git_text(root, "rev-parse", "--verify", "--quiet", "--end-of-options",
                                        f"{rev}^{{commit}}").strip()
        except LookupError:
            raise UsageError(f'{label} "{rev}" is not a commit of the repository at "{root.name}"') from None
    try:
        compared, warnings = diff.compare(root, revs["BASE"], revs.get("HEAD"), config.exclude)
    except LookupError as exc:
        raise UsageError(f"cannot read the revisions: {exc}") from None
    for warning in warnings:
        sys.stderr.write(redact(warning) + "\n")
    result = {"version": 1, "base": args.base, "head": args.head or "working tree", **compared}
    buffer = io.StringIO()
    if args.format == "json":
        json.dump(result, buffer, indent=2, ensure_ascii=False)
        buffer.write("\n")
    else:
        diff.render_markdown(result, buffer)
    write(buffer.getvalue(), args.output)
    return 0
