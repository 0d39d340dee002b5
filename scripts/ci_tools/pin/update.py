"""``update``'s engine: which pins move to which release, planned before anything is written.

For every remote ``uses:`` whose version (the exact-tag comment of a pin, or the ref itself) is a
semantic version, the repository's releases are read (all pages, one repository at a time on a
bounded pool); drafts and prereleases are skipped, and so are releases published less than
``min_age`` days ago (``published_at`` is set by the server, unlike commit dates, which authors can
back-date). The newest within ``within`` (``major``, ``minor`` or ``any``) wins. A pin never moves
backwards, and an exact pin at the newest version stays. A
:class:`~ci_tools.gha.resolve.ResolveError` stops everything before any write.
"""

from __future__ import annotations

from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ci_tools.core.config import Config
from ci_tools.core.findings import Finding
from ci_tools.core.progress import Progress
from ci_tools.gha.resolve.base import NotFound, Release, Resolver, repo_key
from ci_tools.gha.source import Document
from ci_tools.gha.uses import is_exact_version, semver_key
from ci_tools.pin.occurrences import Occurrence, collect
from ci_tools.pin.plan import Plan, comment_fixes, prefetch, refuse_answer


@dataclass(frozen=True)
class UpdateOptions:
    within: str = "major"            # how far a pin may move: major, minor or any
    min_age: float = 0.0             # days a release must have been published (cooldown)
    only: Collection[str] = ()       # owner/repo, lowercase; empty: every repository
    jobs: int = 16                   # repositories read at once
    server: str = "https://github.com"  # for the compare links


@dataclass
class Updates:
    """The planned rewrites (``plan.changes`` lists them), references that could not be updated
    (``findings``) and releases left out for the cooldown (``cooled``: one sentence each)."""

    plan: Plan = field(default_factory=Plan)
    findings: list[Finding] = field(default_factory=list)
    cooled: list[str] = field(default_factory=list)


def versioned(docs: list[Document], config: Config, only: Collection[str]) -> list[tuple[Occurrence, str]]:
    """The remote references with a semantic version (from the pin's comment or the ref), each with it."""
    out = []
    for occ in collect(docs):
        if (only and occ.repo.lower() not in only) or config.pin.excludes(occ.repo):
            continue
        token = occ.version_token() if occ.ref.is_sha else None
        version = token[0] if token else (None if occ.ref.is_sha else occ.ref.ref)
        if version and semver_key(version):
            out.append((occ, version))
    return out


def plan_updates(docs: list[Document], config: Config, resolver: Resolver, options: UpdateOptions) -> Updates:
    """Read the releases of every repository a versioned reference names and plan each move."""
    found = versioned(docs, config, options.only)
    occurrences = [occ for occ, _ in found]
    repos = {repo_key(o.repo): o.repo for o in occurrences}
    releases: dict[str, list[Release] | Exception] = {}
    resolved = prefetch(resolver, occurrences, options.jobs, need_refs_for_pinned=True)

    def work(key: str) -> None:
        try:
            releases[key] = resolver.releases(repos[key])
        except NotFound as exc:
            releases[key] = exc

    todo = [k for k in repos if k not in resolved.missing]
    progress = Progress(len(todo), "reading releases")
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(options.jobs, len(repos) or 1))) as pool:
            for future in [pool.submit(work, k) for k in todo]:
                future.result()
                progress.step()
    finally:
        progress.close()

    out = Updates()
    cutoff = datetime.now(UTC) - timedelta(days=options.min_age)
    cooled: dict[tuple[str, str], tuple[str, Release]] = {}  # releases left out by min_age, newer than a pin
    for occ, version in found:
        key = repo_key(occ.repo)
        got = releases.get(key, [])  # every repository not missing was read (or raised)
        if key in resolved.missing or isinstance(got, Exception):
            why = resolved.missing.get(key) or str(got)
            out.findings.append(occ.doc.finding("unresolved-ref", f'cannot update "{occ.node.value}": {why}', occ.node))
            continue
        _plan_one(occ, version, got, resolved.refs[key], options, cutoff, cooled, out.plan)
    now = datetime.now(UTC)
    for (_, tag), (repo, rel) in sorted(cooled.items(), key=lambda kv: (kv[0][0], semver_key(kv[0][1]))):
        when = (f"published {(now - _parse_time(rel.published_at)).days} days ago" if rel.published_at
                else "it has no publish date")
        out.cooled.append(f"{repo} {tag} was skipped for the cooldown: {when}, --min-age is {options.min_age:g} days")
    return out


def _plan_one(occ: Occurrence, version: str, releases: list[Release], refs: Any, options: UpdateOptions,
              cutoff: datetime, cooled: dict[tuple[str, str], tuple[str, Release]], plan: Plan) -> None:
    have = semver_key(version)
    if have is None:  # only semver versions were kept
        return
    key = repo_key(occ.repo)
    candidates: dict[str, tuple[int, int, int, int, int]] = {}  # tag -> its semver key
    for rel in releases:
        k = semver_key(rel.tag)
        if not rel.stable or k is None or rel.tag not in refs.tags:
            continue
        if options.within == "major" and k[0] != have[0]:
            continue
        if options.within == "minor" and k[:2] != have[:2]:
            continue
        if options.min_age and (not rel.published_at or _parse_time(rel.published_at) > cutoff):
            if k[:3] > have[:3]:  # a release it would have moved to: say so
                cooled[(key, rel.tag)] = (occ.repo, rel)
            continue
        candidates[rel.tag] = k
    if not candidates:
        return
    best = max(candidates, key=lambda t: (candidates[t][:3], candidates[t][4], t.startswith("v")))
    if candidates[best][:3] < have[:3] or (candidates[best][:3] == have[:3] and is_exact_version(version)):
        return  # never move backwards, and an exact pin at the newest version stays
    commit = refs.tags[best]
    if occ.ref.ref == commit or refuse_answer(occ, commit, best, plan):
        return
    ref_fix = occ.ref_fix(commit)
    if ref_fix is None:
        return
    plan.add(occ.doc, [ref_fix, *comment_fixes(occ, best, refs)])
    plan.changes.append({"path": occ.doc.display, "line": occ.line, "action": occ.ref.action,
                         "repository": occ.repo, "old": {"ref": occ.ref.ref, "version": version},
                         "new": {"ref": commit, "version": best},
                         "compare": f"{options.server}/{occ.repo}/compare/{version}...{best}"})


def change_line(change: dict[str, Any]) -> str:
    """``path:line: action old -> new (commit) compare-link``: one planned move, for people."""
    return (f"{change['path']}:{change['line']}: {change['action']} {change['old']['version']} -> "
            f"{change['new']['version']} ({change['new']['ref'][:12]}) {change['compare']}\n")


def _parse_time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
