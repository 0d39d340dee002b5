"""The YAML examples of this repository's markdown, extracted so that a test can check each one.

Every fenced block whose info string starts with ``yaml`` or ``yml`` in a tracked markdown file
(``README.md``, ``actions/*/README.md``, ``docs/*.md``, and any other, outside ``tests/``) is an
:class:`Example`. Fences may be indented (a block inside a list item); the indentation of the fence
is removed from its lines. A block inside a longer fence (a markdown example showing markdown) is
part of that block, not an example.

An example is usually a fragment of a file: a workflow without ``on:``, a job's ``steps:``, the
``with:`` of a step, the ``permissions:`` a job needs. :func:`materialise` completes it into the
file a reader would paste it into, adding only what the fragment leaves out:

=================================  ==============================================================
the block holds                    it becomes
=================================  ==============================================================
``on:`` or ``jobs:``               a workflow; ``on: workflow_dispatch`` and ``permissions: {}``
                                   are added when absent
``runs:``                          an action (``action.yml``)
``version:`` and ``updates:``      ``.github/dependabot.yml``
``steps:``, or a list              the steps of one job of a workflow
``permissions:`` alone             the permissions of one job of a workflow
step keys (``with:``, ``env:``)    one step of a job; without ``uses:`` it is a step of the action
                                   whose README holds it (``./actions/<name>``)
=================================  ==============================================================

A marker on the line before the fence (blank lines between are allowed) says more:

- ``<!-- ci-tools-example: expect ID[, ID...][; why] -->``: the example shows these findings on
  purpose; the test expects exactly these check ids from ``ci-tools check``;
- ``<!-- ci-tools-example: not-checked REASON -->``: YAML that is no GitHub Actions file (the test
  still parses it);

In ``docs/checks.md`` the headings are the markers: the block under ``### Before`` in the section
of a check expects that check, the block under ``### After`` expects nothing. An info string
``file=PATH`` (```` ```yaml file=.github/dependabot.yml ````) names the file a block is: a further file
laid beside the part's example, or the example itself when the part has no other YAML block.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

from support.paths import REPO

_FENCE = re.compile(r"^(?P<indent>[ ]{0,12})(?P<fence>`{3,}|~{3,})(?P<info>[^`\n]*)$")
_MARKER = re.compile(r"^\s*<!--\s*ci-tools-example:\s*(?P<kind>expect|not-checked)\b(?P<rest>.*?)-->\s*$")
_CHECK_HEADING = re.compile(r"^## `(?P<id>[a-z0-9-]+)`\s*$")
_PART_HEADING = re.compile(r"^### (?P<part>.+?)\s*$")
STEP_KEYS = {"uses", "with", "env", "id", "if", "name", "run", "shell", "working-directory",
             "continue-on-error", "timeout-minutes"}


@dataclass
class Example:
    source: str  # repository-relative path of the markdown file
    line: int  # 1-based line of the opening fence
    text: str
    info: str
    expect: set[str] = field(default_factory=set)
    checked: bool = True
    reason: str = ""
    part: str | None = None  # docs/checks.md: "Before" or "After" under a check's section
    file: str | None = None  # the info string's ``file=PATH``: the repository path the block is written to

    @property
    def id(self) -> str:
        return f"{self.source}:{self.line}"

    @property
    def action_dir(self) -> str | None:
        """``actions/<name>`` when the example sits in that action's README."""
        parts = Path(self.source).parts
        return f"actions/{parts[1]}" if len(parts) == 3 and parts[0] == "actions" and parts[2] == "README.md" else None


def markdown_files(root: Path = REPO) -> list[str]:
    """Tracked markdown files outside ``tests/``, symbolic links left out (they repeat their target)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--", "*.md"], cwd=root, capture_output=True, check=True,
                            text=True).stdout.split("\0")
    return sorted(p for p in listed if p and not p.startswith("tests/") and (root / p).is_file()
                  and not (root / p).is_symlink())


@dataclass
class Block:
    """A fenced block of a markdown file, with the check section and part (docs/checks.md) it sits in."""

    line: int  # 1-based line of the opening fence
    info: str
    text: str
    check_id: str | None
    part: str | None
    marker: tuple[str, str] | None  # ("expect", "id, id") or ("not-checked", reason)

    @property
    def language(self) -> str:
        return self.info.split(" ", 1)[0].lower()

    @property
    def file(self) -> str | None:
        """The ``file=PATH`` of the info string: a further file of an example."""
        m = re.search(r"(?:^|\s)file=(\S+)", self.info)
        return m[1] if m else None


def blocks(path: str, root: Path = REPO) -> list[Block]:
    lines = (root / path).read_text(encoding="utf-8").splitlines()
    out: list[Block] = []
    check_id: str | None = None
    part: str | None = None
    i = 0
    while i < len(lines):
        line = lines[i]
        if m := _CHECK_HEADING.match(line):
            check_id, part = m["id"], None
        elif line.startswith("## "):
            check_id, part = None, None
        elif m := _PART_HEADING.match(line):
            part = m["part"]
        fence = _FENCE.match(line)
        if not fence:
            i += 1
            continue
        indent, mark, info = len(fence["indent"]), fence["fence"], fence["info"].strip()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = _FENCE.match(lines[j])
            if closing and closing["fence"][0] == mark[0] and len(closing["fence"]) >= len(mark) \
                    and not closing["info"].strip():
                break
            body.append(lines[j][indent:] if lines[j][:indent].strip() == "" else lines[j])
            j += 1
        out.append(Block(i + 1, info, "\n".join(body) + "\n", check_id, part, _marker(lines, i)))
        i = j + 1
    return out


def extract(path: str, root: Path = REPO) -> list[Example]:
    """The YAML examples of one markdown file, their markers applied."""
    out: list[Example] = []
    for block in blocks(path, root):
        if block.language not in ("yaml", "yml"):
            continue
        example = Example(path, block.line, block.text, block.info, file=block.file)
        if path == "docs/checks.md" and block.check_id and block.part in ("Before", "After"):
            example.part = block.part
            example.expect = {block.check_id} if block.part == "Before" else set()
        if block.marker and block.marker[0] == "expect":
            ids = block.marker[1].split(";", 1)[0]
            example.expect |= {p.strip() for p in ids.split(",") if p.strip()}
        elif block.marker:
            example.checked, example.reason = False, block.marker[1]
        out.append(example)
    return out


def checks_page(root: Path = REPO) -> dict[str, dict[str, tuple[Example, dict[str, str]]]]:
    """docs/checks.md: ``{check id: {"Before"|"After": (the example, {path: text of a further file})}}``.

    The example is the part's YAML block without ``file=``; the part's blocks with ``file=PATH``
    are files laid beside it (docs-drift reads a markdown file, secrets-inherit a called workflow).
    A part whose only YAML block names its file (dependabot-cooldown's ``.github/dependabot.yml``)
    has that block as its example, written to that path (:attr:`Example.file`).
    The After part has the Before part's further files too, unless it gives its own for that path.
    """
    path = "docs/checks.md"
    examples = {e.line: e for e in extract(path, root)}
    out: dict[str, dict[str, tuple[Example, dict[str, str]]]] = {}
    beside: dict[tuple[str, str], dict[str, str]] = {}
    named: dict[tuple[str, str], Example] = {}  # the first YAML block of a part that names its file
    for block in blocks(path, root):
        if not block.check_id or block.part not in ("Before", "After"):
            continue
        if block.file:
            beside.setdefault((block.check_id, block.part), {})[block.file] = block.text
            if block.line in examples:
                named.setdefault((block.check_id, block.part), examples[block.line])
        elif block.line in examples:
            out.setdefault(block.check_id, {})[block.part] = (examples[block.line], {})
    for (check_id, part), example in named.items():
        if part not in out.get(check_id, {}):
            out.setdefault(check_id, {})[part] = (example, {})
            del beside[(check_id, part)][example.file]
    for check_id, parts in out.items():
        for part in parts:
            files = dict(beside.get((check_id, "Before"), {})) if part == "After" else {}
            files.update(beside.get((check_id, part), {}))
            files.pop(parts[part][0].file or "", None)  # the example itself, not a file beside it
            parts[part] = (parts[part][0], files)
    return out


def _marker(lines: list[str], fence_index: int) -> tuple[str, str] | None:
    k = fence_index - 1
    while k >= 0 and not lines[k].strip():
        k -= 1
    m = _MARKER.match(lines[k]) if k >= 0 else None
    return (m["kind"], m["rest"].strip()) if m else None


def all_examples(root: Path = REPO) -> list[Example]:
    return [example for path in markdown_files(root) for example in extract(path, root)]


# ----------------------------------------------------------------------------- completing
def _top_keys(text: str) -> tuple[str, list[str]]:
    """``("mapping", keys)`` or ``("sequence", [])`` of a block, from its first indentation level."""
    import yaml

    node = yaml.compose(text, Loader=yaml.SafeLoader)
    if isinstance(node, yaml.SequenceNode):
        return "sequence", []
    if isinstance(node, yaml.MappingNode):
        return "mapping", [k.value for k, _ in node.value]
    return "scalar", []


def _indent(text: str, by: int) -> str:
    pad = " " * by
    return "".join(pad + line if line.strip() else line for line in _dedent(text).splitlines(keepends=True))


def _dedent(text: str) -> str:
    import textwrap

    return textwrap.dedent(text)


JOB_HEAD = ("  example:\n    runs-on: ubuntu-latest\n    timeout-minutes: 10\n")
WORKFLOW_HEAD = "on: workflow_dispatch\npermissions: {}\njobs:\n"


def materialise(example: Example) -> tuple[str, str]:
    """``(kind, text)``: ``workflow``, ``action`` or ``dependabot``, and the complete file."""
    text = _dedent(example.text)
    shape, keys = _top_keys(text)
    if shape == "sequence":
        return "workflow", WORKFLOW_HEAD + JOB_HEAD + "    permissions: {}\n    steps:\n" + _indent(text, 6)
    if shape != "mapping":
        raise ValueError(f"{example.id}: the example is neither a mapping nor a list")
    key_set = set(keys)
    if "runs" in key_set:
        return "action", text
    if {"version", "updates"} <= key_set:
        return "dependabot", text
    if key_set & {"on", "jobs"}:
        head = ""
        if "on" not in key_set:
            head += "on: workflow_dispatch\n"
        if "permissions" not in key_set:
            head += "permissions: {}\n"
        return "workflow", head + text
    if key_set == {"steps"}:
        return "workflow", WORKFLOW_HEAD + JOB_HEAD + "    permissions: {}\n" + _indent(text, 4)
    if key_set == {"permissions"}:
        return "workflow", WORKFLOW_HEAD + JOB_HEAD + _indent(text, 4) + "    steps:\n      - run: echo ok\n"
    if key_set <= STEP_KEYS:
        step = text
        if "uses" not in key_set:
            if example.action_dir is None:
                raise ValueError(f"{example.id}: a step without uses: outside an action's README")
            step = f"uses: ./{example.action_dir}\n" + text
        return "workflow", (WORKFLOW_HEAD + JOB_HEAD + "    permissions: {}\n    steps:\n"
                            + _indent(step, 8).replace("        ", "      - ", 1))
    raise ValueError(f"{example.id}: cannot tell what file the example belongs to (top-level keys "
                     f"{', '.join(keys)}); mark it <!-- ci-tools-example: not-checked REASON --> if it is "
                     "no GitHub Actions file")
