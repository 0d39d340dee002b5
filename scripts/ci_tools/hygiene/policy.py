"""What a pull request changes in the policy of the gates that check it.

A pull request can edit what decides what the gates report: the ci-tools configuration
(``.github/ci-tools.toml`` or ``[tool.ci-tools]`` in ``pyproject.toml``: checks switched off or
lowered, paths excluded, owners allowed), the detect-secrets baseline (secrets accepted, plugins and
filters), and comments on its own lines (``# ci-tools: ignore[check-id] reason``,
``pragma: allowlist secret``). Such a change can be right, and a reviewer must see it:
:func:`changes` lists each one, with the place it is written, by comparing the merge base of BASE
and HEAD with HEAD. Everything is read from git objects; nothing is checked out or run.
"""

from __future__ import annotations

import json
import re
import tempfile
import tomllib
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ci_tools.core.config import CONFIG_FILES, config_blobs, key_line
from ci_tools.core.git import git, merge_base, read_blobs
from ci_tools.hygiene.added_text import iter_added
from ci_tools.hygiene.secrets import DEFAULT_BASELINE

ALLOWLIST_RE = re.compile(rb"pragma: ?(?:allow|white)list(?:[ -]nextline)?[ -]secret", re.IGNORECASE)
"""detect-secrets' inline allowlist (``filters/allowlist.py``): the line, or the next one, is not scanned."""
VALUE_WIDTH = 80


@dataclass(frozen=True)
class Change:
    path: str
    line: int
    col: int
    end_col: int
    message: str


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(", ", ": "))
    return text if len(text) <= VALUE_WIDTH else text[:VALUE_WIDTH - 1] + "…"


def _flatten(table: dict, prefix: tuple[str, ...] = ()) -> dict[tuple[str, ...], Any]:
    out: dict[tuple[str, ...], Any] = {}
    for key, value in table.items():
        if isinstance(value, dict) and value:
            out.update(_flatten(value, (*prefix, str(key))))
        else:
            out[(*prefix, str(key))] = value
    return out


def _effective(blobs: dict[str, bytes]) -> tuple[str | None, dict | None, str]:
    """``(file, table, error)``: the configuration in force, as ``find_config`` picks it."""
    for name in CONFIG_FILES:
        if name not in blobs:
            continue
        try:
            data = tomllib.loads(blobs[name].decode("utf-8"))
        except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
            return name, None, str(exc)
        table = data if name != "pyproject.toml" else data.get("tool", {}).get("ci-tools")
        if table is not None:
            return name, table, ""
    return None, None, ""


def config_changes(root: Path, before: str, after: str) -> list[Change]:
    old_blobs, new_blobs = config_blobs(root, before), config_blobs(root, after)
    old_file, old, _ = _effective(old_blobs)
    new_file, new, error = _effective(new_blobs)
    if error:
        return [Change(new_file or "", 1, 1, 2, f"the pull request makes the ci-tools configuration unreadable "
                                                f"({error}); the gates that read it will stop")]
    out: list[Change] = []
    if old_file != new_file:
        if new_file is None:
            return [Change(old_file or "", 1, 1, 2, "the pull request removes the ci-tools configuration: every "
                                                    "check runs with its defaults")]
        out.append(Change(new_file, 1, 1, 2, f"the pull request moves the ci-tools configuration "
                                            f"{'from ' + old_file + ' ' if old_file else ''}to {new_file}"
                                            + (f" (it now takes precedence over {old_file})"
                                               if old_file and new_file == CONFIG_FILES[0] else "")))
    flat_old, flat_new = _flatten(old or {}), _flatten(new or {})
    if flat_old == flat_new:
        return out
    with tempfile.TemporaryDirectory(prefix="ci-tools-policy-") as tmp:
        source = Path(tmp, Path(new_file or "pyproject.toml").name)
        source.write_bytes(new_blobs.get(new_file or "", b""))
        for key in sorted(set(flat_old) | set(flat_new)):
            dotted = ".".join(key)
            if key in flat_old and key in flat_new and flat_old[key] == flat_new[key]:
                continue
            if key not in flat_old:
                what = f'sets "{dotted}" to {_show(flat_new[key])}'
            elif key not in flat_new:
                what = f'removes "{dotted}" (was {_show(flat_old[key])})'
            else:
                what = f'changes "{dotted}" from {_show(flat_old[key])} to {_show(flat_new[key])}'
            line = key_line(source, list(key)) or 1
            out.append(Change(new_file or old_file or "", line, 1, 2,
                              f"the pull request changes the ci-tools configuration: it {what}"))
    return out


def _entries(data: Any) -> dict[tuple[str, str, str], None]:
    out: dict[tuple[str, str, str], None] = {}
    results = data.get("results") if isinstance(data, dict) else None
    for filename, items in (results if isinstance(results, dict) else {}).items():
        for item in items if isinstance(items, list) else []:
            if isinstance(item, dict):
                out[(str(filename), str(item.get("hashed_secret", "")), str(item.get("type", "")))] = None
    return out


def _at(text: str, needle: str) -> tuple[int, int]:
    at = text.find(needle) if needle else -1
    if at < 0:
        return 1, 1
    return text.count("\n", 0, at) + 1, at - (text.rfind("\n", 0, at) + 1) + 1


def baseline_changes(root: Path, before: str, after: str, name: str) -> list[Change]:
    prefix = git(["rev-parse", "--show-prefix"], root).decode("utf-8", "replace").strip()
    old_blob = read_blobs(root, before, [prefix + name]).get(prefix + name)
    new_blob = read_blobs(root, after, [prefix + name]).get(prefix + name)
    if old_blob == new_blob:
        return []
    if new_blob is None:
        return [Change(name, 1, 1, 2, f"the pull request removes {name}: the secrets it accepted are reported again")]
    text = new_blob.decode("utf-8", "replace")
    try:
        new = json.loads(text)
        old = json.loads(old_blob) if old_blob is not None else {}
    except ValueError as exc:
        return [Change(name, 1, 1, 2, f"the pull request makes {name} unreadable ({exc}); the secret scan will stop")]
    out: list[Change] = []
    if old_blob is None:
        out.append(Change(name, 1, 1, 2, f"the pull request adds {name}; the secret scan takes its plugins and "
                                         "filters from the base, so they apply once it is merged"))
    else:
        for key in ("plugins_used", "filters_used"):
            if (new.get(key) if isinstance(new, dict) else None) != (old.get(key) if isinstance(old, dict) else None):
                line, col = _at(text, f'"{key}"')
                out.append(Change(name, line, col, col + len(key) + 2,
                                  f'the pull request changes "{key}" of {name}; the secret scan takes its plugins and '
                                  "filters from the base, so the change applies once it is merged"))
    accepted = [e for e in _entries(new) if e not in _entries(old)]
    if accepted:
        line, col = _at(text, accepted[0][1])
        files = sorted({e[0] for e in accepted})
        out.append(Change(name, line, col, col + max(1, len(accepted[0][1])),
                          f"the pull request adds {len(accepted)} secret{'s' * (len(accepted) != 1)} to the accepted "
                          f"results of {name} ({', '.join(files[:5])}{', …' if len(files) > 5 else ''}); a reviewer "
                          "should confirm none is a real one"))
    return out


def comment_changes(root: Path, before: str, after: str) -> Iterator[Change]:
    from ci_tools.core.findings import IGNORE_RE

    diff = git(["-c", "core.quotePath=true", "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--text",
                "--no-renames", "-U0", "--src-prefix=a/", "--dst-prefix=b/", "--diff-filter=d", before, after, "--"],
               root)
    for path, number, raw in iter_added(diff):
        if b"ci-tools:" not in raw and b"allow" not in raw.lower() and b"white" not in raw.lower():
            continue
        text = raw.decode("utf-8", "replace")
        for m in IGNORE_RE.finditer(text):
            ids = ", ".join(part.strip() for part in m["ids"].split(",") if part.strip()) or "no check"
            reason = m["reason"].strip()
            yield Change(path, number, m.start() + 1, m.start() + 1 + len(m.group(0).rstrip()),
                         f"the pull request adds an ignore comment for {ids}"
                         + (f' ("{reason[:VALUE_WIDTH]}")' if reason else " (without a reason: it suppresses nothing)"))
        pragma = ALLOWLIST_RE.search(raw)
        if pragma:
            col = len(raw[:pragma.start()].decode("utf-8", "replace")) + 1
            nextline = b"nextline" in pragma.group(0).lower()
            yield Change(path, number, col, col + len(pragma.group(0)),
                         "the pull request adds a detect-secrets allowlist comment: the secret scan skips "
                         + ("the next line" if nextline else "this line"))


def changes(root: Path, base: str, head: str, baseline_name: str | None = None, *,
            known_ids: Collection[str] | None) -> list[Change]:
    """Every policy change ``head`` makes since its merge base with ``base``, in file order.

    ``known_ids``: the check ids the base's configuration may name (see :mod:`ci_tools.core.config`)."""
    from ci_tools.core.config import ConfigError, load_config_at

    before = merge_base(root, base, head)
    if baseline_name is None:
        try:
            baseline_name = (load_config_at(root, before, known_ids=known_ids).raw.get("secrets") or {}).get("baseline")
        except ConfigError:
            baseline_name = None
    out = [*config_changes(root, before, head), *baseline_changes(root, before, head, baseline_name or DEFAULT_BASELINE),
           *comment_changes(root, before, head)]
    return sorted(out, key=lambda c: (c.path, c.line, c.col))
