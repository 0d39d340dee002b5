"""``ci-tools update``: move pins to the newest stable release.

For every remote ``uses:`` whose version (the exact-tag comment of a pin, or the ref itself) is a
semantic version, the repository's releases are read (all pages); drafts and prereleases are
skipped, and so are releases published less than ``--min-age`` days ago (``published_at`` is set by
the server, unlike commit dates, which authors can back-date). The newest within ``--within``
(``major``: same major version, the default; ``minor``; ``any``) wins, and the line becomes
``@<commit> # <tag>``. Prints ``old -> new`` with compare links (``--format json``: a versioned
document). Exit 0 when nothing needed moving, 1 when files were changed (``--diff``: would be) or a
ref could not be updated, 2 usage error, 3 when resolution failed (nothing written).
"""

from __future__ import annotations

import argparse
from datetime import UTC

NAME = "update"
HELP = "move pinned actions to their newest stable release (same major version by default)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools.commands import _pin as _pincommon
    from ci_tools.commands._common import add_output_arguments
    from ci_tools.gha import resolve

    parser.epilog = _pincommon.FIXING_EXIT.format(dry="with --diff")
    _pincommon.add_file_arguments(parser)
    add_output_arguments(parser)
    parser.add_argument("--within", choices=("major", "minor", "any"), default=None,
                        help="how far a pin may move (default: [tool.ci-tools.pin] update.within, else major, "
                             "i.e. v4.1.0 -> v4.x.y)")
    parser.add_argument("--min-age", type=float, default=None, metavar="DAYS",
                        help="skip releases published less than DAYS days ago (cooldown; default: "
                             "[tool.ci-tools.pin] update.min-age, else 0)")
    parser.add_argument("--only", action="append", default=[], metavar="OWNER/REPO",
                        help="update only this repository (repeatable)")
    parser.add_argument("--diff", action="store_true", help="print a unified diff and write nothing")
    resolve.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    import os
    import sys
    from concurrent.futures import ThreadPoolExecutor
    from datetime import datetime, timedelta

    from ci_tools.commands import _pin as _pincommon
    from ci_tools.core.fsutil import WriteError
    from ci_tools.core.progress import Progress
    from ci_tools.errors import FatalError, UsageError
    from ci_tools.gha import resolve
    from ci_tools.gha.resolve.base import NotFound, Release, repo_key
    from ci_tools.gha.uses import is_exact_version, semver_key
    from ci_tools.pin.occurrences import collect
    from ci_tools.pin.plan import Plan, comment_fixes, prefetch
    from ci_tools.pin.rewrite import write

    if args.min_age is not None and args.min_age < 0:
        raise UsageError("--min-age must not be negative")
    only = {o.lower() for o in args.only}
    for name in only:
        if name.count("/") != 1:
            raise UsageError(f'--only "{name}" is not owner/repo')
    root, config, docs = _pincommon.load(args)
    findings = [f for d in docs for f in d.findings]
    occurrences = [o for o in collect(docs)
                   if (not only or o.repo.lower() in only) and not config.pin.excludes(o.repo)]
    current: dict[int, str] = {}
    for i, occ in enumerate(occurrences):
        token = occ.version_token() if occ.ref.is_sha else None
        version = token[0] if token else (None if occ.ref.is_sha else occ.ref.ref)
        if version and semver_key(version):
            current[i] = version
    occurrences = [o for i, o in enumerate(occurrences) if i in current]
    versions = [current[i] for i in sorted(current)]
    if args.min_age and args.via == "git":
        raise UsageError("--min-age needs release dates, which only --via api has")
    resolver = _pincommon.resolver(args, refresh=True)  # it writes new pins: never from cached tags or releases
    cutoff = datetime.now(UTC) - timedelta(days=args.min_age)
    repos = {repo_key(o.repo): o.repo for o in occurrences}
    releases: dict[str, list[Release] | Exception] = {}
    try:
        resolved = prefetch(resolver, occurrences, args.jobs, need_refs_for_pinned=True)

        def work(key: str) -> None:
            try:
                releases[key] = resolver.releases(repos[key])
            except NotFound as exc:
                releases[key] = exc

        todo = [k for k in repos if k not in resolved.missing]
        progress = Progress(len(todo), "reading releases")
        try:
            with ThreadPoolExecutor(max_workers=max(1, min(args.jobs, len(repos) or 1))) as pool:
                for future in [pool.submit(work, k) for k in todo]:
                    future.result()
                    progress.step()
        finally:
            progress.close()
    except resolve.ResolveError as exc:
        raise FatalError(f"{exc}; no file was changed") from None
    finally:
        resolver.close()

    plan = Plan()
    cooled: dict[tuple[str, str], tuple] = {}  # releases left out by --min-age that are newer than a pin
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    for occ, version in zip(occurrences, versions, strict=True):
        key = repo_key(occ.repo)
        found = releases.get(key, [])  # every repository not missing was read (or raised)
        if key in resolved.missing or isinstance(found, Exception):
            why = resolved.missing.get(key) or str(found)
            findings.append(occ.doc.finding("unresolved-ref", f'cannot update "{occ.node.value}": {why}', occ.node))
            continue
        refs = resolved.refs[key]
        have = semver_key(version)
        if have is None:  # only semver versions were kept above
            continue
        candidates: dict[str, tuple[int, int, int, int, int]] = {}  # tag -> its semver key
        for rel in found:
            k = semver_key(rel.tag)
            if not rel.stable or k is None or rel.tag not in refs.tags:
                continue
            if args.within == "major" and k[0] != have[0]:
                continue
            if args.within == "minor" and k[:2] != have[:2]:
                continue
            if args.min_age and (not rel.published_at or _parse_time(rel.published_at) > cutoff):
                if k[:3] > have[:3]:  # a release it would have moved to: say so
                    cooled[(key, rel.tag)] = (occ.repo, rel)
                continue
            candidates[rel.tag] = k
        if not candidates:
            continue
        best = max(candidates, key=lambda t: (candidates[t][:3], candidates[t][4], t.startswith("v")))
        if candidates[best][:3] < have[:3] or (candidates[best][:3] == have[:3] and is_exact_version(version)):
            continue  # never move backwards, and an exact pin at the newest version stays
        commit = refs.tags[best]
        if occ.ref.ref == commit:
            continue
        ref_fix = occ.ref_fix(commit)
        if ref_fix is None:
            continue
        plan.add(occ.doc, [ref_fix, *comment_fixes(occ, best, refs)])
        old_tag = version
        plan.changes.append({"path": occ.doc.display, "line": occ.line, "action": occ.ref.action,
                             "repository": occ.repo, "old": {"ref": occ.ref.ref, "version": old_tag},
                             "new": {"ref": commit, "version": best},
                             "compare": f"{server}/{occ.repo}/compare/{old_tag}...{best}"})
    now = datetime.now(UTC)
    for (_, tag), (repo, rel) in sorted(cooled.items(), key=lambda kv: (kv[0][0], semver_key(kv[0][1]))):
        when = (f"published {(now - _parse_time(rel.published_at)).days} days ago" if rel.published_at
                else "it has no publish date")
        _pincommon.note(f"{repo} {tag} was skipped for the cooldown: {when}, --min-age is {args.min_age:g} days")
    try:
        changed = write(docs, plan, diff=args.diff, out=sys.stdout if args.format != "json" else sys.stderr)
    except WriteError as exc:
        raise FatalError(str(exc)) from None
    if args.format == "json":  # the one emit: redacted, and the exit code of the findings
        code = _pincommon.finish(findings, args, docs, config, extra={"updates": plan.changes})
        return max(code, 1 if changed else 0)
    for change in plan.changes:
        line = (f"{change['path']}:{change['line']}: {change['action']} {change['old']['version']} -> "
                f"{change['new']['version']} ({change['new']['ref'][:12]}) {change['compare']}\n")
        (sys.stderr if args.diff else sys.stdout).write(line)
    if not args.diff:
        _pincommon.note(f"updated {len(plan.changes)} reference{'s' * (len(plan.changes) != 1)} in "
                        f"{len(changed)} file{'s' * (len(changed) != 1)}")
    code = _pincommon.finish(findings, args, docs, config, to_stderr=True) if findings else 0
    return max(code, 1 if changed else 0)  # a fixing command exits 1 when it changed files (STYLE.md)


def _parse_time(text: str):
    from datetime import datetime

    return datetime.fromisoformat(text.replace("Z", "+00:00"))
