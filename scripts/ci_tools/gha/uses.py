"""Parsing of ``uses:`` references and of the version comment that follows a pin.

:func:`parse_uses` is the one reading of a ``uses:`` value: every check, ``pin``, ``verify``,
``update`` and ``report`` go through it, so a spelling that GitHub runs as ``owner/repo[/path]@ref``
is seen as exactly that everywhere, and a value GitHub rejects or cannot run is ``INVALID`` with the
reason in :attr:`UsesRef.problem`.

What GitHub accepts, read from its workflow parser (actions/runner,
``src/Sdk/WorkflowParser/Conversion/WorkflowTemplateConverter.cs``; the runner's older
``PipelineTemplateConverter.cs`` reads it the same way): ``./`` or ``.\\`` is a local action,
``docker://`` an image; anything else is split at ``@`` (exactly one ``@``), the part before it at
``/`` and ``\\`` with empty pieces dropped, and at least two pieces (owner, repository) and a
non-empty ref are required; the remaining pieces, joined with ``/``, are the path, with ``.`` and
``..`` passed on untouched (the runner joins the path to the action's download directory, so ``..``
can leave the repository). Whitespace around the value is stripped (zizmor's ``uses:`` parser notes
it empirically); whitespace inside the ref makes a ref no git repository can have.

So ``owner/repo/@ref``, ``owner//repo@ref``, ``/owner/repo@ref``, ``owner\\repo@ref``,
``owner/repo/./path@ref``, ``owner/repo/x/../path@ref`` and ``" owner/repo@ref "`` are
*non-canonical* spellings: :attr:`UsesRef.action` and :attr:`UsesRef.ref` hold the normalised
reference, :attr:`UsesRef.canonical` its documented spelling and :attr:`UsesRef.spelling_issues` what
differs. Letter case is not a spelling issue: owner and repository names are case-insensitive on
GitHub (every comparison lower-cases them) and the canonical case cannot be known offline.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LOCAL = "local"  # ./path
SELF = "self"  # $/path: this repository at the caller's commit
DOCKER = "docker"  # docker://image
EXPRESSION = "expression"  # contains ${{ }}
REMOTE = "remote"  # owner/repo[/path]@ref
INVALID = "invalid"

SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")
OWNER_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]*\Z")  # users and organisations (_ for managed users)
REPO_RE = re.compile(r"[A-Za-z0-9._-]+\Z")
# what no git ref name may hold (git check-ref-format): whitespace and control characters, ~ ^ : ? * [ \,
# "..", "@{", "//", a leading or trailing "/", a trailing "." or ".lock"
_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|^/|/$|\.$|\.lock$")


def is_ref_name(name: str) -> bool:
    """A tag or branch name git allows (``git check-ref-format``): what a resolver's answer, a cache
    entry or a comment that pin writes may name, and never a line break, a space or a control character."""
    return bool(name) and not _BAD_REF.search(name)
SEMVER_RE = re.compile(r"v?(?P<major>\d+)(?:\.(?P<minor>\d+))?(?:\.(?P<patch>\d+))?(?P<pre>[-+][0-9A-Za-z.+-]*)?\Z")
_COMMENT_VERSION_RE = re.compile(
    r"^(?:(?:tag|version|pin|ratchet)\s*[=:@]\s*|pin@|ratchet:[^@\s]+@)?(?P<version>[^\s#,;]+)")


@dataclass(frozen=True)
class UsesRef:
    raw: str
    kind: str
    owner: str = ""
    repo: str = ""
    path: str = ""
    ref: str = ""
    problem: str = ""  # INVALID: what is wrong with the value
    spelling_issues: tuple[str, ...] = ()  # REMOTE: how the value differs from its canonical spelling

    @property
    def repository(self) -> str:
        """``owner/repo`` (case preserved)."""
        return f"{self.owner}/{self.repo}" if self.owner else ""

    @property
    def action(self) -> str:
        """``owner/repo[/path]`` without the ref."""
        return self.repository + (f"/{self.path}" if self.path else "")

    @property
    def canonical(self) -> str:
        """The documented spelling ``owner/repo[/path]@ref`` of a remote reference."""
        return f"{self.action}@{self.ref}" if self.kind == REMOTE else self.raw

    @property
    def is_sha(self) -> bool:
        return bool(SHA_RE.match(self.ref))

    @property
    def is_reusable_workflow(self) -> bool:
        return bool(re.match(r"\.github/workflows/[^/]+\.ya?ml\Z", self.path))


def parse_uses(value: str) -> UsesRef:
    """Read a ``uses:`` value once, as GitHub does (see the module's documentation)."""
    raw = value
    value = value.strip()
    if "${{" in value:
        return UsesRef(raw, EXPRESSION)
    if value.startswith(("./", ".\\")):
        return UsesRef(raw, LOCAL, path=value[2:])
    if value.startswith("$/"):
        return UsesRef(raw, SELF, path=value[2:])
    if value.startswith("docker://"):
        image = value[len("docker://"):]
        if not image.strip():
            return UsesRef(raw, INVALID, problem='"docker://" names no image; write docker://<image>:<tag>@sha256:<digest>')
        return UsesRef(raw, DOCKER, path=image)
    if not value:
        return UsesRef(raw, INVALID, problem="the value is empty; write owner/repo@<sha>, ./path or docker://image")
    return _parse_remote(raw, value)


_FORMAT = 'the format is "owner/repo@<ref>" or "owner/repo/path@<ref>"'


def _parse_remote(raw: str, value: str) -> UsesRef:
    def invalid(problem: str) -> UsesRef:
        return UsesRef(raw, INVALID, problem=problem)

    issues: list[str] = []
    if value != raw:
        issues.append("whitespace around the value")
    ats = value.count("@")
    if ats == 0:
        return invalid(f'it has no "@<ref>"; {_FORMAT}, or "./path" for an action of this repository')
    if ats > 1:
        return invalid(f'it has more than one "@"; {_FORMAT}')
    left, ref = value.split("@")
    if not ref:
        return invalid(f'the ref after "@" is empty; {_FORMAT}')
    if re.search(r"\s", ref):
        return invalid(f'the ref "{ref}" holds a space, which no git ref can; {_FORMAT}')
    if _BAD_REF.search(ref):
        return invalid(f'"{ref}" is not a valid git ref name; {_FORMAT}')
    if "\\" in left:
        issues.append("a backslash")
    pieces = re.split(r"[/\\]", left)
    named = [p for p in pieces if p]
    if len(named) < 2:
        return invalid(f'it names no owner and repository before "@"; {_FORMAT}')
    if len(named) != len(pieces):
        if not pieces[0]:
            issues.append("a leading slash")
        if len(pieces) > 1 and not pieces[-1]:
            issues.append("a trailing slash")
        if any(not p for p in pieces[1:-1]):
            issues.append("an empty path segment (//)")
    owner, repo = named[0], named[1]
    if not OWNER_RE.match(owner):
        return invalid(f'"{owner}" is not a valid owner name (letters, digits and hyphens); {_FORMAT}')
    if not REPO_RE.match(repo) or repo in (".", ".."):
        return invalid(f'"{repo}" is not a valid repository name (letters, digits, ".", "-" and "_"); {_FORMAT}')
    path: list[str] = []
    for piece in named[2:]:
        if piece == ".":
            if 'a "." path segment' not in issues:
                issues.append('a "." path segment')
        elif piece == "..":
            if not path:
                return invalid(f'the path "{"/".join(named[2:])}" leaves the repository with ".."; {_FORMAT}')
            path.pop()
            if 'a ".." path segment' not in issues:
                issues.append('a ".." path segment')
        else:
            path.append(piece)
    return UsesRef(raw, REMOTE, owner, repo, "/".join(path), ref, spelling_issues=tuple(issues))


def comment_version(comment: str | None) -> str | None:
    """The version a pin's comment names: ``v4.2.2``, ``tag=v4.2.2``, ``pin@v4.2.2``; else None."""
    if not comment:
        return None
    m = _COMMENT_VERSION_RE.match(comment.strip())
    if not m:
        return None
    version = m["version"]
    return version or None


def semver_key(tag: str) -> tuple[int, int, int, int, int] | None:
    """Sort key for ``vX[.Y[.Z]]`` tags: releases above prereleases, more specific above less."""
    m = SEMVER_RE.match(tag)
    if not m:
        return None
    parts = (m["major"], m["minor"], m["patch"])
    specificity = sum(p is not None for p in parts)
    return (int(m["major"]), int(m["minor"] or 0), int(m["patch"] or 0), 0 if m["pre"] else 1, specificity)


def is_exact_version(tag: str) -> bool:
    """``v4.2.2`` or ``4.2.2`` (full semver, prerelease allowed); not ``v4`` or ``main``."""
    m = SEMVER_RE.match(tag)
    return bool(m and m["patch"] is not None)


# ---------------------------------------------------------------------------- images
_DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}\Z")


def image_is_pinned(image: str) -> bool:
    return bool(_DIGEST_RE.search(image.strip()))
