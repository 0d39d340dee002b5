#!/usr/bin/env python3
"""Pin the starter workflows' calls of this repository's reusable workflows to a release.

The templates in ``workflow-templates/`` call ``org/ci/.github/workflows/NAME.yml@<sha> # vX.Y.Z``,
the latest release (a commit cannot name itself, so never the one that holds them). When a release
is made, ``release-self.yml`` runs this script to rewrite every such call (whatever its ref, and
dropping any ignore comment) to ``@<release commit> # <release tag>``, then proposes the result to
this repository and, through ``sync-templates.yml``, to the organisation's ``.github`` repository.

    pin_templates.py --repository org/ci --sha SHA --version vX.Y.Z [DIR]
    pin_templates.py --repository org/ci --check [DIR]

``--check`` changes nothing and exits 1 when a call is not pinned to a 40-hex commit with a
``# vX.Y.Z`` comment. Standard library only: it runs with the runner's ``python3``.
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
    args = parser.parse_args(argv)

    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+", args.repository):
        parser.error(f'--repository "{args.repository}" is not owner/name')
    if not args.directory.is_dir():
        print(f"{args.directory}: no such directory", file=sys.stderr)
        return 2
    if args.check:
        problems = 0
        for path in templates(args.directory):
            for line, ref in unpinned(path.read_text(encoding="utf-8"), args.repository):
                print(f'{path.as_posix()}:{line}:1: call of {args.repository} at "{ref}" is not pinned to a '
                      "release; run pin_templates.py with --sha and --version", file=sys.stderr)
                problems += 1
        return 1 if problems else 0
    if not args.sha or not SHA_RE.match(args.sha):
        parser.error(f'--sha "{args.sha or ""}" is not a 40-hex commit')
    if not args.version or not VERSION_RE.match(args.version):
        parser.error(f'--version "{args.version or ""}" is not a vX.Y.Z tag')

    total = 0
    for path in templates(args.directory):
        raw = path.read_bytes()
        text = raw.decode("utf-8")
        new, count = pin_text(text, args.repository, args.sha, args.version)
        total += count
        if new != text:
            atomic_write(path, new.encode("utf-8"))
            print(f"{path.as_posix()}: pinned {count} call(s) to {args.sha} # {args.version}")
    if total == 0:
        print(f"{args.directory}: no call of {args.repository}'s reusable workflows found", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
