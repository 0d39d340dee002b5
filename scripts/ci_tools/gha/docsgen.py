"""The inputs, secrets and outputs tables of actions and reusable workflows, generated into markdown.

A markdown file carries the tables between a pair of markers, each alone on its line::

    <!-- ci-tools-docs:inputs -->
    ...generated...
    <!-- /ci-tools-docs:inputs -->

The kinds are ``inputs``, ``outputs`` and, for reusable workflows, ``secrets`` and ``permissions``
(one line: what the calling job must grant, the highest level of each scope over the workflow's
top-level and job ``permissions``, as :mod:`ci_tools.gha.interface` computes it for ``ci-tools diff``). A marker without a
path belongs to the ``action.yml`` (or ``action.yaml``) beside the ``README.md`` that holds it. A
marker with a path names its file relative to the repository root, which is how a page documents
reusable workflows (``<!-- ci-tools-docs:inputs .github/workflows/terraform.yml -->``); the closing
marker may repeat the path. Markers inside fenced code blocks, or indented by four spaces or more
(an indented code block), are text, not markers.

Only the lines between the two markers are ever replaced, so the rest of the file (its line ends,
its final newline) stays byte for byte. ``ci-tools docs`` writes what :func:`regenerate` returns;
the ``docs-drift`` check compares it with the file: one code path for both.

The tables, in the YAML's order: the name as code; the description with its line breaks folded
and ``|`` and HTML escaped; the type (workflow inputs); ``yes``/``no`` for required; the default as
code (an expression default such as ``${{ github.sha }}`` too, ``""`` for an empty one, nothing
when there is none).
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ci_tools.core.markdown import code_span as code
from ci_tools.core.markdown import table_cell as escape
from ci_tools.gha.source import (
    Document,
    Node,
    ScalarNode,
    is_within,
    mapping_get,
    mapping_items,
    on_events,
    resolve_scalar,
)

KINDS = ("inputs", "secrets", "outputs", "permissions")
ACTION_KINDS = ("inputs", "outputs")
ACTION_FILES = ("action.yml", "action.yaml")
README = "README.md"
RUN = "run `ci-tools docs` to regenerate it"

_MARKER = re.compile(r"^ {0,3}<!--[ \t]*(?P<close>/?)ci-tools-docs:(?P<kind>[A-Za-z0-9_-]*)"
                     r"(?:[ \t]+(?P<path>[^ \t>]+))?[ \t]*-->[ \t]*$")
_FENCE = re.compile(r"^[ \t]{0,3}(?P<fence>`{3,}|~{3,})")


# ------------------------------------------------------------------------------ markers
@dataclass(frozen=True)
class Region:
    """One pair of markers: the generated text sits in ``text[body_start:body_end]``."""

    kind: str
    path: str | None  # as written in the opening marker; None: the action beside the README
    line: int  # 1-based line and column of the opening marker's ``<!--``
    col: int
    body_start: int
    body_end: int


@dataclass(frozen=True)
class Problem:
    """Something wrong with a markdown file's markers or what they name; 1-based position."""

    line: int
    col: int
    message: str


@dataclass
class Markdown:
    path: Path
    text: str
    newline: str
    regions: list[Region] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)


def read_markdown(path: Path) -> Markdown:
    """Read and parse a markdown file (``OSError`` and ``UnicodeDecodeError`` propagate)."""
    with open(path, encoding="utf-8", newline="") as handle:
        return parse_markdown(path, handle.read())


def parse_markdown(path: Path, text: str) -> Markdown:
    newline = "\r\n" if "\r\n" in text else "\n"
    doc = Markdown(path, text, newline)
    opened: tuple[str, str | None, int, int, int] | None = None  # kind, path, line, col, body start
    fence: str | None = None
    offset = 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        start, offset = offset, offset + len(line)
        bare = line.rstrip("\r\n")
        m = _FENCE.match(bare)
        if fence is not None:
            if m and m["fence"][0] == fence[0] and len(m["fence"]) >= len(fence) and not bare[m.end():].strip():
                fence = None
            continue
        if m:
            fence = m["fence"]
            continue
        m = _MARKER.match(bare.lstrip("\ufeff"))  # a byte order mark may precede a marker on line 1
        if m is None:
            continue
        col = bare.index("<!--") + 1
        kind, attr = m["kind"], m["path"]
        if kind not in KINDS:
            doc.problems.append(Problem(number, col, f'unknown table "{kind}" in a ci-tools-docs marker; '
                                                     f'use one of {", ".join(KINDS)}'))
            continue
        if not m["close"]:
            if opened is not None:
                doc.problems.append(Problem(opened[2], opened[3], f'marker "ci-tools-docs:{opened[0]}" is not closed '
                                                                  f'before line {number}; add '
                                                                  f'"<!-- /ci-tools-docs:{opened[0]} -->"'))
            opened = (kind, attr, number, col, offset)
            continue
        if opened is None or opened[0] != kind or (attr is not None and attr != opened[1]):
            doc.problems.append(Problem(number, col, f'closing marker "/ci-tools-docs:{kind}" has no matching '
                                                     f'opening marker; add "<!-- ci-tools-docs:{kind} -->" before it'))
            opened = None
            continue
        doc.regions.append(Region(kind, opened[1], opened[2], opened[3], opened[4], start))
        opened = None
    if opened is not None:
        doc.problems.append(Problem(opened[2], opened[3], f'marker "ci-tools-docs:{opened[0]}" is never closed; add '
                                                          f'"<!-- /ci-tools-docs:{opened[0]} -->" after it'))
    return doc


def has_markers(text: str) -> bool:
    """Cheap test before parsing: most markdown files hold no marker."""
    return "ci-tools-docs:" in text


# ------------------------------------------------------------------------------ targets
def beside_action(markdown: Path) -> Path | None:
    """The action file a ``README.md`` documents, if there is one beside it."""
    if markdown.name != README:
        return None
    for name in ACTION_FILES:
        candidate = markdown.parent / name
        if candidate.is_file():
            return candidate
    return None


def target_of(region: Region, markdown: Path, root: Path) -> Path | str:
    """The YAML file a region documents, or why there is none (a message)."""
    if region.path is None:
        action = beside_action(markdown)
        if action is None:
            return (f'marker "ci-tools-docs:{region.kind}" names no file and there is no action.yml beside '
                    f'this file; name the file, as in "<!-- ci-tools-docs:{region.kind} .github/workflows/x.yml -->"')
        return action
    rel = region.path.removeprefix("./")
    candidate = root / rel
    if os.path.isabs(rel) or not is_within(candidate, root):
        return f'"{region.path}" is outside the repository; name a file relative to the repository root'
    if not candidate.is_file():
        return f'"{region.path}" does not exist; name a file relative to the repository root'
    return candidate


def is_org_action(path: Path, root: Path) -> bool:
    """This repository's own actions (``actions/<name>/``) must have a README with their tables."""
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
    except ValueError:
        return False
    return len(rel.parts) >= 3 and rel.parts[0] == "actions" and rel.name in ACTION_FILES


def is_reusable(doc: Document) -> bool:
    return doc.kind == "workflow" and doc.root is not None and "workflow_call" in on_events(doc)


def markdown_files(root: Path, excluded: Callable[[Path], bool]) -> Iterator[Path]:
    """Every ``*.md`` of the repository that mentions a marker (``.git``, ``.venv``... skipped)."""
    from ci_tools.gha.discovery import SKIP_DIRS

    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS and not excluded(Path(dirpath) / d))
        for name in sorted(filenames):
            if not name.endswith(".md"):
                continue
            path = Path(dirpath) / name
            if excluded(path):
                continue
            try:
                with open(path, encoding="utf-8", errors="replace") as handle:
                    if has_markers(handle.read()):
                        yield path
            except OSError:
                continue


# ------------------------------------------------------------------------------ tables
def tables_of(doc: Document) -> dict[str, list[str]] | str:
    """The table lines of each kind a document offers, or why it offers none (a message)."""
    if doc.root is None:
        return f'"{doc.display}" cannot be parsed; fix it first (`ci-tools check {doc.display}`)'
    if doc.kind == "action":
        what = "action"
        inputs = _action_inputs(mapping_get(doc.root, "inputs"))
        return {"inputs": inputs or _none("inputs", what),
                "outputs": _outputs(mapping_get(doc.root, "outputs")) or _none("outputs", what)}
    if not is_reusable(doc):
        return f'"{doc.display}" is neither an action nor a reusable workflow (no "on: workflow_call")'
    call = on_events(doc)["workflow_call"]
    what = "workflow"
    return {"inputs": _workflow_inputs(mapping_get(call, "inputs")) or _none("inputs", what),
            "secrets": _secrets(mapping_get(call, "secrets")) or _none("secrets", what),
            "outputs": _outputs(mapping_get(call, "outputs")) or _none("outputs", what),
            "permissions": [_permissions(doc)]}


def _permissions(doc: Document) -> str:
    """What the calling job must grant; a job without ``permissions`` under no top-level ones gets
    whatever the caller's token has, so nothing can be said for it."""
    from ci_tools.gha.interface import extract

    iface = extract(doc)
    permissions = iface.permissions if iface is not None else {}  # None: not reusable (tables_of asks only those)
    levels = {1: "read", 2: "write"}
    granted = [f"`{scope}: {levels[level]}`" for scope, level in sorted(permissions.items()) if level]
    open_jobs = [] if mapping_get(doc.root, "permissions") is not None else [
        key.value for key, job in mapping_items(mapping_get(doc.root, "jobs")) if mapping_get(job, "permissions") is None]
    parts = [", ".join(granted)] if granted else [] if open_jobs else ["nothing (`permissions: {}`)"]
    if open_jobs:
        names = ", ".join(f"`{name}`" for name in open_jobs)
        parts.append(f"whatever the jobs that set no `permissions:` ({names}) need: they get the caller's token as is")
    return "**The caller grants:** " + "; ".join(parts)


def _none(kind: str, what: str) -> list[str]:
    return [f"This {what} has no {kind}."]


def _action_inputs(node: Node | None) -> list[str]:
    rows = []
    for key, spec in mapping_items(node):
        description = _description(spec)
        deprecated = _text(mapping_get(spec, "deprecationMessage"))
        if deprecated:
            description = f"{description} **Deprecated:** {escape(deprecated)}".strip()
        rows.append([code(key.value), description, _required(spec), _default(spec)])
    return _table(["Input", "Description", "Required", "Default"], rows)


def _workflow_inputs(node: Node | None) -> list[str]:
    rows = [[code(key.value), _description(spec), escape(_text(mapping_get(spec, "type")) or ""), _required(spec),
             _default(spec)] for key, spec in mapping_items(node)]
    return _table(["Input", "Description", "Type", "Required", "Default"], rows)


def _secrets(node: Node | None) -> list[str]:
    rows = [[code(key.value), _description(spec), _required(spec)] for key, spec in mapping_items(node)]
    return _table(["Secret", "Description", "Required"], rows)


def _outputs(node: Node | None) -> list[str]:
    rows = [[code(key.value), _description(spec)] for key, spec in mapping_items(node)]
    return _table(["Output", "Description"], rows)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return []
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell for cell in row) + " |" for row in rows]
    return [line.replace("|  |", "| |") for line in lines]


def _text(node: Node | None) -> str | None:
    """A scalar's text as written (after unquoting); None for null, absent or non-scalar values."""
    if not isinstance(node, ScalarNode) or resolve_scalar(node) is None:
        return None
    return node.value


def _description(spec: Node) -> str:
    return escape(_text(mapping_get(spec, "description")) or "")


def _required(spec: Node) -> str:
    node = mapping_get(spec, "required")
    value = resolve_scalar(node) if isinstance(node, ScalarNode) else None
    return "yes" if value is True or (isinstance(value, str) and value.strip().lower() == "true") else "no"


def _default(spec: Node) -> str:
    text = _text(mapping_get(spec, "default"))
    if text is None:
        return ""
    if text == "":
        return code('""')
    return "<br>".join(code(line) for line in text.rstrip("\r\n").splitlines())


# ------------------------------------------------------------------------------ regeneration
@dataclass
class Result:
    """What a markdown file should be, the regions that differ from it and the problems found."""

    markdown: Markdown
    text: str
    drifted: list[Region] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    targets: dict[Region, Path] = field(default_factory=dict)

    @property
    def changed(self) -> bool:
        return self.text != self.markdown.text


def body(lines: list[str], newline: str) -> str:
    """The text between two markers: a blank line, the table, a blank line (so any renderer sees a table)."""
    return newline + "".join(line + newline for line in lines) + newline


def regenerate(markdown: Markdown, root: Path, load: Callable[[Path], Document]) -> Result:
    """The file with every region regenerated; regions whose target has a problem stay as they are."""
    result = Result(markdown, markdown.text, problems=list(markdown.problems))
    cache: dict[Path, dict[str, list[str]] | str] = {}
    pieces: list[str] = []
    last = 0
    for region in markdown.regions:
        target = target_of(region, markdown.path, root)
        if isinstance(target, str):
            result.problems.append(Problem(region.line, region.col, target))
            continue
        key = Path(os.path.realpath(target))
        if key not in cache:
            cache[key] = tables_of(load(target))
        tables = cache[key]
        if isinstance(tables, str):
            result.problems.append(Problem(region.line, region.col, tables))
            continue
        if region.kind not in tables:
            result.problems.append(Problem(region.line, region.col,
                                           f'an action has no {region.kind}; remove the '
                                           f'"ci-tools-docs:{region.kind}" markers'))
            continue
        result.targets[region] = target
        wanted = body(tables[region.kind], markdown.newline)
        if markdown.text[region.body_start:region.body_end] != wanted:
            result.drifted.append(region)
            pieces.append(markdown.text[last:region.body_start])
            pieces.append(wanted)
            last = region.body_end
    pieces.append(markdown.text[last:])
    result.text = "".join(pieces)
    return result


def missing_kinds(markdown: Markdown | None, action: Path, root: Path) -> list[str]:
    """The kinds of an action's tables its README lacks markers for (all of them without README)."""
    if markdown is None:
        return list(ACTION_KINDS)
    present = set()
    for region in markdown.regions:
        target = target_of(region, markdown.path, root)
        if isinstance(target, Path) and os.path.realpath(target) == os.path.realpath(action):
            present.add(region.kind)
    return [kind for kind in ACTION_KINDS if kind not in present]


def action_readme_problem(action: Path, root: Path, display: str) -> str | None:
    """Why this repository's action ``action`` lacks its generated tables, or None when it has them."""
    if not is_org_action(action, root):
        return None
    readme = action.parent / README
    if not readme.is_file():
        return (f'"{display}" has no README.md beside it; create one with "<!-- ci-tools-docs:inputs -->" and '
                f'"<!-- ci-tools-docs:outputs -->" markers (each followed by its closing marker) and run '
                "`ci-tools docs`")
    try:
        markdown = read_markdown(readme)
    except (OSError, UnicodeDecodeError) as exc:
        return f'cannot read the README.md beside "{display}": {getattr(exc, "strerror", None) or exc}'
    missing = missing_kinds(markdown, action, root)
    if missing:
        names = " and ".join(f'"<!-- ci-tools-docs:{kind} -->"' for kind in missing)
        how = "them, each followed by its closing marker," if len(missing) > 1 else "it, followed by its closing marker,"
        return (f'the README.md beside "{display}" has no {names} marker{"s" * (len(missing) > 1)}; add {how} '
                "and run `ci-tools docs`")
    return None


def drift_message(region: Region, target_display: str) -> str:
    what = "line" if region.kind == "permissions" else "table"
    return f'the {region.kind} {what} of "{target_display}" differs from its YAML; {RUN}'


def workflow_targets(markdowns: list[Markdown], root: Path) -> dict[str, Path]:
    """Reusable workflows (``.github/workflows/``) named by a marker: realpath -> the first markdown naming it."""
    found: dict[str, Path] = {}
    workflows = os.path.realpath(root / ".github" / "workflows")
    for markdown in markdowns:
        for region in markdown.regions:
            if region.path is None:
                continue
            target = target_of(region, markdown.path, root)
            if isinstance(target, Path) and os.path.dirname(os.path.realpath(target)) == workflows:
                found.setdefault(os.path.realpath(target), markdown.path)
    return found


def undocumented_message(rel: str, example: str) -> str:
    """A reusable workflow no marker names, in a repository that documents its others (in ``example``)."""
    return (f'reusable workflow "{rel}" is documented nowhere, unlike the others ("{example}"); add a section with '
            f'"<!-- ci-tools-docs:inputs {rel} -->" markers (and secrets, outputs, permissions) and run '
            "`ci-tools docs`")
