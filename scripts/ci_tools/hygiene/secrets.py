"""Secret scanning of a pull request's added lines with detect-secrets (Yelp's scanner, from PyPI).

Why detect-secrets: it installs from PyPI with the rest of ci-tools (gitleaks and trufflehog are Go
binaries that neither PyPI, Debian nor npm ship here), it is a library with a stable baseline
format (``.secrets.baseline``) and an inline allowlist (``pragma: allowlist secret``), and its
plugins cover the credential shapes the organisation leaks (cloud keys, tokens, private keys,
high-entropy strings, keyword assignments).

How: :mod:`ci_tools.hygiene.added_text` reads each file the pull request adds or changes since the merge
base of BASE and HEAD (as GitHub's "Files changed" tab shows them) from git, in whatever encoding
it is (UTF-8, latin-1, Windows-1252, UTF-16 or UTF-32, CRLF, mixed), with its added line numbers;
true binaries are named and left out. Each added line then goes through what detect-secrets'
``scan_file`` does for a line (its filters by file name, its transformers for YAML and INI-like
files, its line filters, every plugin, its secret filters), with the whole decoded file as
context, so that its filters see the real neighbours and file name. Lines nobody added are not
scanned. Secrets already in the baseline are dropped, as detect-secrets' own pre-commit hook does
(by file, secret type and hashed value, not line number).

Speed: detect-secrets calls each plugin through its dependency injection (``inspect`` on every
call), which is three quarters of its time; here each plugin's ``analyze_line`` is called with the
arguments it takes, the result is the same. From :data:`PARALLEL_LINES` added lines on, the lines
are scanned by forked processes, one per available core (``CI_TOOLS_JOBS`` caps them). On a
terminal a counter of the lines scanned goes to stderr.

What the pull request controls cannot switch the scan off or run code. The baseline at HEAD (or
``--baseline``) contributes only its ``results``, the secrets it accepts (each one the pull request
adds is shown to the reviewer); the scan's settings, ``plugins_used`` and ``filters_used``, come from
the baseline as of the merge base (detect-secrets' defaults when there is none there), or from a
``--baseline`` file outside the repository, which is the caller's. Those settings are checked
before use: only detect-secrets' own plugins and the filters that read neither files nor the
network are accepted, never a ``file://`` or other module path (detect-secrets would import and
run it), and a baseline that leaves no plugin to scan with is an error, not a silent pass. Two of
detect-secrets' filters never apply, since the content is known here: ``is_invalid_file`` (the
file is not on disk) and ``is_non_text_file`` (a file named ``.png`` that holds text is scanned; a
real binary is recognised by its content).

The secret values never leave this module: :class:`Hit` carries the file, line, column span and
type only, and every value is registered with :func:`ci_tools.core.redact.register` as a second guard.
"""

from __future__ import annotations

import fnmatch
import io
import json
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ci_tools.core.git import GitError, git, read_blobs
from ci_tools.core.git import merge_base as hygiene_merge_base
from ci_tools.hygiene.added_text import ChangedFile, changed_files, iter_added, parse_added_lines, unquote

DEFAULT_BASELINE = ".secrets.baseline"
PARALLEL_LINES = 4000
"""From this many added lines on, they are scanned by forked processes (one per available core)."""
CHUNK_LINES = 1000
"""Added lines per unit of work handed to a process (and per step of the progress counter)."""
NEVER_APPLIED = frozenset({"detect_secrets.filters.common.is_invalid_file",
                           "detect_secrets.filters.heuristic.is_non_text_file"})


class BaselineError(Exception):
    pass


@dataclass(frozen=True)
class Hit:
    path: str
    line: int
    col: int
    end_col: int
    type: str


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
    # detect-secrets types this mapping with a TypeVar bound to nothing; the values are plugin classes
    plugin_classes: list[type] = list(get_mapping_from_secret_type_to_class().values())
    known = {plugin.__name__ for plugin in plugin_classes}
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
    except json.JSONDecodeError as exc:
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


class _NamedText(io.StringIO):
    """The file object detect-secrets' transformers read: text with a ``name``."""

    def __init__(self, text: str, name: str) -> None:
        super().__init__(text)
        self.name = name


class _Scanner:
    """detect-secrets' per-line work for the current settings, with each filter and plugin looked up once."""

    def __init__(self) -> None:
        from detect_secrets.core.scan import get_filters_with_parameter
        from detect_secrets.settings import get_plugins

        self.plugins = get_plugins()
        self.by_name = get_filters_with_parameter("filename")
        self.by_line = get_filters_with_parameter("line")
        self.by_secret = get_filters_with_parameter("secret")
        self.by_context = get_filters_with_parameter("context")
        self.files: dict[str, tuple[list[str], list[str] | None]] = {}  # path -> (first pass, eager pass)

    @staticmethod
    def _filtered(filters, **kwargs) -> bool:
        for fn in filters:
            try:
                if fn(**{k: v for k, v in kwargs.items() if k in fn.injectable_variables}):
                    return True
            except TypeError:  # as detect-secrets: a filter that cannot take these arguments is skipped
                pass
        return False

    def skips_file(self, path: str) -> bool:
        return self._filtered(self.by_name, filename=path)

    def passes(self, item: ChangedFile) -> tuple[list[str], list[str] | None]:
        """The lines detect-secrets' ``scan_file`` looks at: transformed (YAML, INI) or as they are, then
        the eager transformers' lines for a second look when the first finds nothing."""
        if item.path not in self.files:
            from detect_secrets.transformers import get_transformed_file

            text = "\n".join(item.lines)
            named: Any = _NamedText(text, item.path)  # what detect-secrets' NamedIO asks for: read, seek, name
            first = get_transformed_file(named) or [line + "\n" for line in item.lines]
            named.seek(0)
            eager = get_transformed_file(named, use_eager_transformers=True)
            self.files[item.path] = (first, eager)
        return self.files[item.path]

    def scan(self, path: str, lines: list[str], numbers: list[int]) -> list:
        from detect_secrets.util.code_snippet import get_code_snippet

        found = []
        for number in numbers:
            if number > len(lines):
                continue
            line = lines[number - 1].rstrip()
            context = get_code_snippet(lines=lines, line_number=number)
            if self._filtered(self.by_line, filename=path, line=line, context=context):
                continue
            for plugin in self.plugins:
                for secret in plugin.analyze_line(filename=path, line=line, line_number=number, context=context):
                    if self._filtered(self.by_secret, filename=secret.filename, secret=secret.secret_value,
                                      plugin=plugin, line=line):
                        continue
                    if self._filtered(self.by_context, filename=secret.filename, secret=secret.secret_value,
                                      plugin=plugin, line=line, context=context):
                        continue
                    found.append(secret)
        return found

    def chunk(self, item: ChangedFile, numbers: list[int]) -> list[tuple[str, int, str, str, str]]:
        """Secrets on ``numbers`` of ``item``: ``(path, line, type, value, hashed value)``."""
        first, eager = self.passes(item)
        found = self.scan(item.path, first, numbers)
        if not found and eager:
            found = self.scan(item.path, eager, numbers)
        return [(s.filename, s.line_number, s.type, s.secret_value or "", s.secret_hash) for s in found]


_WORK: list[tuple[ChangedFile, list[int]]] = []
_SCANNER: _Scanner | None = None


def _work(index: int) -> tuple[int, list[tuple[str, int, str, str, str]]]:
    """One unit of work in a forked process: the scanner and the files were set up before the fork."""
    item, numbers = _WORK[index]
    assert _SCANNER is not None
    return len(numbers), _SCANNER.chunk(item, numbers)


def _jobs() -> int:
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    wanted = os.environ.get("CI_TOOLS_JOBS", "").strip()
    if wanted.isdigit() and int(wanted) > 0:
        cores = min(cores, int(wanted))
    return cores if sys.platform == "linux" else 1  # fork is safe on Linux only


class _Progress:
    """``scanning added lines 12000/60000`` on stderr, for people at a terminal; never in CI nor a pipe."""

    def __init__(self, total: int) -> None:
        ci = os.environ.get("CI", "").strip().lower()
        in_ci = ci not in ("", "0", "false") or os.environ.get("GITHUB_ACTIONS") == "true"
        self.enabled = sys.stderr.isatty() and not in_ci and total > CHUNK_LINES
        self.total, self.done, self.shown = total, 0, 0.0

    def advance(self, lines: int) -> None:
        self.done += lines
        if self.enabled and (time.monotonic() - self.shown > 0.1 or self.done >= self.total):
            sys.stderr.write(f"\rscanning added lines {self.done}/{self.total}")
            sys.stderr.flush()
            self.shown = time.monotonic()

    def close(self) -> None:
        if self.enabled:
            sys.stderr.write("\r" + " " * (len(f"scanning added lines {self.total}/{self.total}") + 1) + "\r")
            sys.stderr.flush()


@dataclass
class Scanned:
    """What was scanned: the hits, the added lines and files scanned, and what was not, with why."""

    hits: list[Hit] = field(default_factory=list)
    lines: int = 0
    files: int = 0
    binary: list[str] = field(default_factory=list)
    filtered: list[str] = field(default_factory=list)  # excluded by detect-secrets' file-name filters


def scan(items: list[ChangedFile], settings: Settings, known: set[tuple[str, str, str]], baseline_name: str,
         skip: frozenset[str] = frozenset()) -> Scanned:
    """Run detect-secrets with ``settings`` over the added lines of ``items``; keep the secrets ``known``
    (the baseline's ``(file, hashed secret, type)`` entries) lacks. ``baseline_name`` and the paths in
    ``skip`` (baseline files: their hashes look like secrets) are not scanned."""
    global _SCANNER
    from detect_secrets.settings import default_settings, get_settings, transient_settings

    from ci_tools.core.redact import register

    out = Scanned()
    with transient_settings(settings.data) if settings.data is not None else default_settings():
        filters = get_settings().filters
        for name in NEVER_APPLIED:
            filters.pop(name, None)
        filters["detect_secrets.filters.common.is_baseline_file"] = {"filename": baseline_name}
        from detect_secrets.settings import get_filters

        get_filters.cache_clear()
        scanner = _Scanner()
        work: list[tuple[ChangedFile, list[int]]] = []
        for item in items:
            if item.path == baseline_name or item.path in skip or not item.added and item.kind is not None:
                continue
            if item.kind is None:
                out.binary.append(item.path)
                continue
            if scanner.skips_file(item.path):
                out.filtered.append(item.path)
                continue
            numbers = sorted(item.added)
            scanner.passes(item)  # transformed once, here, before any fork
            out.files += 1
            out.lines += len(numbers)
            work += [(item, numbers[i:i + CHUNK_LINES]) for i in range(0, len(numbers), CHUNK_LINES)]
        progress = _Progress(out.lines)
        found: list[tuple[str, int, str, str, str]] = []
        jobs = min(_jobs(), len(work))
        try:
            if jobs > 1 and out.lines >= PARALLEL_LINES:
                import multiprocessing

                _WORK[:], _SCANNER = work, scanner
                for stream in (sys.stdout, sys.stderr):
                    stream.flush()
                with multiprocessing.get_context("fork").Pool(jobs) as pool:
                    for count, secrets in pool.imap_unordered(_work, range(len(work))):
                        found += secrets
                        progress.advance(count)
            else:
                for item, numbers in work:
                    found += scanner.chunk(item, numbers)
                    progress.advance(len(numbers))
        finally:
            _WORK.clear()
            _SCANNER = None
            progress.close()
    lines_of = {item.path: item.lines for item in items}
    for path, number, kind, value, hashed in found:
        if not value or (path, hashed, kind) in known:
            continue
        register(value)
        lines = lines_of.get(path, [])
        line = lines[number - 1] if 0 < number <= len(lines) else ""
        col = line.find(value)
        if col >= 0:
            out.hits.append(Hit(path, number, col + 1, col + 1 + len(value), kind))
        else:
            out.hits.append(Hit(path, number, 1, max(2, len(line) + 1), kind))
    out.hits = sorted(set(out.hits), key=lambda h: (h.path, h.line, h.col, h.type))
    out.binary.sort()
    out.filtered.sort()
    return out


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
    scanned: Scanned
    baseline: str | None  # the baseline whose results were accepted, as shown to the reader
    additions: list[BaselineAddition]
    settings: Settings
    settings_changed: bool  # the pull request changes the baseline's plugins_used or filters_used

    @property
    def hits(self) -> list[Hit]:
        return self.scanned.hits


def scan_range(root: Path, base: str, head: str, *, baseline_path: Path | None = None,
               baseline_name: str = DEFAULT_BASELINE, use_baseline: bool = True,
               exclude: list[str] | tuple[str, ...] = ()) -> ScanResult:
    """Scan the lines ``head`` adds since its merge base with ``base``.

    The baseline's ``results`` come from ``head`` (or ``baseline_path``), its settings from the merge
    base (see :func:`settings_for`); the entries the pull request adds to the baseline are returned
    (only for the baseline read from ``head``: an explicit file has no history here).
    """
    before = hygiene_merge_base(root, base, head)

    def keep(path: str) -> bool:
        return not any(fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat.rstrip("/") + "/*") for pat in exclude)

    items = changed_files(root, before, head, keep)
    baseline, display = (None, baseline_name)
    additions: list[BaselineAddition] = []
    settings, changed = Settings(None, "detect-secrets' defaults"), False
    if use_baseline:
        baseline, display = read_baseline(root, head, baseline_path, baseline_name)
        settings = settings_for(root, before, baseline_name, baseline_path)
        if baseline is not None and baseline_path is None and any(i.path == baseline_name for i in items):
            additions = baseline_additions(root, base, head, baseline_name, baseline)
        # a baseline the base lacks, or other settings than the base's: not used until it is merged
        changed = baseline is not None and settings.differs(baseline)
    known = _entries(baseline) if baseline is not None else set()
    scanned = scan(items, settings, known, display, frozenset({baseline_name}))
    return ScanResult(scanned, display if baseline is not None else None, additions, settings, changed)


__all__ = ["BaselineError", "GitError", "Hit", "ScanResult", "Scanned", "Settings", "iter_added", "parse_added_lines",
           "scan", "scan_range", "unquote"]
