"""``ci-tools verify``: check that pins say what they are.

Offline (the default), with no request at all:

- every ``uses:`` is well-formed and spelled canonically (``malformed-uses``, ``non-canonical-uses``),
  every image is pinned to a digest (``unpinned-uses``), as ``check`` reports them;
- every remote ref is pinned to a commit with an exact-tag comment (``unpinned-uses``), unless
  ``.github/workflows/actions.lock`` locks it (GitHub's lockfile: a locked tag ref counts as pinned);
- one action at one version maps to one commit across all files read (``inconsistent-pin``);
- pins agree with the lockfile's ``sha1-``/``sha256-`` commits (``lockfile-mismatch``).

``--online`` re-resolves every repository (ignoring cached tags; what it learns replaces the cache)
and adds ``tag-moved`` (a full version tag named by the comment now points elsewhere, whatever other
tags remain on the pinned commit; a moved tag of an immutable release is an alarm no ignore comment or
configuration can silence), ``stale-comment`` (the comment names a tag that is not on the commit), ``impostor-commit`` (the commit is on no branch or
tag of the repository: e.g. a fork's commit served under the parent's name), ``ref-confusion`` (a
name that is both a branch and a tag), ``unresolved-ref`` (a commit or repository that does not
exist) and, with a lockfile, a repository id that changed (``lockfile-mismatch``: the name now
belongs to another repository). It lists on stderr, per pinned version, whether its release is
immutable. GitHub's advisory database is optional: a server without it is named in a warning and
everything else is still reported. ``--transitive`` also audits the actions those actions use, through
:func:`ci_tools.pin.transitive.audit` when that module is installed.

The checks themselves are :mod:`ci_tools.pin.verify` (``report --online`` runs them too). Tag refs of
repositories matching ``[tool.ci-tools.pin] exclude`` are meant to stay tags and are not reported; their
pinned refs are still verified.
"""

from __future__ import annotations

import argparse

NAME = "verify"
HELP = "verify that pins are consistent, commented and (with --online) still what their tags say"

LOCKFILE = ".github/workflows/actions.lock"


def add_arguments(parser: argparse.ArgumentParser) -> None:

    from ci_tools.commands import _pin as _pincommon
    from ci_tools.commands._common import add_output_arguments

    _pincommon.add_file_arguments(parser)
    add_output_arguments(parser)
    parser.add_argument("--online", action="store_true",
                        help="re-resolve every repository: moved tags, impostor commits, ref confusion")
    parser.add_argument("--lockfile", metavar="FILE",
                        help=f"GitHub actions lockfile (default: {LOCKFILE} under the root, when present)")
    parser.add_argument("--transitive", action="store_true",
                        help="also audit the actions that the pinned actions use (with --online)")
    _pincommon.add_resolution_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ci_tools.commands import _pin as _pincommon
    from ci_tools.pin import lockfile
    from ci_tools.pin import verify as verification
    from ci_tools.pin.occurrences import collect

    root, config, docs = _pincommon.load(args)
    findings = [f for d in docs for f in d.findings]
    # [tool.ci-tools.pin] exclude: those repositories are meant to stay on tags; their pins are still checked
    occurrences = [o for o in collect(docs) if o.ref.is_sha or not config.pin.excludes(o.repo)]
    if args.lockfile and not Path(args.lockfile).is_file():
        from ci_tools.errors import UsageError

        what = "is not a file" if Path(args.lockfile).exists() else "no such file"
        raise UsageError(f"--lockfile {args.lockfile}: {what}")  # never verified against nothing in silence
    lock_path = Path(args.lockfile) if args.lockfile else root / LOCKFILE
    lock = None
    if lock_path.is_file():
        lock, problems = lockfile.read(lock_path, root)
        findings.extend(problems)
    findings.extend(verification.reference_findings(docs))
    findings.extend(verification.offline_findings(occurrences, lock))
    alarms: list = []
    if args.online:
        findings.extend(online(args, occurrences, lock, docs, root, alarms))
    elif args.transitive:
        from ci_tools.errors import UsageError

        raise UsageError("--transitive needs --online")
    return _pincommon.finish(findings, args, docs, config, alarms=alarms)


def online(args, occurrences, lock, docs, root, alarms: list) -> list:
    from ci_tools.commands import _pin as _pincommon
    from ci_tools.errors import FatalError
    from ci_tools.gha import resolve
    from ci_tools.gha.resolve.base import repo_key
    from ci_tools.pin import verify as verification
    from ci_tools.pin.plan import prefetch

    resolver = _pincommon.resolver(args, refresh=True)
    findings = []
    try:
        resolved = prefetch(resolver, occurrences, args.jobs, need_refs_for_pinned=True)
        pinned = {repo_key(o.repo): o.repo for o in occurrences
                  if o.ref.is_sha and repo_key(o.repo) in resolved.refs}
        releases = verification.releases_by_tag(resolver, pinned, args.jobs)
        findings.extend(verification.online_findings(resolver, resolved, occurrences, releases, alarms))
        lines = verification.immutability_lines(resolved, occurrences, releases)
        if lines:
            _pincommon.note("ci-tools verify: releases of the pinned versions:\n" + "\n".join(f"  {line}" for line in lines))
        from ci_tools.gha import advisories  # GitHub's advisory database for the actions ecosystem

        skipped: list[str] = []
        findings.extend(advisories.online_findings(docs, resolver, skipped))
        for what in skipped:  # an optional source that is missing: named, and everything else still reported
            _pincommon.note(f"ci-tools verify: warning: {what}")
        if lock is not None:
            findings.extend(lock.check_ids(resolver, occurrences, args.jobs))
        if args.transitive:
            import importlib.util

            if importlib.util.find_spec("ci_tools.pin.transitive") is None:
                raise FatalError("--transitive needs ci_tools.pin.transitive, which is not installed")
            from ci_tools.pin import transitive

            findings.extend(transitive.audit(occurrences=occurrences, resolver=resolver, resolved=resolved,
                                             docs=docs, root=root, jobs=args.jobs))
    except resolve.ResolveError as exc:
        raise FatalError(str(exc)) from None
    finally:
        resolver.close()
    return findings
