"""`bot-conditions`: gates do not trust ``github.actor`` to name a bot.

``github.actor`` (and ``github.triggering_actor``, ``github.event.sender.login``) is whoever caused
the latest event, not who wrote the pull request: a pull request whose branch Dependabot updated
last runs with ``github.actor == 'dependabot[bot]'`` whatever else its author put in it. A condition
such as ``if: github.actor == 'dependabot[bot]'`` that grants a merge, an approval or secrets can
be passed by an attacker.

Reported: a comparison (``==``, or ``contains()``, ``startsWith()``, ``endsWith()``) of one of those
values with a bot's login (a literal ending in ``[bot]``), or of ``github.actor_id`` and its kin
with a number, unless the same condition also requires
the pull request's author (``github.event.pull_request.user.login``), which cannot be spoofed. An error in workflows started by events
that run with secrets or a write token for outsiders (``pull_request_target``, ``workflow_run``,
``issue_comment``, reviews), a warning otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.expression_sites import call_arguments, chain_at, is_chain_start, iter_sites, tokens_of
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import Document, on_events

ID = "bot-conditions"
SUMMARY = "gates do not trust github.actor to name a bot (the pull request's user cannot be spoofed)"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}

SPOOFABLE = {"github.actor", "github.triggering_actor", "github.event.sender.login"}
SPOOFABLE_IDS = {"github.actor_id", "github.triggering_actor_id", "github.event.sender.id"}
PRIVILEGED = {"pull_request_target", "workflow_run", "issue_comment", "pull_request_review",
              "pull_request_review_comment"}
_CALLS = {"contains", "startswith", "endswith"}
_AUTHOR = "github.event.pull_request.user.login"


def check(doc: Document, ctx) -> Iterator[Finding]:
    low = doc.lower_text if doc.root is not None else ""
    if "actor" not in low and "sender" not in low:
        return
    if "[bot]" not in low and "actor_id" not in low:
        return
    events = on_events(doc)
    severity = SEVERITY if PRIVILEGED & set(events) else Severity.WARNING
    for site in iter_sites(doc):
        lowered = site.body.lower()
        if "[bot]" not in lowered and "actor_id" not in lowered:
            continue
        tokens = tokens_of(site)
        if tokens is None:
            continue
        if _AUTHOR in lowered and "||" not in site.body:
            continue  # the author is tested too, and both must hold: the actor adds nothing spoofable
        for start, end, path, bot in _bot_tests(tokens):
            loc = locate(doc, site.node, start, end)
            names = re.findall(r"[\w.-]+\[bot\]", bot)
            shown = f'"{names[0]}"' if names else (f"the account {bot}" if bot.isdigit() else "a bot's login")
            yield doc.finding(ID, f'"{path}" is whoever caused the latest event, which an attacker can make '
                                  f"{shown} (by getting the bot to update their pull request); test the pull "
                                  'request\'s author, "github.event.pull_request.user.login", instead', loc, severity)


def _chains(tokens) -> tuple[dict[int, tuple[str, int]], dict[int, tuple[str, int]]]:
    """Context chains by the index of their first token and by the index just after their last."""
    by_start: dict[int, tuple[str, int]] = {}
    by_end: dict[int, tuple[str, int]] = {}
    i = 0
    while i < len(tokens):
        if is_chain_start(tokens, i):
            path, after, _ = chain_at(tokens, i)
            by_start[i] = (path.lower(), after)
            by_end[after] = (path.lower(), i)
            i = after
            continue
        i += 1
    return by_start, by_end


def _literal(tok) -> str | None:
    return tok.text if tok.kind in ("string", "number") else None


def _is_bot(path: str, literal: str) -> bool:
    if path in SPOOFABLE:
        return literal.endswith("[bot]")
    return path in SPOOFABLE_IDS and literal.strip().isdigit()


def _bot_tests(tokens) -> Iterator[tuple[int, int, str, str]]:
    by_start, by_end = _chains(tokens)
    for i, tok in enumerate(tokens):
        if tok.kind == "op" and tok.text == "==":
            left = by_end.get(i)
            right = by_start.get(i + 1)
            if left and i + 1 < len(tokens) and (literal := _literal(tokens[i + 1])) is not None \
                    and _is_bot(left[0], literal):
                yield tokens[left[1]].start, tokens[i + 1].end, left[0], literal
            elif right and i > 0 and (literal := _literal(tokens[i - 1])) is not None and _is_bot(right[0], literal):
                yield tokens[i - 1].start, tokens[right[1] - 1].end, right[0], literal
        elif tok.kind == "ident" and tok.text.lower() in _CALLS and i + 1 < len(tokens) and tokens[i + 1].text == "(" \
                and not (i > 0 and tokens[i - 1].kind == "op" and tokens[i - 1].text == "!"):  # !contains excludes
            args, close = call_arguments(tokens, i + 1)
            paths = [".".join(t.text for t in a if t.kind == "ident").lower() for a in args]
            bots = [t.text for a in args for t in a if t.kind == "string" and "[bot]" in t.text]
            actor = next((p for p in paths if p in SPOOFABLE), None)
            if actor and bots:
                yield tok.start, tokens[close].end, actor, bots[0]
