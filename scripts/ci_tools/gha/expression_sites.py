"""Where a workflow or action holds expressions: every ``${{ }}`` of every scalar, and the bare
conditions of ``if:`` keys (which GitHub reads as an expression with or without ``${{ }}``).

Used by the checks that look at what an expression does rather than at the value it yields
(``bot-conditions``, ``overprovisioned-secrets``, ``unredacted-secrets``, ``unsound-contains``).
Each site carries the scalar node and the offsets of the body inside the scalar's value, so a
finding can point at the body's own line and column with :func:`ci_tools.gha.scalars.locate`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from ci_tools.gha.expressions import ExpressionError, Token, find_expressions, tokenize
from ci_tools.gha.source import Document, MappingNode, Node, ScalarNode, SequenceNode

__all__ = ["Site", "iter_sites", "tokens_of", "chain_at", "is_chain_start", "call_arguments"]


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


def tokens_of(site: Site) -> list[Token] | None:
    """The site's tokens, offsets relative to the scalar's value; None when it does not tokenize."""
    try:
        return tokenize(site.body, site.start)
    except ExpressionError:
        return None


def chain_at(tokens: list[Token], i: int) -> tuple[str, int, bool]:
    """The property chain starting at ``tokens[i]`` (an identifier that is not a function call):
    its dotted path, the index after it, and whether an index in it was computed at run time
    (``secrets[inputs.name]``). Static indexes become path segments, ``[*]`` and numbers ``*``."""
    parts = [tokens[i].text]
    j = i + 1
    dynamic = False
    while j < len(tokens):
        t = tokens[j]
        if t.kind == "punct" and t.text == "." and j + 1 < len(tokens) and tokens[j + 1].kind in ("ident", "star"):
            parts.append(tokens[j + 1].text)
            j += 2
            continue
        if t.kind == "punct" and t.text == "[":
            if j + 2 < len(tokens) and tokens[j + 1].kind in ("string", "number", "star") \
                    and tokens[j + 2].kind == "punct" and tokens[j + 2].text == "]":
                inner = tokens[j + 1]
                parts.append("*" if inner.kind != "string" else inner.text)
                j += 3
                continue
            depth, k = 0, j
            while k < len(tokens) and tokens[k].kind != "eof":
                if tokens[k].kind == "punct" and tokens[k].text == "[":
                    depth += 1
                elif tokens[k].kind == "punct" and tokens[k].text == "]":
                    depth -= 1
                    if depth == 0:
                        break
                k += 1
            parts.append("*")
            dynamic = True
            j = k + 1
            continue
        break
    return ".".join(parts), j, dynamic


def is_chain_start(tokens: list[Token], i: int) -> bool:
    """``tokens[i]`` begins a context chain: an identifier, not a literal, not a function name, not
    a property name after a dot."""
    t = tokens[i]
    if t.kind != "ident" or t.text.lower() in ("true", "false", "null"):
        return False
    if i + 1 < len(tokens) and tokens[i + 1].kind == "punct" and tokens[i + 1].text == "(":
        return False
    return not (i > 0 and tokens[i - 1].kind == "punct" and tokens[i - 1].text == ".")


def call_arguments(tokens: list[Token], open_index: int) -> tuple[list[list[Token]], int]:
    """The argument token lists of the call whose ``(`` is at ``open_index``, and the index of its ``)``."""
    args: list[list[Token]] = [[]]
    depth = 0
    k = open_index
    while k < len(tokens) and tokens[k].kind != "eof":
        t = tokens[k]
        if t.kind == "punct" and t.text in "([":
            depth += 1
            if depth > 1:
                args[-1].append(t)
        elif t.kind == "punct" and t.text in ")]":
            depth -= 1
            if depth == 0:
                return ([a for a in args if a] if args != [[]] else []), k
            args[-1].append(t)
        elif t.kind == "punct" and t.text == "," and depth == 1:
            args.append([])
        else:
            args[-1].append(t)
        k += 1
    return [a for a in args if a], k
