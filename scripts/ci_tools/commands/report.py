"""``ci-tools report``: every external dependency, for a security review or a pull request.

Offline by default (the files only): each action, reusable workflow and container image with its
pinned SHA or digest, the version it claims, first-party or third-party (``organisation-owners``
in the configuration, or ``[tool.ci-tools.report] organisation-owners``), and every ``file:line``
using it; known-compromised versions are marked. ``--online`` adds, per repository and once
(through the pin cache): the release's publish date and age, the newest release of the same major,
the verification status (does the version's tag still point at the pinned commit), GitHub's
advisory database, and the actions each pinned action uses in turn (the transitive audit).

Formats: ``markdown`` (with a Mermaid graph: workflows → actions → the actions they use),
``json`` (versioned), ``sarif`` (one result per use, at the level of its risk: ``error`` for a
version known to be compromised, ``warning`` for one not pinned, ``note`` otherwise; plus the
findings), ``text``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "report"
HELP = "inventory of every external action, reusable workflow and image: pins, versions, uses, status"
FORMATS = ("markdown", "json", "sarif", "text")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands._common import add_repository_arguments
    from ci_tools.commands._pin import add_resolution_arguments

    parser.add_argument("paths", nargs="*", type=Path, metavar="PATH",
                        help="files or directories (default: the files `ci-tools check` reads)")
    parser.add_argument("--format", choices=FORMATS, default="markdown", help="output format (default: markdown)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the report to FILE")
    parser.add_argument("--online", action="store_true",
                        help="add release dates, newest release of the same major, verification status, "
                             "advisories and transitive dependencies (GitHub API or git)")
    parser.add_argument("--depth", type=int, default=None, metavar="N",
                        help="with --online: levels of actions used by actions to follow (default: 3)")
    parser.add_argument("--exclude", action="append", default=[], metavar="GLOB", help="skip paths matching GLOB")
    add_repository_arguments(parser)
    add_resolution_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import datetime as dt
    import io
    import sys

    from ci_tools.commands._common import finalize, load_settings
    from ci_tools.core.output import write
    from ci_tools.core.redact import redact
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.gha.discovery import DiscoveryError
    from ci_tools.lint import checks, engine
    from ci_tools.review import inventory, render

    root, config = load_settings(args)
    from ci_tools.commands import _pin

    _pin.settle(args, config)  # via, git-url-template, cache-ttl and jobs of [tool.ci-tools.pin]
    options = config.raw.get("report", {}) if isinstance(config.raw.get("report"), dict) else {}
    owners = list(options.get("organisation-owners", config.organisation_owners))
    depth = args.depth if args.depth is not None else int(options.get("depth", 3))
    if depth < 0:
        raise UsageError("--depth must be 0 or more")
    try:
        files = engine.collect_files(list(args.paths), root, config, args.exclude)
    except DiscoveryError as exc:
        raise UsageError(str(exc)) from None
    docs = engine.load_documents(files, root)
    inv = inventory.build(docs, owners, config.repository)
    inv.findings.extend(f for d in docs for f in d.findings)
    from ci_tools.gha import advisories

    for doc in docs:
        inv.findings.extend(advisories.findings(doc))
    now = dt.datetime.now(dt.UTC)
    inv.generated_at = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    if args.online:
        from ci_tools.gha import resolve

        resolver = _pin.resolver(args)
        try:
            inventory.enrich(inv, docs, resolver, now=now, depth=depth, jobs=args.jobs)
        except resolve.ResolveError as exc:
            raise FatalError(str(exc)) from None
        finally:
            resolver.close()
        for what in inv.skipped:
            sys.stderr.write(redact(f"ci-tools report: warning: {what}") + "\n")
    inv.findings = finalize(inv.findings, config, docs)
    buffer = io.StringIO()
    if args.format == "sarif":
        render.render_sarif(inv, buffer, describe=checks.describe)
    else:
        render.RENDERERS[args.format](inv, buffer)
    write(buffer.getvalue(), args.output)
    return 0
