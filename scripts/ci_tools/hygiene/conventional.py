"""Conventional Commits: parse and validate a message, and compute the release bump of a history.

The grammar is the one of https://www.conventionalcommits.org/en/v1.0.0/::

    <type>[(<scope>)][!]: <description>
    <blank line>
    [body]
    <blank line>
    [footers: "Token: value" or "Token #value"; BREAKING CHANGE / BREAKING-CHANGE included]

Validation reports :class:`Problem` values with 1-based line and column spans inside the message,
so callers can underline the offending part. A near miss (a missing colon, ``;`` or `` - ``
instead of it, a misplaced or missing space, an upper-case type, an unknown type close to a known
one, a ``WIP`` marker) is told the exact header to write (:func:`correct`). This module has no I/O: the ``commits`` command feeds
it titles, message files and ``git log`` output.

The bump follows release-please's ``DefaultVersioningStrategy`` and its default changelog sections
(read from its source, v17):

- a commit is *breaking* when its header has ``!`` or it carries a ``BREAKING CHANGE:`` /
  ``BREAKING-CHANGE:`` note; any breaking commit makes the bump **major**, or **minor** when the
  current version is below 1.0.0 and ``bump-minor-pre-major`` is set (release-please's default is
  *off*: before 1.0 a breaking change still proposes 1.0.0);
- otherwise a ``feat`` (or ``feature``) commit makes it **minor**, or **patch** below 1.0.0 when
  ``bump-patch-for-minor-pre-major`` is set;
- otherwise the bump is **patch**, but release-please only opens a release when the changelog has
  an entry: a ``feat``, ``feature``, ``fix``, ``perf`` or ``revert`` commit, or a breaking commit of
  any type. A history of only ``chore``/``docs``/``ci``/... commits therefore bumps **none**. The
  changelog matches types in any case but the bump only exactly: ``Feat: x`` alone is a *patch*;
- tests/hygiene/test_bump_oracle.py holds this to release-please's own ``parseConventionalCommits``,
  ``DefaultVersioningStrategy`` and ``DefaultChangelogNotes`` (16.14.1 from npm, the version that
  release.yml's release-please-action bundles, so the release it predicts) on 600 histories;
- commits whose header does not parse are ignored by release-please; they never count;
- a ``Release-As: X.Y.Z`` footer forces that version (the newest such commit wins).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field

from ci_tools.core.findings import Severity

DEFAULT_TYPES = ("build", "chore", "ci", "docs", "feat", "fix", "perf", "refactor", "revert", "style", "test")
"""The types of the Angular convention that @commitlint/config-conventional accepts."""

DEFAULT_MAX_HEADER_LENGTH = 100

RELEASE_TYPES = frozenset({"feat", "feature", "fix", "perf", "revert"})
"""Types release-please's default changelog shows; a history without one (or a breaking commit)
produces no release."""

MINOR_TYPES = frozenset({"feat", "feature"})
BREAKING_TOKENS = ("BREAKING CHANGE", "BREAKING-CHANGE")
BUMPS = ("none", "patch", "minor", "major")

_FOOTER = re.compile(r"(?P<token>BREAKING CHANGE|BREAKING-CHANGE|[A-Za-z][A-Za-z0-9-]*)(?P<sep>: | #)(?P<value>.*)\Z")
_LOOSE_BREAKING = re.compile(r"(?i)(?P<token>breaking[ _-]?changes?)\s*(?P<sep>:?)\s*(?P<value>.*)\Z")
_GIT_MERGE = re.compile(r"Merge (?:branch|branches|remote-tracking branch|pull request|tag|commit) ")
_GIT_REVERT = re.compile(r'Revert "(?P<header>.*)"\Z')
_AUTOSQUASH = re.compile(r"(?P<kind>fixup|squash|amend)! ")
_SEMVER = re.compile(r"v?(?P<major>0|[1-9]\d*)\.(?P<minor>0|[1-9]\d*)\.(?P<patch>0|[1-9]\d*)(?P<rest>[-+].*)?\Z")
SCISSORS = "------------------------ >8 ------------------------"
# A header that is almost conventional: a word, an optional (scope) and "!", then ":" or what people
# type instead (";", " - ", nothing but a space), then the description. Spaces around each part.
_LOOSE = re.compile(r"(?P<type>[A-Za-z][A-Za-z0-9-]*)[ \t]*(?:\((?P<scope>[^()]*)\))?[ \t]*(?P<bang>!)?"
                    r"(?P<sep>[ \t]*[:;][ \t]*|[ \t]+-[ \t]+|[ \t]+)(?P<desc>\S.*)\Z")
_WIP = re.compile(r"(?P<marker>\[[ \t]*wip[ \t]*\]|\([ \t]*wip[ \t]*\)|wip)(?![A-Za-z0-9])[ \t]*(?P<bang>!?)[ \t]*[:-]?[ \t]*"
                  r"(?P<rest>.*)\Z", re.I)


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a message: 1-based line, columns ``[col, end_col)``."""

    line: int
    col: int
    end_col: int
    message: str
    severity: Severity = Severity.ERROR


@dataclass(frozen=True)
class Footer:
    token: str
    value: str
    line: int


@dataclass(frozen=True)
class Rules:
    types: tuple[str, ...] = DEFAULT_TYPES
    scopes: tuple[str, ...] | None = None  # None: any scope
    require_scope: bool = False
    max_header_length: int = DEFAULT_MAX_HEADER_LENGTH


@dataclass
class Message:
    """A cleaned-up message: ``lines`` are ``(line number in the source, text)`` pairs."""

    lines: list[tuple[int, str]]
    type: str | None = None
    scope: str | None = None
    bang: bool = False
    description: str | None = None
    footers: list[Footer] = field(default_factory=list)
    skipped: str | None = None  # why the message is not validated (a merge commit)
    wip: bool = False  # the header starts with a work-in-progress marker (reported as such)

    @property
    def header(self) -> str:
        return self.lines[0][1] if self.lines else ""

    @property
    def header_line(self) -> int:
        return self.lines[0][0] if self.lines else 1

    @property
    def conventional(self) -> bool:
        """True when release-please would parse the header (it then counts for the bump)."""
        return self.type is not None and self.description is not None

    @property
    def breaking(self) -> bool:
        return self.bang or any(f.token in BREAKING_TOKENS for f in self.footers)

    @property
    def release_as(self) -> str | None:
        for f in self.footers:
            if f.token.lower() == "release-as":
                return f.value.strip()
        return None


def clean(text: str, comment_char: str | None = "#") -> list[tuple[int, str]]:
    """Lines of a message as git keeps them with ``--cleanup=strip``, numbered as in ``text``.

    Comment lines (starting with ``comment_char``) go, as does everything from git's scissors line
    on; trailing whitespace is dropped and leading and trailing blank lines removed. Runs of blank
    lines are kept as they are so that line numbers still point into the file.
    """
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), start=1):
        if comment_char and raw.startswith(comment_char):
            if raw[len(comment_char):].strip() == SCISSORS:
                break
            continue
        out.append((number, raw.rstrip()))
    while out and not out[0][1]:
        out.pop(0)
    while out and not out[-1][1]:
        out.pop()
    return out


def parse(text: str, comment_char: str | None = "#", allow_merge: bool = True,
          types: tuple[str, ...] = DEFAULT_TYPES) -> tuple[Message, list[Problem]]:
    """Parse a message; return it and the problems of its *structure* (rules come in :func:`validate`).

    With ``allow_merge``, a header git writes for a merge ("Merge branch 'x' into y") is accepted
    as it is: the message of a merge commit, never a squash commit's or a pull request title.
    ``types`` only shape the advice: a near miss is corrected to one of them (:func:`correct`).
    """
    msg = Message(clean(text, comment_char))
    problems: list[Problem] = []
    if not msg.lines:
        problems.append(Problem(1, 1, 2, 'the message is empty; write a header such as "fix: <what it fixes>"'))
        return msg, problems
    line, header = msg.header_line, msg.header
    if allow_merge and _GIT_MERGE.match(header):
        msg.skipped = "merge commit"
        return msg, problems
    problems.extend(_parse_header(msg, line, header, types))
    problems.extend(_parse_rest(msg))
    return msg, problems


def correct(header: str, types: tuple[str, ...] = DEFAULT_TYPES) -> str | None:
    """The header with its near misses corrected, or None when no type can be told.

    Corrected: a missing colon (``fix(ci) missing colon``), ``;`` or `` - `` instead of it, spaces
    around the scope, the colon or after it, an upper-case type (``Feat``), and an unknown type close
    to a known one (``feet``, ``fxi``). A first word followed by a space only counts as a type when it
    is one (``Fixed the bug`` has none: that is a sentence, not a misspelt ``fix``).
    """
    m = _LOOSE.match(header.strip())
    if not m:
        return None
    kind = m["type"].lower()
    if kind not in types:
        marked = m["sep"].strip() == ":" or m["scope"] is not None or m["bang"]
        close = difflib.get_close_matches(kind, types, n=1, cutoff=0.6) if marked else []
        if not close:
            return None
        kind = close[0]
    scope = f"({m['scope'].strip()})" if m["scope"] is not None and m["scope"].strip() else ""
    return f"{kind}{scope}{'!' if m['bang'] else ''}: {m['desc'].strip()}"


def _lower_first(text: str) -> str:
    """``Add login`` as a description reads ``add login``; ``API docs`` stays as it is."""
    if len(text) > 1 and text[0].isupper() and not text[1].isupper():
        return text[0].lower() + text[1:]
    return text


def _work_in_progress(line: int, h: str, types: tuple[str, ...]) -> list[Problem]:
    wip = _WIP.match(h)
    if not wip or "wip" in types:
        return []
    marker, rest = wip["marker"], wip["rest"].strip()
    if not rest:
        advice = 'describe the finished change as "<type>: <description>", e.g. "feat: add login"'
    else:
        fixed = correct(rest, types)
        advice = f'write "{fixed}"' if fixed else \
            f'write "<type>{wip["bang"]}: {_lower_first(rest)}" with the type of the change'
    return [Problem(line, 1, len(h) + 1, f'"{marker}" marks work in progress; {advice}')]


def _parse_header(msg: Message, line: int, h: str, types: tuple[str, ...] = DEFAULT_TYPES) -> list[Problem]:
    end = len(h) + 1
    revert = _GIT_REVERT.match(h)
    if revert:
        return [Problem(line, 1, end, f'git\'s default revert header is not a conventional commit; write '
                                      f'"revert: {revert["header"]}" and keep the "This reverts commit" line')]
    squash = _AUTOSQUASH.match(h)
    if squash:
        return [Problem(line, 1, len(squash[0]), f'"{squash["kind"]}!" commit; squash it into its target with '
                                                 '`git rebase -i --autosquash` before merging', Severity.WARNING)]
    problems = _parse_structure(msg, line, h, types)
    wip = _work_in_progress(line, h, types)
    if wip:  # the advice is about the marker; the parse stands (release-please counts "wip!: x")
        msg.wip = True
        return wip
    return problems


def _parse_structure(msg: Message, line: int, h: str, types: tuple[str, ...]) -> list[Problem]:
    end = len(h) + 1
    fixed = correct(h, types)
    pos = 0
    while pos < len(h) and h[pos] not in " ():!":
        pos += 1
    type_end = pos
    if type_end == 0:
        return [Problem(line, 1, end, 'the header does not start with a type; write "<type>: <description>", '
                                      'e.g. "fix: handle empty input"')]
    loose = _LOOSE.match(h)
    if fixed and loose and loose["sep"].strip() != ":" and not (pos < len(h) and h[pos] == ":"):
        sep = loose["sep"].strip()
        where = h[:loose.start("sep")].rstrip()
        what = f'missing ":" after "{where}"' if not sep else f'"{sep}" after "{where}" where ":" belongs'
        return [Problem(line, loose.start("sep") + 1, max(loose.end("sep"), loose.start("sep") + 1) + 1,
                        f'{what}; write "{fixed}"')]
    scope = None
    if pos < len(h) and h[pos] == "(":
        close = h.find(")", pos)
        colon = h.find(":", pos)
        if close < 0 or (0 <= colon < close):
            stop = colon if colon >= 0 else len(h)
            return [Problem(line, pos + 1, stop + 1, 'the scope is not closed; write "(scope)" before the colon')]
        scope = h[pos + 1:close]
        if not scope.strip() or "(" in scope:
            return [Problem(line, pos + 1, close + 2, f'"{h[pos:close + 1]}" is not a scope; write a noun in '
                                                      'the parentheses, e.g. "(api)", or leave them out')]
        pos = close + 1
    bang = pos < len(h) and h[pos] == "!"
    if bang:
        pos += 1
    if pos >= len(h) or h[pos] != ":":
        colon = h.find(":", pos)
        if colon > 0 and not h[pos:colon].strip():
            advice = f'write "{fixed}"' if fixed else 'write "type: description" with the colon right after the type'
            return [Problem(line, pos + 1, colon + 1, f"space before the colon; {advice}")]
        if fixed and colon > 0:
            return [Problem(line, 1, end, f'the header is not "<type>(<scope>): <description>"; write "{fixed}"')]
        if colon < 0 or " " in h[:colon]:
            return [Problem(line, 1, end, f'"{_clip(h)}" does not start with a type; write it as '
                                          f'"<type>: {_clip(_lower_first(h), 40)}", e.g. "feat: ..." or "fix: ..."')]
        return [Problem(line, pos + 1, pos + 2, 'expected ":" after the type; write "<type>(<scope>)!: <description>"')]
    colon = pos
    rest = h[colon + 1:]
    if not rest.strip():
        return [Problem(line, colon + 1, colon + 2, 'the description is empty; say what the change does after '
                                                    f'"{h[:colon + 1]} "')]
    problems: list[Problem] = []
    if not rest.startswith(" "):
        problems.append(Problem(line, colon + 1, colon + 3, 'no space after the colon; write '
                                                            f'"{fixed or h[:colon + 1] + " " + rest.lstrip()}"'))
    elif rest.startswith("  ") or rest[1:2].isspace():
        width = len(rest) - len(rest.lstrip())
        problems.append(Problem(line, colon + 2, colon + 2 + width, "more than one space after the colon; "
                                                                    "keep exactly one: write "
                                                                    f'"{fixed or h[:colon + 1] + " " + rest.strip()}"',
                                Severity.WARNING))
    msg.type = h[:type_end]
    msg.scope = scope
    msg.bang = bang
    msg.description = rest.strip()
    return problems


def _parse_rest(msg: Message) -> list[Problem]:
    problems: list[Problem] = []
    rest = msg.lines[1:]
    if rest and rest[0][1]:
        number, text = rest[0]
        problems.append(Problem(number, 1, len(text) + 1, "the body must be separated from the header by a blank "
                                                           "line; insert an empty line after the header"))
    # paragraphs after the header; footers are the last paragraph when it starts with a footer token
    paragraphs: list[list[tuple[int, str]]] = []
    for number, text in rest:
        if not text:
            if paragraphs and paragraphs[-1]:
                paragraphs.append([])
            continue
        if not paragraphs:
            paragraphs.append([])
        paragraphs[-1].append((number, text))
    paragraphs = [p for p in paragraphs if p]
    footers: list[Footer] = []
    if paragraphs and _FOOTER.match(paragraphs[-1][0][1]) and not (len(paragraphs) == 1 and rest[0][1]):
        for number, text in paragraphs[-1]:
            m = _FOOTER.match(text)
            if m:
                footers.append(Footer(m["token"], m["value"], number))
            elif footers:  # a footer's value goes on until the next token
                last = footers[-1]
                footers[-1] = Footer(last.token, f"{last.value}\n{text}", last.line)
    footer_lines = {f.line for f in footers}
    # BREAKING CHANGE / BREAKING-CHANGE and Release-As notes count anywhere in the body, as
    # release-please reads them
    for number, text in rest:
        m = _FOOTER.match(text)
        if m and m["token"].lower() == "release-as" and m["sep"] == ": " and number not in footer_lines:
            footers.append(Footer(m["token"], m["value"], number))
        if m and m["token"] in BREAKING_TOKENS:
            if number not in footer_lines:
                footers.append(Footer(m["token"], m["value"], number))
            if not m["value"].strip():
                problems.append(Problem(number, 1, len(text) + 1, f'"{m["token"]}:" says nothing; describe what '
                                                                  "breaks and how to migrate after the colon"))
            continue
        loose = _LOOSE_BREAKING.match(text)
        if loose and loose["token"] in BREAKING_TOKENS and loose["sep"] and not loose["value"]:
            problems.append(Problem(number, 1, len(text) + 1, f'"{loose["token"]}:" says nothing; describe what '
                                                              "breaks and how to migrate after the colon"))
        elif loose and (loose["sep"] or loose["token"].upper() in BREAKING_TOKENS):
            token = loose["token"]
            problems.append(Problem(number, 1, len(token) + len(loose["sep"]) + 1,
                                    f'"{token}{loose["sep"]}" is not recognised as a breaking change; write '
                                    '"BREAKING CHANGE: <what breaks>" (upper case, colon and space)'))
    for f in footers:
        if f.token.lower() == "release-as" and not _SEMVER.match(f.value.strip()):
            problems.append(Problem(f.line, 1, len(f.token) + 2 + len(f.value.split("\n")[0]) + 1,
                                    f'"Release-As: {f.value.strip()}" is not a version; write "Release-As: X.Y.Z"'))
    msg.footers = sorted(footers, key=lambda f: f.line)
    return problems


def validate(msg: Message, rules: Rules) -> list[Problem]:
    """Apply the configured rules (types, scopes, header length) to a parsed message."""
    if msg.skipped or not msg.lines:
        return []
    problems: list[Problem] = []
    line, header = msg.header_line, msg.header
    if msg.type is not None and not msg.wip:
        t = msg.type
        if t not in rules.types:
            fixed = correct(header, rules.types)
            if t.lower() in rules.types:
                problems.append(Problem(line, 1, len(t) + 1, f'type "{t}" must be lower case; write '
                                                             f'"{fixed or t.lower()}" (release-please bumps by the '
                                                             "exact type)"))
            else:
                close = difflib.get_close_matches(t.lower(), rules.types, n=1, cutoff=0.6)
                hint = f'did you mean "{close[0]}"? write "{fixed}", or ' if close and fixed else ""
                problems.append(Problem(line, 1, len(t) + 1, f'unknown type "{t}"; {hint}use one of '
                                                             f'{", ".join(rules.types)}'))
        if msg.scope is not None and rules.scopes is not None and msg.scope not in rules.scopes:
            start = len(t) + 2
            close = difflib.get_close_matches(msg.scope, rules.scopes, n=1, cutoff=0.6)
            hint = f'did you mean "{close[0]}"? ' if close else ""
            problems.append(Problem(line, start, start + len(msg.scope), f'unknown scope "{msg.scope}"; {hint}use '
                                                                         f'one of {", ".join(rules.scopes)}'))
        elif msg.scope is None and rules.require_scope:
            example = rules.scopes[0] if rules.scopes else "api"
            problems.append(Problem(line, 1, len(t) + 1, f'the header has no scope; write "{t}({example}): ..." '
                                                         "(scopes are required here)"))
    if len(header) > rules.max_header_length:
        problems.append(Problem(line, rules.max_header_length + 1, len(header) + 1,
                                f"the header is {len(header)} characters long, more than "
                                f"{rules.max_header_length}; shorten it and move details to the body"))
    return problems


def check_message(text: str, rules: Rules, comment_char: str | None = "#",
                  allow_merge: bool = True) -> tuple[Message, list[Problem]]:
    msg, problems = parse(text, comment_char, allow_merge, rules.types)
    problems = problems + validate(msg, rules)
    return msg, sorted(problems, key=lambda p: (p.line, p.col, p.message))


# --- the bump -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Bump:
    level: str  # none | patch | minor | major
    reason: str
    counted: int  # commits release-please would parse
    ignored: int  # commits it would ignore (not conventional)
    release_as: str | None = None
    current: str | None = None
    next: str | None = None


def parse_version(text: str) -> tuple[int, int, int] | None:
    m = _SEMVER.match(text.strip())
    return (int(m["major"]), int(m["minor"]), int(m["patch"])) if m else None


def compute_bump(messages: list[Message], current_version: str | None = None, *,
                 bump_minor_pre_major: bool = False, bump_patch_for_minor_pre_major: bool = False) -> Bump:
    """The bump release-please would propose for ``messages`` (newest first, as ``git log`` lists them)."""
    counted = [m for m in messages if m.conventional and not m.skipped]
    ignored = sum(1 for m in messages if not m.conventional and not m.skipped)
    version = parse_version(current_version) if current_version else None
    pre_major = version is not None and version[0] < 1
    release_as = next((m.release_as for m in counted if m.release_as), None)
    breaking = [m for m in counted if m.breaking]
    features = [m for m in counted if not m.breaking and m.type in MINOR_TYPES]
    # the changelog matches types regardless of case ("Feat:" is listed), the bump exactly ("Feat:" is
    # no feature): release-please turns a lone "Feat: x" into a patch release
    releasable = [m for m in counted if m.breaking or (m.type or "").lower() in RELEASE_TYPES]
    if release_as:
        level, reason = "custom", f'a "Release-As: {release_as}" footer forces the version'
    elif breaking:
        if pre_major and bump_minor_pre_major:
            level, reason = "minor", f"{_count(breaking, 'breaking change')} before 1.0.0 (bump-minor-pre-major)"
        else:
            level, reason = "major", _count(breaking, "breaking change")
    elif features:
        if pre_major and bump_patch_for_minor_pre_major:
            level, reason = "patch", f"{_count(features, 'feature')} before 1.0.0 (bump-patch-for-minor-pre-major)"
        else:
            level, reason = "minor", _count(features, "feature")
    elif releasable:
        kinds = sorted({m.type or "" for m in releasable})
        level, reason = "patch", f"{_count(releasable, 'commit')} of type {', '.join(kinds)}"
    else:
        level = "none"
        reason = ("no feat, fix, perf, revert or breaking commit: release-please opens no release"
                  if counted else "no conventional commit")
    nxt = None
    if level == "custom":
        nxt = release_as
    elif version is not None and level != "none":
        major, minor, patch = version
        nxt = {"major": f"{major + 1}.0.0", "minor": f"{major}.{minor + 1}.0",
               "patch": f"{major}.{minor}.{patch + 1}"}[level]
    return Bump(level, reason, len(counted), ignored, release_as, current_version, nxt)


def _count(items: list, noun: str) -> str:
    return f"{len(items)} {noun}{'s' if len(items) != 1 else ''}"


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
