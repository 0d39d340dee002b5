"""``ci-tools diff BASE [HEAD]``: what changed between two revisions, for callers and reviewers.

Both revisions are read with ``git show REV:path`` (nothing is checked out). ``HEAD`` defaults to
the working tree, uncommitted changes included, which is what a reviewer of a local change wants;
pass ``HEAD`` (or any revision) to compare commits, as the release workflow does.

Reported:

- pins added, removed and changed (old version → new version, with the upstream compare link
  ``https://github.com/OWNER/REPO/compare/OLD...NEW``), for actions, reusable workflows and images;
- for this repository's own reusable workflows and actions, the interface changes a caller must act
  on, each breaking or compatible with the semver bump it implies (:mod:`ci_tools.interface`),
  rendered as release notes.

Formats: ``markdown`` (default) and ``json``.
"""

from __future__ import annotations

import argparse
from pathlib import Path

NAME = "diff"
HELP = "pins and caller-facing interface changes between two git revisions, as release notes"
WORKTREE = None
SERVER = "https://github.com"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", metavar="BASE", help="the older revision (tag, branch or commit)")
    parser.add_argument("head", nargs="?", metavar="HEAD",
                        help="the newer revision (default: the working tree, uncommitted changes included)")
    parser.add_argument("--format", choices=("markdown", "json"), default="markdown",
                        help="output format (default: markdown)")
    parser.add_argument("--output", type=Path, metavar="FILE", help="write the notes to FILE")
    parser.add_argument("--config", type=Path, help="configuration file")
    parser.add_argument("--root", type=Path, help="repository root (default: the nearest directory with .git)")


# ---------------------------------------------------------------------------- reading
def _git(root: Path, *args: str) -> str:
    import subprocess

    from ci_tools.cli import FatalError

    try:
        done = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, encoding="utf-8",
                              errors="surrogateescape")
    except FileNotFoundError:
        raise FatalError("git is not installed") from None
    if done.returncode != 0:
        raise LookupError((done.stderr.strip().splitlines() or ["git failed"])[-1])
    return done.stdout


def _wanted(path: str, exclude: list[str]) -> bool:
    import fnmatch

    p = Path(path)
    if p.suffix not in (".yml", ".yaml"):
        return False
    interesting = (path.startswith(".github/workflows/") and p.parent.as_posix() == ".github/workflows") or (
        p.parent.as_posix() == "workflow-templates") or p.name in ("action.yml", "action.yaml")
    if not interesting:
        return False
    return not any(fnmatch.fnmatch(path, pat) or fnmatch.fnmatch(path, pat.rstrip("/") + "/*") for pat in exclude)


def read_revision(root: Path, rev: str | None, exclude: list[str]) -> list:
    """Documents of the workflows, templates and actions at ``rev`` (None: the working tree)."""
    from ci_tools.source import classify, load, load_text

    if rev is None:
        listed = _git(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
        paths = sorted(p for p in listed if p and _wanted(p, exclude) and (root / p).is_file())
        return [load(root / p, root=root, display=p) for p in paths]
    listed = _git(root, "ls-tree", "-r", "-z", "--name-only", rev).split("\0")
    docs = []
    for path in sorted(p for p in listed if p and _wanted(p, exclude)):
        text = _git(root, "show", f"{rev}:{path}")
        docs.append(load_text(text, path, classify(Path(path))))
    return docs


# ------------------------------------------------------------------------------- pins
def pins(docs: list) -> dict[str, dict]:
    """``name (lower-cased) -> {"name", "repository", "kind", "refs": {ref: version}}``."""
    from ci_tools.inventory import build

    out: dict[str, dict] = {}
    for dep in build(docs).dependencies:
        entry = out.setdefault(f"{dep.kind}:{dep.name.lower()}", {"name": dep.name, "repository": dep.repository,
                                                                   "kind": dep.kind, "refs": {}})
        ref = dep.sha or dep.ref
        entry["refs"][ref] = dep.version if dep.version != ref else None
    return out


def pin_changes(old: dict[str, dict], new: dict[str, dict]) -> list[dict]:
    changes = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key), new.get(key)
        entry = b or a
        assert entry is not None
        base = {"name": entry["name"], "kind": entry["kind"]}
        if a is None:
            for ref, version in sorted(b["refs"].items()):  # type: ignore[index]
                changes.append({**base, "change": "added", "old": None, "old_version": None, "new": ref,
                                "new_version": version, "compare": None})
            continue
        if b is None:
            for ref, version in sorted(a["refs"].items()):
                changes.append({**base, "change": "removed", "old": ref, "old_version": version, "new": None,
                                "new_version": None, "compare": None})
            continue
        gone = sorted(set(a["refs"]) - set(b["refs"]))
        came = sorted(set(b["refs"]) - set(a["refs"]))
        for i in range(max(len(gone), len(came))):
            o = gone[i] if i < len(gone) else None
            n = came[i] if i < len(came) else None
            link = None
            if o and n and entry["kind"] != "image":
                link = f"{SERVER}/{entry['repository']}/compare/{o}...{n}"
            changes.append({**base, "change": "changed" if o and n else ("added" if n else "removed"),
                            "old": o, "old_version": a["refs"].get(o) if o else None, "new": n,
                            "new_version": b["refs"].get(n) if n else None, "compare": link})
    return changes


# ------------------------------------------------------------------------------ render
def _ref(ref: str | None, version: str | None) -> str:
    if not ref:
        return ""
    short = ref[:12] if len(ref) in (40, 64) else ref
    return f"{version} (`{short}`)" if version else f"`{short}`"


def render_markdown(result: dict, out) -> None:
    out.write(f"# Changes from {result['base']} to {result['head']}\n\n")
    out.write(f"Semver bump these changes imply: **{result['bump']}**.\n\n")
    out.write("## What a caller must act on\n\n")
    breaking = [c for c in result["interface"] if c["breaking"]]
    compatible = [c for c in result["interface"] if not c["breaking"]]
    if breaking:
        out.write("### Breaking changes (major)\n\n")
        for c in breaking:
            out.write(f"- `{c['path']}`: {c['message']}\n")
        out.write("\n")
    if compatible:
        out.write("### Compatible changes\n\n")
        for c in compatible:
            out.write(f"- `{c['path']}`: {c['message']} ({c['bump']})\n")
        out.write("\n")
    if not breaking and not compatible:
        out.write("Nothing: no input, secret, output, job or permission of a reusable workflow or action "
                  "changed.\n\n")
    out.write("## Pinned dependencies\n\n")
    if not result["pins"]:
        out.write("No pin changed.\n")
        return
    out.write("| Dependency | Change | Old | New | Compare |\n|---|---|---|---|---|\n")
    for p in result["pins"]:
        link = f"[{p['old'][:7]}...{p['new'][:7]}]({p['compare']})" if p["compare"] else ""
        out.write(f"| `{p['name']}` | {p['change']} | {_ref(p['old'], p['old_version'])} | "
                  f"{_ref(p['new'], p['new_version'])} | {link} |\n")


def run(args: argparse.Namespace) -> int:
    import io
    import json
    import sys

    from ci_tools import interface
    from ci_tools.cli import UsageError
    from ci_tools.config import load_settings
    from ci_tools.redact import redact

    root, config = load_settings(args)
    revs = {}
    for label, rev in (("BASE", args.base), ("HEAD", args.head)):
        if rev is None:
            continue
        try:
            revs[label] = _git(root, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{rev}^{{commit}}").strip()
        except LookupError:
            raise UsageError(f'{label} "{rev}" is not a commit of the repository at "{root.name}"') from None
    try:
        old_docs = read_revision(root, revs["BASE"], config.exclude)
        new_docs = read_revision(root, revs.get("HEAD"), config.exclude)
    except LookupError as exc:
        raise UsageError(f"cannot read the revisions: {exc}") from None
    problems = [f for d in old_docs + new_docs for f in d.findings if f.check == "syntax"]
    for f in problems:
        sys.stderr.write(f"{f.location.path}:{f.location.line}:{f.location.col}: {f.message} [syntax] "
                         "(its interface was not compared)\n")
    old_if = {d.display: i for d in old_docs if (i := interface.extract(d)) is not None}
    new_if = {d.display: i for d in new_docs if (i := interface.extract(d)) is not None}
    changes = []
    for path in sorted(old_if.keys() | new_if.keys()):
        changes.extend(interface.compare(old_if.get(path), new_if.get(path)))
    pin_list = pin_changes(pins(old_docs), pins(new_docs))
    result = {
        "version": 1,
        "base": args.base,
        "head": args.head or "working tree",
        "base_commit": revs["BASE"],
        "head_commit": revs.get("HEAD"),
        "bump": interface.bump(changes),
        "breaking": any(c.breaking for c in changes),
        "interface": [c.as_dict() for c in changes],
        "pins": pin_list,
    }
    buffer = io.StringIO()
    if args.format == "json":
        json.dump(result, buffer, indent=2, ensure_ascii=False)
        buffer.write("\n")
    else:
        render_markdown(result, buffer)
    text = redact(buffer.getvalue())
    if args.output:
        from ci_tools.fsutil import atomic_write_text

        atomic_write_text(args.output, text)
    else:
        sys.stdout.write(text)
    return 0
