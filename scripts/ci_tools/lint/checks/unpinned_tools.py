"""`unpinned-tools`: setup actions install a fixed version of their tool, not the latest.

Pinning an action to a commit does not pin what it downloads. A setup action told to install
``latest`` (or left to its default, when that default is the latest release) fetches whatever was
published last, from the tool's own release page, in every run: a compromised release, or one that
simply breaks, reaches the job the moment it is published, and two runs of the same commit can use
different tools. Reported, at the version input or at ``uses:`` when it is missing, for the
actions of the table below.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import Document, iter_uses, mapping_get, mapping_items, scalar_text
from ci_tools.gha.uses import REMOTE, parse_uses

ID = "unpinned-tools"
SUMMARY = "setup actions install a fixed version of their tool, not the latest"
SEVERITY = Severity.WARNING
APPLIES_TO = {"workflow", "template", "action"}

# action -> (version input, its default is the latest release, values that mean "the latest")
TOOLS: dict[str, tuple[str, bool, frozenset[str]]] = {
    "hashicorp/setup-terraform": ("terraform_version", True, frozenset({"latest"})),
    "opentofu/setup-opentofu": ("tofu_version", True, frozenset({"latest"})),
    "azure/setup-helm": ("version", True, frozenset({"latest"})),
    "azure/setup-kubectl": ("version", True, frozenset({"latest"})),
    "aquasecurity/setup-trivy": ("version", True, frozenset({"latest"})),
    "1password/load-secrets-action": ("version", True, frozenset({"latest"})),
    "actions/setup-node": ("node-version", False, frozenset({"latest", "current", "node"})),
    "actions/setup-go": ("go-version", False, frozenset({"stable", "oldstable"})),
    "astral-sh/setup-uv": ("version", False, frozenset({"latest"})),
    "pnpm/action-setup": ("version", False, frozenset({"latest"})),
    "golangci/golangci-lint-action": ("version", False, frozenset({"latest"})),
    "sigstore/cosign-installer": ("cosign-release", False, frozenset({"latest"})),
}


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None:
        return
    for site in iter_uses(doc):
        if site.step is None or site.value.split("@", 1)[0].lower() not in TOOLS:
            continue  # the cheap test first: few steps use one of these actions
        step, uses_node, ref = site.step, site.node, parse_uses(site.value)
        spec = TOOLS.get(ref.action.lower()) if ref.kind == REMOTE else None
        if spec is None:
            continue
        name, latest_by_default, moving = spec
        value = next((v for k, v in mapping_items(mapping_get(step.node, "with")) if k.value.lower() == name), None)
        if value is None:
            if latest_by_default:
                yield doc.finding(ID, f'"{ref.action}" without "{name}:" installs the latest release of its tool in '
                                      f'every run; set "{name}:" to the version you tested', uses_node, SEVERITY)
            continue
        text = (scalar_text(value) or "").strip()
        if text.lower() in moving:
            yield doc.finding(ID, f'"{name}: {text}" makes "{ref.action}" install whatever release is newest in every '
                                  f'run; set "{name}:" to the version you tested', value, SEVERITY)
