"""A tokenizer for GitHub Actions expressions (``${{ ... }}``).

Regular expressions get this wrong on strings containing ``}}`` and on bracket access
(``github.event['pull_request'].title``), so this module scans character by character and
parses property-access chains into normalised dotted paths (``github.event.pull_request.title``,
``github.event.commits.*.message``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Token", "ExpressionError", "Expression", "find_expressions", "tokenize", "context_paths"]


class ExpressionError(ValueError):
    def __init__(self, message: str, offset: int) -> None:
        super().__init__(message)
        self.offset = offset


@dataclass(frozen=True)
class Token:
    kind: str  # ident, number, string, op, punct, star, eof
    text: str
    start: int
    end: int


@dataclass(frozen=True)
class Expression:
    """One ``${{ ... }}`` occurrence: offsets into the scanned string (of ``${{`` and after ``}}``)."""

    start: int
    end: int
    body: str
    body_start: int


_OPS = ("==", "!=", "<=", ">=", "&&", "||", "<", ">", "!")
_PUNCT = "().[],"


def tokenize(text: str, offset: int = 0) -> list[Token]:
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if c == "'":
            j = i + 1
            while True:
                if j >= n:
                    raise ExpressionError("unterminated string literal", offset + i)
                if text[j] == "'":
                    if j + 1 < n and text[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            tokens.append(Token("string", text[i + 1 : j].replace("''", "'"), offset + i, offset + j + 1))
            i = j + 1
            continue
        if c.isalpha() or c == "_":
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in "_-"):
                j += 1
            tokens.append(Token("ident", text[i:j], offset + i, offset + j))
            i = j
            continue
        if c.isdigit() or (c in "+-" and i + 1 < n and text[i + 1].isdigit()):
            j = i + 1
            while j < n and (text[j].isalnum() or text[j] in ".+-"):
                if text[j] in "+-" and text[j - 1] not in "eE":
                    break
                j += 1
            tokens.append(Token("number", text[i:j], offset + i, offset + j))
            i = j
            continue
        op = next((o for o in _OPS if text.startswith(o, i)), None)
        if op:
            tokens.append(Token("op", op, offset + i, offset + i + len(op)))
            i += len(op)
            continue
        if c in _PUNCT:
            tokens.append(Token("punct", c, offset + i, offset + i + 1))
            i += 1
            continue
        if c == "*":
            tokens.append(Token("star", c, offset + i, offset + i + 1))
            i += 1
            continue
        raise ExpressionError(f'unexpected character "{c}" in expression', offset + i)
    tokens.append(Token("eof", "", offset + n, offset + n))
    return tokens


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


@dataclass(frozen=True)
class ContextPath:
    """A property-access chain such as ``github.event.issue.title`` with its offsets."""

    path: str
    start: int
    end: int
    in_function: str | None = None  # innermost function call it is an argument of


def context_paths(body: str, offset: int = 0) -> list[ContextPath]:
    """The property-access chains an expression reads, normalised to dotted form.

    ``github.event['issue'].title`` becomes ``github.event.issue.title``, ``x[*].y`` becomes
    ``x.*.y``; a dynamic index (``matrix[inputs.key]``) ends the chain with ``.*`` and the index
    expression's own chains are reported too. Function names are not paths.
    """
    tokens = tokenize(body, offset)
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
            nxt = tokens[i + 1]
            if nxt.kind == "punct" and nxt.text == "(":
                i += 1  # a function call: the name is no context
                continue
            parts = [tok.text]
            end = tok.end
            j = i + 1
            while True:
                t = tokens[j]
                if t.kind == "punct" and t.text == "." and tokens[j + 1].kind in ("ident", "star"):
                    parts.append(tokens[j + 1].text)
                    end = tokens[j + 1].end
                    j += 2
                    continue
                if t.kind == "punct" and t.text == "[":
                    inner = tokens[j + 1]
                    close = tokens[j + 2]
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
