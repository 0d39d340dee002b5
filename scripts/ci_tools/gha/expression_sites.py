"""Where a workflow or action holds expressions: every ``${{ }}`` of every scalar, and the bare
conditions of ``if:`` keys (which GitHub reads as an expression with or without ``${{ }}``).

Used by the checks that look at what an expression does rather than at the value it yields
(``bot-conditions``, ``overprovisioned-secrets``, ``unredacted-secrets``, ``unsound-contains``).
Each site carries the scalar node and the offsets of the body inside the scalar's value, so a
finding can point at the body's own line and column with :func:`ci_tools.gha.scalars.locate`; its
syntax tree comes from the one grammar (:mod:`ci_tools.gha.expressions`), with helpers for what the
checks look for: context chains, calls, parents.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from ci_tools.gha.expressions import (
    Binary,
    Call,
    Context,
    ExpressionError,
    Group,
    Index,
    Literal,
    Not,
    Star,
    find_expressions,
    parse,
    walk,
)
from ci_tools.gha.expressions import Node as Expr
from ci_tools.gha.source import Document, MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["Site", "iter_sites", "tree_of", "Chain", "chains", "parents", "calls", "leftmost", "unwrap"]


class Site(NamedTuple):
    node: ScalarNode
    body: str
    start: int  # offset of the body in node.value
    key: str | None  # the mapping key the scalar is the value of ("if", "run", ...)

    @property
    def is_condition(self) -> bool:
        return (self.key or "").lower() == "if"


def iter_sites(doc: Document, needle: str | None = None) -> Iterator[Site]:
    """Every expression of the document, in file order; ``needle`` (lower case) skips expressions
    whose text does not contain it. The walk is done once per document and kept with its tree."""
    if doc.root is None:
        return
    cache = doc._walks
    if cache is None or cache[0] is not doc.root:
        cache = doc._walks = (doc.root, {})
    sites = cache[1].get("expression_sites")
    if sites is None:
        sites = cache[1]["expression_sites"] = [(site, site.body.lower()) for site in _walk(doc)]
    for site, lowered in sites:
        if needle is None or needle in lowered:
            yield site


def _walk(doc: Document) -> list[Site]:
    if doc.root is None:
        return []
    stack: list[tuple[Node, str | None]] = [(doc.root, None)]
    found: list[Site] = []
    seen: set[int] = set()
    while stack:
        node, key = stack.pop()
        if id(node) in seen:  # an alias: its expressions were visited where it was defined
            continue
        seen.add(id(node))
        if isinstance(node, MappingNode):
            for k, v in node.value:
                stack.append((v, k.value if isinstance(k, ScalarNode) else None))
        elif isinstance(node, SequenceNode):
            stack.extend((item, None) for item in node.value)
        elif isinstance(node, ScalarNode):
            value = node.value
            if "${{" in value:
                try:
                    expressions = find_expressions(value)
                except ExpressionError:
                    continue  # actionlint reports the broken expression
                found.extend(Site(node, e.body, e.body_start, key) for e in expressions)
            elif (key or "").lower() == "if" and value.strip():
                found.append(Site(node, value, 0, key))
    found.sort(key=lambda s: (s.node.start_mark.index, s.start))
    return found


@functools.lru_cache(maxsize=4096)
def _parse(body: str, start: int) -> Expr | None:
    try:
        return parse(body, start)
    except ExpressionError:
        return None  # actionlint reports the broken expression


def tree_of(site: Site) -> Expr | None:
    """The site's syntax tree (offsets relative to the scalar's value); None when GitHub would
    reject the expression. Trees are shared between the checks: never modify one."""
    return _parse(site.body, site.start)


@dataclass(frozen=True)
class Chain:
    """A context access chain: ``secrets``, ``github.event['pull_request'].title``, ``secrets[x]``."""

    node: Expr  # the whole chain: the Context or the outermost Index
    root: Context
    path: str  # dotted; a string key as written, a number or ``*`` becomes ``*``, a computed key too
    dynamic: bool  # a key is computed at run time (``secrets[inputs.name]``)


def chains(tree: Expr) -> list[Chain]:
    """Every context access chain of the tree, in text order (those inside computed keys too)."""
    inner = {id(n.obj) for n in walk(tree) if isinstance(n, Index)}
    found = []
    for node in walk(tree):
        if id(node) in inner or not isinstance(node, Context | Index):
            continue
        parts: list[str] = []
        dynamic = False
        root: Expr = node
        while isinstance(root, Index):
            key = root.key
            if isinstance(key, Literal) and isinstance(key.value, str):
                parts.append(key.value)
            else:
                parts.append("*")
                static = isinstance(key, Star) or (isinstance(key, Literal) and isinstance(key.value, float))
                dynamic = dynamic or not static
            root = root.obj
        if isinstance(root, Context):
            found.append(Chain(node, root, ".".join([root.name, *reversed(parts)]), dynamic))
    return sorted(found, key=lambda c: c.node.start)


def parents(tree: Expr) -> dict[int, Expr]:
    """The parent of every node below the root, by ``id()``."""
    up: dict[int, Expr] = {}
    for node in walk(tree):
        children: list[Expr] = []
        if isinstance(node, Index):
            children = [node.obj, node.key]
        elif isinstance(node, Call):
            children = list(node.args)
        elif isinstance(node, Binary):
            children = [node.left, node.right]
        elif isinstance(node, Not):
            children = [node.operand]
        elif isinstance(node, Group):
            children = [node.inner]
        for child in children:
            up[id(child)] = node
    return up


def calls(tree: Expr, *names: str) -> list[Call]:
    """The calls of the functions ``names`` (lower case) in the tree, in text order."""
    return sorted((n for n in walk(tree) if isinstance(n, Call) and n.name.lower() in names), key=lambda n: n.start)


def call_sites(doc: Document, name: str, arity: int) -> Iterator[tuple[Site, Expr, Call]]:
    """(site, tree, call) of each call of the function ``name`` (lower case) with ``arity`` arguments,
    in the document's expressions GitHub accepts, in file order: what a check of one function reads."""
    if doc.root is None or name not in doc.lower_text:
        return
    for site in iter_sites(doc, name):
        tree = tree_of(site)
        if tree is None:
            continue
        for call in calls(tree, name):
            if len(call.args) == arity:
                yield site, tree, call


def leftmost(node: Expr) -> Expr:
    """The node that the value of ``node`` starts with: ``github.ref`` for ``github.ref || 'x'``
    and for ``(github.ref)``."""
    while isinstance(node, Binary | Index | Group):
        node = node.left if isinstance(node, Binary) else node.obj if isinstance(node, Index) else node.inner
    return node


def unwrap(node: Expr) -> Expr:
    """``node`` without the parentheses around it: ``(github.actor)`` is ``github.actor``."""
    while isinstance(node, Group):
        node = node.inner
    return node
