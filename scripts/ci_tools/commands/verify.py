"""``ci-tools verify``: check that pins say what they are.

Offline (the default), with no request at all:

- every remote ref is pinned to a commit with an exact-tag comment (``unpinned-uses``), unless
  ``.github/workflows/actions.lock`` locks it (GitHub's lockfile: a locked tag ref counts as pinned);
- one action at one version maps to one commit across all files read (``inconsistent-pin``);
- pins agree with the lockfile's ``sha1-``/``sha256-`` commits (``lockfile-mismatch``).

``--online`` re-resolves every repository (ignoring cached tags) and adds ``tag-moved`` (the
comment's tag now points elsewhere and no tag is on the pinned commit), ``stale-comment`` (the
comment names a tag that is not on the commit), ``impostor-commit`` (the commit is on no branch or
tag of the repository: e.g. a fork's commit served under the parent's name), ``ref-confusion`` (a
name that is both a branch and a tag), ``unresolved-ref`` (a commit or repository that does not
exist) and, with a lockfile, a repository id that changed (``lockfile-mismatch``: the name now
belongs to another repository). ``--transitive`` also audits the actions those actions use, through
:func:`ci_tools.transitive.audit` when that module is installed.
"""

from __future__ import annotations

import argparse

NAME = "verify"
HELP = "verify that pins are consistent, commented and (with --online) still what their tags say"

LOCKFILE = ".github/workflows/actions.lock"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ci_tools import _pincommon, resolve
    from ci_tools.commands.check import add_output_arguments

    _pincommon.add_file_arguments(parser)
    add_output_arguments(parser)
    parser.add_argument("--online", action="store_true",
                        help="re-resolve every repository: moved tags, impostor commits, ref confusion")
    parser.add_argument("--lockfile", metavar="FILE",
                        help=f"GitHub actions lockfile (default: {LOCKFILE} under the root, when present)")
    parser.add_argument("--transitive", action="store_true",
                        help="also audit the actions that the pinned actions use (with --online)")
    resolve.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from ci_tools import _pincommon, lockfile, pinning

    root, config, docs = _pincommon.load(args)
    findings = [f for d in docs for f in d.findings]
    occurrences = pinning.collect(docs)
    lock_path = Path(args.lockfile) if args.lockfile else root / LOCKFILE
    lock = None
    if lock_path.is_file():
        lock, problems = lockfile.read(lock_path, root)
        findings.extend(problems)
    findings.extend(offline(occurrences, lock))
    if args.online:
        findings.extend(online(args, occurrences, lock, docs, root))
    elif args.transitive:
        from ci_tools.cli import UsageError

        raise UsageError("--transitive needs --online")
    return _pincommon.finish(findings, args, docs, config)


def offline(occurrences, lock) -> list:
    from ci_tools.model import Severity
    from ci_tools.uses import is_exact_version

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


def online(args, occurrences, lock, docs, root) -> list:
    from ci_tools import pinning, resolve
    from ci_tools.cli import FatalError

    resolver = resolve.from_args(args, refresh=True)
    findings = []
    try:
        resolved = pinning.prefetch(resolver, occurrences, args.jobs, need_refs_for_pinned=True)
        findings.extend(_online_checks(resolver, resolved, occurrences))
        from ci_tools.checks import known_compromised  # GitHub's advisory database for the actions ecosystem

        findings.extend(known_compromised.online_findings(docs, resolver))
        if lock is not None:
            findings.extend(lock.check_ids(resolver, occurrences, args.jobs))
        if args.transitive:
            import importlib.util

            if importlib.util.find_spec("ci_tools.transitive") is None:
                raise FatalError("--transitive needs ci_tools.transitive, which is not installed")
            from ci_tools import transitive

            findings.extend(transitive.audit(occurrences=occurrences, resolver=resolver, resolved=resolved,
                                             docs=docs, root=root, jobs=args.jobs))
    except resolve.ResolveError as exc:
        raise FatalError(str(exc)) from None
    finally:
        resolver.close()
    return findings


def _online_checks(resolver, resolved, occurrences) -> list:
    from concurrent.futures import ThreadPoolExecutor

    from ci_tools.model import Severity
    from ci_tools.resolve.base import repo_key, resolve_ref

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
        if name in refs.tags and not tags:
            findings.append(doc.finding(
                "tag-moved", f'the tag "{name}" of "{occ.repo}" now points to {refs.tags[name][:12]}, not to the pinned '
                             f"{sha[:12]}, and no tag is on the pinned commit any more: the tag was moved; review "
                             "the change before re-pinning", occ.node))
            continue
        better = tags[0] if tags else None
        hint = f'; the commit is tagged "{better}"' if better else "; no tag is on that commit"
        findings.append(doc.finding("stale-comment", f'the comment names "{name}", which is not a tag of '
                                    f'{sha[:12]} in "{occ.repo}"{hint} (`ci-tools pin` fixes the comment)',
                                    occ.node, Severity.ERROR if not tags else Severity.WARNING))
    return findings
