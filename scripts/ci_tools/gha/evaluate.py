"""The value of a GitHub Actions expression, with GitHub's coercion rules.

Works on the syntax tree of :mod:`ci_tools.gha.expressions`; held to the test data of GitHub's
expression library by ``tests/gha/test_expression_testdata.py``. The rules, in short:

- values are JSON's: null, booleans, numbers (always floats here), strings, arrays, objects;
- falsy are ``false``, ``0``, ``-0``, ``NaN``, ``''`` and null, everything else is truthy;
  ``&&`` and ``||`` return one of their operands, not a boolean;
- ``==`` between different kinds compares both as numbers (``'1' == 1``, ``null == ''``),
  strings compare ignoring case (ordinal, no folding across the ASCII border), arrays and
  objects by identity; ``< <= > >=`` compare strings as strings and anything else as numbers;
- property names and context names are case-insensitive, a missing property is null, ``x.*``
  yields the items (or values) of ``x`` and indexing that result indexes every item;
- numbers print without a fraction when integral (``1``, ``1E+20``), arrays as ``Array``,
  objects as ``Object``.

What depends on where the expression runs is passed in: the contexts, and ``functions`` for the
job-status functions and ``hashFiles`` (callables taking the evaluated arguments).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Mapping
from typing import Any

from ci_tools.gha.expressions import (
    FUNCTIONS,
    Binary,
    Call,
    Context,
    ExpressionError,
    Group,
    Index,
    Literal,
    Node,
    Not,
    Star,
    parse_number,
)

__all__ = ["evaluate", "to_str", "to_num", "to_json", "from_json", "truthy", "loose_eq", "kind_of"]

Function = Callable[[list[Any]], Any]


# --------------------------------------------------------------------------- coercion

def _num_to_str(n: float) -> str:
    if math.isnan(n):
        return "NaN"
    if math.isinf(n):
        return "Infinity" if n > 0 else "-Infinity"
    if n == int(n) and abs(n) < 1e15:
        return str(int(n))
    return format(n, ".15g").replace("e", "E")


def _jsonable(v: Any) -> Any:
    if isinstance(v, float) and math.isfinite(v) and v == int(v):
        return int(v)
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_jsonable(x) for x in v]
    return v


def to_json(v: Any) -> str:
    """GitHub's toJSON: indented by two spaces, integral numbers without a fraction."""
    return json.dumps(_jsonable(v), indent=2, ensure_ascii=False)


def json_value(v: Any) -> Any:
    """JSON numbers become floats, like every number in GitHub's expression language."""
    if isinstance(v, int) and not isinstance(v, bool):
        return float(v)
    if isinstance(v, dict):
        return {k: json_value(x) for k, x in v.items()}
    if isinstance(v, list):
        return [json_value(x) for x in v]
    return v


def from_json(text: str) -> Any:
    """GitHub's fromJSON; a document that does not parse is an :class:`ExpressionError`."""
    try:
        return json_value(json.loads(text))
    except json.JSONDecodeError as exc:
        raise ExpressionError(f"Error parsing fromJson: {exc}", 0) from exc


def to_str(v: Any, objects_as_json: bool = False) -> str:
    """GitHub's string coercion: null -> '', true -> 'true', 1.0 -> '1', arrays -> 'Array',
    objects -> 'Object' (or JSON, which is what a field holding just ``${{ obj }}`` gets)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int | float):
        return _num_to_str(float(v))
    if isinstance(v, str):
        return v
    if objects_as_json:
        return to_json(v)
    return "Array" if isinstance(v, list) else "Object"


def to_num(v: Any) -> float:
    """GitHub's number coercion: null->0, bool->0/1, strings as :func:`parse_number`, else NaN."""
    if v is None or isinstance(v, bool):
        return float(bool(v))
    if isinstance(v, int | float):
        return float(v)
    if not isinstance(v, str):
        return math.nan
    return parse_number(v)


def truthy(v: Any) -> bool:
    """Falsy: false, 0, -0, NaN, '', null. Everything else (arrays, objects too) is truthy."""
    if isinstance(v, int | float) and not isinstance(v, bool):
        return not (v == 0 or math.isnan(v))
    return v not in (None, False, "")


def _fold(s: str) -> str:
    """Upper-case for ordinal ignore-case comparison; no mapping across the ASCII border (ı, ſ)."""
    return "".join(u if len(u := c.upper()) == 1 and u.isascii() == c.isascii() else c for c in s)


def kind_of(v: Any) -> str:
    """null, bool, num, str, list or dict (JSON's kinds; bool before num, as bool is an int)."""
    kinds = (("null", type(None)), ("bool", bool), ("num", int | float), ("str", str), ("list", list))
    return next((kind for kind, types in kinds if isinstance(v, types)), "dict")


def loose_eq(a: Any, b: Any) -> bool:
    """``==``: same kind compares directly (strings ignoring case, objects by identity);
    different kinds are both coerced to numbers (so ``'1' == 1`` and ``null == ''``)."""
    ka, kb = kind_of(a), kind_of(b)
    if ka != kb:
        return to_num(a) == to_num(b)
    if ka == "str":
        return _fold(a) == _fold(b)
    if ka in ("list", "dict"):
        return a is b
    return bool(a == b)


def _compare(a: Any, b: Any, op: str) -> bool:
    ka, kb = kind_of(a), kind_of(b)
    if ka == kb == "str":
        x, y = _fold(a), _fold(b)
        return {"<": x < y, "<=": x <= y, ">": x > y, ">=": x >= y}[op]
    if {ka, kb} & {"list", "dict"}:
        return False
    m, n = to_num(a), to_num(b)
    return {"<": m < n, "<=": m <= n, ">": m > n, ">=": m >= n}[op]


# --------------------------------------------------------------------------- property access

class _Filtered(list[Any]):
    """The result of ``x.*``: indexing it indexes every element (nulls dropped), like GitHub."""


def _index(obj: Any, key: Any) -> Any:
    if isinstance(obj, _Filtered):
        return _Filtered(v for v in (_index(x, key) for x in obj) if v is not None)
    if isinstance(obj, dict):
        if isinstance(key, list | dict):
            return None
        key = _fold(to_str(key))
        return next((v for k, v in obj.items() if _fold(k) == key), None)
    if isinstance(obj, list):
        i = to_num(key) if kind_of(key) not in ("list", "dict") else math.nan
        return obj[int(i)] if math.isfinite(i) and 0 <= int(i) < len(obj) else None
    return None


def _star(v: Any) -> _Filtered:
    """``x.*`` / ``x[*]``: the items of an array or the values of an object (flattened once more
    when applied to a filtered array)."""
    if isinstance(v, _Filtered):
        return _Filtered(y for x in v for y in (x if isinstance(x, list) else x.values() if isinstance(x, dict) else []))
    return _Filtered(v if isinstance(v, list) else v.values() if isinstance(v, dict) else [])


# --------------------------------------------------------------------------- functions

_PLACEHOLDER = re.compile(r"\{(\d+)\}")


def _format(fmt: str, args: list[str], where: int) -> str:
    """format(): ``{N}`` placeholders, ``{{`` and ``}}`` for literal braces; anything else is an error."""
    out, i = [], 0
    while i < len(fmt):
        if fmt.startswith(("{{", "}}"), i):
            out.append(fmt[i])
            i += 2
        elif fmt[i] == "{":
            m = _PLACEHOLDER.match(fmt, i)
            if not m:
                raise ExpressionError(f"The following format string is invalid: {fmt}", where)
            if int(m.group(1)) >= len(args):
                raise ExpressionError(f"The following format string references more arguments than were supplied: {fmt}",
                                      where)
            out.append(args[int(m.group(1))])
            i = m.end()
        elif fmt[i] == "}":
            raise ExpressionError(f"The following format string is invalid: {fmt}", where)
        else:
            out.append(fmt[i])
            i += 1
    return "".join(out)


def _builtin(name: str, args: list[Any], where: int) -> Any:
    if name == "contains":
        if isinstance(args[0], list):
            return any(loose_eq(x, args[1]) for x in args[0])
        return _fold(to_str(args[1])) in _fold(to_str(args[0]))
    if name == "startswith":
        return _fold(to_str(args[0])).startswith(_fold(to_str(args[1])))
    if name == "endswith":
        return _fold(to_str(args[0])).endswith(_fold(to_str(args[1])))
    if name == "format":
        return _format(to_str(args[0]), [to_str(a) for a in args[1:]], where)
    if name == "join":
        sep = to_str(args[1]) if len(args) > 1 and kind_of(args[1]) not in ("list", "dict") else ","
        if isinstance(args[0], list):
            return sep.join(to_str(x) for x in args[0])
        return "" if isinstance(args[0], dict) else to_str(args[0])
    if name == "tojson":
        return to_json(args[0])
    if name == "fromjson":
        try:
            return from_json(to_str(args[0]))
        except ExpressionError as exc:
            raise ExpressionError(str(exc), where) from exc
    raise ExpressionError(f"Unrecognized function: '{name}'", where)


# --------------------------------------------------------------------------- evaluation

MAX_MEMORY = 1024 * 1024  # bytes, as GitHub's runner counts them


class _Evaluator:
    """Evaluates a tree, counting the memory its live results hold the way GitHub's runner does
    (a string 26 bytes plus 2 per character, any other value 24; a node's result releases those of
    the nodes below it), so ``format('{0}{0}...', toJSON(github))`` fails here as it does there."""

    def __init__(self, contexts: Mapping[str, Any], functions: Mapping[str, Function]) -> None:
        self.contexts = {name.lower(): value for name, value in contexts.items()}
        self.functions = {name.lower(): fn for name, fn in functions.items()}
        self.held: list[int] = []  # bytes held by results, by depth in the tree
        self.depth = 0

    def eval(self, node: Node) -> Any:
        depth = self.depth
        if len(self.held) <= depth:
            self.held.append(0)
        self.depth += 1
        value = self._eval(node)
        self.depth -= 1
        del self.held[depth + 1 :]  # the results below this node are released
        self.held[depth] += 26 + 2 * len(value) if isinstance(value, str) else 24
        if sum(self.held) > MAX_MEMORY:
            raise ExpressionError("The maximum allowed memory size was exceeded", node.start)
        return value

    def _eval(self, node: Node) -> Any:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Context):
            return self.contexts.get(node.name.lower())
        if isinstance(node, Index):
            obj = self.eval(node.obj)
            if isinstance(node.key, Star):
                return _star(obj)
            return _index(obj, self.eval(node.key))
        if isinstance(node, Group):
            return self.eval(node.inner)
        if isinstance(node, Not):
            return not truthy(self.eval(node.operand))
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Binary):
            left = self.eval(node.left)
            if node.op == "&&":
                return self.eval(node.right) if truthy(left) else left
            if node.op == "||":
                return left if truthy(left) else self.eval(node.right)
            right = self.eval(node.right)
            if node.op in ("==", "!="):
                return loose_eq(left, right) == (node.op == "==")
            return _compare(left, right, node.op)
        raise ExpressionError("a star is only allowed as an index", node.start)

    def call(self, node: Call) -> Any:
        name = node.name.lower()
        if name == "case":  # case(pred1, value1, pred2, value2, ..., default): only the taken branch runs
            for pred, value in zip(node.args[:-1:2], node.args[1::2], strict=True):
                if not isinstance(hit := self.eval(pred), bool):
                    raise ExpressionError("case predicate must evaluate to a boolean value", pred.start)
                if hit:
                    return self.eval(value)
            return self.eval(node.args[-1])
        args = [self.eval(a) for a in node.args]
        if name in self.functions:
            return self.functions[name](args)
        if name in FUNCTIONS and name != "hashfiles":
            return _builtin(name, args, node.start)
        raise ExpressionError(f"Unrecognized function: '{node.name}'", node.start)


def evaluate(node: Node, contexts: Mapping[str, Any], functions: Mapping[str, Function] | None = None) -> Any:
    """The value of ``node``: JSON values, numbers as floats (arrays from ``*`` are lists).

    ``contexts`` maps context names (any case) to their values; ``functions`` adds or replaces
    functions by lower-case name (``success``, ``hashfiles``...), each called with the list of
    evaluated arguments. An error GitHub raises while evaluating (a bad format string, a
    ``case`` predicate that is no boolean, fromJSON of bad JSON) is an :class:`ExpressionError`.
    """
    return _Evaluator(contexts, functions or {}).eval(node)
