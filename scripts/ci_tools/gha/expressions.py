"""The one grammar of GitHub Actions expressions (``${{ ... }}``): tokens, a syntax tree, positions.

Every reader of the expression language goes through this module: the taint analysis behind
``template-injection`` (:mod:`ci_tools.gha.untrusted`), the token-level checks (through
:mod:`ci_tools.gha.expression_sites`) and the evaluator (:mod:`ci_tools.gha.evaluate`) that the
tests' local action runner uses. ``tests/gha/test_expression_testdata.py`` holds it to the test
data of GitHub's own expression library (lexing and parsing errors with their positions, and the
value of every other case).

The lexer works the way GitHub's does, which regular expressions get wrong: a token runs to the
next *boundary* character (whitespace, ``()[],.!<>=&|``), so ``foo.b@r``, ``1 =2`` and ``-0xff``
are single bad tokens rather than something half-read; a ``.`` after anything but a name, ``]``,
``)`` or ``*`` starts a number (``.5``); ``true``/``false``/``null``/``NaN``/``Infinity`` are
keywords except after a dot. The parser follows GitHub's precedence, loosest first: ``||``,
``&&``, ``== !=``, ``< <= > >=``, ``!``, then ``.name``, ``.*``, ``[expr]``, ``[*]`` after a name,
a call or a parenthesised group, and its depth limit (50).

Offsets everywhere (tokens, nodes, :class:`ExpressionError`) are those of the scanned text plus
the ``offset`` the caller passes, so a check can point at the body's own line and column.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Union

__all__ = [
    "Token", "ExpressionError", "Expression", "find_expressions", "tokenize", "context_paths",
    "parse", "parse_number", "Node", "Literal", "Context", "Star", "Index", "Call", "Not", "Binary",
    "Group", "walk", "FUNCTIONS", "STATUS_FUNCTIONS", "MAX_DEPTH",
]

MAX_DEPTH = 50

# GitHub's built-in functions, lower case, with their (fewest, most) arguments.
FUNCTIONS: dict[str, tuple[int, int]] = {
    "contains": (2, 2), "startswith": (2, 2), "endswith": (2, 2), "format": (1, 255), "join": (1, 2),
    "tojson": (1, 1), "fromjson": (1, 1), "hashfiles": (1, 255), "case": (3, 255),
}
# The job-status functions a workflow's ``if:`` may call.
STATUS_FUNCTIONS: dict[str, tuple[int, int]] = {"success": (0, 0), "failure": (0, 0), "always": (0, 0),
                                                "cancelled": (0, 0)}


class ExpressionError(ValueError):
    """An expression GitHub would reject; ``offset`` is where (in the caller's coordinates)."""

    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Token:
    """One token. ``text`` is the lexeme, except for strings: their value without the quotes.

    Kinds: ident (names, and the keywords true/false/null), number, string, op (``== != <= >= < >
    && || !``), punct (``( ) [ ] , .``), star, eof; error (a bad token, only when tolerant).
    """

    kind: str
    text: str
    start: int
    end: int
    value: Any = None  # the number of a number token


@dataclass(frozen=True)
class Expression:
    """One ``${{ ... }}`` occurrence: offsets into the scanned string (of ``${{`` and after ``}}``)."""

    start: int
    end: int
    body: str
    body_start: int


# --------------------------------------------------------------------------- templates

def find_expressions(text: str) -> list[Expression]:
    """Every ``${{ ... }}`` in ``text``; a ``}}`` inside a string literal does not close it.

    An unterminated ``${{`` raises :class:`ExpressionError` with its offset.
    """
    found: list[Expression] = []
    i = 0
    while True:
        start = text.find("${{", i)
        if start < 0:
            return found
        j = start + 3
        in_string = False
        while j < len(text):
            c = text[j]
            if in_string:
                if c == "'":
                    if text.startswith("''", j):
                        j += 2
                        continue
                    in_string = False
            elif c == "'":
                in_string = True
            elif text.startswith("}}", j):
                break
            j += 1
        else:
            raise ExpressionError('"${{" is not closed by "}}"', start)
        found.append(Expression(start, j + 2, text[start + 3 : j], start + 3))
        i = j + 2


# --------------------------------------------------------------------------- numbers

_DECIMAL = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_RADIX = re.compile(r"0x[0-9a-fA-F]+|0o[0-7]+")


def parse_number(text: str) -> float:
    """GitHub's reading of a string as a number: trimmed, decimal (exponent allowed), ``0x`` hex,
    ``0o`` octal, signed ``Infinity``; ``''`` is 0; anything else is NaN."""
    s = text.strip()
    if not s:
        return 0.0
    if _DECIMAL.fullmatch(s):
        return float(s)
    if _RADIX.fullmatch(s):
        return float(int(s[2:], 16 if s[1] == "x" else 8))
    if s.lstrip("+-") == "Infinity" and len(s) - len(s.lstrip("+-")) <= 1:
        return -math.inf if s.startswith("-") else math.inf
    return math.nan


# --------------------------------------------------------------------------- lexer

_BOUNDARY = frozenset("()[],.!<>=&|")
_WHITESPACE = frozenset(" \t\r\n")
_PUNCT = frozenset("()[],")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_KEYWORDS = {"true": "ident", "false": "ident", "null": "ident", "NaN": "number", "Infinity": "number"}


def _unexpected(symbol: str, pos: int, text: str, offset: int) -> ExpressionError:
    return ExpressionError(f"Unexpected symbol: '{symbol}'. Located at position {pos + 1} within expression: {text}",
                           offset + pos)


def tokenize(text: str, offset: int = 0, *, tolerant: bool = False) -> list[Token]:
    """The tokens of an expression body, ending with an ``eof`` token.

    A bad token (``b@r``, ``=2``, ``0xZZ``, an unterminated string) raises
    :class:`ExpressionError` with GitHub's message, at its first character; with ``tolerant``
    it becomes an ``error`` token instead and the scan goes on.
    """
    tokens: list[Token] = []
    after_dot = False  # the previous token was "." (keywords are names there)
    dot_follows = False  # the previous token can be followed by a property access
    i, n = 0, len(text)
    while i < n:
        if text[i] in _WHITESPACE:
            i += 1
            continue
        tok = _token(text, i, offset, after_dot, dot_follows)
        if tok.kind == "error" and not tolerant:
            raise _unexpected(tok.text, i, text, offset)
        tokens.append(tok)
        dot_follows = (tok.kind == "ident" and (after_dot or tok.text not in _KEYWORDS)) \
            or tok.kind == "star" or (tok.kind == "punct" and tok.text in ")]")
        after_dot = tok.kind == "punct" and tok.text == "."
        i = tok.end - offset
    tokens.append(Token("eof", "", offset + n, offset + n))
    return tokens


def _run_end(text: str, j: int, dots: bool) -> int:
    """Where a run of non-boundary characters starting at ``j`` ends (``dots``: a "." does not end it)."""
    while j < len(text) and not (text[j].isspace() or (text[j] in _BOUNDARY and not (dots and text[j] == "."))):
        j += 1
    return j


def _token(text: str, i: int, offset: int, after_dot: bool, dot_follows: bool) -> Token:
    """The token starting at ``text[i]`` (not whitespace); an ``error`` token when it is bad."""
    c = text[i]
    if c in _PUNCT or (c == "." and dot_follows):
        return Token("punct", c, offset + i, offset + i + 1)
    if c == "*":
        return Token("star", c, offset + i, offset + i + 1)
    if c in "!<>=&|":
        two = text[i : i + 2]
        if two in ("==", "!=", "<=", ">=", "&&", "||"):
            return Token("op", two, offset + i, offset + i + 2)
        if c in "!<>":
            return Token("op", c, offset + i, offset + i + 1)
        j = _run_end(text, i + 1, False)  # a lone "=", "&" or "|": the bad symbol runs to a boundary
        return Token("error", text[i:j], offset + i, offset + j)
    if c == "'":
        j = i + 1
        while j < len(text):
            if text[j] == "'":
                if not text.startswith("''", j):
                    return Token("string", text[i + 1 : j].replace("''", "'"), offset + i, offset + j + 1)
                j += 1
            j += 1
        return Token("error", text[i:], offset + i, offset + len(text))
    if c in "+-." or (c.isdigit() and c.isascii()):
        j = _run_end(text, i + 1, True)
        number = parse_number(text[i:j])
        return Token("error" if math.isnan(number) else "number", text[i:j], offset + i, offset + j, number)
    j = _run_end(text, i + 1, False)
    word = text[i:j]
    if not _IDENT.fullmatch(word):
        return Token("error", word, offset + i, offset + j)
    kind = "ident" if after_dot else _KEYWORDS.get(word, "ident")
    keyword = (math.nan if word == "NaN" else math.inf) if kind == "number" else None
    return Token(kind, word, offset + i, offset + j, keyword)


# --------------------------------------------------------------------------- syntax tree

@dataclass(frozen=True)
class Literal:
    value: None | bool | float | str
    start: int
    end: int


@dataclass(frozen=True)
class Context:
    """A named value (``github``, ``inputs``...), as written."""

    name: str
    start: int
    end: int


@dataclass(frozen=True)
class Star:
    """The ``*`` of ``x.*`` or ``x[*]``: only ever the key of an :class:`Index`."""

    start: int
    end: int


@dataclass(frozen=True)
class Index:
    """``obj.name`` (key: a string :class:`Literal`, ``dot`` true), ``obj[key]``, ``obj.*``/``obj[*]``."""

    obj: Node
    key: Node
    start: int
    end: int
    dot: bool = False


@dataclass(frozen=True)
class Call:
    name: str  # as written
    args: tuple[Node, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Not:
    operand: Node
    start: int
    end: int


@dataclass(frozen=True)
class Binary:
    op: str  # || && == != < <= > >=
    left: Node
    right: Node
    start: int
    end: int


@dataclass(frozen=True)
class Group:
    """``( inner )``: kept, because a property read after it reads that property of every branch."""

    inner: Node
    start: int
    end: int


Node = Union[Literal, Context, Star, Index, Call, Not, Binary, Group]  # noqa: UP007 (a runtime alias)


def walk(node: Node) -> Iterator[Node]:
    """The node and every node below it, parents first."""
    stack = [node]
    while stack:
        cur = stack.pop()
        yield cur
        if isinstance(cur, Index):
            stack += [cur.key, cur.obj]
        elif isinstance(cur, Call):
            stack += reversed(cur.args)
        elif isinstance(cur, Binary):
            stack += [cur.right, cur.left]
        elif isinstance(cur, Not):
            stack.append(cur.operand)
        elif isinstance(cur, Group):
            stack.append(cur.inner)


# --------------------------------------------------------------------------- parser

_LEVELS = (("||",), ("&&",), ("==", "!="), ("<", "<=", ">", ">="))  # loosest first


class _Parser:
    def __init__(self, text: str, offset: int, names: Collection[str] | None,
                 functions: Mapping[str, tuple[int, int]] | None) -> None:
        self.text, self.offset = text, offset
        self.tokens = tokenize(text, offset)
        self.names = None if names is None else {name.lower() for name in names}
        self.functions = functions
        self.i = 0
        self.depth = 0

    # ---- helpers
    def peek(self) -> Token:
        return self.tokens[self.i]

    def at(self, kind: str, *texts: str) -> bool:
        tok = self.tokens[self.i]
        return tok.kind == kind and (not texts or tok.text in texts)

    def take(self) -> Token:
        tok = self.tokens[self.i]
        if tok.kind != "eof":
            self.i += 1
        return tok

    def error(self, what: str, tok: Token, symbol: str | None = None) -> ExpressionError:
        pos = tok.start - self.offset
        shown = tok.text if symbol is None else symbol
        return ExpressionError(f"{what}: '{shown}'. Located at position {pos + 1} within expression: {self.text}",
                               tok.start)

    def unexpected(self) -> ExpressionError:
        tok = self.peek()
        if tok.kind == "eof":
            return self.end_error()
        return self.error("Unexpected symbol", tok)

    def end_error(self) -> ExpressionError:
        last = self.tokens[self.i - 1] if self.i else self.peek()
        return self.error("Unexpected end of expression", last)

    def expect(self, kind: str, text: str) -> Token:
        if not self.at(kind, text):
            raise self.unexpected()
        return self.take()

    def deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self.error(f"Exceeded max expression depth {MAX_DEPTH}", self.peek())

    # ---- grammar
    def parse(self) -> Node:
        if self.at("eof"):  # nothing at all: null, as in GitHub
            return Literal(None, self.peek().start, self.peek().end)
        node = self.expression()
        if not self.at("eof"):
            raise self.unexpected()
        return node

    def expression(self) -> Node:
        self.deeper()
        node = self.binary(0)
        self.depth -= 1
        return node

    def binary(self, level: int) -> Node:
        if level == len(_LEVELS):
            return self.unary()
        node = self.binary(level + 1)
        chained = level < 2 and self.at("op", *_LEVELS[level])  # GitHub parses a || or && run flat
        if chained:
            self.deeper()
        while self.at("op", *_LEVELS[level]):
            op = self.take().text
            right = self.binary(level + 1)
            node = Binary(op, node, right, node.start, right.end)
        if chained:
            self.depth -= 1
        return node

    def unary(self) -> Node:
        if self.at("op", "!"):
            bang = self.take()
            self.deeper()
            operand = self.unary()
            self.depth -= 1
            return Not(operand, bang.start, operand.end)
        return self.postfix()

    def postfix(self) -> Node:
        node = self.primary()
        if not isinstance(node, Context | Call | Group):
            return node
        entered = 0
        while self.at("punct", ".", "["):
            if self.take().text == ".":
                self.deeper()
                entered += 1
                tok = self.peek()
                if tok.kind == "ident":
                    self.take()
                    node = Index(node, Literal(tok.text, tok.start, tok.end), node.start, tok.end, dot=True)
                elif tok.kind == "star":
                    self.take()
                    node = Index(node, Star(tok.start, tok.end), node.start, tok.end, dot=True)
                else:
                    raise self.unexpected()
            else:
                key: Node
                if self.at("star"):
                    tok = self.take()
                    key = Star(tok.start, tok.end)
                else:
                    key = self.expression()
                close = self.expect("punct", "]")
                self.deeper()
                entered += 1
                node = Index(node, key, node.start, close.end)
        self.depth -= entered
        return node

    def primary(self) -> Node:
        tok = self.peek()
        if tok.kind == "eof":
            raise self.end_error()
        if tok.kind in ("string", "number"):
            self.take()
            return Literal(tok.text if tok.kind == "string" else tok.value, tok.start, tok.end)
        if tok.kind == "ident":
            self.take()
            if tok.text in ("true", "false", "null"):
                return Literal({"true": True, "false": False, "null": None}[tok.text], tok.start, tok.end)
            if self.at("punct", "("):
                return self.call(tok)
            if self.names is not None and tok.text.lower() not in self.names:
                raise self.error("Unrecognized named-value", tok)
            return Context(tok.text, tok.start, tok.end)
        if tok.kind == "punct" and tok.text == "(":
            self.take()
            inner = self.expression()
            if self.at("eof"):
                raise self.end_error()
            close = self.expect("punct", ")")
            return Group(inner, tok.start, close.end)
        raise self.unexpected()

    def call(self, name: Token) -> Node:
        self.take()  # "("
        args: list[Node] = []
        while not self.at("punct", ")"):
            args.append(self.expression())
            if not self.at("punct", ")"):
                self.expect("punct", ",")
        close = self.take()
        if self.functions is not None:
            arity = self.functions.get(name.text.lower())
            if arity is None:
                raise self.error("Unrecognized function", name)
            if len(args) < arity[0]:
                raise self.error("Too few parameters supplied", name)
            if len(args) > arity[1]:
                raise self.error("Too many parameters supplied", name)
            if name.text.lower() == "case" and len(args) % 2 == 0:
                raise self.error("Even number of parameters supplied, requires an odd number of parameters", name)
        return Call(name.text, tuple(args), name.start, close.end)


def parse(text: str, offset: int = 0, *, names: Collection[str] | None = None,
          functions: Mapping[str, tuple[int, int]] | None = None) -> Node:
    """The syntax tree of the expression ``text`` (node offsets are ``offset`` plus the position).

    ``names`` (the contexts in scope) and ``functions`` (lower-case name to argument counts, such
    as ``FUNCTIONS | STATUS_FUNCTIONS``) are checked while parsing when given, as GitHub does, so
    even ``false && nosuch()`` is an error; left out, any name and any call is accepted (the
    checks read files whose contexts they do not know). Raises :class:`ExpressionError` with
    GitHub's message and the offset of the offending token.
    """
    return _Parser(text, offset, names, functions).parse()


# --------------------------------------------------------------------------- fallback scan

@dataclass(frozen=True)
class ContextPath:
    """A property-access chain such as ``github.event.issue.title`` with its offsets."""

    path: str
    start: int
    end: int
    in_function: str | None = None  # innermost function call it is an argument of


def context_paths(body: str, offset: int = 0) -> list[ContextPath]:
    """The property-access chains an expression mentions, for an expression that does not parse.

    A token scan, not a parse: ``github.event['issue'].title`` becomes ``github.event.issue.title``,
    ``x[*].y`` becomes ``x.*.y``; a dynamic index (``matrix[inputs.key]``) ends the chain with
    ``.*`` and the index expression's own chains are reported too. Function names are not paths.
    """
    tokens = tokenize(body, offset, tolerant=True)
    eof = tokens[-1]

    def at(k: int) -> Token:  # an expression cut off inside an index or a chain reads eof past its end
        return tokens[k] if k < len(tokens) else eof

    out: list[ContextPath] = []
    calls: list[str | None] = []  # stack of open parentheses: function name or None for grouping
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.kind == "punct" and tok.text == "(":
            prev = tokens[i - 1] if i else None
            calls.append(prev.text.lower() if prev is not None and prev.kind == "ident" else None)
            i += 1
            continue
        if tok.kind == "punct" and tok.text == ")":
            if calls:
                calls.pop()
            i += 1
            continue
        if tok.kind == "ident" and tok.text not in ("true", "false", "null"):
            nxt = at(i + 1)
            if nxt.kind == "punct" and nxt.text == "(":
                i += 1  # a function call: the name is no context
                continue
            parts = [tok.text]
            end = tok.end
            j = i + 1
            while True:
                t = at(j)
                if t.kind == "punct" and t.text == "." and at(j + 1).kind in ("ident", "star"):
                    parts.append(at(j + 1).text)
                    end = at(j + 1).end
                    j += 2
                    continue
                if t.kind == "punct" and t.text == "[":
                    inner = at(j + 1)
                    close = at(j + 2)
                    if inner.kind in ("string", "star", "number") and close.kind == "punct" and close.text == "]":
                        parts.append(inner.text)
                        end = close.end
                        j += 3
                        continue
                    parts.append("*")  # dynamic index: its own paths are found as the scan goes on
                    depth, k = 0, j
                    while k < len(tokens) and tokens[k].kind != "eof":
                        if tokens[k].kind == "punct" and tokens[k].text == "[":
                            depth += 1
                        elif tokens[k].kind == "punct" and tokens[k].text == "]":
                            depth -= 1
                            if depth == 0:
                                break
                        k += 1
                    end = tokens[k].end if k < len(tokens) else end
                    out.append(ContextPath(".".join(parts), tok.start, end, _innermost(calls)))
                    parts = []
                    i = j + 1  # continue scanning inside the brackets
                    break
                break
            if parts:
                out.append(ContextPath(".".join(parts), tok.start, end, _innermost(calls)))
                i = j
            continue
        i += 1
    return out


def _innermost(calls: list[str | None]) -> str | None:
    for name in reversed(calls):
        if name is not None:
            return name
    return None
