"""The one module that touches PyYAML.

It reads a file defensively (size cap, UTF-8, BOM, CRLF, symlinks), composes YAML nodes with the C
loader, keeps the original text and positions, and offers the traversal helpers every check and
command uses (:func:`iter_jobs`, :func:`iter_steps`, :func:`iter_uses`, :func:`iter_images`).

Nothing is ever constructed with ``yaml.safe_load``: YAML 1.1 would turn the ``on:`` key into
``True`` and let duplicate keys silently win. Values are resolved with YAML 1.2's core schema, which
is what GitHub's parser does.
"""

from __future__ import annotations

import errno
import itertools
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from ci_tools.core.findings import Finding, Location, Severity

try:  # the C loader is much faster; PyYAML built without libyaml falls back to Python
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on the PyYAML build
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]  # the fallback of the same role

_STR_TAG = "tag:yaml.org,2002:str"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MAP_TAG = "tag:yaml.org,2002:map"


class _Loader(_BaseLoader):
    """Composes nodes only. Scalars are resolved later with YAML 1.2 rules (:func:`resolve_scalar`),
    so PyYAML's YAML 1.1 implicit resolver (slow, and wrong for ``on:``/``yes``) is bypassed."""

    def resolve(self, kind, value, implicit):  # noqa: D102 - PyYAML hook
        if kind is ScalarNode:
            return _MERGE_TAG if value == "<<" and implicit[0] else _STR_TAG
        return _SEQ_TAG if kind is SequenceNode else _MAP_TAG


class _RedefiningLoader(yaml.SafeLoader):
    """The pure-Python composer, for the rare file that defines an anchor twice.

    YAML allows redefining an anchor (an alias refers to the latest definition) and GitHub accepts
    such a file, but PyYAML's composers, the C one included, stop with "found duplicate anchor".
    This composer forgets the earlier definition when a new one comes; everything else is PyYAML's.
    """

    resolve = _Loader.resolve

    def compose_node(self, parent, index):  # noqa: D102 - PyYAML hook
        event = self.peek_event()
        anchor = getattr(event, "anchor", None)
        if anchor is not None and not isinstance(event, yaml.AliasEvent):
            self.anchors.pop(anchor, None)
        return super().compose_node(parent, index)


__all__ = [
    "Document",
    "MappingNode",
    "Node",
    "ScalarNode",
    "SequenceNode",
    "Step",
    "UsesSite",
    "ImageSite",
    "load",
    "load_text",
    "iter_jobs",
    "iter_steps",
    "iter_uses",
    "iter_images",
    "mapping_get",
    "mapping_items",
    "scalar_text",
]

MAX_FILE_BYTES = 2 * 1024 * 1024
"""Files larger than this are reported, not parsed: no workflow needs two megabytes."""

MAX_EXPANDED_NODES = 200_000
"""Cap on the node count after alias expansion (the "billion laughs" defence)."""

_LINE_BREAK = re.compile("\r\n|[\r\n\x85\u2028\u2029]")
_BOM = "\ufeff"

_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_NULL = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)\Z")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOAT = {".inf": float("inf"), "+.inf": float("inf"), "-.inf": float("-inf"), ".nan": float("nan")}

KIND_WORKFLOW = "workflow"
KIND_ACTION = "action"
KIND_TEMPLATE = "template"
KIND_DEPENDABOT = "dependabot"
KIND_PROPERTIES = "properties"
KIND_PRE_COMMIT = "pre-commit"
KIND_ZIZMOR = "zizmor"
KIND_OTHER = "other"

NOT_CHECKED = ("not a workflow or action (nor a Dependabot, pre-commit or zizmor configuration), so it was not "
               "checked; name only the files to check, or exclude this one")


@dataclass
class Document:
    """One file: its text, its YAML (or JSON) tree and its positions."""

    path: Path
    display: str
    kind: str
    text: str
    bom: bool = False
    newline: str = "\n"
    root: Node | None = None
    json_data: Any = None
    findings: list[Finding] = field(default_factory=list)
    _line_starts: list[int] | None = None
    _plain: Any = None
    _lines: list[str] | None = None
    _walks: tuple | None = None  # (root, {traversal name: results}) cached per tree
    _lower: str | None = None

    @property
    def lower_text(self) -> str:
        """The text in lower case, made once: the checks' quick "could this file hold it" tests."""
        if self._lower is None:
            self._lower = self.text.lower()
        return self._lower

    # ----------------------------------------------------------------- positions
    @property
    def line_starts(self) -> list[int]:
        if self._line_starts is None:
            text = self.text
            if any(c in text for c in "\v\f\x1c\x1d\x1e"):  # breaks for str.splitlines, not for YAML
                starts = [0]
                starts.extend(m.end() for m in _LINE_BREAK.finditer(text))
            else:
                chunks = text.splitlines(keepends=True)
                starts = [0, *itertools.accumulate(map(len, chunks))]
                if chunks and not chunks[-1].endswith(("\n", "\r", "\x85", "\u2028", "\u2029")):
                    starts.pop()
            self._line_starts = starts
        return self._line_starts

    def offset(self, line: int, col: int) -> int:
        """Character offset of a 1-based line and column."""
        starts = self.line_starts
        line = max(1, min(line, len(starts)))
        return min(starts[line - 1] + col - 1, len(self.text))

    def position(self, offset: int) -> tuple[int, int]:
        """1-based line and column of a character offset."""
        import bisect

        idx = bisect.bisect_right(self.line_starts, offset) - 1
        return idx + 1, offset - self.line_starts[idx] + 1

    def line_text(self, line: int) -> str:
        """The text of a 1-based line without its line break."""
        if self._lines is None:
            self._lines = _LINE_BREAK.split(self.text)
        if 1 <= line <= len(self._lines):
            return self._lines[line - 1]
        return ""

    def location(self, node: Node) -> Location:
        return location_of(self, node)

    def span(self, start: int, end: int) -> Location:
        """Location of a character span of the text."""
        line, col = self.position(start)
        end_line, end_col = self.position(max(start, end))
        return Location(self.display, line, col, end_line, end_col, start, end)

    def finding(self, check: str, message: str, node_or_loc: Node | Location | None = None,
                severity: Severity = Severity.ERROR, fixes: tuple = ()) -> Finding:
        if node_or_loc is None:
            loc = Location(self.display, 1, 1)
        elif isinstance(node_or_loc, Location):
            loc = node_or_loc
        else:
            loc = self.location(node_or_loc)
        return Finding(check, severity, message, loc, fixes)

    # ------------------------------------------------------------------- values
    @property
    def data(self) -> Any:
        """The plain value (dicts, lists, scalars) with YAML 1.2 resolution; None when unparsed."""
        if self._plain is None:
            if self.json_data is not None:
                self._plain = self.json_data
            elif self.root is not None:
                self._plain = to_plain(self.root)
        return self._plain

    def release_plain(self) -> None:
        """Drop the cached plain-value copy (it is rebuilt on demand)."""
        if self.json_data is None:
            self._plain = None

    def release_tree(self) -> None:
        """Drop the node tree once no check needs it (the text stays for reports)."""
        self.root = None
        self._plain = None
        self._walks = None

    def comment_after(self, node: Node) -> str | None:
        """The comment text (without ``#``) that follows ``node`` on its last line, if any."""
        line = self.line_text(node.end_mark.line + 1)
        rest = line[node.end_mark.column :]
        m = re.search(r"(?:^|\s)#(.*)$", rest)
        return m.group(1).strip() if m else None

    def comment_span_after(self, node: Node) -> tuple[int, int] | None:
        """Character span of the comment (``#`` included) that follows ``node`` on its line."""
        line_no = node.end_mark.line + 1
        line = self.line_text(line_no)
        rest = line[node.end_mark.column :]
        m = re.search(r"(?:^|\s)(#.*)$", rest)
        if not m:
            return None
        start = self.line_starts[line_no - 1] + node.end_mark.column + m.start(1)
        return start, start + len(m.group(1))

    @property
    def is_action(self) -> bool:
        return self.kind == KIND_ACTION


def location_of(doc: Document, node: Node) -> Location:
    """The single place where PyYAML's 0-based marks become 1-based positions."""
    start, end = node.start_mark, node.end_mark
    start_offset = doc.offset(start.line + 1, start.column + 1)
    end_offset = doc.offset(end.line + 1, end.column + 1)
    return Location(doc.display, start.line + 1, start.column + 1, end.line + 1, end.column + 1,
                    start_offset, end_offset)


# ----------------------------------------------------------------------- loading
def classify(path: Path, text: str | None = None) -> str:
    """The kind of a file: by its place and name first, then, for a YAML file anywhere else, by its
    top-level keys (``text``, or the file's first 256 KB): ``on:``/``jobs:`` make a workflow,
    ``runs:`` an action, ``version:`` with ``updates:`` a Dependabot configuration, ``repos:`` a
    pre-commit configuration. Anything else is :data:`KIND_OTHER` and is not checked.
    """
    name = path.name
    parts = path.parts
    if name.endswith(".properties.json"):
        return KIND_PROPERTIES
    if name in ("action.yml", "action.yaml"):
        return KIND_ACTION
    if len(parts) >= 2 and parts[-2] == "workflow-templates" and path.suffix in (".yml", ".yaml"):
        return KIND_TEMPLATE
    if len(parts) >= 3 and parts[-2] == "workflows" and parts[-3] == ".github":
        return KIND_WORKFLOW
    if name in ("dependabot.yml", "dependabot.yaml") and len(parts) >= 2 and parts[-2] == ".github":
        return KIND_DEPENDABOT
    if name in (".pre-commit-config.yaml", ".pre-commit-config.yml"):
        return KIND_PRE_COMMIT
    if name in ("zizmor.yml", "zizmor.yaml", ".zizmor.yml", ".zizmor.yaml"):
        return KIND_ZIZMOR
    if path.suffix not in (".yml", ".yaml"):
        return KIND_OTHER
    if text is None:
        key = os.path.abspath(path)
        kind = _SNIFFED.get(key)
        if kind is None:
            try:
                with open(path, "rb") as handle:
                    head = handle.read(16 * 1024)
                    kind = _sniff(head.decode("utf-8", errors="replace"), name)
                    if kind == KIND_OTHER and len(head) == 16 * 1024:  # a long file: look further
                        head += handle.read(240 * 1024)
                        kind = _sniff(head.decode("utf-8", errors="replace"), name)
            except OSError:
                return KIND_WORKFLOW  # unreadable: load() reports why, as for a workflow
            _SNIFFED[key] = kind
        return kind
    return _sniff(text, name)


_SNIFFED: dict[str, str] = {}
_TOP_KEY = re.compile(r"""^(?:"(?P<dq>[^"\n]+)"|'(?P<sq>[^'\n]+)'|(?P<plain>[A-Za-z_][\w-]*))[ \t]*:(?:[ \t]|$)""",
                      re.M)


def _sniff(text: str, name: str) -> str:
    keys = set()
    for m in _TOP_KEY.finditer(text.lstrip(_BOM)):
        key = m["dq"] or m["sq"] or m["plain"]
        if key in ("on", "jobs", "true"):
            return KIND_WORKFLOW
        if key == "runs":
            return KIND_ACTION
        keys.add(key)
    if {"version", "updates"} <= keys or name in ("dependabot.yml", "dependabot.yaml"):
        return KIND_DEPENDABOT
    if "repos" in keys:
        return KIND_PRE_COMMIT
    return KIND_OTHER


def display_path(path: Path, cwd: Path | None = None) -> str:
    """POSIX path relative to the working directory where possible (symbolic links not followed)."""
    cwd = cwd or Path.cwd()
    absolute = os.path.abspath(path)
    try:
        return Path(absolute).relative_to(os.path.abspath(cwd)).as_posix()
    except ValueError:
        return Path(absolute).as_posix() if path.is_absolute() else path.as_posix()


def load(path: Path, *, root: Path | None = None, display: str | None = None,
         kind: str | None = None) -> Document:
    """Read and parse one file. Problems become ``syntax`` findings on the document, never raise."""
    display = display or display_path(path)
    classified = kind is None
    kind = kind or classify(path)
    doc = Document(path=path, display=display, kind=kind, text="")
    if classified and kind == KIND_OTHER:  # a caller that names the kind (a lock file) still gets it parsed
        doc.findings.append(doc.finding("syntax", NOT_CHECKED, severity=Severity.WARNING))
        return doc
    try:
        if path.is_symlink() and root is not None:
            try:
                target = path.resolve(strict=True)
            except (RuntimeError, OSError) as exc:
                loop = isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP
                doc.findings.append(doc.finding(
                    "syntax", "symbolic link loop; remove the link or point it at a file" if loop else
                    f"symbolic link to nothing ({getattr(exc, 'strerror', None) or exc}); remove it or fix it"))
                return doc
            try:
                target.relative_to(root.resolve())
            except ValueError:
                doc.findings.append(doc.finding(
                    "syntax", "symbolic link leaves the repository; check the file it points to instead"))
                return doc
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            doc.findings.append(doc.finding(
                "syntax", f"file is {size} bytes, over the {MAX_FILE_BYTES}-byte limit; it was not read"))
            return doc
        raw = path.read_bytes()
    except OSError as exc:
        doc.findings.append(doc.finding("syntax", f"cannot read file: {exc.strerror or exc}"))
        return doc
    return load_bytes(raw, doc)


def load_text(text: str, display: str = "<text>", kind: str = KIND_WORKFLOW) -> Document:
    """Parse text held in memory (tests, stdin, git blobs)."""
    doc = Document(path=Path(display), display=display, kind=kind, text="")
    return load_bytes(text.encode("utf-8"), doc)


def load_bytes(raw: bytes, doc: Document) -> Document:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        prefix = raw[: exc.start].decode("utf-8", errors="replace")
        line = prefix.count("\n") + 1
        col = len(prefix) - (prefix.rfind("\n") + 1) + 1
        doc.findings.append(Finding("syntax", Severity.ERROR,
                                    f"invalid UTF-8 byte 0x{raw[exc.start]:02x}; save the file as UTF-8",
                                    Location(doc.display, line, col)))
        return doc
    if text.startswith(_BOM):
        doc.bom = True
        text = text[1:]
    if "\r\n" in text:
        doc.newline = "\r\n"
    doc.text = text
    if doc.kind == KIND_PROPERTIES or doc.path.suffix == ".json":
        _parse_json(doc)
    else:
        _parse_yaml(doc)
    return doc


def _parse_json(doc: Document) -> None:
    if not doc.text.strip():
        doc.findings.append(doc.finding("syntax", "file is empty"))
        return
    try:
        doc.json_data = json.loads(doc.text, object_pairs_hook=_json_pairs(doc))
    except json.JSONDecodeError as exc:
        doc.findings.append(Finding("syntax", Severity.ERROR, f"invalid JSON: {exc.msg.lower()}",
                                    Location(doc.display, exc.lineno, exc.colno)))


def _json_pairs(doc: Document):
    def hook(pairs: list[tuple[str, Any]]) -> dict:
        out: dict = {}
        for key, value in pairs:
            if key in out:
                doc.findings.append(doc.finding("syntax", f'duplicate key "{key}"'))
            out[key] = value
        return out

    return hook


def _parse_yaml(doc: Document) -> None:
    if not doc.text.strip():
        doc.findings.append(doc.finding("syntax", "file is empty"))
        return
    loader: _Loader | _RedefiningLoader = _Loader(doc.text)
    try:
        try:
            root = loader.get_single_node()
        except yaml.composer.ComposerError as exc:
            if "found duplicate anchor" not in (exc.context or ""):
                raise
            loader.dispose()
            loader = _RedefiningLoader(doc.text)
            root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if "expected a single document" in (exc.context or "") + (exc.problem or ""):
            problem = "file holds more than one YAML document; keep one document per file"
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        doc.findings.append(Finding("syntax", Severity.ERROR, f"YAML error: {problem}",
                                    Location(doc.display, line, col)))
        return
    except yaml.YAMLError as exc:  # reader errors (control characters) carry a position too
        line, col = 1, 1
        position = getattr(exc, "position", None)
        if isinstance(position, int):
            line, col = doc.position(min(position, len(doc.text)))
        reason = getattr(exc, "reason", None) or str(exc)
        doc.findings.append(Finding("syntax", Severity.ERROR, f"YAML error: {reason}",
                                    Location(doc.display, line, col)))
        return
    finally:
        loader.dispose()
    if root is None:
        doc.findings.append(doc.finding("syntax", "file holds no YAML document"))
        return
    problems = _validate_tree(root, has_aliases="&" in doc.text and "*" in doc.text)
    for message, node in problems:
        doc.findings.append(doc.finding("syntax", message, node))
    if any(msg.startswith(("aliases expand", "recursive alias")) for msg, _ in problems):
        return  # never walk a bomb or a cycle
    doc.root = root


def _validate_tree(root: Node, has_aliases: bool = True) -> list[tuple[str, Node]]:
    """Duplicate keys, non-scalar keys, recursive aliases and the expanded-size cap.

    Without aliases the tree is a tree: one cheap pass over the mappings is enough. With aliases,
    the expanded size is counted with memoisation so a bomb is measured, never expanded.
    """
    if not has_aliases:
        problems: list[tuple[str, Node]] = []
        stack = [root]
        while stack:
            node = stack.pop()
            if isinstance(node, MappingNode):
                _check_keys(node, problems)
                stack.extend(v for _, v in node.value)
            elif isinstance(node, SequenceNode):
                stack.extend(node.value)
        return problems
    return _validate_aliased(root)


def _check_keys(node: MappingNode, problems: list[tuple[str, Node]]) -> None:
    keys: dict[str, Node] = {}
    for k, _ in node.value:
        if isinstance(k, ScalarNode):
            if k.value in keys and k.tag != _MERGE_TAG:
                problems.append((f'duplicate key "{k.value}" (first at line '
                                 f'{keys[k.value].start_mark.line + 1}); remove one', k))
            keys.setdefault(k.value, k)
        else:
            problems.append(("mapping key is not a plain value; quote it", k))


def _validate_aliased(root: Node) -> list[tuple[str, Node]]:
    problems: list[tuple[str, Node]] = []
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _Cycle(node)
        active.add(key)
        total = 1
        if isinstance(node, MappingNode):
            _check_keys(node, problems)
            for k, v in node.value:
                total += size(k) + size(v)
                if total > MAX_EXPANDED_NODES:
                    break
        elif isinstance(node, SequenceNode):
            for item in node.value:
                total += size(item)
                if total > MAX_EXPANDED_NODES:
                    break
        active.discard(key)
        sizes[key] = total
        return total

    try:
        total = size(root)
    except _Cycle as cyc:
        return [("recursive alias: a node contains itself; remove the alias", cyc.node)]
    except RecursionError:
        return [("aliases expand beyond the nesting limit; remove the aliases", root)]
    if total > MAX_EXPANDED_NODES:
        problems.append((f"aliases expand to more than {MAX_EXPANDED_NODES} nodes; "
                         "remove the aliases (possible alias bomb)", root))
    return problems


class _Cycle(Exception):
    def __init__(self, node: Node) -> None:
        self.node = node


# ------------------------------------------------------------------- plain values
def resolve_scalar(node: ScalarNode) -> Any:
    """YAML 1.2 core schema resolution for plain scalars; quoted scalars stay strings."""
    value = node.value
    if node.style is not None and node.style != "":
        return value
    tag = node.tag
    if tag != _STR_TAG and not tag.startswith("tag:yaml.org,2002:"):
        return value  # an explicit local tag (!foo): keep the text
    if value in _BOOL:
        return _BOOL[value]
    if value in _NULL:
        return None
    if _INT.match(value):
        sign = -1 if value.startswith("-") else 1
        body = value.lstrip("+-").lower()
        if body.startswith("0o"):
            return sign * int(body[2:], 8)
        if body.startswith("0x"):
            return sign * int(body[2:], 16)
        return sign * int(body, 10)
    if _FLOAT.match(value):
        return float(value)
    if value.lower() in _SPECIAL_FLOAT:
        return _SPECIAL_FLOAT[value.lower()]
    return value


def to_plain(node: Node) -> Any:
    if isinstance(node, ScalarNode):
        return resolve_scalar(node)
    if isinstance(node, SequenceNode):
        return [to_plain(item) for item in node.value]
    if isinstance(node, MappingNode):
        out: dict[str, Any] = {}
        for k, v in _merged_items(node):
            key = k.value if isinstance(k, ScalarNode) else "<non-scalar key>"
            if key not in out:
                out[key] = to_plain(v)
        return out
    return None


def _merged_items(node: MappingNode) -> Iterator[tuple[Node, Node]]:
    for k, v in node.value:
        if isinstance(k, ScalarNode) and k.tag == _MERGE_TAG:
            sources = v.value if isinstance(v, SequenceNode) else [v]
            for src in sources:
                if isinstance(src, MappingNode):
                    yield from _merged_items(src)
            continue
        yield k, v


def mapping_items(node: Node | None) -> Iterator[tuple[ScalarNode, Node]]:
    """Key/value pairs of a mapping node (merge keys expanded); nothing for other nodes."""
    if isinstance(node, MappingNode):
        return iter(_index(node)[0])
    return iter(())


def _index(node: MappingNode) -> tuple[list[tuple[ScalarNode, Node]], dict[str, tuple[ScalarNode, Node]]]:
    """The scalar-keyed pairs of a mapping and a first-wins lookup table, built once per node."""
    cached = node.__dict__.get("_ci_index")
    if cached is None:
        pairs = [(k, v) for k, v in _merged_items(node) if isinstance(k, ScalarNode)]
        table: dict[str, tuple[ScalarNode, Node]] = {}
        for pair in pairs:
            table.setdefault(pair[0].value, pair)
        cached = node.__dict__["_ci_index"] = (pairs, table)
    return cached


def mapping_get(node: Node | None, key: str) -> Node | None:
    if isinstance(node, MappingNode):
        pair = _index(node)[1].get(key)
        return pair[1] if pair else None
    return None


def mapping_pair(node: Node | None, key: str) -> tuple[ScalarNode, Node] | None:
    if isinstance(node, MappingNode):
        return _index(node)[1].get(key)
    return None


def scalar_text(node: Node | None) -> str | None:
    """The text of a scalar node, or None for anything else."""
    return node.value if isinstance(node, ScalarNode) else None


def sequence_items(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def node_at_path(root: Node | None, path: list[Any], *, want_key: bool = False) -> Node | None:
    """Follow a JSON path (keys and indices) down the node tree; the deepest node reached."""
    node = root
    for i, part in enumerate(path):
        if isinstance(node, MappingNode):
            pair = mapping_pair(node, str(part))
            if pair is None:
                return node
            if want_key and i == len(path) - 1:
                return pair[0]
            node = pair[1]
        elif isinstance(node, SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
        else:
            return node
    return node


# --------------------------------------------------------------------- traversal
@dataclass(frozen=True)
class Step:
    job_id: str | None  # None for the steps of a composite action
    index: int
    node: MappingNode


@dataclass(frozen=True)
class UsesSite:
    """A ``uses:`` value: on a step, on a job (reusable workflow call)."""

    doc: Document
    node: ScalarNode
    where: str  # "step" or "job"
    job_id: str | None
    step: Step | None

    @property
    def value(self) -> str:
        return self.node.value


@dataclass(frozen=True)
class ImageSite:
    """A container image reference: ``docker://`` step, job ``container:`` or a ``services:`` entry."""

    doc: Document
    node: ScalarNode
    where: str  # "docker", "container" or "service"
    job_id: str | None
    image: str


def _iter_jobs(doc: Document) -> Iterator[tuple[str, ScalarNode, MappingNode]]:
    if doc.kind not in (KIND_WORKFLOW, KIND_TEMPLATE):
        return
    for key, job in mapping_items(mapping_get(doc.root, "jobs")):
        if isinstance(job, MappingNode):
            yield key.value, key, job


def _iter_steps(doc: Document) -> Iterator[Step]:
    if doc.kind == KIND_ACTION:
        steps = mapping_get(mapping_get(doc.root, "runs"), "steps")
        for i, step in enumerate(sequence_items(steps)):
            if isinstance(step, MappingNode):
                yield Step(None, i, step)
        return
    for job_id, _, job in iter_jobs(doc):
        for i, step in enumerate(sequence_items(mapping_get(job, "steps"))):
            if isinstance(step, MappingNode):
                yield Step(job_id, i, step)


def _iter_uses(doc: Document) -> Iterator[UsesSite]:
    """Every ``uses:`` of a workflow, template or composite action, in file order."""
    sites: list[UsesSite] = []
    for job_id, _, job in iter_jobs(doc):
        node = mapping_get(job, "uses")
        if isinstance(node, ScalarNode):
            sites.append(UsesSite(doc, node, "job", job_id, None))
    for step in iter_steps(doc):
        node = mapping_get(step.node, "uses")
        if isinstance(node, ScalarNode):
            sites.append(UsesSite(doc, node, "step", step.job_id, step))
    sites.sort(key=lambda s: (s.node.start_mark.line, s.node.start_mark.column))
    return iter(sites)


def _iter_images(doc: Document) -> Iterator[ImageSite]:
    """Every container image: ``docker://`` steps, job ``container:`` and ``services:``."""
    sites: list[ImageSite] = []
    for site in iter_uses(doc):
        if site.value.startswith("docker://") and site.value[len("docker://"):].strip():  # bare: malformed-uses
            sites.append(ImageSite(doc, site.node, "docker", site.job_id, site.value[len("docker://"):]))
    if doc.kind == KIND_ACTION:
        runs = mapping_get(doc.root, "runs")
        image = mapping_get(runs, "image")
        if scalar_text(mapping_get(runs, "using")) == "docker" and isinstance(image, ScalarNode) \
                and image.value.startswith("docker://"):
            sites.append(ImageSite(doc, image, "docker", None, image.value[len("docker://"):]))
    for job_id, _, job in iter_jobs(doc):
        container = mapping_get(job, "container")
        node = container if isinstance(container, ScalarNode) else mapping_get(container, "image")
        if isinstance(node, ScalarNode) and node.value:
            sites.append(ImageSite(doc, node, "container", job_id, node.value))
        for _, service in mapping_items(mapping_get(job, "services")):
            node = service if isinstance(service, ScalarNode) else mapping_get(service, "image")
            if isinstance(node, ScalarNode) and node.value:
                sites.append(ImageSite(doc, node, "service", job_id, node.value))
    sites.sort(key=lambda s: (s.node.start_mark.line, s.node.start_mark.column))
    return iter(sites)


def _cached(name: str, compute):
    def traverse(doc: Document):
        cache = doc._walks
        if cache is None or cache[0] is not doc.root:
            cache = doc._walks = (doc.root, {})
        found = cache[1].get(name)
        if found is None:
            found = cache[1][name] = list(compute(doc))
        return iter(found)

    traverse.__name__ = name
    traverse.__doc__ = compute.__doc__
    return traverse


iter_jobs = _cached("iter_jobs", _iter_jobs)
iter_steps = _cached("iter_steps", _iter_steps)
iter_uses = _cached("iter_uses", _iter_uses)
iter_images = _cached("iter_images", _iter_images)


def on_events(doc: Document) -> dict[str, Node | None]:
    """The workflow's triggers, whatever form ``on:`` takes (string, list or mapping)."""
    node = mapping_get(doc.root, "on")
    if node is None:
        node = mapping_get(doc.root, "true")  # a YAML 1.1 tool may have written it unquoted elsewhere
    if isinstance(node, ScalarNode):
        return {node.value: None}
    if isinstance(node, SequenceNode):
        return {item.value: None for item in node.value if isinstance(item, ScalarNode)}
    return {k.value: v for k, v in mapping_items(node)}


def is_within(path: Path, root: Path) -> bool:
    try:
        Path(os.path.realpath(path)).relative_to(os.path.realpath(root))
        return True
    except ValueError:
        return False
