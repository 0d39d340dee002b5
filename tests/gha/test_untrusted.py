"""The expression analysis behind template-injection and dangerous-triggers: which paths reach an
expression's value, which of them an attacker controls, and where a piece of a scalar sits."""

from __future__ import annotations

import pytest

from ci_tools.core.findings import Severity
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import load_text, mapping_get
from ci_tools.gha.untrusted import HEAD_REF_PATHS, untrusted_match, value_refs


@pytest.mark.parametrize(("expression", "paths"), [
    ("github.event.issue.title", ["github.event.issue.title"]),
    ("github.event['issue']['title']", ["github.event.issue.title"]),
    ("github.event.commits[0].message", ["github.event.commits.*.message"]),
    ("github.event.commits.*.author.name", ["github.event.commits.*.author.name"]),
    ("github.head_ref || 'main'", ["github.head_ref"]),
    ("inputs.a || inputs.b", ["inputs.a", "inputs.b"]),
    ("github.event.issue.title && 'yes'", []),  # the left side is the value only when it is empty
    ("cond && github.event.issue.body", ["github.event.issue.body"]),
    ("github.event.issue.title == 'bug'", []),
    ("!github.event.issue.title", []),
    ("github.event.pull_request.additions > 10", []),
    ("contains(github.event.issue.body, 'x')", []),
    ("startsWith(github.head_ref, 'release/')", []),
    ("format('{0} {1}', github.head_ref, github.sha)", ["github.head_ref", "github.sha"]),
    ("toJSON(github.event)", ["github.event"]),
    ("fromJSON(steps.meta.outputs.json).title", ["steps.meta.outputs.json"]),
    ("matrix[inputs.key]", ["matrix.*"]),
    ("(github.event.issue.title)", ["github.event.issue.title"]),
    ("'literal' || 3", []),
    # a property read after parentheses reads that property of each side
    ("(github.event.pull_request || github.event.issue).number",
     ["github.event.pull_request.number", "github.event.issue.number"]),
    ("(github.event.pull_request || github.event.issue).title",
     ["github.event.pull_request.title", "github.event.issue.title"]),
    ("(github.event.pull_request || github.event.issue)['body']",
     ["github.event.pull_request.body", "github.event.issue.body"]),
])
def test_value_refs(expression: str, paths: list[str]):
    assert [r.path for r in value_refs(expression)] == paths


def test_value_refs_offsets_point_into_the_body():
    body = " format('{0}', github.head_ref) "
    (ref,) = value_refs(body, offset=100)
    assert body[ref.start - 100 : ref.end - 100] == "github.head_ref"


def test_a_broken_expression_falls_back_to_every_path_it_mentions():
    assert [r.path for r in value_refs("github.event.issue.title ==")] == ["github.event.issue.title"]


@pytest.mark.parametrize(("path", "hit"), [
    ("github.event.issue.title", True),
    ("GitHub.Event.Issue.Title", True),  # contexts are case-insensitive
    ("github.event.pull_request.head.ref", True),
    ("github.event.workflow_run.head_commit.message", True),
    ("github.event.client_payload.anything.deep", True),
    ("github.event.pull_request", True),  # an object holding a title
    ("github", True),
    ("github.event.pull_request.number", False),
    ("github.event.pull_request.head.sha", False),
    ("github.event.issue.html_url", False),
    ("github.sha", False),
    ("github.ref_name", False),
    ("inputs.name", False),
])
def test_untrusted_match(path: str, hit: bool):
    assert (untrusted_match(path) is not None) is hit


def test_head_paths_without_objects():
    assert untrusted_match("github.head_ref", HEAD_REF_PATHS, objects=False)
    assert untrusted_match("github.event.pull_request.head.sha", HEAD_REF_PATHS, objects=False)
    assert untrusted_match("github.event", HEAD_REF_PATHS, objects=False) is None
    assert untrusted_match("github.event.pull_request.base.sha", HEAD_REF_PATHS, objects=False) is None


@pytest.mark.parametrize(("yaml_value", "line", "col"), [
    ('"a ${{ x }} b ${{ y }}"', 1, 18),
    ("'a ''${{ y }}'''", 1, 9),
    ("|\n  one\n    two ${{ y }}", 3, 9),
    (">\n  one\n  ${{ x }} ${{ y }}", 3, 12),
])
def test_locate_finds_the_second_expression_in_every_style(yaml_value: str, line: int, col: int):
    doc = load_text(f"k: {yaml_value}\n")
    node = mapping_get(doc.root, "k")
    start = node.value.rindex("${{")
    loc = locate(doc, node, start, node.value.index("}}", start) + 2)
    assert (loc.line, loc.col) == (line, col)
    assert doc.text[loc.start_offset : loc.end_offset] == node.value[start : node.value.index("}}", start) + 2]


def test_locate_with_an_escape_inside_the_expression_still_finds_it():
    doc = load_text("k: 'echo ${{ format(''{0}'', y) }}'\n")
    node = mapping_get(doc.root, "k")
    loc = locate(doc, node, node.value.index("${{"), len(node.value))
    assert (loc.line, loc.col, loc.end_col) == (1, 10, 35)


def test_severities_of_the_warning_and_note_findings(tmp_path):
    from ci_tools.core.config import Config
    from ci_tools.lint import engine
    from ci_tools.lint.checks import Context

    doc = load_text("on: push\npermissions: read-all\njobs:\n  a:\n    runs-on: x\n    steps:\n"
                    "      - uses: ${{ matrix.a }}\n", display="w.yml")
    findings = engine.run_checks([doc], Context(tmp_path, Config(), [doc]),
                                 {"missing-timeout", "unpinned-uses", "excessive-permissions"})
    got = {(f.check, f.severity) for f in findings}
    assert got == {("missing-timeout", Severity.WARNING), ("unpinned-uses", Severity.NOTE),
                   ("excessive-permissions", Severity.WARNING)}


def test_a_number_read_after_parentheses_is_not_reported():
    """`(a || b).number` is a number whichever side it comes from (a false alarm before)."""
    doc = load_text(
        "on: issue_comment\n"
        "jobs:\n"
        "  j:\n"
        "    runs-on: ubuntu-latest\n"
        "    steps:\n"
        "      - run: echo ${{ (github.event.pull_request || github.event.issue).number }}\n"
        "      - run: echo ${{ (github.event.pull_request || github.event.issue).title }}\n",
        display="w.yml")
    from ci_tools.core.config import Config
    from ci_tools.lint.checks import Context, template_injection

    found = list(template_injection.check(doc, Context(root=doc.path.parent, config=Config())))
    assert [f.location.line for f in found] == [7]
    assert '"github.event.pull_request.title"' in found[0].message


@pytest.mark.parametrize(("expression", "paths"), [
    ("fromJSON(steps.meta.outputs.json).a.b", ["steps.meta.outputs.json"]),  # the call's input, not a path of it
    ("fromJSON(github.event.issue.body)[inputs.key].x", ["github.event.issue.body"]),
    ("format('{0}', github.event.issue.title,)", ["github.event.issue.title"]),  # GitHub allows the trailing comma
    ("(inputs.a || (github.event.issue || github.event.pull_request)).title",
     ["inputs.a.title", "github.event.issue.title", "github.event.pull_request.title"]),
    ("github.event.commits['0'].message", ["github.event.commits.*.message"]),
    ("github.event.pages[*].title", ["github.event.pages.*.title"]),
    ("case(inputs.x == 'a', github.event.issue.title, 'b')", ["github.event.issue.title"]),
    ("join(github.event.commits.*.message, ' ')", ["github.event.commits.*.message"]),
    ("", []),
])
def test_value_refs_on_the_syntax_tree(expression: str, paths: list[str]):
    assert [r.path for r in value_refs(expression)] == paths


@pytest.mark.parametrize("expression", [
    "github.event.issue.title 0xZZ",  # a bad number: GitHub's lexer rejects the whole token
    "format('{0}', github.event.issue.title",  # unclosed call
    "'x'.y || github.event.issue.title",  # no property access on a literal in GitHub's grammar
])
def test_value_refs_of_an_expression_github_rejects_falls_back_to_the_paths_it_mentions(expression: str):
    assert "github.event.issue.title" in [r.path for r in value_refs(expression)]


# Issue 14: expressions the parser refuses still yield every path they mention outside boolean
# functions (never fewer findings), one row per way an expression can be broken.
@pytest.mark.parametrize(("expression", "paths"), [
    ("format('{0}' github.head_ref)", ["github.head_ref"]),  # no comma between arguments
    ("(github.head_ref", ["github.head_ref"]),  # no closing parenthesis
    ("github.head_ref)", ["github.head_ref"]),  # a token after the end
    ("github.event.'x'", ["github.event"]),  # a string as a property name
    (", github.head_ref", ["github.head_ref"]),  # an expression that starts with a comma
    ("github.event.issue.title || ", ["github.event.issue.title"]),  # nothing after ||
    ("contains(github.head_ref, 'x') ==", []),  # only inside a boolean function
    ("(github.head_ref] == 'x'", ["github.head_ref"]),  # "]" does not close "("
])
def test_a_broken_expression_falls_back_to_the_paths_it_mentions(expression: str, paths: list[str]):
    assert [r.path for r in value_refs(expression)] == paths


@pytest.mark.parametrize(("expression", "paths"), [
    ("true || null || github.head_ref", ["github.head_ref"]),  # literals are no context
    # GitHub's keywords are lower case only (languageservices expressions/src/lexer.ts): TRUE is a
    # name, never an untrusted value
    ("TRUE || github.head_ref", ["TRUE", "github.head_ref"]),
    ("Null || False || github.head_ref", ["Null", "False", "github.head_ref"]),
    ("github.event.commits[*].message", ["github.event.commits.*.message"]),
    ("github.event.pages[0]['title']", ["github.event.pages.*.title"]),
    ("github.event.commits[github.run_number].message", ["github.event.commits.*.message"]),
    ("join(github.event.commits.*.message, ', ')", ["github.event.commits.*.message"]),
    ("format('{0}{1}', github.head_ref, github.event.issue.title)", ["github.head_ref", "github.event.issue.title"]),
    ("github.event.issue.title < 'm' || github.head_ref", ["github.head_ref"]),
    ("(github.event.pull_request || github.event.issue)[0]", ["github.event.pull_request.*", "github.event.issue.*"]),
    ("github.event[matrix].title", ["github.event.*.title"]),  # a dynamic key is any key
    # compared: a boolean, however the operands are written
    ("format('{0}{1}', github.sha, github.head_ref) == 'x'", []),
    ("github.event.commits.*.message == 'x'", []),
    ("github.event.commits[*].message != 'x'", []),
])
def test_value_refs_of_indexes_literals_and_arguments(expression: str, paths: list[str]):
    assert [r.path for r in value_refs(expression)] == paths


@pytest.mark.parametrize(("path", "pattern", "objects", "hit"), [
    ("github.event.commits.*.message", "github.event.commits.*.message", False, True),
    ("github.event.commits", "github.event.commits.*.message", True, True),  # the object holds it
    ("github.event.commits", "github.event.commits.*.message", False, False),
    ("github.event.client_payload", "github.event.client_payload.**", False, True),  # all of it is the sender's
    ("github.event.client_payload.a.b.c", "github.event.client_payload.**", False, True),
    ("github.event.commits.0.message.extra", "github.event.commits.*.message", True, False),  # longer
    ("github.event.*.title", "github.event.issue.title", True, True),  # a dynamic key may be it
    ("github.event.issue.body", "github.event.issue.title", True, False),
    ("GITHUB.HEAD_REF", "github.head_ref", False, True),
    ("github.event.commits.abc.message", "github.event.commits.*.message", False, True),  # "*": any segment
    # patterns of a configuration, not in the built-in tables, in any case
    ("github.event.custom.title", "GitHub.Event.Custom.Title", False, True),
    ("github.event.custom.body", "github.event.custom.title", False, False),
    ("github.event.custom.x.y", "github.event.CUSTOM.**", False, True),
])
def test_matches(path: str, pattern: str, objects: bool, hit: bool):
    from ci_tools.gha.untrusted import matches

    assert matches(path, pattern, objects) is hit


def test_matches_counts_an_object_holding_the_value_by_default():
    from ci_tools.gha.untrusted import matches

    assert matches("github.event.pull_request", "github.event.pull_request.title")


def test_value_refs_offsets_start_at_zero_by_default():
    (ref,) = value_refs("github.head_ref")
    assert (ref.start, ref.end) == (0, len("github.head_ref"))


def test_a_key_of_two_strings_does_not_crash():
    assert "github.event.*" in [r.path for r in value_refs("github.event['a' 'b'].title")]


# An expression cut off inside an index or after a dot: the fallback scan read past its last token
# and `ci-tools check` stopped with exit 3 (IndexError) on such a workflow.
@pytest.mark.parametrize(("expression", "paths"), [
    # the token scan reads the property of the call's result as a name: never an untrusted one
    ("fromJSON(github.event.issue.body).x[", ["github.event.issue.body", "x.*"]),
    ("github.event.issue.title[", ["github.event.issue.title.*"]),
    ("github.event.issue.title['a'", ["github.event.issue.title.*"]),
    ("github.event.issue.title.", ["github.event.issue.title"]),
    ("github.event.issue[github.head_ref", ["github.event.issue.*", "github.head_ref"]),
])
def test_an_expression_cut_off_at_its_end_falls_back_without_crashing(expression: str, paths: list[str]):
    assert [r.path for r in value_refs(expression)] == paths
