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
from ci_tools.gha.expression_sites import chains, iter_sites, parents, tree_of, unwrap
from ci_tools.gha.expressions import Binary, Call, Literal, Node, Not, walk
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
        tree = tree_of(site)
        if tree is None:
            continue
        if _AUTHOR in lowered and "||" not in site.body:
            continue  # the author is tested too, and both must hold: the actor adds nothing spoofable
        for start, end, path, bot in _bot_tests(tree, site.node.value):
            loc = locate(doc, site.node, start, end)
            names = re.findall(r"[\w.-]+\[bot\]", bot)
            shown = f'"{names[0]}"' if names else (f"the account {bot}" if bot.isdigit() else "a bot's login")
            yield doc.finding(ID, f'"{path}" is whoever caused the latest event, which an attacker can make '
                                  f"{shown} (by getting the bot to update their pull request); test the pull "
                                  'request\'s author, "github.event.pull_request.user.login", instead', loc, severity)


def _is_bot(path: str, literal: str) -> bool:
    if path in SPOOFABLE:
        return literal.endswith("[bot]")
    return path in SPOOFABLE_IDS and literal.strip().isdigit()


def _bot_tests(tree: Node, text: str) -> Iterator[tuple[int, int, str, str]]:
    """(start, end, path, bot) of each test of a spoofable value against a bot; ``text`` is the
    scalar's value the tree's offsets point into (a number is compared as written)."""
    paths = {id(c.node): c.path.lower() for c in chains(tree)}
    up = parents(tree)
    for node in walk(tree):
        if isinstance(node, Binary) and node.op == "==":
            for value, literal in ((unwrap(node.left), unwrap(node.right)), (unwrap(node.right), unwrap(node.left))):
                if id(value) in paths and isinstance(literal, Literal) and isinstance(literal.value, str | float) \
                        and not isinstance(literal.value, bool):
                    shown = literal.value if isinstance(literal.value, str) else text[literal.start:literal.end]
                    if _is_bot(paths[id(value)], shown):
                        yield node.left.start, node.right.end, paths[id(value)], shown
                        break
        elif isinstance(node, Call) and node.name.lower() in _CALLS and not isinstance(up.get(id(node)), Not):
            inside = [n for arg in node.args for n in walk(arg)]  # !contains(...) excludes, so is no gate
            actor = next((paths[id(n)] for n in inside if paths.get(id(n)) in SPOOFABLE), None)
            bots = [n.value for n in inside if isinstance(n, Literal) and isinstance(n.value, str) and "[bot]" in n.value]
            if actor and bots:
                yield node.start, node.end, actor, bots[0]
