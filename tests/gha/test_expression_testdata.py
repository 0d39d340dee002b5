"""Every case of GitHub's expression test data through the one grammar and its evaluator.

The cases live in ``fixtures/github_expression_testdata.json``: the folder ``expressions/testdata``
of https://github.com/actions/languageservices at the commit named in the file (MIT, copyright
GitHub; the licence is kept in the file). Each case gives an expression, its contexts and either
the result (kind and value) or the error with the stage that raises it (lexing, parsing or
evaluation); as in GitHub's own harness, our message must contain GitHub's.

GitHub's harness skips a few cases for its TypeScript library (``options.skip``: positions
counted across lines the way the C# runner does); they are run here, as this module counts
positions the C# way. Cases we skip on purpose are in ``SKIPPED`` with the reason.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from ci_tools.gha.evaluate import evaluate, json_value, kind_of
from ci_tools.gha.expressions import FUNCTIONS, ExpressionError, parse, tokenize

DATA = json.loads((Path(__file__).parent / "fixtures" / "github_expression_testdata.json").read_text("utf-8"))

# (file, expression) -> why the case is not run. Keep this short; each entry is a known difference.
SKIPPED: dict[tuple[str, str], str] = {}

_KINDS = {"null": "Null", "bool": "Boolean", "num": "Number", "str": "String", "list": "Array", "dict": "Object"}


def _cases() -> list[Any]:
    out = []
    for file, groups in sorted(DATA["files"].items()):
        for group, cases in groups.items():
            for n, case in enumerate(cases):
                marks = []
                reason = SKIPPED.get((file, case["expr"]))
                if reason:
                    marks.append(pytest.mark.skip(reason=reason))
                out.append(pytest.param(case, id=f"{file.removesuffix('.json')}-{group}-{n}", marks=marks))
    return out


def _same(got: Any, want: Any) -> bool:
    """Equal as JSON: numbers by value (NaN and infinities print as null in GitHub's JSON)."""
    if isinstance(want, int | float) and not isinstance(want, bool):
        return kind_of(got) == "num" and (got == want or math.isclose(got, want, rel_tol=1e-12))
    if want is None:
        return got is None or (kind_of(got) == "num" and not math.isfinite(got))
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(map(_same, got, want))
    if isinstance(want, dict):
        return isinstance(got, dict) and list(got) == list(want) and all(_same(got[k], want[k]) for k in want)
    return kind_of(got) == kind_of(want) and got == want


@pytest.mark.parametrize("case", _cases())
def test_github_expression_case(case: dict[str, Any]) -> None:
    expr, err, contexts = case["expr"], case.get("err"), json_value(case.get("contexts") or {})
    stage = "lexing"
    try:
        tokenize(expr)
        stage = "parsing"
        tree = parse(expr, names=contexts, functions=FUNCTIONS)
        stage = "evaluation"
        got = evaluate(tree, contexts)
    except ExpressionError as exc:
        assert err is not None, f"{stage} failed: {exc}"
        assert (stage, err["value"]) == (err["kind"], err["value"]) and err["value"] in str(exc), str(exc)
        return
    assert err is None, f"expected a {err['kind']} error: {err['value']}"
    want = case["result"]
    assert _KINDS[kind_of(got)] == want["kind"], got
    assert _same(got, want["value"]), got


def test_every_case_is_collected():
    """The table of skips names real cases, and nothing else is left out."""
    every = {(f, c["expr"]) for f, groups in DATA["files"].items() for cases in groups.values() for c in cases}
    assert set(SKIPPED) <= every
    assert len(_cases()) == sum(len(cases) for groups in DATA["files"].values() for cases in groups.values())
