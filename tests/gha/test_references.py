"""Issue 12, items 5 and 6: one reading of `uses:` for every check, pin and verify.

What GitHub accepts, from its own parser (actions/runner, src/Sdk/WorkflowParser/Conversion/
WorkflowTemplateConverter.cs and the older PipelineTemplateConverter.cs): the value is split at
``@`` (exactly one), the part before it at ``/`` and ``\\`` with empty pieces dropped; at least two
pieces (owner, repository) and a non-empty ref are required, the rest is the path, joined with
``/``, neither ``.`` nor ``..`` handled (the runner joins it to the action's download directory).
zizmor's parser notes that GitHub strips whitespace around the value, and its ``obfuscation`` audit
reports ``.``, ``..`` and empty path pieces; actionlint splits at the first ``@`` and requires owner,
repository and ref. So ``owner/repo/@ref``, ``owner//repo@ref``, ``owner\\repo@ref``,
``owner/repo/./path@ref`` and ``" owner/repo@ref"`` all run ``owner/repo[/path]@ref``: those are
non-canonical spellings of it; values GitHub rejects or cannot run are malformed.
"""

from __future__ import annotations

import json

import pytest

from ci_tools.gha.source import load_text
from ci_tools.gha.uses import INVALID, REMOTE, parse_uses, semver_key
from support.pinworld import write
from support.references import CHECK_BODY, HEAD
from support.references import found as _found


@pytest.mark.parametrize(("value", "action", "ref", "canonical"), [
    ("actions/checkout@v4", "actions/checkout", "v4", True),
    ("actions/checkout/@v4", "actions/checkout", "v4", False),
    ("actions/checkout/.@v4", "actions/checkout", "v4", False),
    ("actions/checkout/./@v4", "actions/checkout", "v4", False),
    ("actions//checkout@v4", "actions/checkout", "v4", False),
    ("/actions/checkout@v4", "actions/checkout", "v4", False),
    ("actions\\checkout@v4", "actions/checkout", "v4", False),
    (" actions/checkout@v4", "actions/checkout", "v4", False),
    ("actions/checkout@v4 ", "actions/checkout", "v4", False),
    ("github/codeql-action/init@v3", "github/codeql-action/init", "v3", True),
    ("github/codeql-action/x/../init@v3", "github/codeql-action/init", "v3", False),
    ("github/codeql-action//init/@v3", "github/codeql-action/init", "v3", False),
    ("Actions/Checkout@v4", "Actions/Checkout", "v4", True),  # names are case-insensitive: compared, not reported
])
def test_accepted_spellings_are_normalised_once(value, action, ref, canonical):
    parsed = parse_uses(value)
    assert parsed.kind == REMOTE
    assert (parsed.action, parsed.ref) == (action, ref)
    assert parsed.canonical == f"{action}@{ref}"
    assert (not parsed.spelling_issues) is canonical


@pytest.mark.parametrize(("value", "why"), [
    ("actions/checkout@", "ref"),
    ("@v4", "owner"),
    ("actions/checkout", "@"),
    ("actions@v4", "owner"),
    ("actions/checkout@v4 extra", "space"),
    ("actions/checkout@v4@v5", "@"),
    ("actions/checkout/../../other/repo@v1", "leaves the repository"),
    ("act ions/checkout@v4", "owner"),
    ("actions/check out@v4", "repository"),
    ("docker://", "image"),
    ("docker://   ", "image"),
    ("", "empty"),
])
def test_malformed_values(value, why):
    parsed = parse_uses(value)
    assert parsed.kind == INVALID
    assert why in parsed.problem




def test_check_sees_through_spellings_and_reports_them(cli, tmp_path):
    (tmp_path / ".git").mkdir()
    write(tmp_path / ".github/ci-tools.toml", 'allowed-owners = ["actions"]\n')
    write(tmp_path / ".github/workflows/a.yml", CHECK_BODY)
    done = cli("check", "--no-actionlint", "--format", "json", cwd=tmp_path)
    assert done.returncode == 1, done.stderr
    got = _found(done.stdout)
    for check in ("unpinned-uses", "known-compromised", "disallowed-action", "non-canonical-uses"):
        assert (6, check) in got, check
    for line in (7, 8, 12):
        assert (line, "persist-credentials") in got and (line, "non-canonical-uses") in got
    for line in (9, 10, 11):
        assert (line, "malformed-uses") in got
    malformed = [f for f in json.loads(done.stdout)["findings"] if f["check"] == "malformed-uses"]
    assert all(f["severity"] == "error" and f["col"] == 15 for f in malformed)


# Issue 14: a commit SHA is exactly 40 (SHA-1) or 64 (SHA-256) lowercase hex digits, nothing before
# or after; anything else is a tag or branch name that the owner of the repository can move.
_HEX40 = "3d3c42e5aac5ba805825da76410c181273ba90b1"
_HEX64 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"


@pytest.mark.parametrize(("ref", "pinned"), [
    (_HEX40, True),
    (_HEX64, True),
    (_HEX40[:39], False),  # 39 hex: a short SHA, resolved by prefix, or a branch of that name
    (_HEX40 + "a", False),  # 41 hex
    (_HEX40 + "0" * 23, False),  # 63 hex
    (_HEX64 + "0", False),  # 65 hex
    (_HEX40[:30] + "ABCDEF0123", False),  # uppercase: a branch may be named so, a SHA never is
    (_HEX40.upper(), False),
    (_HEX40 + "-evil", False),  # trailing junk: a branch named after a SHA
    ("x" + _HEX40, False),
    (_HEX40[:20] + "g" + _HEX40[21:], False),  # not hex
    ("v4", False),
    ("", False),
])
def test_only_a_full_lowercase_sha_counts_as_pinned(ref: str, pinned: bool):
    assert parse_uses(f"owner/repo@{ref}").is_sha is pinned


def test_the_sha_pattern_allows_no_newline_after_it():
    """``$`` would match before a final newline; the pattern itself must end at the end."""
    from ci_tools.gha.uses import SHA_RE

    assert SHA_RE.match(_HEX40) and SHA_RE.match(_HEX64)
    assert SHA_RE.match(_HEX40 + "\n") is None and SHA_RE.match(_HEX64 + "\n") is None


@pytest.mark.parametrize("suffix", ["a", "0" * 24, "-evil", ".1", "/x"])
def test_a_sha_with_a_tail_is_reported_as_not_pinned(suffix: str, tmp_path):
    from ci_tools.core.config import Config
    from ci_tools.lint.checks import Context, unpinned_uses

    doc = load_text(HEAD + f"      - uses: owner/repo@{_HEX40}{suffix}\n", display="w.yml")
    found = list(unpinned_uses.check(doc, Context(root=tmp_path, config=Config())))
    assert len(found) == 1 and found[0].location.line == 6, suffix


@pytest.mark.parametrize(("tag", "key"), [
    ("v4", (4, 0, 0, 1, 1)),
    ("v4.2", (4, 2, 0, 1, 2)),
    ("4.2.1", (4, 2, 1, 1, 3)),
    ("v4.2.1-rc.1", (4, 2, 1, 0, 3)),
    ("main", None),
    ("v4.2.1.0", None),
])
def test_semver_key(tag: str, key: tuple | None):
    assert semver_key(tag) == key


def test_semver_order_releases_above_prereleases_and_specific_above_floating():
    """What picks "the newest tag" for pin and update, and the comment a SHA gets: v1.1 names the same
    release as v1.1.0 but less precisely, so v1.1.0 sorts after it; a prerelease before its release."""
    order = ["v1.0.0-rc.1", "v1", "v1.0", "v1.0.0", "v1.0.1", "v1.1", "v1.1.0", "v2.0.0-beta", "v2.0.0", "v10"]
    assert sorted(reversed(order), key=semver_key) == order


FORMAT = 'the format is "owner/repo@<ref>" or "owner/repo/path@<ref>"'


@pytest.mark.parametrize(("value", "kind", "path", "problem", "issues"), [
    ("${{ matrix.action }}", "expression", "", "", ()),
    ("./actions/build", "local", "actions/build", "", ()),
    (".\\actions\\build", "local", "actions\\build", "", ()),
    ("$/actions/check", "self", "actions/check", "", ()),
    ("docker://alpine:3.20", "docker", "alpine:3.20", "", ()),
    ("docker://", "invalid", "", '"docker://" names no image; write docker://<image>:<tag>@sha256:<digest>', ()),
    ("", "invalid", "", "the value is empty; write owner/repo@<sha>, ./path or docker://image", ()),
    ("o/r@a..b", "invalid", "", f'"a..b" is not a valid git ref name; {FORMAT}', ()),
    ("o/.@v1", "invalid", "", f'"." is not a valid repository name (letters, digits, ".", "-" and "_"); {FORMAT}', ()),
    ("o/..@v1", "invalid", "", f'".." is not a valid repository name (letters, digits, ".", "-" and "_"); {FORMAT}', ()),
    ("o/r/./a/./b@v1", "remote", "a/b", "", ('a "." path segment',)),
    ("o/r/a/../b/../c@v1", "remote", "c", "", ('a ".." path segment',)),
    (" o/r/@v1", "remote", "", "", ("whitespace around the value", "a trailing slash")),
])
def test_every_kind_of_value_is_read_whole(value, kind, path, problem, issues):
    """The value as written is kept (messages and fixes quote it), with its kind, its path, what is wrong
    with it, and each way its spelling differs from the canonical one, named once."""
    ref = parse_uses(value)
    assert (ref.raw, ref.kind, ref.path, ref.problem, ref.spelling_issues) == (value, kind, path, problem, issues)
