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

What the pull request controls cannot switch the scan off or run code. The baseline at HEAD (or
``--baseline``) contributes only its ``results``, the secrets it accepts (each one the pull request
adds is shown to the reviewer); the scan's settings, ``plugins_used`` and ``filters_used``, come from
the baseline as of the merge base (detect-secrets' defaults when there is none there), or from a
``--baseline`` file outside the repository, which is the caller's. Those settings are checked
before use: only detect-secrets' own plugins and the filters that read neither files nor the
network are accepted, never a ``file://`` or other module path (detect-secrets would import and
run it), and a baseline that leaves no plugin to scan with is an error, not a silent pass.

The secret values never leave this module: :class:`Hit` carries the file, line, column span and
type only, and every value is registered with :func:`ci_tools.redact.register` as a second guard.
"""

from __future__ import annotations

import fnmatch
import json
import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ci_tools.hygiene import GitError, git, read_blobs
from ci_tools.hygiene import merge_base as hygiene_merge_base

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
    data, _ = _parse(text, display)
    return data, display


# Filters a baseline may name: detect-secrets' own, that read neither files nor the network.
# Refused: wordlist and gibberish (they load a file the baseline names). Dropped, since leaving out a
# filter only ever reports more: common.is_ignored_due_to_verification_policies, which
# `detect-secrets scan` writes into every baseline and which would send each secret found to its
# service (Slack, Stripe, ...) to ask whether it is live.
DROPPED_FILTERS = frozenset({"detect_secrets.filters.common.is_ignored_due_to_verification_policies"})
SAFE_FILTERS = frozenset({
    "detect_secrets.filters.allowlist.is_line_allowlisted",
    "detect_secrets.filters.common.is_baseline_file",
    "detect_secrets.filters.common.is_invalid_file",
    *(f"detect_secrets.filters.heuristic.{name}" for name in (
        "is_indirect_reference", "is_likely_id_string", "is_lock_file", "is_non_text_file",
        "is_not_alphanumeric_string", "is_potential_uuid", "is_prefixed_with_dollar_sign",
        "is_sequential_string", "is_swagger_file", "is_templated_secret")),
    *(f"detect_secrets.filters.regex.{name}" for name in ("should_exclude_file", "should_exclude_line",
                                                          "should_exclude_secret")),
})


@dataclass(frozen=True)
class Settings:
    """The scan's plugins and filters, checked; ``source`` says where they came from, for the reader."""

    data: dict | None  # {"plugins_used": [...], "filters_used": [...]}, None: detect-secrets' defaults
    source: str
    written: tuple = (None, None)  # plugins_used and filters_used as the baseline writes them

    def differs(self, baseline: dict) -> bool:
        """Whether ``baseline`` (the pull request's) writes other plugins or filters than these came from."""
        return self.data is None or (baseline.get("plugins_used"), baseline.get("filters_used")) != self.written


def _position(text: str, needle: str) -> tuple[int, int]:
    at = text.find(needle) if needle else -1
    if at < 0:
        return 1, 1
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def check_settings(data: dict, text: str, display: str) -> dict:
    """``plugins_used`` and ``filters_used`` of a baseline, refused unless safe to hand to detect-secrets."""
    from detect_secrets.core.baseline import upgrade
    from detect_secrets.core.plugins.util import get_mapping_from_secret_type_to_class

    def fail(message: str, needle: str = "") -> BaselineError:
        line, col = _position(text, needle)
        return BaselineError(f"{display}:{line}:{col}: {message}")

    try:
        if "version" in data:
            data = upgrade(data)
    except Exception as exc:  # noqa: BLE001 - any upgrade failure is a bad baseline, said in one line
        raise fail(f"cannot read this detect-secrets baseline: {type(exc).__name__}: {exc}", '"version"') from None
    known = {cls.__name__ for cls in get_mapping_from_secret_type_to_class().values()}
    plugins, filters = data.get("plugins_used"), data.get("filters_used", [])
    if not isinstance(plugins, list) or not isinstance(filters, list):
        raise fail('"plugins_used" and "filters_used" must be lists', '"plugins_used"')
    for plugin in plugins:
        name = plugin.get("name") if isinstance(plugin, dict) else None
        if isinstance(plugin, dict) and "path" in plugin:
            raise fail(f'plugin "{name}" is loaded from "{plugin["path"]}": a baseline may name only '
                       "detect-secrets' own plugins, never code to run", str(plugin["path"]))
        if name not in known:
            raise fail(f'unknown plugin "{name}" in "plugins_used"; known: {", ".join(sorted(known))}',
                       f'"{name}"' if isinstance(name, str) else '"plugins_used"')
    if not plugins:
        raise fail('no plugins to scan with ("plugins_used" is empty or missing): the scan would find '
                   "nothing; create the baseline with `detect-secrets scan > .secrets.baseline`",
                   '"plugins_used"')
    kept = []
    for item in filters:
        path = item.get("path") if isinstance(item, dict) else None
        if not isinstance(path, str):
            raise fail('each entry of "filters_used" needs a "path"', '"filters_used"')
        if path in DROPPED_FILTERS:
            continue
        kept.append(item)
        if path not in SAFE_FILTERS:
            why = ("a file of code to run" if path.startswith("file:") or "/" in path else
                   "not one of detect-secrets' filters that read neither files nor the network")
            raise fail(f'filter "{path}" is refused: {why}; accepted: {", ".join(sorted(SAFE_FILTERS))}', path)
    return {"plugins_used": plugins, "filters_used": kept}


def _parse(data: bytes | str, display: str) -> tuple[dict, str]:
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    try:
        parsed = json.loads(text)
    except ValueError as exc:
        raise BaselineError(f"{display}:{exc.lineno}:{exc.colno}: not a detect-secrets baseline: {exc.msg}") from None
    if not isinstance(parsed, dict) or not isinstance(parsed.get("results"), dict):
        raise BaselineError(f'{display}:1:1: not a detect-secrets baseline (no "results" object); '
                            "create one with `detect-secrets scan > .secrets.baseline`")
    return parsed, text


def settings_for(root: Path, merge_base: str, name: str, explicit: Path | None) -> Settings:
    """The scan's settings: from the baseline as of the merge base (``name``, or ``explicit`` when that
    file lies in the repository), from ``explicit`` itself when it lies outside (the caller's file)."""
    rel = name
    if explicit is not None:
        try:
            rel = explicit.resolve().relative_to(root).as_posix()
        except ValueError:  # outside the repository: the caller's own file
            try:
                data, text = _parse(explicit.read_bytes(), explicit.as_posix())
            except OSError as exc:
                raise BaselineError(f"{explicit}: {exc.strerror or exc}") from None
            return Settings(check_settings(data, text, explicit.as_posix()), explicit.as_posix(),
                            (data.get("plugins_used"), data.get("filters_used")))
    prefix = git(["rev-parse", "--show-prefix"], root).decode("utf-8", "replace").strip()
    blob = read_blobs(root, merge_base, [prefix + rel]).get(prefix + rel)
    if blob is None:
        return Settings(None, "detect-secrets' defaults (no baseline at the base)")
    display = f"{rel} (as of the base, {merge_base[:12]})"
    data, text = _parse(blob, display)
    return Settings(check_settings(data, text, display), f"{rel} as of the base",
                    (data.get("plugins_used"), data.get("filters_used")))


@contextmanager
def _inside(directory: str):
    old = os.getcwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(old)


def scan(files: dict[str, bytes], added: dict[str, set[int]], settings: Settings,
         known: set[tuple[str, str, str]], baseline_name: str, skip: frozenset[str] = frozenset()) -> list[Hit]:
    """Run detect-secrets with ``settings`` over ``files`` and keep the secrets on ``added`` lines that
    ``known`` (the baseline's ``(file, hashed secret, type)`` entries) lacks.

    ``baseline_name`` and the paths in ``skip`` (baseline files: their hashes look like secrets) are
    not scanned.
    """
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
        with _inside(tmp), (transient_settings(settings.data) if settings.data is not None else default_settings()):
            get_settings().filters["detect_secrets.filters.common.is_baseline_file"] = {"filename": baseline_name}
            found = SecretsCollection()
            names = [rel for rel in sorted(files) if rel != baseline_name and rel not in skip]
            if len(names) >= PARALLEL_FROM:
                found.scan_files(*names)  # a process per core, as `detect-secrets scan` does
            else:
                for rel in names:
                    found.scan_file(rel)
            for rel, secret in found:
                lines = added.get(rel, set())
                if secret.line_number not in lines or not secret.secret_value:
                    continue
                if (rel, secret.secret_hash, secret.type) in known:
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
    merge_base = hygiene_merge_base(root, base, head)
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


@dataclass
class ScanResult:
    hits: list[Hit]
    added: dict[str, set[int]]
    baseline: str | None  # the baseline whose results were accepted, as shown to the reader
    additions: list[BaselineAddition]
    settings: Settings
    settings_changed: bool  # the pull request changes the baseline's plugins_used or filters_used


def scan_range(root: Path, base: str, head: str, *, baseline_path: Path | None = None,
               baseline_name: str = DEFAULT_BASELINE, use_baseline: bool = True,
               exclude: list[str] = ()) -> ScanResult:
    """Scan the lines ``head`` adds since its merge base with ``base``.

    The baseline's ``results`` come from ``head`` (or ``baseline_path``), its settings from the merge
    base (see :func:`settings_for`); the entries the pull request adds to the baseline are returned
    (only for the baseline read from ``head``: an explicit file has no history here).
    """
    merge_base = hygiene_merge_base(root, base, head) if use_baseline else ""
    added = changed_lines(root, base, head)
    added = {p: lines for p, lines in added.items()
             if not any(fnmatch.fnmatch(p, pat) or fnmatch.fnmatch(p, pat.rstrip("/") + "/*") for pat in exclude)}
    baseline, display = (None, baseline_name)
    additions: list[BaselineAddition] = []
    settings, changed = Settings(None, "detect-secrets' defaults"), False
    if use_baseline:
        baseline, display = read_baseline(root, head, baseline_path, baseline_name)
        settings = settings_for(root, merge_base, baseline_name, baseline_path)
        if baseline is not None and baseline_path is None and baseline_name in added:
            additions = baseline_additions(root, base, head, baseline_name, baseline)
        # a baseline the base lacks, or other settings than the base's: not used until it is merged
        changed = baseline is not None and settings.differs(baseline)
    files = read_blobs(root, head, sorted(added))
    known = _entries(baseline) if baseline is not None else set()
    hits = scan(files, added, settings, known, display, frozenset({baseline_name})) if files else []
    return ScanResult(hits, added, display if baseline is not None else None, additions, settings, changed)


__all__ = ["Hit", "BaselineError", "GitError", "ScanResult", "Settings", "scan", "scan_range", "parse_added_lines",
           "unquote"]
