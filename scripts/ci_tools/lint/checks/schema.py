"""`schema`: files validate against GitHub's schemas and the organisation's own.

Workflows and starter templates against SchemaStore's workflow schema, actions against its action
schema plus the organisation's conventions (``org-action.schema.json``), Dependabot files against
Dependabot's, ``workflow-templates/*.properties.json``, ``.pre-commit-config.yaml`` and zizmor's
configuration against ours. Each error points at the
offending key or value.
"""

from __future__ import annotations

from collections.abc import Iterator

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha import jsonschema as schemas
from ci_tools.gha.source import Document, node_at_path

ID = "schema"
SUMMARY = "files validate against GitHub's schemas and the organisation's own"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action", "dependabot", "properties", "pre-commit", "zizmor"}

_NAMES = {
    "workflow": ("workflow",),
    "template": ("workflow",),
    "action": ("action", "org-action"),
    "dependabot": ("dependabot",),
    "properties": ("template-properties",),
    "pre-commit": ("pre-commit",),
    "zizmor": ("zizmor",),
}
_LABEL = {"org-action": "organisation convention: "}


def check(doc: Document, ctx) -> Iterator[Finding]:
    data = doc.data
    errors: list[tuple[str, schemas.SchemaError]] = []
    for name in _NAMES.get(doc.kind, ()):
        if name == "org-action" and not _is_org_action(doc, ctx):
            continue
        errors.extend((name, error) for error in schemas.validate(name, data))
    own_paths = {error.path for name, error in errors if name in _LABEL}
    seen: set[tuple] = set()
    for name, error in errors:
        if name not in _LABEL and error.path in own_paths:
            continue  # the organisation's precise message replaces GitHub's vaguer one at that place
        key = (error.path, error.message)
        if key not in seen:
            seen.add(key)
            yield _finding(doc, error, _LABEL.get(name, ""))
    if doc.kind in ("template", "properties"):
        yield from _template_pair(doc)


def _is_org_action(doc: Document, ctx) -> bool:
    """The conventions apply to this repository's actions (under actions/), not to vendored ones."""
    try:
        rel = doc.path.resolve().relative_to(ctx.root)
    except ValueError:
        return False
    return rel.parts[:1] == ("actions",)


def _finding(doc: Document, error: schemas.SchemaError, label: str) -> Finding:
    path = list(error.path)
    where = None
    if doc.root is not None:
        node = node_at_path(doc.root, path, want_key=error.key is not None)
        where = doc.location(node) if node is not None else None
    elif doc.json_data is not None:
        where = _json_location(doc, path)
    dotted = ".".join(str(p) for p in (path[:-1] if error.key else path))
    context = f' at "{dotted}"' if dotted else ""
    return doc.finding(ID, f"{label}{error.message}{context}", where)


def _json_location(doc: Document, path: list):
    """Position of the deepest key of ``path`` in a JSON document's text (keys searched in order)."""
    import json
    import re

    offset, found = 0, None
    for part in path:
        if not isinstance(part, str):
            continue
        m = re.compile(re.escape(json.dumps(part)) + r"\s*:").search(doc.text, offset)
        if not m:
            break
        found, offset = m, m.end()
    if found is None:
        return None
    return doc.span(found.start(), found.start() + len(json.dumps(path[-1])) if isinstance(path[-1], str)
                    else found.end())


def _template_pair(doc: Document) -> Iterator[Finding]:
    if doc.kind == "template":
        partner = doc.path.with_name(doc.path.name.rsplit(".", 1)[0] + ".properties.json")
        if not partner.exists():
            yield doc.finding(ID, f'starter workflow has no "{partner.name}" beside it; add one with name, '
                                  "description, iconName and categories")
    else:
        stem = doc.path.name[: -len(".properties.json")]
        if not any((doc.path.parent / f"{stem}{ext}").exists() for ext in (".yml", ".yaml")):
            yield doc.finding(ID, f'properties file has no "{stem}.yml" beside it; remove it or add the template')


