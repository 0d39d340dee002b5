"""`dependabot-cooldown`: Dependabot lets new releases age, and runs no code of the dependencies.

A compromised release is usually found and withdrawn within days. Dependabot proposes a release as
soon as it is published unless ``cooldown:`` makes it wait; a reviewer who merges the update in the
first hours takes the compromised code with it. And ``insecure-external-code-execution: allow``
lets Dependabot run the dependencies' own code (``setup.py``, install scripts) while it resolves an
update, with the registry credentials it holds.

Reported, for each entry of ``updates:`` of a Dependabot configuration:

- no ``cooldown:``, or a ``cooldown.default-days`` below ``checks.dependabot-cooldown.days``
  (default 7; without ``default-days``, each of ``semver-major-days``, ``semver-minor-days`` and
  ``semver-patch-days`` must reach it), as a warning;
- ``insecure-external-code-execution: allow``, as an error.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, MappingNode, mapping_get, mapping_pair, scalar_text, sequence_items

ID = "dependabot-cooldown"
SUMMARY = "Dependabot waits before proposing new releases (cooldown) and never runs dependencies' code"
SEVERITY = Severity.WARNING
APPLIES_TO = {"dependabot"}

DEFAULT_DAYS = 7
_SEMVER = ("semver-major-days", "semver-minor-days", "semver-patch-days")


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    days = int(ctx.config.check(ID).options.get("days", DEFAULT_DAYS)) if ctx is not None else DEFAULT_DAYS
    for entry in sequence_items(mapping_get(doc.root, "updates")):
        if not isinstance(entry, MappingNode):
            continue
        ecosystem = scalar_text(mapping_get(entry, "package-ecosystem")) or "?"
        anchor = mapping_pair(entry, "package-ecosystem")
        execution = mapping_pair(entry, "insecure-external-code-execution")
        if execution is not None and (scalar_text(execution[1]) or "").strip().lower() == "allow":
            yield doc.finding(ID, f'"insecure-external-code-execution: allow" lets Dependabot run the code of "{ecosystem}" '
                                  "dependencies, with its registry credentials, while it resolves updates; remove it "
                                  "(the default is deny)", execution[1], Severity.ERROR)
        cooldown = mapping_pair(entry, "cooldown")
        if cooldown is None:
            yield doc.finding(ID, f'the "{ecosystem}" updates have no "cooldown:", so a release is proposed the day it '
                                  f'is published, compromised or not; add "cooldown:" with "default-days: {days}"',
                              anchor[0] if anchor else entry, SEVERITY)
            continue
        short = _short(cooldown[1], days)
        if short is not None:
            key, value = short
            pair = mapping_pair(cooldown[1], key)
            if pair is None:
                yield doc.finding(ID, f'the "{ecosystem}" cooldown sets no "default-days:", so releases it does not '
                                      f'name are proposed at once; add "default-days: {days}"', cooldown[0], SEVERITY)
            else:
                yield doc.finding(ID, f'"{key}: {value}" lets a release of "{ecosystem}" be proposed after fewer than '
                                      f"{days} days; wait at least {days}", pair[1], SEVERITY)


def _short(node, days: int) -> tuple[str, str] | None:
    """The setting that lets an update through before ``days``, as (key, value); None when none does."""
    default = scalar_text(mapping_get(node, "default-days"))
    if default is not None:
        return None if _int(default) >= days else ("default-days", default)
    for key in _SEMVER:
        value = scalar_text(mapping_get(node, key))
        if value is None:
            return "default-days", ""
        if _int(value) < days:
            return key, value
    return None


def _int(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        return 0
