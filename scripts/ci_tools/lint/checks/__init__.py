"""The check registry.

Each check is one module exporting:

- ``ID``: the check id used in output, configuration and ``# ci-tools: ignore[ID]``;
- ``SUMMARY``: one line;
- ``SEVERITY``: the default :class:`~ci_tools.core.findings.Severity`;
- ``APPLIES_TO``: the document kinds it reads (``workflow``, ``template``, ``action``, ...);
- ``check(doc, ctx) -> Iterator[Finding]``; a check across files instead exports
  ``check_all(docs, ctx) -> Iterator[Finding]`` and may export ``keep(doc) -> bool`` (which
  documents it needs kept parsed).

:func:`checks` reads each module once into a typed :class:`Check`, refusing a module that lacks
one of these or has the wrong kind of value (a :class:`CheckDefinitionError` naming the module and
the attribute), so the engine never reads a module attribute by name. The registry below is explicit; ``tests/lint/test_registry.py`` asserts it equals the modules in this
package, the sections of ``docs/checks.md`` and the fixture folders.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from ci_tools.core.findings import Finding, Severity

if TYPE_CHECKING:
    from ci_tools.core.config import Config
    from ci_tools.gha.source import Document

# Findings produced by the engine itself rather than by a module of this package.
ENGINE_IDS = {
    "syntax": "the file cannot be read or parsed: YAML or JSON errors, duplicate keys, encoding, size",
    "invalid-ignore": "a `# ci-tools: ignore[...]` comment names an unknown check or gives no reason",
    "actionlint": "a finding of actionlint (and shellcheck through it)",
}

REGISTRY: tuple[str, ...] = (
    "schema",
    "malformed_uses",
    "non_canonical_uses",
    "unpinned_uses",
    "template_injection",
    "excessive_permissions",
    "dangerous_triggers",
    "persist_credentials",
    "secrets_inherit",
    "missing_timeout",
    "disallowed_action",
    "self_repository",
    "workflow_call",
    "known_compromised",
    "docs_drift",
    "unfilled_placeholder",
    "cache_poisoning",
    "github_env",
    "bot_conditions",
    "overprovisioned_secrets",
    "unredacted_secrets",
    "insecure_commands",
    "unsound_contains",
    "github_app",
    "archived_uses",
    "unpinned_tools",
    "dependabot_cooldown",
)

# Ids of findings that commands other than `check` produce (pin, verify, update, commits, ...).
# They are valid in `# ci-tools: ignore[...]` comments and in configuration.
COMMAND_IDS: dict[str, str] = {
    "unresolved-ref": "a ref that pin or verify could not resolve (missing, private, ambiguous or a branch)",
    "tag-moved": "the tag named by a pin's comment now points to another commit",
    "impostor-commit": "the pinned commit is on no branch or tag of the named repository",
    "ref-confusion": "a ref name that is both a branch and a tag",
    "stale-comment": "a pin's comment names a tag that is not on the pinned commit",
    "inconsistent-pin": "one action at one version is pinned to different commits",
    "lockfile-mismatch": "a pin disagrees with .github/workflows/actions.lock",
    "tag-object": "a pin names an annotated tag object instead of the commit it points to (`ci-tools pin` peels it)",
    "untagged-pin": "a pinned commit that no tag or branch of its repository points at, so its comment cannot be checked",
    "update-available": "a newer stable release is available for a pinned action (`ci-tools update`)",
    "commit-message": "a commit message or pull request title that is not a Conventional Commit (`ci-tools commits`)",
    "branch-name": "a branch name that matches none of the allowed patterns (`ci-tools branch`)",
    "secret": "a possible secret on a line a pull request adds, found by detect-secrets (`ci-tools secrets`)",
    "policy-change": "a pull request changes what a gate checks: its configuration, the secrets baseline, "
                     "ignore or allowlist comments (`ci-tools policy`, `ci-tools secrets`)",
    "transitive-unpinned": "a ref or image inside a pinned action or reusable workflow that is not pinned (`verify --online --transitive`)",
    "deprecated-runtime": "a pinned action runs on a Node runtime GitHub has deprecated (`verify --online --transitive`)",
}


@dataclass
class Context:
    """What a check may know beyond its document."""

    root: Path
    config: Config
    documents: list[Document] = field(default_factory=list)

    @property
    def repository(self) -> str | None:
        return self.config.repository


class CheckDefinitionError(Exception):
    """A module of the registry that does not define a check as this package's docstring says."""


@dataclass(frozen=True)
class Check:
    """One check, as the engine runs it: read from its module by :meth:`of`."""

    id: str
    summary: str
    severity: Severity
    applies_to: frozenset[str] | None  # the document kinds it reads; None: every kind
    check: Callable[[Document, Context], Iterable[Finding]] | None  # per document
    check_all: Callable[[list[Document], Context], Iterable[Finding]] | None  # across files
    keep: Callable[[Document], bool] | None  # across files: which documents stay parsed
    module: str

    @classmethod
    def of(cls, module: ModuleType) -> Check:
        name = module.__name__

        def need(attr: str, kind: type | tuple[type, ...]) -> object:
            value = getattr(module, attr, None)
            if not isinstance(value, kind):
                raise CheckDefinitionError(f"{name}: {attr} must be a {getattr(kind, '__name__', kind)}, "
                                           f"not {type(value).__name__}")
            return value

        def callable_or_none(attr: str) -> Callable | None:
            value = getattr(module, attr, None)
            if value is not None and not callable(value):
                raise CheckDefinitionError(f"{name}: {attr} must be a function")
            return value

        check_id, summary = need("ID", str), need("SUMMARY", str)
        severity = need("SEVERITY", Severity)
        applies = getattr(module, "APPLIES_TO", None)
        if applies is not None and not (isinstance(applies, set | frozenset | tuple | list)
                                        and all(isinstance(k, str) for k in applies)):
            raise CheckDefinitionError(f"{name}: APPLIES_TO must be a set of document kinds")
        per_doc, across, keep = callable_or_none("check"), callable_or_none("check_all"), callable_or_none("keep")
        if (per_doc is None) == (across is None):
            raise CheckDefinitionError(f"{name}: define exactly one of check(doc, ctx) and check_all(docs, ctx)")
        if keep is not None and across is None:
            raise CheckDefinitionError(f"{name}: keep(doc) goes with check_all(docs, ctx)")
        return cls(id=str(check_id), summary=str(summary), severity=severity,  # type: ignore[arg-type]
                   applies_to=frozenset(applies) if applies is not None else None,
                   check=per_doc, check_all=across, keep=keep, module=name)

    @property
    def across_files(self) -> bool:
        return self.check_all is not None

    def applies(self, doc: Document) -> bool:
        return self.applies_to is None or doc.kind in self.applies_to

    def wants(self, doc: Document) -> bool:
        """Whether this check across files needs ``doc`` kept parsed."""
        return self.applies(doc) and (self.keep is None or bool(self.keep(doc)))


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"ci_tools.lint.checks.{name}") for name in REGISTRY]


@functools.cache
def checks() -> tuple[Check, ...]:
    """Every registered check, read once from its module and checked for shape."""
    return tuple(Check.of(module) for module in modules())


def known_ids() -> set[str]:
    return {c.id for c in checks()} | set(ENGINE_IDS) | set(COMMAND_IDS)


def summaries() -> dict[str, str]:
    out = dict(ENGINE_IDS)
    out.update(COMMAND_IDS)
    out.update({c.id: c.summary for c in checks()})
    return out


def describe(check_id: str) -> tuple[str, str | None]:
    """A finding id's summary and its section of docs/checks.md, for the rules of SARIF output
    (:data:`ci_tools.core.output.Describe`)."""
    from ci_tools.lint.reference import section

    return summaries().get(check_id, check_id), section(check_id)
