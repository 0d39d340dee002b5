"""Secret scanning of a pull request's added lines with detect-secrets (Yelp's scanner, from PyPI).

Why detect-secrets: it installs from PyPI with the rest of ci-tools (gitleaks and trufflehog are Go
binaries that neither PyPI, Debian nor npm ship here), it is a library with a stable baseline
format (``.secrets.baseline``) and an inline allowlist (``pragma: allowlist secret``), and its
plugins cover the credential shapes the organisation leaks (cloud keys, tokens, private keys,
high-entropy strings, keyword assignments).

How: ``git diff BASE...HEAD -U0`` names the lines the pull request adds (relative to the merge
base, as GitHub's "Files changed" tab shows them). Each changed file is read from the HEAD commit
(not the work tree), written to a temporary directory under its repository path, and scanned whole
by detect-secrets, so its filters see the real context and file name; only secrets on added lines
are kept, then those already in the baseline are dropped, as detect-secrets' own pre-commit hook
does (by file, secret type and hashed value, not line number).

The secret values never leave this module: :class:`Hit` carries the file, line, column span and
type only, and every value is registered with :func:`ci_tools.redact.register` as a second guard.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ci_tools.hygiene import GitError, git

DEFAULT_BASELINE = ".secrets.baseline"
PARALLEL_FROM = 16
"""From this many changed files on, detect-secrets scans them in parallel (its process pool)."""
_HUNK = re.compile(r"@@ -\d+(?:,(?P<old>\d+))? \+(?P<start>\d+)(?:,(?P<new>\d+))? @@")
_ESCAPES = {"a": 7, "b": 8, "t": 9, "n": 10, "v": 11, "f": 12, "r": 13, '"': 34, "\\": 92}


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    col: int
    end_col: int
    type: str


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


def parse_added_lines(diff: str) -> dict[str, set[int]]:
    """``{path: {line numbers added}}`` from a ``git diff -U0`` with ``a/`` and ``b/`` prefixes.

    Hunk bodies are consumed by count, so an added line that itself reads ``+++ b/x`` or ``@@``
    is never taken for a header.
    """
    added: dict[str, set[int]] = {}
    current: str | None = None
    old_left = new_left = 0
    for line in diff.split("\n"):
        if old_left > 0 or new_left > 0:
            if line.startswith("-"):
                old_left -= 1
            elif line.startswith("+"):
                new_left -= 1
            elif line.startswith(" "):
                old_left -= 1
                new_left -= 1
            continue
        if line.startswith("diff --git "):
            current = None
        elif line.startswith("+++ "):
            target = line[4:]
            target = unquote(target.rstrip("\t")) if target.startswith('"') else target.rstrip("\t")
            current = None if target == "/dev/null" else target.removeprefix("b/")
        elif line.startswith("@@ ") and current is not None:
            m = _HUNK.match(line)
            if not m:
                continue
            start, count = int(m["start"]), int(m["new"] if m["new"] is not None else 1)
            old_left = int(m["old"] if m["old"] is not None else 1)
            new_left = count
            if count:
                added.setdefault(current, set()).update(range(start, start + count))
    return added


def changed_lines(root: Path, base: str, head: str) -> dict[str, set[int]]:
    try:
        diff = git(["-c", "core.quotePath=true", "diff", "--no-color", "--no-ext-diff", "--no-textconv",
                    "--find-renames", "-U0", "--src-prefix=a/", "--dst-prefix=b/", "--diff-filter=d",
                    f"{base}...{head}", "--"], root)
    except GitError as exc:
        if "no merge base" in str(exc):
            raise GitError(f"{exc}; the clone is shallow or the branches share no history: fetch the whole "
                           "history (actions/checkout with fetch-depth: 0)") from None
        raise
    return parse_added_lines(diff.decode("utf-8", "replace"))


def read_blobs(root: Path, head: str, paths: list[str]) -> dict[str, bytes]:
    """File contents at ``head`` through one ``git cat-file --batch``; missing or non-blob paths are left out."""
    if not paths:
        return {}
    request = "".join(f"{head}:{p}\n" for p in paths).encode("utf-8")
    data = git(["cat-file", "--batch"], root, input=request)
    out: dict[str, bytes] = {}
    pos = 0
    for path in paths:
        end = data.index(b"\n", pos)
        header = data[pos:end].decode("utf-8", "replace").split()
        pos = end + 1
        if len(header) == 3 and header[1] in ("blob", "commit", "tree", "tag"):
            size = int(header[2])
            if header[1] == "blob":
                out[path] = data[pos:pos + size]
            pos += size + 1
    return out


def read_baseline(root: Path, head: str, explicit: Path | None, name: str) -> tuple[dict | None, str]:
    """The baseline: ``explicit`` from disk, else ``name`` in the HEAD commit, else none."""
    if explicit is not None:
        try:
            text = explicit.read_text(encoding="utf-8")
        except OSError as exc:
            raise BaselineError(f"{explicit}: {exc.strerror or exc}") from None
        display = explicit.as_posix()
        try:
            display = explicit.resolve().relative_to(root).as_posix()
        except ValueError:
            pass
    else:
        blobs = read_blobs(root, head, [name])
        if name not in blobs:
            return None, name
        text, display = blobs[name].decode("utf-8", "replace"), name
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"{display}:{exc.lineno}:{exc.colno}: not a detect-secrets baseline: {exc.msg}") from None
    if not isinstance(data, dict) or not isinstance(data.get("results"), dict):
        raise BaselineError(f'{display}:1:1: not a detect-secrets baseline (no "results" object); '
                            "create one with `detect-secrets scan > .secrets.baseline`")
    return data, display


@contextmanager
def _inside(directory: str):
    old = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(old)


def scan(files: dict[str, bytes], added: dict[str, set[int]], baseline: dict | None,
         baseline_name: str, skip: frozenset[str] = frozenset()) -> list[Hit]:
    """Run detect-secrets over ``files`` and keep the secrets on ``added`` lines that the baseline lacks.

    ``baseline_name`` and the paths in ``skip`` (baseline files: their hashes look like secrets) are
    not scanned.
    """
    from detect_secrets.core import baseline as ds_baseline
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import default_settings, get_settings, transient_settings

    from ci_tools.redact import register

    hits: list[Hit] = []
    with tempfile.TemporaryDirectory(prefix="ci-tools-secrets-") as tmp:
        for rel, data in files.items():
            parts = PurePosixPath(rel).parts
            if not parts or ".." in parts or PurePosixPath(rel).is_absolute():
                continue
            target = Path(tmp, *parts)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        upgraded = ds_baseline.upgrade(baseline) if baseline is not None else None
        settings = transient_settings(upgraded) if upgraded is not None else default_settings()
        with _inside(tmp), settings:
            known = SecretsCollection.load_from_baseline(upgraded) if upgraded is not None else SecretsCollection()
            get_settings().filters["detect_secrets.filters.common.is_baseline_file"] = {"filename": baseline_name}
            found = SecretsCollection()
            names = [rel for rel in sorted(files) if rel != baseline_name and rel not in skip]
            if len(names) >= PARALLEL_FROM:
                found.scan_files(*names)  # a process per core, as `detect-secrets scan` does
            else:
                for rel in names:
                    found.scan_file(rel)
            new = found - known
            for rel, secret in new:
                lines = added.get(rel, set())
                if secret.line_number not in lines or not secret.secret_value:
                    continue
                register(secret.secret_value)
                text = files[rel].decode("utf-8", "replace").splitlines()
                line = text[secret.line_number - 1] if secret.line_number <= len(text) else ""
                col = line.find(secret.secret_value)
                if col >= 0:
                    hits.append(Hit(rel, secret.line_number, col + 1, col + 1 + len(secret.secret_value), secret.type))
                else:
                    hits.append(Hit(rel, secret.line_number, 1, max(2, len(line) + 1), secret.type))
    return sorted(set(hits), key=lambda h: (h.path, h.line, h.col, h.type))


@dataclass(frozen=True)
class BaselineAddition:
    """An entry the pull request adds to the baseline: a secret it asks reviewers to accept."""

    baseline: str
    line: int
    col: int
    end_col: int
    filename: str
    type: str


def _entries(data: dict | None) -> set[tuple[str, str, str]]:
    out: set[tuple[str, str, str]] = set()
    for filename, items in ((data or {}).get("results") or {}).items():
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                out.add((filename, str(item.get("hashed_secret", "")), str(item.get("type", ""))))
    return out


def baseline_additions(root: Path, base: str, head: str, name: str, head_data: dict) -> list[BaselineAddition]:
    """Entries of the baseline at ``head`` that its merge base with ``base`` lacks, with their line."""
    merge_base = git(["merge-base", base, head], root).decode().strip()
    before = read_blobs(root, merge_base, [name]).get(name)
    try:
        old = json.loads(before) if before is not None else None
    except ValueError:
        old = None
    new = _entries(head_data) - _entries(old if isinstance(old, dict) else None)
    if not new:
        return []
    text = read_blobs(root, head, [name]).get(name, b"").decode("utf-8", "replace").splitlines()
    out = []
    for filename, hashed, kind in sorted(new):
        line, col, end = 1, 1, 2
        for number, row in enumerate(text, start=1):
            at = row.find(hashed) if hashed else -1
            if at >= 0:
                line, col, end = number, at + 1, at + 1 + len(hashed)
                break
        out.append(BaselineAddition(name, line, col, end, filename, kind))
    return sorted(out, key=lambda a: (a.line, a.col))


def scan_range(root: Path, base: str, head: str, *, baseline_path: Path | None = None,
               baseline_name: str = DEFAULT_BASELINE, use_baseline: bool = True,
               exclude: list[str] = ()) -> tuple[list[Hit], dict[str, set[int]], str | None, list[BaselineAddition]]:
    """Scan the lines ``head`` adds since its merge base with ``base``.

    Returns the hits, the added lines, the baseline used and the entries the pull request adds to
    the baseline (only for the baseline read from ``head``: an explicit file has no history here).
    """
    added = changed_lines(root, base, head)
    added = {p: lines for p, lines in added.items()
             if not any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.rstrip("/") + "/*") for pat in exclude)}
    baseline, display = (None, baseline_name)
    additions: list[BaselineAddition] = []
    if use_baseline:
        baseline, display = read_baseline(root, head, baseline_path, baseline_name)
        if baseline is not None and baseline_path is None and baseline_name in added:
            additions = baseline_additions(root, base, head, baseline_name, baseline)
    files = read_blobs(root, head, sorted(added))
    hits = scan(files, added, baseline, display, frozenset({baseline_name})) if files else []
    return hits, added, display if baseline is not None else None, additions


__all__ = ["Hit", "BaselineError", "GitError", "scan", "scan_range", "parse_added_lines", "unquote"]
