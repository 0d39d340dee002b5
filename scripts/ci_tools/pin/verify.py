"""What ``verify`` checks, as functions ``report`` and other callers can reuse.

:func:`offline_findings` needs the files only; :func:`online_findings` needs the refs that
:func:`ci_tools.pin.plan.prefetch` fetched (with ``need_refs_for_pinned=True``) and the resolver they
came from, which it asks for tag objects and reachability of commits on no ref.
"""

from __future__ import annotations


def reference_findings(docs) -> list:
    """What ``check`` reports about the references themselves, which ``verify`` must not let through:
    malformed ``uses:`` values, non-canonical spellings, and container images without a digest."""
    from ci_tools.gha.source import iter_uses
    from ci_tools.lint.checks import malformed_uses, non_canonical_uses, unpinned_uses

    findings = []
    for doc in docs:
        if doc.root is None:
            continue
        for site in iter_uses(doc):
            for module in (malformed_uses, non_canonical_uses):
                found = module.site_finding(doc, site)
                if found is not None:
                    findings.append(found)
        findings.extend(unpinned_uses.image_findings(doc))
    return findings


def offline_findings(occurrences, lock) -> list:
    """The offline checks of ``verify``: pinned with an exact-tag comment, one version on one commit,
    agreement with the lockfile (``lock``: a :class:`~ci_tools.pin.lockfile.Lockfile` or ``None``). No request."""
    from ci_tools.core.findings import Severity
    from ci_tools.gha.uses import is_exact_version

    findings = []
    groups: dict[tuple[str, str], dict[str, list]] = {}
    by_sha: dict[tuple[str, str], dict[str, list]] = {}
    for occ in occurrences:
        doc, ref = occ.doc, occ.ref
        locked = lock.entry(doc, occ) if lock is not None else None
        if lock is not None:
            findings.extend(lock.check(doc, occ, locked))
        if not ref.is_sha:
            if locked is None:
                findings.append(doc.finding("unpinned-uses", f'"{occ.node.value}" is not pinned to a commit; pin it '
                                            f'as "{ref.action}@<sha> # <exact tag>" (`ci-tools pin` writes it)',
                                            occ.node))
            else:
                groups.setdefault((ref.repository.lower(), ref.ref), {}).setdefault(locked.commit, []).append(occ)
            continue
        token = occ.version_token()
        version = token[0] if token else None
        if version is None:
            findings.append(doc.finding("unpinned-uses", f'"{occ.node.value}" has no version comment; add the exact '
                                        "tag of that commit after it (`ci-tools pin` writes it)", occ.node))
            continue
        if not is_exact_version(version):
            findings.append(doc.finding("unpinned-uses", f'the comment "# {version}" after "{ref.action}@'
                                        f'{ref.ref[:12]}" names no exact version; write the full tag of that commit '
                                        "(`ci-tools pin` fixes it)", occ.node))
        groups.setdefault((ref.repository.lower(), version), {}).setdefault(ref.ref, []).append(occ)
        by_sha.setdefault((ref.repository.lower(), ref.ref), {}).setdefault(version, []).append(occ)
    for (repo, version), shas in groups.items():
        if len(shas) < 2:
            continue
        ranked = sorted(shas.items(), key=lambda kv: -len(kv[1]))
        summary = ", ".join(f"{sha[:12]} ({len(occs)}x)" for sha, occs in ranked)
        for _sha, occs in ranked:
            for occ in occs:
                findings.append(occ.doc.finding(
                    "inconsistent-pin", f'"{repo}" at "{version}" is pinned to {len(shas)} different commits '
                                        f"({summary}); one version must be one commit", occ.node))
    for (repo, sha), versions in by_sha.items():
        if len(versions) < 2:
            continue
        names = ", ".join(f'"{v}"' for v in sorted(versions))
        for occs in versions.values():
            for occ in occs:
                findings.append(occ.doc.finding(
                    "inconsistent-pin", f'{sha[:12]} of "{repo}" is commented as {names} in different places; at '
                                        "most one of them is right", occ.node, Severity.WARNING))
    return findings


def moved_tag(doc, node, repo: str, name: str, now: str, sha: str, tags: list[str], release):
    """The ``tag-moved`` finding for the tag ``name`` that now points to ``now`` instead of the pinned ``sha``
    (``tags``: those still on ``sha``; ``release``: the tag's release, when known). Returns
    ``(finding, alarm)``: a moved tag of an immutable release is an alarm, which no ignore comment or
    configuration may silence, since GitHub never lets such a tag move."""
    from ci_tools.core.findings import Severity

    still = (" (which carries " + ", ".join(f'"{t}"' for t in tags) + ")") if tags else " (which no tag is on)"
    if release is not None and release.immutable:
        return doc.finding(
            "tag-moved", f'the comment names "{name}" of "{repo}", an immutable release whose tag GitHub never lets '
                         f"move, yet that tag points to {now[:12]}, not to the pinned {sha[:12]}{still}: either the "
                         "comment names the wrong release, or the repository was deleted and re-created under this "
                         "name, or the answer was tampered with on its way; do not run this action until it is "
                         "explained", node, Severity.ERROR), True
    return doc.finding(
        "tag-moved", f'the release tag "{name}" of "{repo}" points to {now[:12]}, not to the pinned {sha[:12]}{still}: '
                     "the tag was moved, or the comment names the wrong release; review what changed between the "
                     "two commits, then pin the one you reviewed with its own tag (`ci-tools pin` will not rewrite "
                     "this comment)", node, Severity.ERROR), False


def releases_by_tag(resolver, repos: dict[str, str], jobs: int = 8) -> dict[str, dict]:
    """``{repo key: {tag: Release}}`` for ``repos`` (key -> name), one releases lookup per repository; a
    repository without releases (or without the releases API) maps to ``{}``."""
    from concurrent.futures import ThreadPoolExecutor

    from ci_tools.gha.resolve.base import NotFound

    def one(key: str):
        try:
            return key, {r.tag: r for r in resolver.releases(repos[key]) if not r.draft}
        except NotFound:
            return key, {}

    if not repos:
        return {}
    with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(repos)))) as pool:
        return dict(pool.map(one, list(repos)))


def immutability_lines(resolved, occurrences, releases: dict[str, dict]) -> list[str]:
    """One line per pinned version (``owner/repo version (sha): ...``), saying whether its release is
    immutable: what ``verify --online`` shows."""
    from ci_tools.gha.resolve.base import repo_key

    seen: dict[tuple[str, str, str], str] = {}
    for occ in occurrences:
        if not occ.ref.is_sha:
            continue
        key = repo_key(occ.repo)
        if key in resolved.missing:
            continue
        token = occ.version_token(resolved.refs.get(key))
        if token is None:
            continue
        ident = (key, token[0], occ.ref.ref)
        if ident in seen:
            continue
        release = releases.get(key, {}).get(token[0])
        if release is None:
            what = "no release for this tag"
        elif release.immutable is None:
            what = "release immutability unknown (the server does not say)"
        elif release.immutable:
            what = "immutable release"
        else:
            what = "release not immutable, its tag can be moved"
        seen[ident] = f"{occ.repo} {token[0]} ({occ.ref.ref[:12]}): {what}"
    return list(seen.values())


def online_findings(resolver, resolved, occurrences, releases: dict[str, dict] | None = None,
                    alarms: list | None = None) -> list:
    """The online checks of ``verify --online`` on refs already fetched by :func:`ci_tools.pin.plan.prefetch`
    (``need_refs_for_pinned=True``): tag-moved, stale-comment, impostor-commit, tag-object, ref-confusion,
    unresolved-ref. ``report --online`` runs them too, for its status column; probes run on 8 threads.

    A full version tag (``vX.Y.Z``) named by a pin's comment that now points elsewhere is ``tag-moved``,
    whatever other tags remain on the pinned commit; a floating tag (``v4``, ``v4.2``) moving on is normal.
    ``releases`` (:func:`releases_by_tag`) tells immutable releases apart: a moved tag of one goes to
    ``alarms`` (when given) instead of the list returned."""
    from concurrent.futures import ThreadPoolExecutor

    from ci_tools.core.findings import Severity
    from ci_tools.gha.resolve.base import repo_key, resolve_ref
    from ci_tools.gha.uses import is_exact_version

    findings = []
    todo = {}
    for occ in occurrences:
        key = repo_key(occ.repo)
        refs = resolved.refs.get(key)
        if occ.ref.is_sha and refs is not None and not refs.tags_at(occ.ref.ref) \
                and occ.ref.ref not in refs.branches.values():
            todo[(key, occ.ref.ref)] = (occ.repo, refs)

    def probe(item):
        (key, sha), (name, refs) = item
        peeled = refs.tag_objects.get(sha) or resolver.peel(name, sha)
        if peeled:
            return (key, sha), ("tag-object", peeled)
        return (key, sha), ("contains", resolver.contains(name, sha, refs))

    with ThreadPoolExecutor(max_workers=8) as pool:
        probes = dict(pool.map(probe, list(todo.items())))

    for occ in occurrences:
        doc, ref, key = occ.doc, occ.ref, repo_key(occ.repo)
        if key in resolved.missing:
            findings.append(doc.finding("unresolved-ref", f'cannot verify "{occ.node.value}": {resolved.missing[key]}',
                                        occ.node))
            continue
        refs = resolved.refs[key]
        token = occ.version_token(refs)
        name = token[0] if token else (None if ref.is_sha else ref.ref)
        if name and name in refs.tags and name in refs.branches:
            findings.append(doc.finding("ref-confusion", f'"{name}" is both a branch and a tag of "{occ.repo}"; '
                                        "which one a ref means depends on the tool reading it", occ.node))
        if not ref.is_sha:
            if resolve_ref(refs, ref.ref).kind == "missing":
                findings.append(doc.finding("unresolved-ref", f'"{ref.ref}" is neither a tag nor a branch of '
                                            f'"{occ.repo}"', occ.node))
            continue
        sha = ref.ref
        tags = refs.tags_at(sha)
        probe_result = probes.get((key, sha))
        if probe_result and probe_result[0] == "tag-object":
            findings.append(doc.finding("tag-object", f'{sha[:12]} is an annotated tag object of "{occ.repo}", not a '
                                        f"commit; pin the commit it points to, {probe_result[1][:12]} "
                                        "(`ci-tools pin` fixes it)", occ.node))
            continue
        if probe_result and probe_result[1] is None:
            findings.append(doc.finding("unresolved-ref", f'commit {sha[:12]} does not exist in "{occ.repo}"',
                                        occ.node))
            continue
        if probe_result and probe_result[1] is False:
            findings.append(doc.finding(
                "impostor-commit", f'{sha[:12]} is on no branch or tag of "{occ.repo}": GitHub serves commits of '
                                   "forks under the parent's name, so this may be someone else's code; pin a commit "
                                   "of the repository itself", occ.node))
            continue  # its comment says nothing about a commit that is not the repository's
        if name is None or name in tags:
            continue
        if name in refs.branches and refs.branches[name] == sha:
            continue
        now = refs.tags.get(name)
        if now is not None and now != sha and (is_exact_version(name) or not tags):
            release = (releases or {}).get(key, {}).get(name)
            found, alarm = moved_tag(doc, occ.node, occ.repo, name, now, sha, tags, release)
            (alarms if alarm and alarms is not None else findings).append(found)
            continue
        better = tags[0] if tags else None
        hint = f'; the commit is tagged "{better}"' if better else "; no tag is on that commit"
        findings.append(doc.finding("stale-comment", f'the comment names "{name}", which is not a tag of '
                                    f'{sha[:12]} in "{occ.repo}"{hint} (`ci-tools pin` fixes the comment)',
                                    occ.node, Severity.ERROR if not tags else Severity.WARNING))
    return findings
