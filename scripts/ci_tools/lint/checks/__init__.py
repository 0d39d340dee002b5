"""The check registry.

Each check is one module exporting:

- ``ID``: the check id used in output, configuration and ``# ci-tools: ignore[ID]``;
- ``SUMMARY``: one line;
- ``SEVERITY``: the default :class:`~ci_tools.core.findings.Severity`;
- ``APPLIES_TO``: the document kinds it reads (``workflow``, ``template``, ``action``, ...);
- ``check(doc, ctx) -> Iterator[Finding]``; a check across files may instead export
  ``check_all(docs, ctx) -> Iterator[Finding]``.

The registry below is explicit; ``tests/lint/test_registry.py`` asserts it equals the modules in this
package, the sections of ``docs/checks.md`` and the fixture folders.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

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


def modules() -> list[ModuleType]:
    return [importlib.import_module(f"ci_tools.lint.checks.{name}") for name in REGISTRY]


def known_ids() -> set[str]:
    return {m.ID for m in modules()} | set(ENGINE_IDS) | set(COMMAND_IDS)


def summaries() -> dict[str, str]:
    out = dict(ENGINE_IDS)
    out.update(COMMAND_IDS)
    out.update({m.ID: m.SUMMARY for m in modules()})
    return out


def describe(check_id: str) -> tuple[str, str | None]:
    """A finding id's summary and its section of docs/checks.md, for the rules of SARIF output
    (:data:`ci_tools.core.output.Describe`)."""
    from ci_tools.lint.reference import section

    return summaries().get(check_id, check_id), section(check_id)
