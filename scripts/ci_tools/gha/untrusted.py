"""Which data an expression's *value* carries, and which of it an attacker controls.

Used by the ``template-injection``, ``dangerous-triggers`` and ``github-env`` checks. An expression
is parsed by :mod:`ci_tools.gha.expressions` (the grammar held to GitHub's expression test data),
and only the context paths whose text can reach the result are kept: ``github.event.issue.title == 'x'`` yields a boolean and
reads no text into the script, ``contains(github.event.issue.title, 'x')`` neither, while
``github.event.issue.title || 'none'``, ``format('{0}', github.head_ref)`` and
``toJSON(github.event)`` all do.

The list of attacker-controllable paths follows GitHub's security hardening guide and the lists
kept by CodeQL, actionlint and zizmor: free text that anyone who can open an issue, a pull request
or a fork can write (titles, bodies, comments, commit messages and authors, branch names of forks,
wiki page names). Numbers, SHAs, booleans, logins and URLs built by GitHub are not in it.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ci_tools.gha.expressions import (
    Binary,
    Call,
    Context,
    ExpressionError,
    Group,
    Index,
    Literal,
    Node,
    context_paths,
    parse,
)

__all__ = ["Ref", "value_refs", "untrusted_match", "UNTRUSTED_PATHS", "HEAD_REF_PATHS", "matches"]

# One pattern per attacker-controllable value: "*" is one segment, a trailing "**" any tail.
UNTRUSTED_PATHS: tuple[str, ...] = (
    "github.head_ref",
    # issues, pull requests, reviews, comments, discussions
    "github.event.issue.title",
    "github.event.issue.body",
    "github.event.pull_request.title",
    "github.event.pull_request.body",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.default_branch",
    "github.event.pull_request.head.repo.description",
    "github.event.pull_request.head.repo.homepage",
    "github.event.comment.body",
    "github.event.review.body",
    "github.event.review_comment.body",
    "github.event.discussion.title",
    "github.event.discussion.body",
    "github.event.answer.body",
    "github.event.changes.title.from",
    "github.event.changes.body.from",
    # commits: messages and authors are whatever the committer wrote
    "github.event.commits.*.message",
    "github.event.commits.*.author.name",
    "github.event.commits.*.author.email",
    "github.event.commits.*.committer.name",
    "github.event.commits.*.committer.email",
    "github.event.head_commit.message",
    "github.event.head_commit.author.name",
    "github.event.head_commit.author.email",
    "github.event.head_commit.committer.name",
    "github.event.head_commit.committer.email",
    "github.event.merge_group.head_commit.message",
    "github.event.merge_group.head_commit.author.name",
    "github.event.merge_group.head_commit.author.email",
    # wiki pages
    "github.event.pages.*.page_name",
    "github.event.pages.*.title",
    # workflow_run and check suites started by a fork's pull request
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.display_title",
    "github.event.workflow_run.head_commit.message",
    "github.event.workflow_run.head_commit.author.name",
    "github.event.workflow_run.head_commit.author.email",
    "github.event.workflow_run.head_commit.committer.name",
    "github.event.workflow_run.head_commit.committer.email",
    "github.event.workflow_run.head_repository.description",
    "github.event.workflow_run.pull_requests.*.head.ref",
    "github.event.check_suite.head_branch",
    "github.event.check_run.check_suite.head_branch",
    # repository_dispatch: an arbitrary JSON document from whoever holds a token
    "github.event.client_payload.**",
)

# Paths naming the head of a pull request (or of the run that a workflow_run follows): checking
# one of them out in a privileged workflow runs the pull request's code.
HEAD_REF_PATHS: tuple[str, ...] = (
    "github.head_ref",
    "github.event.pull_request.head.ref",
    "github.event.pull_request.head.sha",
    "github.event.pull_request.head.label",
    "github.event.pull_request.head.repo.full_name",
    "github.event.pull_request.merge_commit_sha",
    "github.event.workflow_run.head_branch",
    "github.event.workflow_run.head_sha",
    "github.event.workflow_run.head_commit.id",
    "github.event.workflow_run.head_repository.full_name",
    "github.event.workflow_run.pull_requests.*.head.ref",
    "github.event.workflow_run.pull_requests.*.head.sha",
    "github.event.check_suite.head_sha",
    "github.event.check_suite.head_branch",
)

# Functions whose result is a boolean (or a hash): no text of their arguments reaches the value.
_OPAQUE_FUNCTIONS = {"contains", "startswith", "endswith", "success", "failure", "always", "cancelled",
                     "hashfiles"}


@dataclass(frozen=True)
class Ref:
    """A context path whose text may reach an expression's value, with its offsets."""

    path: str  # normalised dotted form, case as written
    start: int
    end: int


def _split(pattern: str) -> list[str]:
    return pattern.lower().split(".")


_COMPILED = {p: _split(p) for p in UNTRUSTED_PATHS + HEAD_REF_PATHS}


@functools.lru_cache(maxsize=16)
def _heads(patterns: tuple[str, ...]) -> frozenset[str]:
    """First segments of the patterns: a path starting otherwise (``inputs``, ``env``) matches none."""
    return frozenset(p.split(".", 1)[0].lower() for p in patterns)


def matches(path: str, pattern: str, objects: bool = True) -> bool:
    """``path`` is the pattern's value, a part of it, or an object that contains it.

    ``github.event.commits[0].message`` matches ``github.event.commits.*.message``; the object
    ``github.event.pull_request`` contains ``...pull_request.title`` and matches too, because
    ``toJSON(github.event.pull_request)`` carries the title along.
    """
    segs = path.lower().split(".")
    pat = _COMPILED.get(pattern) or _split(pattern)
    if not objects and len(segs) < len(pat) and pat[-1] != "**":
        return False
    for i, seg in enumerate(segs):
        if i >= len(pat):
            return False
        want = pat[i]
        if want == "**":
            return True
        if want == "*" or seg == "*":
            continue
        if seg != want:
            return False
    return True  # equal, or a prefix: an object holding the value


@functools.lru_cache(maxsize=8192)
def untrusted_match(path: str, patterns: tuple[str, ...] = UNTRUSTED_PATHS, objects: bool = True) -> str | None:
    """The first pattern that ``path`` reads (or, with ``objects``, contains), else None.

    Memoised: the same few paths (``inputs.x``, ``github.event.pull_request.title``) recur in
    every file.
    """
    if path.split(".", 1)[0].lower() not in _heads(patterns):
        return None
    for pattern in patterns:
        if matches(path, pattern, objects):
            return pattern
    return None


# --------------------------------------------------------------------------- taint

def _segment(key: Node) -> str:
    """The path segment an index adds: a string key as written, any other key (a number, ``*``,
    an expression computed at run time) one unknown segment."""
    if isinstance(key, Literal) and isinstance(key.value, str) and not key.value.isdigit():
        return key.value
    return "*"


def _refs(node: Node) -> list[Ref]:
    """The context paths whose text can become the value of ``node``."""
    if isinstance(node, Context):
        return [Ref(node.name, node.start, node.end)]
    if isinstance(node, Index):
        root: Node = node
        segments: list[str] = []
        while isinstance(root, Index):  # a dynamic key's own value is only a key
            segments.insert(0, _segment(root.key))
            root = root.obj
        if isinstance(root, Call):  # fromJSON(x).title: what x holds, not a path of it
            return _refs(root)
        return [Ref(".".join([ref.path, *segments]), ref.start, node.end) for ref in _refs(root)]
    if isinstance(node, Group):  # (a || b).title reads a.title or b.title: the index above extends both
        return _refs(node.inner)
    if isinstance(node, Binary):
        if node.op == "||":
            return _refs(node.left) + _refs(node.right)  # either side can be the value
        if node.op == "&&":
            return _refs(node.right)  # the left side is the value only when falsy ('' or 0 or null)
        return []  # a comparison is a boolean
    if isinstance(node, Call):
        if node.name.lower() in _OPAQUE_FUNCTIONS:
            return []
        return [ref for arg in node.args for ref in _refs(arg)]
    return []  # literals, and "!" which yields a boolean


def value_refs(body: str, offset: int = 0) -> list[Ref]:
    """Context paths whose text may become part of the value of the expression ``body``.

    Offsets are those of ``body`` plus ``offset``. An expression that does not parse falls back
    to every path it mentions outside of boolean functions (never fewer findings).
    """
    try:
        return _refs(parse(body, offset))
    except ExpressionError:
        pass
    try:
        paths = context_paths(body, offset)
    except ExpressionError:
        return []
    return [Ref(p.path, p.start, p.end) for p in paths if p.in_function not in _OPAQUE_FUNCTIONS]
