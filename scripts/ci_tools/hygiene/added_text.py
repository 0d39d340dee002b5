"""The lines a pull request adds, as text, whatever the encoding of their files.

``git diff`` names added lines by counting ``\\n`` bytes, and treats as binary every file with a NUL
byte (or that ``.gitattributes`` marks ``binary``/``-diff``, which the pull request controls). A
scanner that reads those lines as UTF-8 loses a whole file to one latin-1 byte, and one that trusts
git's idea of binary loses every UTF-16 file. Here each changed file is read from git, its content
classified, and decoded line by line so that nothing stops at an undecodable byte:

- **text** (no NUL byte, few control characters): split on ``\\n`` exactly as git counts lines, a
  final ``\\r`` (CRLF) dropped; each line decoded as UTF-8, else Windows-1252, else latin-1 (which
  never fails), so a file mixing encodings keeps every line; a UTF-8 BOM is dropped. The added line
  numbers are those of ``git diff --text``.
- **UTF-16 and UTF-32** (a byte-order mark, or the NUL pattern of ASCII text in them): decoded whole;
  git's byte-wise line numbers mean nothing here, so the added lines come from a diff of the decoded
  text of both sides (``git diff --no-index`` over two temporary UTF-8 files).
- **binary** (NUL bytes without that pattern, a known binary signature, or mostly control
  characters): not scanned, and named as such in the result.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ci_tools.core.git import git

SAMPLE = 8192
"""Bytes looked at to classify a file (as git does with its first 8000)."""
MAGIC = (b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a", b"\xff\xd8\xff", b"PK\x03\x04", b"PK\x05\x06", b"\x1f\x8b",
         b"\x7fELF", b"%PDF-", b"\xca\xfe\xba\xbe", b"\xfe\xed\xfa", b"\xcf\xfa\xed\xfe", b"7z\xbc\xaf\x27\x1c",
         b"Rar!\x1a\x07", b"\x28\xb5\x2f\xfd", b"\xfd7zXZ\x00", b"OggS\x00", b"wOFF", b"wOF2")
"""Signatures of formats that are binary even without a NUL byte in their first bytes."""
_BOMS = ((b"\x00\x00\xfe\xff", "utf-32-be"), (b"\xff\xfe\x00\x00", "utf-32-le"), (b"\xfe\xff", "utf-16-be"),
         (b"\xff\xfe", "utf-16-le"))
_CONTROL = bytes(c for c in range(32) if c not in (9, 10, 12, 13)) + b"\x7f"
_HUNK = re.compile(r"@@ -\d+(?:,(?P<old>\d+))? \+(?P<start>\d+)(?:,(?P<new>\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}
_MAGIC_RE = re.compile(b"|".join(re.escape(m) for m in MAGIC))


def unquote(path: str) -> str:
    """Undo git's C-style quoting of unusual path names (``"a\\tb"``, octal UTF-8 bytes)."""
    if not (len(path) >= 2 and path.startswith('"') and path.endswith('"')):
        return path
    body, out, i = path[1:-1], bytearray(), 0
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            nxt = body[i + 1]
            if nxt in _ESCAPES:
                out.append(_ESCAPES[nxt])
                i += 2
                continue
            if re.match(r"[0-7]{3}", body[i + 1:i + 4]):
                out.append(int(body[i + 1:i + 4], 8))
                i += 4
                continue
        out += c.encode("utf-8")
        i += 1
    return out.decode("utf-8", "replace")


def iter_added(diff: bytes) -> Iterator[tuple[str, int, bytes]]:
    """``(path, line number, text)`` of each line added by a ``git diff -U0`` with ``a/`` and ``b/``
    prefixes; the text is the line's bytes without the ``+`` (a ``\\r`` of a CRLF line is kept).

    Hunk bodies are consumed by count, so an added line that itself reads ``+++ b/x`` or ``@@``
    is never taken for a header.
    """
    current: str | None = None
    old_left = new_left = number = 0
    for line in diff.split(b"\n"):
        if old_left > 0 or new_left > 0:
            if line.startswith(b"-"):
                old_left -= 1
            elif line.startswith(b"+"):
                new_left -= 1
                if current is not None:
                    yield current, number, line[1:]
                number += 1
            elif line.startswith(b" "):
                old_left -= 1
                new_left -= 1
                number += 1
            continue
        if line.startswith(b"diff --git "):
            current = None
        elif line.startswith(b"+++ "):
            target = line[4:].decode("utf-8", "replace").rstrip("\t")
            target = unquote(target) if target.startswith('"') else target
            current = None if target == "/dev/null" else target.removeprefix("b/")
        elif line.startswith(b"@@ ") and current is not None:
            m = _HUNK.match(line.decode("ascii", "replace"))
            if not m:
                continue
            number = int(m["start"])
            old_left = int(m["old"] if m["old"] is not None else 1)
            new_left = int(m["new"] if m["new"] is not None else 1)


def parse_added_lines(diff: str | bytes) -> dict[str, set[int]]:
    """``{path: {line numbers added}}`` from a ``git diff -U0`` (see :func:`iter_added`)."""
    data = diff.encode("utf-8", "surrogateescape") if isinstance(diff, str) else diff
    added: dict[str, set[int]] = {}
    for path, number, _ in iter_added(data):
        added.setdefault(path, set()).add(number)
    return added


def classify(data: bytes) -> str | None:
    """``"text"``, a UTF-16/32 codec name, or None for a binary file."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            return codec
    if data.startswith(b"\xef\xbb\xbf"):
        return "text"
    sample = data[:SAMPLE]
    if b"\x00" in sample:
        return _wide(sample)
    if _MAGIC_RE.match(sample):
        return None
    if sample and sum(sample.count(c) for c in _CONTROL) > len(sample) // 10:
        return None
    return "text"


def _wide(sample: bytes) -> str | None:
    """UTF-16 or UTF-32 without a byte-order mark: most code units of such text are ASCII, so one byte of
    each pair (or three of each four) is NUL, always at the same place."""
    usable = len(sample) - len(sample) % 4
    if usable < 4:
        return None
    units4 = [sample[i:i + 4] for i in range(0, usable, 4)]
    if sum(u[1:] == b"\x00\x00\x00" and u[0] != 0 for u in units4) >= 0.7 * len(units4):
        return "utf-32-le"
    if sum(u[:3] == b"\x00\x00\x00" and u[3] != 0 for u in units4) >= 0.7 * len(units4):
        return "utf-32-be"
    pairs = len(sample) // 2
    even_nul = sum(1 for i in range(0, pairs * 2, 2) if sample[i] == 0)
    odd_nul = sum(1 for i in range(1, pairs * 2, 2) if sample[i] == 0)
    if odd_nul >= 0.7 * pairs and even_nul <= 0.05 * pairs:
        return "utf-16-le"
    if even_nul >= 0.7 * pairs and odd_nul <= 0.05 * pairs:
        return "utf-16-be"
    return None


def _line(raw: bytes) -> str:
    if raw.endswith(b"\r"):
        raw = raw[:-1]
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def decode(data: bytes, kind: str) -> list[str]:
    """The lines of a file, numbered as git numbers them for text (line ``n`` is ``lines[n - 1]``)."""
    if kind == "text":
        lines = [_line(raw) for raw in data.split(b"\n")]
        if lines and lines[0].startswith("\ufeff"):
            lines[0] = lines[0][1:]
        return lines
    text = data.decode(kind, "replace").removeprefix("\ufeff")
    return [line.removesuffix("\r") for line in text.split("\n")]


@dataclass
class ChangedFile:
    """One file the pull request adds or modifies, decoded; ``added`` are its added line numbers."""

    path: str
    kind: str | None  # "text", a UTF-16/32 codec, None: binary
    lines: list[str] = field(default_factory=list)
    added: set[int] = field(default_factory=set)


def _records(raw: bytes) -> list[tuple[str, str, str, str]]:
    """``(new mode, old blob, new blob, path)`` from ``git diff --raw -z``; renames name their new path."""
    out = []
    fields = raw.split(b"\x00")
    i = 0
    while i < len(fields) - 1:
        meta = fields[i].decode("ascii", "replace").lstrip(":").split()
        if len(meta) < 5:
            i += 1
            continue
        two_paths = meta[4][:1] in ("R", "C")
        path = fields[i + (2 if two_paths else 1)].decode("utf-8", "replace")
        out.append((meta[1], meta[2], meta[3], path))
        i += 3 if two_paths else 2
    return out


def read_objects(root: Path, ids: list[str]) -> dict[str, bytes]:
    """Object contents by id through one ``git cat-file --batch``."""
    wanted = sorted(set(ids))
    if not wanted:
        return {}
    data = git(["cat-file", "--batch"], root, input="".join(f"{i}\n" for i in wanted).encode())
    out: dict[str, bytes] = {}
    pos = 0
    for oid in wanted:
        end = data.index(b"\n", pos)
        header = data[pos:end].split()
        pos = end + 1
        if len(header) == 3:
            size = int(header[2])
            out[oid] = data[pos:pos + size]
            pos += size + 1
    return out


def _diff_decoded(old: list[str], new: list[str]) -> set[int]:
    """Added line numbers between two decoded files, by git's own diff over UTF-8 copies."""
    with tempfile.TemporaryDirectory(prefix="ci-tools-wide-") as tmp:
        a, b = Path(tmp, "a"), Path(tmp, "b")
        a.write_bytes("\n".join(old).encode("utf-8", "surrogatepass"))
        b.write_bytes("\n".join(new).encode("utf-8", "surrogatepass"))
        diff = git(["diff", "--no-index", "--no-color", "--no-ext-diff", "--no-textconv", "--text", "-U0",
                    "--src-prefix=a/", "--dst-prefix=b/", "--", str(a), str(b)], Path(tmp), check=False)
    added: set[int] = set()
    for _, number, _ in iter_added(diff):
        added.add(number)
    return added


def changed_files(root: Path, before: str, after: str, keep=lambda path: True) -> list[ChangedFile]:
    """Every file ``after`` adds or modifies since ``before`` (renames followed), for which ``keep(path)``,
    with its added lines; binary files come with no lines."""
    raw = git(["diff", "--raw", "-z", "--no-abbrev", "--find-renames", "--diff-filter=d", before, after, "--"], root)
    records = [r for r in _records(raw) if r[0] != "160000" and keep(r[3])]  # submodules hold no text
    if not records:
        return []
    blobs = read_objects(root, [r[2] for r in records])
    patch = git(["-c", "core.quotePath=true", "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--text",
                 "--find-renames", "-U0", "--src-prefix=a/", "--dst-prefix=b/", "--diff-filter=d", before, after, "--"],
                root)
    by_git: dict[str, set[int]] = {}
    for path, number, _ in iter_added(patch):
        by_git.setdefault(path, set()).add(number)
    wide_old = [r[1] for r in records if r[1].strip("0") and classify(blobs.get(r[2], b"")) not in (None, "text")]
    olds = read_objects(root, wide_old)
    out = []
    for _, old_id, new_id, path in records:
        data = blobs.get(new_id, b"")
        kind = classify(data)
        item = ChangedFile(path, kind)
        if kind is not None:
            item.lines = decode(data, kind)
            if kind == "text":
                item.added = {n for n in by_git.get(path, ()) if n <= len(item.lines)}
            elif old_id in olds:
                old_kind = classify(olds[old_id])
                item.added = _diff_decoded(decode(olds[old_id], old_kind) if old_kind else [], item.lines)
            else:
                item.added = set(range(1, len(item.lines) + 1))
            if item.lines and item.lines[-1] == "" and len(item.lines) in item.added:
                item.added.discard(len(item.lines))  # the empty "line" after a final line break
        out.append(item)
    return out


__all__ = ["ChangedFile", "changed_files", "classify", "decode", "iter_added", "parse_added_lines", "unquote"]
