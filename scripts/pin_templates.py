#!/usr/bin/env python3
"""Pin the starter workflows' calls of this repository's reusable workflows to a release.

The templates in ``workflow-templates/`` call ``org/ci/.github/workflows/NAME.yml@<sha> # vX.Y.Z``,
the latest release (a commit cannot name itself, so never the one that holds them). When a release
is made, ``release-self.yml`` runs this script to rewrite every such call (whatever its ref, and
dropping any ignore comment) to ``@<release commit> # <release tag>``, then proposes the result to
this repository and, through ``sync-templates.yml``, to the organisation's ``.github`` repository.

    pin_templates.py --repository org/ci --sha SHA --version vX.Y.Z [DIR] [--docs PATH ...]
    pin_templates.py --repository org/ci --check [DIR] [--docs PATH ...]

``--docs`` names markdown files (or directories, searched for ``*.md``) whose examples call this
repository's actions and reusable workflows: every ``uses:`` line there that names a release
(``@<40-hex> # vX.Y.Z``) moves to the new one; an example at another ref (a placeholder, a branch) is
left as written. ``--check`` changes nothing and exits 1 when a template's call, or a docs example
that names a version, is not pinned to a 40-hex commit with a ``# vX.Y.Z`` comment. Standard library only: it runs with the runner's ``python3``.
Exit status: 0 done, 1 check failed or nothing to pin, 2 usage error.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import tempfile
from pathlib import Path

SHA_RE = re.compile(r"[0-9a-f]{40}\Z")
VERSION_RE = re.compile(r"v\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?\Z")


def call_pattern(repository: str) -> re.Pattern[str]:
    """A ``uses:`` line calling a reusable workflow of ``repository``; groups: head, quote, target, ref, rest."""
    return re.compile(
        r"^(?P<head>[ \t]*(?:-[ \t]+)?uses:[ \t]*)(?P<q>['\"]?)"
        rf"(?P<target>{re.escape(repository)}/\.github/workflows/[^@\s'\"#]+)@(?P<ref>[^\s'\"#]*)(?P=q)"
        r"(?P<rest>[ \t]*(?:#[^\r\n]*)?)(?=\r?$)",
        re.IGNORECASE | re.MULTILINE,
    )


def example_pattern(repository: str) -> re.Pattern[str]:
    """A markdown example's ``uses:`` line calling an action or reusable workflow of ``repository``
    at a release (``@<sha> # vX.Y.Z``); groups: head, target, sha, version."""
    return re.compile(
        r"^(?P<head>[ \t]*(?:-[ \t]+)?uses:[ \t]*)"
        rf"(?P<target>{re.escape(repository)}/(?:actions/|\.github/workflows/)[^@\s'\"#]+)"
        r"@(?P<sha>[^\s'\"#]*)[ \t]+#[ \t]*(?P<version>v\S*)[ \t]*(?=\r?$)",
        re.IGNORECASE | re.MULTILINE,
    )


def pin_examples(text: str, repository: str, sha: str, version: str) -> tuple[str, int]:
    """The markdown with every example that names a release moved to this one, and their number."""
    count = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal count
        if not (SHA_RE.match(m["sha"]) and VERSION_RE.match(m["version"])):
            return m[0]  # a placeholder (@<sha> # vX.Y.Z) or a tag: not a release of ours to move
        count += 1
        return f"{m['head']}{m['target']}@{sha} # {version}"

    return example_pattern(repository).sub(replace, text), count


def unpinned_examples(text: str, repository: str) -> list[tuple[int, str]]:
    """(line, ref) of examples that name a version but not as ``@<sha> # vX.Y.Z``."""
    return [(text.count("\n", 0, m.start()) + 1, m["sha"]) for m in example_pattern(repository).finditer(text)
            if VERSION_RE.match(m["version"]) and not SHA_RE.match(m["sha"])]


def markdown_files(paths: list[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        found.extend(sorted(path.rglob("*.md")) if path.is_dir() else [path])
    return found


def pin_text(text: str, repository: str, sha: str, version: str) -> tuple[str, int]:
    """The text with every call pinned, and the number of calls found."""
    count = 0

    def replace(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"{m['head']}{m['q']}{m['target']}@{sha}{m['q']} # {version}"

    return call_pattern(repository).sub(replace, text), count


def unpinned(text: str, repository: str) -> list[tuple[int, str]]:
    """(line, ref) of calls that are not ``@<sha> # vX.Y.Z``."""
    out = []
    for m in call_pattern(repository).finditer(text):
        comment = m["rest"].strip().lstrip("#").strip()
        if not (SHA_RE.match(m["ref"]) and VERSION_RE.match(comment)):
            out.append((text.count("\n", 0, m.start()) + 1, m["ref"]))
    return out


def templates(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in (".yml", ".yaml"))


def atomic_write(path: Path, data: bytes) -> None:
    mode = path.stat().st_mode & 0o7777
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("directory", nargs="?", type=Path, default=Path("workflow-templates"))
    parser.add_argument("--repository", required=True, help="owner/name of the repository whose workflows are called")
    parser.add_argument("--sha", help="the release commit (40 hex digits)")
    parser.add_argument("--version", help="the release tag, vX.Y.Z")
    parser.add_argument("--check", action="store_true", help="report unpinned calls, change nothing")
    parser.add_argument("--docs", nargs="+", type=Path, default=[], metavar="PATH",
                        help="markdown files or directories whose examples that name a release move with it")
    args = parser.parse_args(argv)

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+", args.repository):
        parser.error(f'--repository "{args.repository}" is not owner/name')
    if not args.directory.is_dir():
        print(f"{args.directory}: no such directory", file=sys.stderr)
        return 2
    for path in args.docs:
        if not path.exists():
            print(f"{path}: no such file or directory", file=sys.stderr)
            return 2
    docs = markdown_files(args.docs)
    if args.check:
        problems = 0
        for path in templates(args.directory):
            for line, ref in unpinned(path.read_text(encoding="utf-8"), args.repository):
                print(f'{path.as_posix()}:{line}:1: call of {args.repository} at "{ref}" is not pinned to a '
                      "release; run pin_templates.py with --sha and --version", file=sys.stderr)
                problems += 1
        for path in docs:
            for line, ref in unpinned_examples(path.read_text(encoding="utf-8"), args.repository):
                print(f'{path.as_posix()}:{line}:1: example calling {args.repository} at "{ref}" names a version '
                      "but not a commit; run pin_templates.py with --sha and --version", file=sys.stderr)
                problems += 1
        return 1 if problems else 0
    if not args.sha or not SHA_RE.match(args.sha):
        parser.error(f'--sha "{args.sha or ""}" is not a 40-hex commit')
    if not args.version or not VERSION_RE.match(args.version):
        parser.error(f'--version "{args.version or ""}" is not a vX.Y.Z tag')

    total = 0
    # every file is read and rewritten in memory first: a file that cannot be read changes nothing
    changes: list[tuple[Path, str, int]] = []
    for path, pin in [(p, pin_text) for p in templates(args.directory)] + [(p, pin_examples) for p in docs]:
        text = path.read_bytes().decode("utf-8")
        new, count = pin(text, args.repository, args.sha, args.version)
        total += count if pin is pin_text else 0
        if new != text:
            changes.append((path, new, count))
    for path, new, count in changes:
        atomic_write(path, new.encode("utf-8"))
        print(f"{path.as_posix()}: pinned {count} call(s) to {args.sha} # {args.version}")
    if total == 0:
        print(f"{args.directory}: no call of {args.repository}'s reusable workflows found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
