"""`unpinned-uses`: remote actions, reusable workflows and images are pinned to a commit SHA or
digest with a version comment.

A tag or branch can be moved to other code by whoever controls the action's repository (or
whoever steals their token); a full commit SHA cannot. The comment after the SHA names the exact
tag it was taken from (``# v4.2.2``), so that readers, Dependabot and ``ci-tools verify`` know
what the commit is meant to be.

Reported, at the ``uses:`` value:

- a remote ``owner/repo[/path]@ref`` (steps, composite action steps, reusable workflow calls) whose
  ref is not a full 40 or 64 hex digit commit SHA;
- a SHA with no comment, or with a comment that names no exact version (``# v4``, ``# main``);
- a container image (``docker://`` steps and actions, job ``container:``, ``services:``) without
  an ``@sha256:`` digest.

``./`` and ``$/`` references are local and never reported; a ``uses:`` built by an expression
cannot be checked and gets a note. A reference to this repository from inside it is left to
``self-repository``, whose fix (``$/``) is the right one there.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, iter_images, iter_uses
from ci_tools.gha.uses import (
    EXPRESSION,
    REMOTE,
    SEMVER_RE,
    comment_version,
    image_is_pinned,
    is_exact_version,
    parse_uses,
)
from ci_tools.lint.checks import self_repository

ID = "unpinned-uses"
SUMMARY = "remote actions, reusable workflows and images are pinned to a commit SHA or digest with a version comment"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}

_SHORT_SHA = re.compile(r"[0-9a-fA-F]{7,63}\Z")
_TOOL_COMMENT = re.compile(r"(?:ci-tools|zizmor|jactionlint|actionlint|nosec|noqa)\b\s*[:=]?", re.I)


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    self_enabled = ctx.config.check(self_repository.ID).enabled
    for site in iter_uses(doc):
        ref = parse_uses(site.value)
        if ref.kind == EXPRESSION:
            yield doc.finding(ID, f'"{site.value}" is chosen by an expression, so its pin cannot be checked; '
                                  "it was skipped", site.node, Severity.NOTE)
            continue
        if ref.kind != REMOTE or (self_enabled and self_repository.reaches_self(doc, ctx, ref)):
            continue
        if not ref.is_sha:
            yield doc.finding(ID, _unpinned_message(site.value, ref.action, ref.ref), site.node, SEVERITY)
            continue
        comment = doc.comment_after(site.node)
        if comment and _TOOL_COMMENT.match(comment):
            comment = None  # "# ci-tools: ignore[...]" or another tool's directive names no version
        version = comment_version(comment)
        if version is None:
            yield doc.finding(ID, f'"{site.value}" is pinned to a commit but no comment names its version; '
                                  f'add the exact tag of that commit after it, like "# v1.2.3"', site.node, SEVERITY)
        elif not is_exact_version(version):
            span = doc.comment_span_after(site.node)
            where = doc.span(*span) if span else site.node
            yield doc.finding(ID, f'the comment "# {version}" after "{ref.action}@{ref.ref[:12]}" names no exact '
                                  f'version; write the full tag of that commit, like "# {_example(version)}"',
                              where, SEVERITY)
    yield from image_findings(doc)


def image_findings(doc: Document) -> Iterator[Finding]:
    """Container images without a digest (``verify`` reports them too)."""
    for image in iter_images(doc):
        if "${{" in image.image:
            yield doc.finding(ID, f'image "{image.image}" is chosen by an expression, so its digest cannot be '
                                  "checked; it was skipped", image.node, Severity.NOTE)
        elif not image_is_pinned(image.image):
            name = image.image.split("@", 1)[0]
            yield doc.finding(ID, f'image "{image.image}" is not pinned to a digest; pin it as '
                                  f'"{name}@sha256:<digest>" (`ci-tools pin --images` writes it)', image.node, SEVERITY)


def _unpinned_message(value: str, action: str, ref: str) -> str:
    if _SHORT_SHA.match(ref) and not SEMVER_RE.match(ref):
        return (f'"{value}" is not a full commit SHA; write all 40 lowercase hex digits of the commit and its '
                f'tag, like "{action}@<sha> # v1.2.3"')
    return (f'"{value}" is not pinned to a commit; pin it as "{action}@<sha> # {_example(ref)}" '
            "(`ci-tools pin` writes it)")


def _example(ref: str) -> str:
    """An exact-version comment for ``ref``: itself when exact, ``v4.x.y`` for ``v4``, else ``vX.Y.Z``."""
    if is_exact_version(ref):
        return ref
    m = SEMVER_RE.match(ref)
    if m and not m["pre"]:
        prefix = "v" if ref.startswith("v") else ""
        return f"{prefix}{m['major']}.x.y" if m["minor"] is None else f"{prefix}{m['major']}.{m['minor']}.x"
    return "vX.Y.Z"
