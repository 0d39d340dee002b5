"""`bot-conditions`: gates do not trust ``github.actor`` to name a bot.

``github.actor`` (and ``github.triggering_actor``, ``github.event.sender.login``) is whoever caused
the latest event, not who wrote the pull request: a pull request whose branch Dependabot updated
last runs with ``github.actor == 'dependabot[bot]'`` whatever else its author put in it. A condition
such as ``if: github.actor == 'dependabot[bot]'`` that grants a merge, an approval or secrets can
be passed by an attacker.

Reported: a comparison (``==``, or ``contains()``, ``startsWith()``, ``endsWith()``) of one of those
values with a bot's login (a literal ending in ``[bot]``), unless the same condition also requires
the pull request's author (``github.event.pull_request.user.login``), which cannot be spoofed. An error in workflows started by events
that run with secrets or a write token for outsiders (``pull_request_target``, ``workflow_run``,
``issue_comment``, reviews), a warning otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.expression_sites import call_arguments, chain_at, is_chain_start, iter_sites, tokens_of
from ci_tools.model import Finding, Severity
from ci_tools.scalars import locate
from ci_tools.source import Document, on_events

ID = "bot-conditions"
SUMMARY = "gates do not trust github.actor to name a bot (the pull request's user cannot be spoofed)"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}

SPOOFABLE = {"github.actor", "github.triggering_actor", "github.event.sender.login"}
PRIVILEGED = {"pull_request_target", "workflow_run", "issue_comment", "pull_request_review",
              "pull_request_review_comment"}
_CALLS = {"contains", "startswith", "endswith"}
_AUTHOR = "github.event.pull_request.user.login"


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or "[bot]" not in doc.text:
        return
    events = on_events(doc)
    severity = SEVERITY if PRIVILEGED & set(events) else Severity.WARNING
    for site in iter_sites(doc, "[bot]"):
        tokens = tokens_of(site)
        if tokens is None:
            continue
        if _AUTHOR in site.body.lower() and "||" not in site.body:
            continue  # the author is tested too, and both must hold: the actor adds nothing spoofable
        for start, end, path, bot in _bot_tests(tokens):
            loc = locate(doc, site.node, start, end)
            names = re.findall(r"[\w.-]+\[bot\]", bot)
            shown = f'"{names[0]}"' if names else "a bot's login"
            yield doc.finding(ID, f'"{path}" is whoever caused the latest event, which an attacker can make '
                                  f"{shown} (by getting the bot to update their pull request); test the pull "
                                  'request\'s author, "github.event.pull_request.user.login", instead', loc, severity)


def _bot_tests(tokens) -> Iterator[tuple[int, int, str, str]]:
    for i, tok in enumerate(tokens):
        if tok.kind == "op" and tok.text == "==":
            left = _operand_before(tokens, i)
            right = _operand_after(tokens, i)
            for chain, literal in ((left, right), (right, left)):
                if chain and literal and chain[0] in SPOOFABLE and literal[0].endswith("[bot]"):
                    yield min(chain[1], literal[1]), max(chain[2], literal[2]), chain[0], literal[0]
        elif tok.kind == "ident" and tok.text.lower() in _CALLS and i + 1 < len(tokens) and tokens[i + 1].text == "(" \
                and not (i > 0 and tokens[i - 1].kind == "op" and tokens[i - 1].text == "!"):  # !contains excludes
            args, close = call_arguments(tokens, i + 1)
            paths = [".".join(t.text for t in a if t.kind == "ident").lower() for a in args]
            bots = [t.text for a in args for t in a if t.kind == "string" and "[bot]" in t.text]
            actor = next((p for p in paths if p in SPOOFABLE), None)
            if actor and bots:
                yield tok.start, tokens[close].end, actor, bots[0]


def _operand_before(tokens, i):
    """(lower-case path or literal text, start, end) of the operand that ends just before ``tokens[i]``."""
    j = i - 1
    if j < 0:
        return None
    if tokens[j].kind == "string":
        return tokens[j].text, tokens[j].start, tokens[j].end
    k = j
    while k > 0 and (tokens[k - 1].kind in ("ident", "star") or tokens[k - 1].text == "."):
        k -= 1
    if is_chain_start(tokens, k):
        path, after, _ = chain_at(tokens, k)
        if after == i:
            return path.lower(), tokens[k].start, tokens[j].end
    return None


def _operand_after(tokens, i):
    j = i + 1
    if j >= len(tokens):
        return None
    if tokens[j].kind == "string":
        return tokens[j].text, tokens[j].start, tokens[j].end
    if is_chain_start(tokens, j):
        path, after, _ = chain_at(tokens, j)
        return path.lower(), tokens[j].start, tokens[after - 1].end
    return None
