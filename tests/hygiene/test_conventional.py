"""The Conventional Commits parser, the rules and release-please's bump, without git."""

from __future__ import annotations

import pytest

from ci_tools.core.findings import Severity
from ci_tools.hygiene import conventional
from ci_tools.hygiene.conventional import Rules, check_message, compute_bump

RULES = Rules()


def problems(text: str, rules: Rules = RULES, comment_char: str | None = "#"):
    return check_message(text, rules, comment_char)[1]


@pytest.mark.parametrize("text", [
    "feat: add login",
    "fix(api): handle empty body",
    "feat!: drop Python 3.10",
    "refactor(core)!: split the engine",
    "docs: explain the cache\n\nA body paragraph.\n\nRefs: #12",
    "fix: a\n\nbody\n\nBREAKING CHANGE: the flag is gone\nReviewed-by: Z",
    "chore: release 1.2.0\n\nRelease-As: 1.2.0",
    "Merge branch 'main' into feature/x",
    "Merge pull request #4 from org/feature/x\n\nfeat: x",
])
def test_valid_messages_have_no_problems(text):
    assert problems(text) == []


@pytest.mark.parametrize("text, line, col, end_col, fragment", [
    ("Add login page", 1, 1, 15, '"Add login page" does not start with a type'),
    ("feet: add login", 1, 1, 5, 'unknown type "feet"; did you mean "feat"?'),
    ("Feat: add login", 1, 1, 5, 'type "Feat" must be lower case; write "feat: add login"'),
    ("feat:add login", 1, 5, 7, "no space after the colon"),
    ("feat : add login", 1, 5, 6, "space before the colon"),
    ("feat: ", 1, 5, 6, "the description is empty"),
    ("feat(api: add", 1, 5, 9, "the scope is not closed"),
    ("feat(): add", 1, 5, 7, '"()" is not a scope'),
    ("(api): add", 1, 1, 11, "does not start with a type"),
    ("feat: add\nbody without blank line", 2, 1, 24, "separated from the header by a blank line"),
    ("feat: x\n\nBreaking change: the API", 3, 1, 17, '"Breaking change:" is not recognised'),
    ("feat: x\n\nBREAKING CHANGE the API", 3, 1, 16, '"BREAKING CHANGE" is not recognised'),
    ("feat: x\n\nBREAKING CHANGE: ", 3, 1, 17, 'says nothing'),
    ('Revert "feat: add login"', 1, 1, 25, 'write "revert: feat: add login"'),
    ("fix: x\n\nRelease-As: soon", 3, 1, 17, "is not a version"),
])
def test_problems_point_at_the_offending_part(text, line, col, end_col, fragment):
    found = problems(text)
    assert found, text
    first = found[0]
    assert (first.line, first.col, first.end_col) == (line, col, end_col)
    assert fragment in first.message


@pytest.mark.parametrize("header, correction", [
    # missing colon
    ("fix(ci) missing colon", "fix(ci): missing colon"),
    ("fix missing colon", "fix: missing colon"),
    ("feat(api)! drop the v1 routes", "feat(api)!: drop the v1 routes"),
    ("Fix(ci) missing colon", "fix(ci): missing colon"),
    ("fix - handle empty input", "fix: handle empty input"),
    ("fix; handle empty input", "fix: handle empty input"),
    ("feat (api): add pagination", "feat(api): add pagination"),
    # missing space, extra space, space before the colon
    ("feat:add login", "feat: add login"),
    ("fix(api):handle a very long description that the old advice cut short", "fix(api): handle a very long "
                                                                               "description that the old advice cut short"),
    ("feat : add login", "feat: add login"),
    ("feat:   add login", "feat: add login"),
    # upper-case type, alone and with another slip
    ("Feat: add login", "feat: add login"),
    ("FIX(api): handle empty body", "fix(api): handle empty body"),
    ("Feat(api):add pagination", "feat(api): add pagination"),
    # unknown type close to a known one
    ("feet: add login", "feat: add login"),
    ("fxi(api): handle empty body", "fix(api): handle empty body"),
    ("refactr!: split the engine", "refactor!: split the engine"),
    # work in progress
    ("WIP: feat: add login", "feat: add login"),
    ("[WIP] fix(api): handle empty body", "fix(api): handle empty body"),
    ("wip fix: handle empty body", "fix: handle empty body"),
])
def test_near_misses_get_the_exact_correction(header, correction):
    found = problems(header)
    assert found, header
    for p in found:
        assert f'write "{correction}"' in p.message, (header, p.message)
    assert problems(correction) == [], "the correction itself must pass"


@pytest.mark.parametrize("header, fragment", [
    ("WIP", '"WIP" marks work in progress; describe the finished change as "<type>: <description>"'),
    ("wip", '"wip" marks work in progress; describe the finished change as "<type>: <description>"'),
    ("WIP: add login", '"WIP" marks work in progress; write "<type>: add login"'),
    ("[WIP] Add login", '"[WIP]" marks work in progress; write "<type>: add login"'),
    ("wip: add login", '"wip" marks work in progress; write "<type>: add login"'),
])
def test_work_in_progress_is_named_as_such(header, fragment):
    (found,) = problems(header)
    assert fragment in found.message and found.severity == Severity.ERROR
    assert (found.line, found.col) == (1, 1)


@pytest.mark.parametrize("header, fragment", [
    ("Update login.py", '"Update login.py" does not start with a type; write it as "<type>: update login.py"'),
    ("Fixed the bug", '"Fixed the bug" does not start with a type; write it as "<type>: fixed the bug"'),
    ("API docs for v2", '"API docs for v2" does not start with a type; write it as "<type>: API docs for v2"'),
])
def test_no_type_at_all_keeps_the_words_as_written(header, fragment):
    (found,) = problems(header)
    assert fragment in found.message


def test_corrections_follow_the_configured_types():
    rules = Rules(types=("feat", "fix", "ops"))
    (found,) = problems("Ops(web) rotate keys", rules)
    assert 'write "ops(web): rotate keys"' in found.message
    (found,) = problems("opz: rotate keys", rules)
    assert 'did you mean "ops"? write "ops: rotate keys"' in found.message


def test_warnings_are_not_errors():
    (fixup,) = problems("fixup! feat: add login")
    assert fixup.severity == Severity.WARNING and "rebase -i --autosquash" in fixup.message
    (spaces,) = problems("feat:   add")
    assert spaces.severity == Severity.WARNING and (spaces.col, spaces.end_col) == (6, 9)


def test_types_scopes_and_length_are_configurable():
    rules = Rules(types=("feat", "fix", "ops"), scopes=("api", "web"), require_scope=True, max_header_length=20)
    assert problems("ops(api): rotate", rules) == []
    (unknown,) = problems("chore(api): x", rules)
    assert 'unknown type "chore"' in unknown.message and "feat, fix, ops" in unknown.message
    (scope,) = problems("fix(apj): x", rules)
    assert (scope.col, scope.end_col) == (5, 8) and 'did you mean "api"?' in scope.message
    (missing,) = problems("fix: x", rules)
    assert 'write "fix(api): ..."' in missing.message
    (long,) = problems("fix(api): " + "y" * 30, rules)
    assert (long.col, long.end_col) == (21, 41) and "40 characters long, more than 20" in long.message


def test_message_file_cleanup_keeps_line_numbers():
    text = ("# Please enter the commit message\n\nfeet: x\n# a comment\n\nbody\n"
            "# ------------------------ >8 ------------------------\nnot: part of the message\n")
    msg, found = check_message(text, RULES)
    assert msg.header == "feet: x" and msg.header_line == 3
    assert [(p.line, p.col) for p in found] == [(3, 1)]
    assert [text for _, text in msg.lines] == ["feet: x", "", "body"]


def test_comment_char_is_configurable():
    msg, found = check_message("; note\nfix: y\n", RULES, comment_char=";")
    assert msg.header == "fix: y" and found == []


def test_empty_message():
    (empty,) = problems("# only a comment\n\n")
    assert "the message is empty" in empty.message


def parsed(*texts: str):
    return [check_message(t, RULES)[0] for t in texts]


@pytest.mark.parametrize("texts, level", [
    (("chore: a", "docs: b", "ci: c"), "none"),
    (("chore: a", "not conventional at all"), "none"),
    (("fix: a", "chore: b"), "patch"),
    (("perf: a",), "patch"),
    (("revert: feat: a",), "patch"),
    (("fix: a", "feat(ui): b"), "minor"),
    (("feature: b",), "minor"),
    (("fix: a", "feat!: b"), "major"),
    (("chore!: drop node 16",), "major"),  # breaking of a hidden type still releases
    (("docs: a\n\nBREAKING CHANGE: the docs URL moved",), "major"),
    (("fix: a\n\nBREAKING-CHANGE: b",), "major"),
    (("Feat: a",), "patch"),  # listed in the changelog, but "Feat" is no feature for the bump
])
def test_bump_follows_release_please(texts, level):
    assert compute_bump(parsed(*texts)).level == level


def test_pre_major_options():
    breaking = parsed("feat!: a", "fix: b")
    feature = parsed("feat: a")
    # release-please's default: a breaking change proposes 1.0.0 even before 1.0
    assert (compute_bump(breaking, "0.4.1").level, compute_bump(breaking, "0.4.1").next) == ("major", "1.0.0")
    minor = compute_bump(breaking, "0.4.1", bump_minor_pre_major=True)
    assert (minor.level, minor.next) == ("minor", "0.5.0")
    assert compute_bump(breaking, "1.4.1", bump_minor_pre_major=True).level == "major"
    patch = compute_bump(feature, "0.4.1", bump_patch_for_minor_pre_major=True)
    assert (patch.level, patch.next) == ("patch", "0.4.2")
    assert compute_bump(feature, "2.0.0", bump_patch_for_minor_pre_major=True).next == "2.1.0"


def test_release_as_newest_wins():
    bump = compute_bump(parsed("fix: newer\n\nRelease-As: 3.0.0", "feat: older\n\nRelease-As: 2.0.0"))
    assert (bump.level, bump.next) == ("custom", "3.0.0")


def test_counts():
    bump = compute_bump(parsed("fix: a", "Update README", "Merge branch 'x'"))
    assert (bump.counted, bump.ignored) == (1, 1)


def test_footers_are_parsed():
    msg, _ = check_message("feat: a\n\nbody\n\nRefs #12\nBREAKING CHANGE: one\n  two\nAcked-by: X", RULES)
    assert [(f.token, f.value) for f in msg.footers] == [
        ("Refs", "12"), ("BREAKING CHANGE", "one\n  two"), ("Acked-by", "X")]
    assert msg.breaking
    assert conventional.parse_version("v1.2.3") == (1, 2, 3)
