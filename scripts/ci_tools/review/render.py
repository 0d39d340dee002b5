"""Renderers of the dependency inventory (``ci-tools report``): markdown with a Mermaid graph, JSON,
SARIF and text, behind one mapping like the findings reporters."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TextIO

from ci_tools import __version__
from ci_tools.core.findings import Finding
from ci_tools.core.markdown import table_cell
from ci_tools.review.inventory import IMAGE, Dependency, Inventory

if TYPE_CHECKING:
    from ci_tools.core.output import Describe

VERSION = 1


def _finding(f: Finding) -> dict:
    loc = f.location
    return {"check": f.check, "severity": str(f.severity), "message": f.message, "path": loc.path,
            "line": loc.line, "col": loc.col}


def _dep(dep: Dependency) -> dict:
    out: dict[str, object] = {"kind": dep.kind, "name": dep.name, "repository": dep.repository, "ref": dep.ref, "sha": dep.sha,
           "version": dep.version, "party": dep.party,
           "uses": [{"path": u.path, "line": u.line, "col": u.col, "job": u.job} for u in dep.uses]}
    if dep.status is not None or dep.published_at is not None:
        out.update({"published_at": dep.published_at, "age_days": dep.age_days,
                    "newest_in_major": dep.newest_in_major, "status": dep.status, "immutable": dep.immutable})
    return out


def _sorted(inv: Inventory) -> list[Dependency]:
    return sorted(inv.dependencies, key=lambda d: (d.kind == IMAGE, not d.first_party, d.name.lower(), d.ref))


def render_json(inv: Inventory, out: TextIO) -> None:
    """One dependency, edge or finding a line: readable, and written by the C encoder (``indent=``
    would use the slow pure-Python one)."""

    def items(values: list) -> str:
        if not values:
            return "[]"
        return "[\n" + ",\n".join("    " + json.dumps(v, ensure_ascii=False) for v in values) + "\n  ]"

    edges = sorted([a, b] for a, bs in inv.edges.items() for b in bs)
    transitive = sorted([a, b] for a, bs in inv.transitive.items() for b in bs)
    out.write(f'{{\n  "version": {VERSION},\n  "generated_at": {json.dumps(inv.generated_at)},\n'
              f'  "online": {json.dumps(inv.online)},\n'
              f'  "skipped": {json.dumps(inv.skipped)},\n'
              f'  "dependencies": {items([_dep(d) for d in _sorted(inv)])},\n'
              f'  "graph": {{"edges": {items(edges)}, "transitive": {items(transitive)}}},\n'
              f'  "findings": {items([_finding(f) for f in inv.findings])}\n}}\n')


def render_text(inv: Inventory, out: TextIO) -> None:
    for dep in _sorted(inv):
        extra = ""
        if inv.online:
            extra = f" [{dep.status or '?'}" + (f", published {dep.published_at[:10]}" if dep.published_at else "") \
                + (f", newest in major {dep.newest_in_major}" if dep.newest_in_major else "") \
                + {True: ", immutable release", False: ", release not immutable", None: ""}[dep.immutable] + "]"
        version = f" ({dep.version})" if dep.version and dep.version != dep.ref else ""
        out.write(f"{dep.label}{version} {dep.kind} {dep.party}{extra}\n")
        for use in dep.uses:
            out.write(f"  {use.path}:{use.line}\n")
    for f in inv.findings:
        out.write(f"{f.location.path}:{f.location.line}:{f.location.col}: {f.message} [{f.check}]\n")


def _short(sha: str | None) -> str:
    if not sha:
        return "not pinned"
    return f"`{sha[:12]}`" if len(sha) == 40 or len(sha) == 64 else f"`{sha[:19]}`"


def render_markdown(inv: Inventory, out: TextIO) -> None:
    deps = _sorted(inv)
    actions = [d for d in deps if d.kind != IMAGE]
    images = [d for d in deps if d.kind == IMAGE]
    files = sorted({u.path for d in deps for u in d.uses})
    third = sum(1 for d in actions if not d.first_party)
    out.write("# Dependency report\n\n")
    out.write(f"{len(actions)} actions and reusable workflows ({third} third-party, {len(actions) - third} "
              f"first-party) and {len(images)} container images, used in {len(files)} files. ")
    out.write(("Online facts as of " + (inv.generated_at or "") + ".\n\n") if inv.online
              else "Offline: run `ci-tools report --online` for release dates, newest releases, verification and "
                   "the actions they use in turn.\n\n")
    out.write("## Actions and reusable workflows\n\n")
    if actions:
        head = ["Dependency", "Kind", "Party", "Commit", "Version"]
        if inv.online:
            head += ["Published", "Age (days)", "Newest in major", "Status", "Immutable"]
        head.append("Used at")
        out.write("| " + " | ".join(head) + " |\n|" + "---|" * len(head) + "\n")
        for d in actions:
            row = [f"`{d.name}`", d.kind, d.party, _short(d.sha), table_cell(d.version)]
            if inv.online:
                row += [(d.published_at or "")[:10], "" if d.age_days is None else str(d.age_days),
                        table_cell(d.newest_in_major), table_cell(d.status), {True: "yes", False: "no", None: ""}[d.immutable]]
            row.append("<br>".join(f"`{u}`" for u in d.uses))
            out.write("| " + " | ".join(row) + " |\n")
    else:
        out.write("None.\n")
    out.write("\n## Container images\n\n")
    if images:
        out.write("| Image | Tag | Digest | Used at |\n|---|---|---|---|\n")
        for d in images:
            out.write(f"| `{d.name}` | {table_cell(d.ref)} | {_short(d.sha)} | "
                      + "<br>".join(f"`{u}`" for u in d.uses) + " |\n")
    else:
        out.write("None.\n")
    out.write("\n## Findings\n\n")
    for what in inv.skipped:
        out.write(f"> Skipped: {table_cell(what)}\n\n")
    if inv.findings:
        for f in inv.findings:
            out.write(f"- `{f.location.path}:{f.location.line}` {f.severity}: {table_cell(f.message)} "
                      f"[`{f.check}`]\n")
    else:
        out.write("None.\n")
    out.write("\n## Graph\n\nWorkflows → actions → the actions they use in turn"
              + (" (dashed: read from each pinned action's own files)" if inv.online else "") + ".\n\n")
    out.write(mermaid(inv))


def _label(node: str, inv: Inventory) -> str:
    kind, _, name = node.partition(":")
    if kind == "local":
        # as the files reach it: "$/" only where nothing reaches it with "./" (this repository's
        # own workflows call their actions with "$/"; a service repository's with "./")
        return f"$/{name}" if inv.reached_as.get(node) == {"$/"} else f"./{name}"
    if kind == "expr":
        return "(expression)"
    return name


def mermaid(inv: Inventory) -> str:
    ids: dict[str, str] = {}

    def node(name: str) -> str:
        if name not in ids:
            ids[name] = f"n{len(ids)}"
        return ids[name]

    lines = ["```mermaid", "flowchart LR"]
    edges = sorted((a, b) for a, bs in inv.edges.items() for b in bs)
    transitive = sorted((a, b) for a, bs in inv.transitive.items() for b in bs if (a, b) not in set(edges))
    for a, b in edges + transitive:
        node(a)
        node(b)
    for name, ident in sorted(ids.items(), key=lambda kv: int(kv[1][1:])):
        label = _label(name, inv).replace('"', "'")
        shape = f'["{label}"]' if name.startswith("file:") else f'("{label}")'
        lines.append(f"  {ident}{shape}")
    for a, b in edges:
        lines.append(f"  {ids[a]} --> {ids[b]}")
    for a, b in transitive:
        lines.append(f"  {ids[a]} -.-> {ids[b]}")
    lines.append("```")
    return "\n".join(lines) + "\n"


# what a dependency's risk is, from the findings at its uses and its --online status
_ERROR_IDS = {"known-compromised", "impostor-commit"}
_WARNING_STATUSES = {"unpinned", "tag-moved", "stale-comment", "untagged-commit", "no-version-comment", "not-found",
                     "unresolved-ref", "ref-confusion", "tag-object", "untagged-pin", "unpinned-uses"}


def risk_level(dep: Dependency, inv: Inventory) -> str:
    """The SARIF level of a dependency: ``error`` for a version known to be compromised (or an
    impostor commit), ``warning`` for one that is not pinned (or whose pin ``--online`` could not
    verify), ``note`` for a verified or pinned one."""
    uses = {(u.path, u.line) for u in dep.uses}
    found = {f.check for f in inv.findings if (f.location.path, f.location.line) in uses}
    status = set((dep.status or "").split(", ")) - {""}
    if (found | status) & _ERROR_IDS:
        return "error"
    if not dep.sha or status & _WARNING_STATUSES:
        return "warning"
    return "note"


def render_sarif(inv: Inventory, out: TextIO, describe: Describe | None = None) -> None:
    """``describe``: the text of the findings' rules (see :data:`ci_tools.core.output.Describe`)."""
    from ci_tools.core.output.sarif import SCHEMA, rules_for

    check_ids = sorted({f.check for f in inv.findings})
    rules = [{"id": "dependency", "name": "Dependency",
              "shortDescription": {"text": "an external action, reusable workflow or image used here"},
              "fullDescription": {"text": "an external action, reusable workflow or image used here"},
              "help": {"text": "An entry of `ci-tools report`: review its pin and version."},
              "properties": {"tags": ["inventory"]}}] + rules_for(check_ids, describe)
    index = {r["id"]: i for i, r in enumerate(rules)}
    levels = {"error": "error", "warning": "warning", "note": "note"}
    results = []
    for dep in _sorted(inv):
        level = risk_level(dep, inv)
        for use in dep.uses:
            text = f"{dep.label} ({dep.version or 'no version'}), {dep.kind}, {dep.party}" + (
                f", status {dep.status}" if dep.status else "") + (", not pinned" if not dep.sha else "")
            results.append({"ruleId": "dependency", "ruleIndex": 0, "level": level, "message": {"text": text},
                            "locations": [{"physicalLocation": {
                                "artifactLocation": {"uri": use.path, "uriBaseId": "%SRCROOT%"},
                                "region": {"startLine": use.line, "startColumn": use.col}}}],
                            "properties": _dep(dep)})
    for f in inv.findings:
        loc = f.location
        results.append({"ruleId": f.check, "ruleIndex": index[f.check], "level": levels[str(f.severity)],
                        "message": {"text": f.message},
                        "locations": [{"physicalLocation": {
                            "artifactLocation": {"uri": loc.path, "uriBaseId": "%SRCROOT%"},
                            "region": {"startLine": loc.line, "startColumn": loc.col}}}]})
    json.dump({"$schema": SCHEMA, "version": "2.1.0", "runs": [{
        "tool": {"driver": {"name": "ci-tools report", "version": __version__,
                            "informationUri": "https://github.com/org/ci", "rules": rules}},
        "results": results}]}, out, indent=2)
    out.write("\n")


RENDERERS = {"markdown": render_markdown, "json": render_json, "sarif": render_sarif, "text": render_text}
