"""``ci-tools pin``: rewrite remote ``uses:`` refs (and with ``--images`` container images) to commits.

``owner/repo[/path]@v4`` becomes ``owner/repo[/path]@<commit> # v4.2.2``: the commit the tag peels to
(through any chain of annotated tags) and the most specific tag on that commit. Pinned refs keep their
commit; a missing or stale version comment is fixed. Everything is resolved before anything is
written: a network failure exits 3 with every file unchanged. Refused refs (branches, missing,
ambiguous, private, moved tags) are findings and stay as they are. Exit 0 when nothing needed changing
and no finding reached ``--fail-level``; 1 when files were changed (``--diff``: would be) or findings
were reported; 2 usage error; 3 fatal error (nothing written).

Options default to ``[tool.ci-tools.pin]`` (:func:`ci_tools.commands._pin.settle`); repositories matching its
``exclude`` patterns are left as they are, unresolved. Image digests are cached like tags
(:class:`ci_tools.gha.resolve.cache.CachingRegistry`).
"""

from __future__ import annotations

import argparse

NAME = "pin"
HELP = "pin remote actions and reusable workflows to commit SHAs with a version comment"


def add_arguments(parser: argparse.ArgumentParser) -> None:

    from ci_tools.commands import _pin as _pincommon
    from ci_tools.commands._common import add_output_arguments

    parser.epilog = _pincommon.FIXING_EXIT.format(dry="with --diff")
    _pincommon.add_file_arguments(parser)
    add_output_arguments(parser)
    parser.add_argument("--diff", action="store_true",
                        help="print a unified diff on stdout and write nothing (findings go to stderr)")
    parser.add_argument("--allow-branches", action=argparse.BooleanOptionalAction, default=None,
                        help="pin branch refs to their current commit with a \"# <branch>\" comment "
                             "(default: [tool.ci-tools.pin] allow-branches, else no)")
    parser.add_argument("--images", action=argparse.BooleanOptionalAction, default=None,
                        help="also pin docker:// steps, container: and services: images to their digest "
                             "(default: [tool.ci-tools.pin] images, else no)")
    _pincommon.add_resolution_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from ci_tools.commands import _pin as _pincommon
    from ci_tools.core.fsutil import WriteError
    from ci_tools.errors import FatalError
    from ci_tools.gha import resolve
    from ci_tools.pin.occurrences import collect, collect_images, malformed
    from ci_tools.pin.plan import plan_pins, prefetch
    from ci_tools.pin.rewrite import write

    root, config, docs = _pincommon.load(args)
    findings = [f for d in docs for f in d.findings] + malformed(docs)
    occurrences = [o for o in collect(docs) if not config.pin.excludes(o.repo)]
    resolver = _pincommon.resolver(args)
    try:
        resolved = prefetch(resolver, occurrences, args.jobs)
        plan = plan_pins(occurrences, resolved, resolver, allow_branches=args.allow_branches)
        if args.images:
            plan_images(docs, plan, args.jobs, resolve.registry_from(_pincommon.resolve_settings(args)))
    except resolve.ResolveError as exc:
        raise FatalError(f"{exc}; no file was changed") from None
    finally:
        resolver.close()
    findings.extend(plan.findings)
    try:
        changed = write(docs, plan, diff=args.diff)
    except WriteError as exc:
        raise FatalError(str(exc)) from None
    if not args.images:  # images are pinned only when asked: say so when some are not
        from ci_tools.gha.uses import image_is_pinned

        loose = [o for o in collect_images(docs) if not image_is_pinned(o.image)]
        if loose:
            _pincommon.note(f"{len(loose)} container image{'s are' if len(loose) != 1 else ' is'} not pinned to a "
                            "digest; `ci-tools pin --images` pins them")
    if changed and not args.diff:
        pinned = len({(c["path"], c["line"]) for c in plan.changes if c["path"] in changed})  # aliases once
        _pincommon.note(f"pinned {pinned} reference{'s' * (pinned != 1)} in {len(changed)} "
                        f"file{'s' * (len(changed) != 1)}")
    code = _pincommon.finish(findings, args, docs, config, to_stderr=args.diff, alarms=plan.alarms)
    return max(code, 1 if changed else 0)  # a fixing command exits 1 when it changed files (STYLE.md)


def plan_images(docs, plan, jobs: int, client=None) -> None:
    """Add digest fixes for every image without one (resolved concurrently, one request set per image).

    ``client`` answers ``digest(image)``: :func:`ci_tools.gha.resolve.registry_from` gives the cached one.
    """
    from concurrent.futures import ThreadPoolExecutor

    from ci_tools.core.progress import Progress
    from ci_tools.gha.resolve import NotFound
    from ci_tools.gha.resolve.oci import RegistryClient, parse_image
    from ci_tools.gha.uses import image_is_pinned
    from ci_tools.pin.occurrences import collect_images
    from ci_tools.pin.plan import image_fix

    client = client if client is not None else RegistryClient()
    todo = [o for o in collect_images(docs) if not image_is_pinned(o.image)]
    unique = sorted({o.image.strip() for o in todo})
    digests: dict[str, str | Exception] = {}

    def work(image: str) -> None:
        try:
            parse_image(image)
            digests[image] = client.digest(image)
        except (NotFound, ValueError) as exc:
            digests[image] = exc

    progress = Progress(len(unique), "resolving images")
    try:
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(unique) or 1))) as pool:
            for future in [pool.submit(work, image) for image in unique]:
                future.result()
                progress.step()
    finally:
        progress.close()
    for occ in todo:
        found = digests[occ.image.strip()]
        if isinstance(found, Exception):
            plan.findings.append(occ.doc.finding("unresolved-ref", f'cannot pin image "{occ.image}": {found}; '
                                                 "it was left unchanged", occ.node))
            continue
        fix = image_fix(occ, found)
        if fix is not None:
            plan.add(occ.doc, [fix])
            plan.changes.append({"path": occ.doc.display, "line": occ.line, "action": occ.image,
                                 "old": occ.image, "new": found, "version": None})
