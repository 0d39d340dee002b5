"""What the pin commands rewrite: every remote ``uses:`` with its version comment, and every container image.

:func:`collect` reads every remote ``uses:`` (steps, composite action steps, reusable workflow calls,
subpath actions) with its comment; :func:`collect_images` every container image. An
:class:`Occurrence` knows the spans a rewrite touches (the ref, the whole value, the version comment).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ci_tools.core.findings import Finding, Fix
from ci_tools.gha.resolve.base import RepoRefs
from ci_tools.gha.source import Document, ScalarNode, iter_images, iter_uses
from ci_tools.gha.uses import REMOTE, SEMVER_RE, UsesRef, parse_uses

_TOOL_COMMENT = re.compile(r"(?:ci-tools|zizmor|jactionlint|actionlint|nosec|noqa|renovate|dependabot)\b", re.I)


_VERSION_TOKEN = re.compile(r"(?P<prefix>(?:(?:tag|version|pin|ratchet)\s*[=:@]\s*|pin@|ratchet:[^@\s]+@)?)"
                            r"(?P<version>[^\s#,;]+)")


@dataclass
class Occurrence:
    """One remote ``uses:`` value in one file, with the positions a rewrite needs."""

    doc: Document
    node: ScalarNode
    ref: UsesRef
    comment: str | None  # text after '#', stripped
    comment_span: tuple[int, int] | None  # span of the whole comment, '#' included

    @property
    def repo(self) -> str:
        return self.ref.repository

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1

    def version_token(self, refs: RepoRefs | None = None) -> tuple[str, int, int] | None:
        """The version the comment names and its span in the text, when the comment is a version comment."""
        if not self.comment or not self.comment_span or _TOOL_COMMENT.match(self.comment):
            return None
        text = self.doc.text[self.comment_span[0]:self.comment_span[1]]
        body_start = len(text) - len(text[1:].lstrip()) if text.startswith("#") else 0
        m = _VERSION_TOKEN.match(text, body_start)
        if not m:
            return None
        version = m["version"]
        looks = bool(SEMVER_RE.match(version)) or version == self.ref.ref or bool(m["prefix"]) or (
            refs is not None and (version in refs.tags or version in refs.branches))
        if not looks:
            return None
        start = self.comment_span[0] + m.start("version")
        return version, start, start + len(version)

    def value_span(self) -> tuple[int, int] | None:
        """Span of the whole value inside its quotes, when the source spells it character for character
        (no escapes, no line folding); a non-canonical spelling is rewritten there."""
        loc = self.doc.location(self.node)
        start, end = loc.start_offset, loc.end_offset
        raw = self.doc.text[start:end]
        if raw[:1] in ("'", '"') and len(raw) >= 2 and raw[-1] == raw[0]:
            start, end, raw = start + 1, end - 1, raw[1:-1]
        return (start, end) if raw == self.node.value else None

    def ref_fix(self, commit: str) -> Fix | None:
        """The fix that makes the value read ``<canonical action>@<commit>``: the ref alone when the value is
        spelled canonically, else the whole value (None when its source cannot be located)."""
        if self.ref.spelling_issues:
            span = self.value_span()
            return Fix(span[0], span[1], f"{self.ref.action}@{commit}") if span is not None else None
        span = self.ref_span()
        return Fix(span[0], span[1], commit) if span is not None else None

    def ref_span(self) -> tuple[int, int] | None:
        """Span of the ref (after ``@``) inside the value's source text, quotes excluded."""
        loc = self.doc.location(self.node)
        raw = self.doc.text[loc.start_offset:loc.end_offset]
        at = raw.rfind("@" + self.ref.ref)
        if at < 0:
            return None
        start = loc.start_offset + at + 1
        return start, start + len(self.ref.ref)


@dataclass
class ImageOccurrence:
    doc: Document
    node: ScalarNode
    image: str
    where: str

    @property
    def line(self) -> int:
        return self.node.start_mark.line + 1


def collect(docs: list[Document]) -> list[Occurrence]:
    out = []
    for doc in docs:
        if doc.root is None:
            continue
        for site in iter_uses(doc):
            ref = parse_uses(site.value)
            if ref.kind != REMOTE:
                continue  # ./ and $/ are local, docker:// is an image, ${{ }} cannot be resolved
            out.append(Occurrence(doc, site.node, ref, doc.comment_after(site.node), doc.comment_span_after(site.node)))
    return out


def malformed(docs: list[Document]) -> list[Finding]:
    """``malformed-uses`` findings: values that name nothing ``pin`` could resolve (never rewritten)."""
    from ci_tools.lint.checks import malformed_uses

    out = []
    for doc in docs:
        if doc.root is None:
            continue
        for site in iter_uses(doc):
            found = malformed_uses.site_finding(doc, site)
            if found is not None:
                out.append(found)
    return out


def collect_images(docs: list[Document]) -> list[ImageOccurrence]:
    out = []
    for doc in docs:
        if doc.root is None:
            continue
        for site in iter_images(doc):
            if "${{" not in site.image:
                out.append(ImageOccurrence(doc, site.node, site.image, site.where))
    return out
