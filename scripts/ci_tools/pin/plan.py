"""The pin engine shared by ``pin``, ``update`` and ``verify``: resolving and planning.

Three phases, so a failure can never leave a half-pinned tree:

1. :func:`collect` reads every remote ``uses:`` (steps, composite action steps, reusable workflow
   calls, subpath actions) with its comment, and with ``images=True`` every container image;
2. :func:`prefetch` resolves every unique repository once, concurrently on a bounded pool (an
   already-pinned commit whose tags are cached needs no request at all); a
   :class:`~ci_tools.gha.resolve.ResolveError` stops everything here, before any write;
3. :func:`plan_pins` turns occurrences into :class:`~ci_tools.core.findings.Fix` spans that touch only the
   ref and its version comment, and :func:`write` applies them per file atomically.

Rewrites keep the file: quotes, indentation, other comments (``# zizmor: ignore[...]`` stays after
the new version comment), CRLF, BOM, the final newline and the file mode.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ci_tools.core.findings import Finding, Fix, Severity
from ci_tools.core.progress import Progress
from ci_tools.gha.resolve.base import NotFound, RepoRefs, Resolver, repo_key, resolve_ref
from ci_tools.gha.source import Document, ScalarNode
from ci_tools.gha.uses import SHA_RE, is_exact_version, is_ref_name
from ci_tools.pin.occurrences import ImageOccurrence, Occurrence


@dataclass
class Plan:
    fixes: dict[str, list[Fix]] = field(default_factory=dict)  # display path -> fixes
    findings: list[Finding] = field(default_factory=list)
    alarms: list[Finding] = field(default_factory=list)  # never silenced (a moved tag of an immutable release)
    changes: list[dict] = field(default_factory=list)  # for reports: what moved where

    def add(self, doc: Document, fixes: list[Fix]) -> None:
        self.fixes.setdefault(doc.display, []).extend(fixes)


# ----------------------------------------------------------------------- resolving
@dataclass
class Resolved:
    """What prefetch learned: refs per repository, or why a repository could not be read."""

    refs: dict[str, RepoRefs] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # repo key -> message
    tags_at: dict[tuple[str, str], list[str]] = field(default_factory=dict)  # (repo key, sha) -> tags

    def get(self, repo: str) -> RepoRefs | None:
        return self.refs.get(repo_key(repo))


def prefetch(resolver: Resolver, occurrences: list[Occurrence], jobs: int = 16, *,
             need_refs_for_pinned: bool = False) -> Resolved:
    """Resolve each unique repository once, concurrently. Raises ResolveError (nothing written yet).

    A repository whose occurrences are all pinned commits with cached tags costs nothing, unless
    ``need_refs_for_pinned`` (verify --online, update).
    """
    by_repo: dict[str, tuple[str, set[str], bool]] = {}
    comments: dict[tuple[str, str], set[str | None]] = {}
    for occ in occurrences:
        key = repo_key(occ.repo)
        name, shas, unpinned = by_repo.get(key, (occ.repo, set(), False))
        if occ.ref.is_sha:
            shas.add(occ.ref.ref)
            token = occ.version_token()
            comments.setdefault((key, occ.ref.ref), set()).add(token[0] if token else None)
        else:
            unpinned = True
        by_repo[key] = (name, shas, unpinned)
    result = Resolved()
    cached_peek = getattr(resolver, "cached_tags_at", None)

    def work(key: str) -> None:
        name, shas, unpinned = by_repo[key]
        if not unpinned and not need_refs_for_pinned and cached_peek is not None:
            found = {sha: cached_peek(name, sha) for sha in shas}
            # the shortcut holds only when every comment already names an exact tag seen on its commit
            if all(tags and all(c is not None and c in tags and is_exact_version(c) for c in comments[(key, sha)])
                   for sha, tags in found.items()):
                for sha, tags in found.items():
                    result.tags_at[(key, sha)] = tags
                return
        try:
            refs = resolver.refs(name)
        except NotFound as exc:
            result.missing[key] = str(exc)
            return
        result.refs[key] = refs
        remember = getattr(resolver, "remember_tags_at", None)
        for sha in shas:
            tags = refs.tags_at(sha)
            if remember is not None:
                remember(name, sha, tags)  # what was just read replaces what the cache knew
            result.tags_at[(key, sha)] = tags

    progress = Progress(len(by_repo), "resolving repositories")
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(by_repo) or 1))) as pool:
            futures = [pool.submit(work, key) for key in by_repo]
            for future in futures:
                future.result()  # re-raises ResolveError from a worker
                progress.step()
    finally:
        progress.close()
    return result


# -------------------------------------------------------------------------- planning
def comment_fixes(occ: Occurrence, version: str, refs: RepoRefs | None) -> list[Fix]:
    """Fixes that make the occurrence's version comment read ``version`` (other comments kept)."""
    token = occ.version_token(refs)
    if token is not None:
        old, start, end = token
        return [] if old == version else [Fix(start, end, version)]
    if occ.comment_span is not None:  # a note or a tool directive: the version goes in front of it
        return [Fix(occ.comment_span[0], occ.comment_span[0], f"# {version} ")]
    return [Fix(*_insert_point(occ), f" # {version}")]


def _insert_point(occ: Occurrence) -> tuple[int, int]:
    """Where a new comment goes: after the value, or at the end of a flow mapping's line."""
    doc, node = occ.doc, occ.node
    loc = doc.location(node)
    line_no = node.end_mark.line + 1
    line = doc.line_text(line_no)
    rest = line[node.end_mark.column:]
    if rest.strip():
        end = doc.line_starts[line_no - 1] + len(line.rstrip())
        return end, end
    return loc.end_offset, loc.end_offset


def plan_pins(occurrences: list[Occurrence], resolved: Resolved, resolver: Resolver, *,
              allow_branches: bool = False) -> Plan:
    """Fixes and refusals for every occurrence (a pin is never a refusal: notes only)."""
    import functools

    memo = _MemoPeel(resolver, functools.lru_cache(maxsize=None)(resolver.peel),
                     functools.lru_cache(maxsize=None)(_releases_of(resolver)))
    plan = Plan()
    for occ in occurrences:
        doc, key = occ.doc, repo_key(occ.repo)
        if key in resolved.missing:
            plan.findings.append(doc.finding("unresolved-ref", f'cannot resolve "{occ.node.value}": '
                                             f"{resolved.missing[key]}; it was left unchanged", occ.node))
            continue
        refs = resolved.get(occ.repo)
        if occ.ref.is_sha:
            if not _plan_pinned(occ, refs, resolved, memo, plan) and occ.ref.spelling_issues:
                _plan_spelling(occ, plan)
            continue
        if refs is None:  # cannot happen: unpinned refs always fetch refs
            continue
        res = resolve_ref(refs, occ.ref.ref)
        value = occ.node.value
        if res.kind == "ambiguous":
            plan.findings.append(doc.finding(
                "ref-confusion", f'"{occ.ref.ref}" is both a branch and a tag of "{occ.repo}", so "{value}" is '
                                 "ambiguous; pin the commit you mean by hand", occ.node))
            continue
        if res.kind == "missing":
            hint = " (GitHub does not accept abbreviated SHAs in uses:)" if re.fullmatch(r"[0-9a-f]{7,39}",
                                                                                       occ.ref.ref) else ""
            plan.findings.append(doc.finding(
                "unresolved-ref", f'"{occ.ref.ref}" is neither a tag nor a branch of "{occ.repo}"{hint}; '
                                  f'"{value}" was left unchanged', occ.node))
            continue
        if res.kind == "branch" and not allow_branches:
            plan.findings.append(doc.finding(
                "unresolved-ref", f'"{value}" names the branch "{occ.ref.ref}", which moves; pin a release tag '
                                  "instead, or pass --allow-branches to pin its current commit", occ.node))
            continue
        commit = res.commit or ""
        if res.kind == "branch" or is_exact_version(occ.ref.ref):
            comment = occ.ref.ref  # an exact tag names itself, even when a newer tag shares its commit
        else:
            comment = refs.best_tag(commit) or occ.ref.ref
        if refuse_answer(occ, commit, comment, plan):
            continue
        ref_fix = occ.ref_fix(commit)
        if ref_fix is None:
            plan.findings.append(doc.finding("unresolved-ref", f'cannot locate the ref of "{value}" in the source; '
                                             "it was left unchanged", occ.node))
            continue
        fixes = [ref_fix, *comment_fixes(occ, comment, refs)]
        plan.add(doc, fixes)
        plan.changes.append({"path": doc.display, "line": occ.line, "action": occ.ref.action,
                             "old": occ.ref.ref, "new": commit, "version": comment})
    return plan


class _MemoPeel:
    """One peel lookup per (repository, SHA) however many lines pin it, one releases lookup per repository."""

    def __init__(self, inner: Resolver, peel: Callable[[str, str], str | None],
                 releases_by_tag: Callable[[str], dict]) -> None:
        self._inner, self.peel, self.releases_by_tag = inner, peel, releases_by_tag

    def __getattr__(self, name: str):
        return getattr(self._inner, name)


def _releases_of(resolver: Resolver):
    def releases_by_tag(repo: str) -> dict:
        try:
            return {r.tag: r for r in resolver.releases(repo) if not r.draft}
        except NotFound:
            return {}

    return releases_by_tag


def _moved(occ: Occurrence, refs: RepoRefs | None, tags: list[str], resolver, plan: Plan) -> bool:
    """Refuse a pin whose comment names a full version tag that now points elsewhere (``tag-moved``).

    Rewriting the comment to another tag still on the commit (``# v4``) would hide the move from
    ``verify``; the releases are read only then, to tell an immutable release's tag (an alarm) apart."""
    if refs is None:
        return False
    token = occ.version_token(refs)
    name = token[0] if token else None
    now = refs.tags.get(name or "")
    if not name or not is_exact_version(name) or name in tags or now is None or now == occ.ref.ref:
        return False
    from ci_tools.pin.verify import moved_tag

    release = resolver.releases_by_tag(occ.repo).get(name) if hasattr(resolver, "releases_by_tag") else None
    found, alarm = moved_tag(occ.doc, occ.node, occ.repo, name, now, occ.ref.ref, tags, release)
    (plan.alarms if alarm else plan.findings).append(found)
    return True


def _plan_spelling(occ: Occurrence, plan: Plan) -> None:
    """Rewrite a pinned reference's non-canonical spelling to ``owner/repo[/path]@<sha>``."""
    fix = occ.ref_fix(occ.ref.ref)
    if fix is None:
        from ci_tools.lint.checks import non_canonical_uses

        found = non_canonical_uses.site_finding(occ.doc, _Site(occ.node))
        if found is not None:
            plan.findings.append(found)
        return
    plan.add(occ.doc, [fix])
    plan.changes.append({"path": occ.doc.display, "line": occ.line, "action": occ.ref.action,
                         "old": occ.ref.ref, "new": occ.ref.ref, "version": None, "spelling": occ.ref.canonical})


@dataclass(frozen=True)
class _Site:
    node: ScalarNode

    @property
    def value(self) -> str:
        return self.node.value


def refuse_answer(occ: Occurrence, commit: str, name: str, plan: Plan) -> bool:
    """A finding, and True, when ``commit`` is no commit SHA or ``name`` no tag or branch name.

    What pin writes is a commit after "@" and a tag or branch name in the comment after it: whoever
    answered (the GitHub API, a git server, a cache a pull request's run may have written), no line
    break, space or "#" reaches the file, so no step and no ignore comment either."""
    if SHA_RE.match(commit) and (not name or (is_ref_name(name) and "#" not in name)):
        return False
    what = f"the commit {commit[:80]!r}" if not SHA_RE.match(commit) else f"the tag name {name[:80]!r}"
    plan.findings.append(occ.doc.finding(
        "unresolved-ref", f'the answer for "{occ.node.value}" gives {what}, which is not one; it was left '
                          "unchanged (check the server or the cache it came from)", occ.node))
    return True


def _plan_pinned(occ: Occurrence, refs: RepoRefs | None, resolved: Resolved, resolver: _MemoPeel, plan: Plan) -> bool:
    """Fixes for an already pinned reference; True when they rewrite its ref (and with it its spelling)."""
    doc, sha, key = occ.doc, occ.ref.ref, repo_key(occ.repo)
    tags = resolved.tags_at.get((key, sha))
    if tags is None and refs is not None:
        tags = refs.tags_at(sha)
    tags = tags or []
    if tags and _moved(occ, refs, tags, resolver, plan):
        return False
    if not tags and refs is not None:
        if sha in refs.branches.values():
            if _moved(occ, refs, tags, resolver, plan):
                return False
            token = occ.version_token(refs)
            if token is None:
                branch = sorted(b for b, c in refs.branches.items() if c == sha)[0]
                plan.findings.append(doc.finding(
                    "untagged-pin", f'no tag of "{occ.repo}" points at {sha[:12]} (the tip of branch "{branch}"); '
                                    "add a comment naming what it is by hand", occ.node, Severity.NOTE))
            return False
        commit = refs.tag_objects.get(sha) or resolver.peel(occ.repo, sha)
        if commit:
            best = refs.best_tag(commit) or (occ.version_token(refs) or ("",))[0]
            if refuse_answer(occ, commit, best, plan):
                return False
            ref_fix = occ.ref_fix(commit)
            if ref_fix is not None:
                fixes = [ref_fix] + (comment_fixes(occ, best, refs) if best else [])
                plan.add(doc, fixes)
                plan.changes.append({"path": doc.display, "line": occ.line, "action": occ.ref.action,
                                     "old": sha, "new": commit, "version": best})
                plan.findings.append(doc.finding(
                    "tag-object", f'{sha[:12]} is an annotated tag object of "{occ.repo}", not a commit; '
                                  f"replaced by the commit it points to, {commit[:12]}", occ.node, Severity.NOTE))
                return True
            return False
        if _moved(occ, refs, tags, resolver, plan):
            return False
        plan.findings.append(doc.finding(
            "untagged-pin", f'no tag or branch of "{occ.repo}" points at {sha[:12]}; its version comment cannot '
                            "be checked (`ci-tools verify --online` tells whether the commit is on the repository)",
            occ.node, Severity.NOTE))
        return False
    if not tags:
        return False
    token = occ.version_token(refs)
    current = token[0] if token else None
    exact = [t for t in tags if is_exact_version(t)]
    if current in tags and (is_exact_version(current) or not exact):
        return False
    if current is not None and refs is not None and refs.branches.get(current) == sha:
        return False  # pinned from a branch with --allow-branches: its comment names the branch
    best = tags[0]
    if refuse_answer(occ, sha, best, plan):
        return False
    plan.add(doc, comment_fixes(occ, best, refs))
    plan.changes.append({"path": doc.display, "line": occ.line, "action": occ.ref.action,
                         "old": sha, "new": sha, "version": best, "old_version": current})
    return False




def image_fix(occ: ImageOccurrence, digest: str) -> Fix | None:
    """Append ``@sha256:...`` to the image's name:tag inside its source text."""
    loc = occ.doc.location(occ.node)
    raw = occ.doc.text[loc.start_offset:loc.end_offset]
    at = raw.rfind(occ.image)
    if at < 0:
        return None
    end = loc.start_offset + at + len(occ.image)
    return Fix(end, end, f"@{digest}")
