"""What changed between two revisions, for callers and reviewers (``ci-tools diff BASE [HEAD]``).

Both revisions are read with ``git show REV:path`` (nothing is checked out). ``HEAD`` defaults to
the working tree, uncommitted changes included, which is what a reviewer of a local change wants;
pass ``HEAD`` (or any revision) to compare commits, as the release workflow does.

Reported:

- pins added, removed and changed (old version → new version, with the upstream compare link
  ``https://github.com/OWNER/REPO/compare/OLD...NEW``), for actions, reusable workflows and images.
  A pin is paired with the one standing in its place, not by order: the same file, job and step
  (by ``id``, then ``name``, then its place among the job's steps using that dependency; see
  :func:`pair`), so a step inserted or moved changes no pair. A change at several places is one row
  listing them; a ref is *added* or *removed* only when no change accounts for it;
- files that could not be compared: over the size limit of ``check`` (applied to both sides
  alike, without reading the file), not UTF-8, or not YAML, on either side. They are listed as
  *skipped* with the reason, and neither their pins nor their interface count as removed or added.
- for this repository's own reusable workflows and actions, the interface changes a caller must act
  on, each breaking or compatible with the semver bump it implies (:mod:`ci_tools.gha.interface`),
  rendered as release notes.

Formats: ``markdown`` (default) and ``json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ci_tools.gha.source import Document

SERVER = "https://github.com"


# ---------------------------------------------------------------------------- reading
def git_text(root: Path, *args: str) -> str:
    return _git_bytes(root, *args).decode("utf-8", "surrogateescape")


def _git_bytes(root: Path, *args: str, input: bytes | None = None) -> bytes:
    """:func:`ci_tools.core.git.git`; a failure of git is a LookupError with git's last line."""
    from ci_tools.core.git import GitError, git
    from ci_tools.errors import FatalError

    try:
        return git(list(args), root, input=input)
    except GitError as exc:
        if exc.returncode is None:
            raise FatalError(str(exc)) from None
        raise LookupError(exc.last_line) from None


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


def _printable(name: str) -> str:
    """A path as git listed it, its bytes that are not UTF-8 shown as U+FFFD (as the other side reads it)."""
    return name.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


@dataclass
class Revision:
    """The documents of one side, and the files of that side that could not be compared, with why."""

    docs: dict[str, Document] = field(default_factory=dict)
    skipped: dict[str, tuple[str, str]] = field(default_factory=dict)  # path -> (reason, detail)


def _too_large(size: int) -> tuple[str, str]:
    from ci_tools.gha.source import MAX_FILE_BYTES

    return "too large", f"{size} bytes, over the {MAX_FILE_BYTES}-byte limit"


def _keep(side: Revision, path: str, doc: Document) -> None:
    """A document whose YAML could not be read is skipped, with the first reason its findings give."""
    if doc.root is not None:
        side.docs[path] = doc
        return
    problem = next((f.message for f in doc.findings if f.check == "syntax"), "no YAML document")
    reason = "not UTF-8" if problem.startswith("invalid UTF-8") else (
        "too large" if "-byte limit" in problem else "not readable")
    side.skipped[path] = (reason, problem)
    side.docs[path] = doc  # its syntax findings are printed


def read_revision(root: Path, rev: str | None, exclude: list[str]) -> Revision:
    """The workflows, templates and actions at ``rev`` (None: the working tree).

    Both sides are read the same way, as bytes, with the same size limit as ``check``
    (:data:`ci_tools.gha.source.MAX_FILE_BYTES`): a file over it is not read at all, a file that is not
    UTF-8 or not YAML is not parsed further; either is *skipped*, never taken for a removal.
    """
    from ci_tools.gha.source import MAX_FILE_BYTES, Document, classify, load, load_bytes

    side = Revision()
    if rev is None:
        listed = git_text(root, "ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
        for name in sorted(p for p in listed if p and _wanted(p, exclude) and (root / p).is_file()):
            path = _printable(name)
            if (root / name).is_symlink():
                side.skipped[path] = ("symbolic link", "a symbolic link is not followed")
                continue
            size = (root / name).stat().st_size
            if size > MAX_FILE_BYTES:
                side.skipped[path] = _too_large(size)
                continue
            _keep(side, path, load(root / name, root=root, display=path))
        return side
    wanted: list[tuple[str, str]] = []
    for entry in _git_bytes(root, "ls-tree", "-r", "-z", "-l", "--full-tree", rev).split(b"\0"):
        if not entry:
            continue
        meta, _, raw_path = entry.partition(b"\t")
        mode, kind, oid, length = meta.split()
        path = raw_path.decode("utf-8", "replace")
        if kind != b"blob" or not _wanted(path, exclude):
            continue
        if mode == b"120000":
            side.skipped[path] = ("symbolic link", "a symbolic link is not followed")
        elif int(length) > MAX_FILE_BYTES:
            side.skipped[path] = _too_large(int(length))
        else:
            wanted.append((path, oid.decode()))
    if wanted:
        blobs = _git_bytes(root, "cat-file", "--batch", input="".join(f"{oid}\n" for _, oid in wanted).encode())
        pos = 0
        for path, _ in wanted:
            header_end = blobs.index(b"\n", pos)
            size = int(blobs[pos:header_end].split()[2])
            raw = blobs[header_end + 1:header_end + 1 + size]
            pos = header_end + 1 + size + 1
            doc = Document(path=Path(path), display=path, kind=classify(Path(path)), text="")
            _keep(side, path, load_bytes(raw, doc))
    return side


# ------------------------------------------------------------------------------- pins
@dataclass(frozen=True)
class Occurrence:
    """One place a pinned dependency stands: file, job, and the step (or container, service)."""

    kind: str
    key: str  # kind and lower-cased name: occurrences of different keys never pair
    name: str
    repository: str
    ref: str
    version: str | None
    path: str
    job: str | None
    where: str  # "step", "job" (a reusable workflow call), "container" or "service NAME"
    step_id: str | None
    step_name: str | None
    ordinal: int  # 1-based position among the steps of its job using the same dependency
    order: tuple[int, int]  # line and column, for file order

    @property
    def step(self) -> str:
        """How a reader finds it: the step's id, else its name, else its place among its kind."""
        if self.where != "step":
            return self.where
        return self.step_id or self.step_name or f"#{self.ordinal}"


def occurrences(docs: list[Document]) -> list[Occurrence]:
    """Every use of an action, reusable workflow or image, where it stands."""
    from ci_tools.gha.source import (
        ScalarNode,
        iter_images,
        iter_jobs,
        iter_uses,
        mapping_get,
        mapping_items,
        scalar_text,
    )
    from ci_tools.review.inventory import build

    places: dict[tuple[str, int, int], tuple[str, str | None, str | None]] = {}
    for doc in docs:
        for site in iter_uses(doc):
            step_id = step_name = None
            if site.step is not None:
                step_id = scalar_text(mapping_get(site.step.node, "id"))
                step_name = scalar_text(mapping_get(site.step.node, "name"))
            loc = doc.location(site.node)
            places[(doc.display, loc.line, loc.col)] = (site.where, step_id, step_name)
        services = {}
        for _, _, job in iter_jobs(doc):
            for key, service in mapping_items(mapping_get(job, "services")):
                node = service if isinstance(service, ScalarNode) else mapping_get(service, "image")
                services[id(node)] = f"service {key.value}"
        for image in iter_images(doc):
            if image.where in ("container", "service"):
                loc = doc.location(image.node)
                where = services.get(id(image.node), "service") if image.where == "service" else "container"
                places[(doc.display, loc.line, loc.col)] = (where, None, None)
    out: list[Occurrence] = []
    for dep in build(docs).dependencies:
        for use in dep.uses:
            where, step_id, step_name = places.get((use.path, use.line, use.col), ("step", None, None))
            out.append(Occurrence(dep.kind, f"{dep.kind}:{dep.name.lower()}", dep.name, dep.repository,
                                  dep.sha or dep.ref, dep.version if dep.version != (dep.sha or dep.ref) else None,
                                  use.path, use.job, where, step_id, step_name, 0, (use.line, use.col)))
    out.sort(key=lambda o: (o.path, o.order))
    counters: dict[tuple, int] = {}
    numbered = []
    for o in out:
        group = (o.key, o.path, o.job, o.where)
        counters[group] = counters.get(group, 0) + 1
        numbered.append(replace(o, ordinal=counters[group]))
    return numbered


def pair(old: list[Occurrence], new: list[Occurrence]) -> tuple[list[tuple[Occurrence, Occurrence]],
                                                                    list[Occurrence], list[Occurrence]]:
    """Pair each old occurrence with the new one standing in its place: ``(pairs, gone, came)``.

    Only occurrences of the same dependency pair, in rounds, each pairing what it identifies
    without doubt (one candidate on each side) among what earlier rounds left:

    1. the same file, job and step ``id``; 2. the same file, job and step ``name``; 3. the same
       file and job for a reusable workflow call, a job's container or a named service;
    4. within one file and job, steps in order: when both sides have as many left, the n-th with the
       n-th (a step of another action inserted or moved changes nothing); otherwise first those
       whose ref did not change, then in order;
    5. across files (a renamed workflow): the same job and step id, then name; and, last, when one
       occurrence of the dependency is left on each side, those two.
    """
    pairs: list[tuple[Occurrence, Occurrence]] = []
    left_old, left_new = list(old), list(new)

    def unique_round(key) -> None:
        nonlocal left_old, left_new
        a: dict = {}
        b: dict = {}
        for o in left_old:
            k = key(o)
            if k is not None:
                a.setdefault((o.key, k), []).append(o)
        for n in left_new:
            k = key(n)
            if k is not None:
                b.setdefault((n.key, k), []).append(n)
        used_old, used_new = set(), set()
        for k, olds in a.items():
            news = b.get(k, [])
            if len(olds) == 1 and len(news) == 1:
                pairs.append((olds[0], news[0]))
                used_old.add(id(olds[0]))
                used_new.add(id(news[0]))
        left_old = [o for o in left_old if id(o) not in used_old]
        left_new = [n for n in left_new if id(n) not in used_new]

    unique_round(lambda o: (o.path, o.job, o.where, "id", o.step_id) if o.step_id else None)
    unique_round(lambda o: (o.path, o.job, o.where, "name", o.step_name) if o.step_name else None)
    unique_round(lambda o: (o.path, o.job, o.where) if o.where != "step" else None)
    # 4: in order within a file and job
    groups_old: dict = {}
    groups_new: dict = {}
    for o in left_old:
        groups_old.setdefault((o.key, o.path, o.job, o.where), []).append(o)
    for n in left_new:
        groups_new.setdefault((n.key, n.path, n.job, n.where), []).append(n)
    used_old, used_new = set(), set()
    for group, olds in groups_old.items():
        olds, news = list(olds), list(groups_new.get(group, []))
        matched: list[tuple[Occurrence, Occurrence]] = []
        if len(olds) != len(news):
            for o in list(olds):
                same = next((n for n in news if n.ref == o.ref), None)
                if same is not None:
                    matched.append((o, same))
                    olds.remove(o)
                    news.remove(same)
        matched += zip(olds, news, strict=False)  # the longer side's rest is added or removed
        pairs.extend(matched)
        used_old |= {id(o) for o, _ in matched}
        used_new |= {id(n) for _, n in matched}
    left_old = [o for o in left_old if id(o) not in used_old]
    left_new = [n for n in left_new if id(n) not in used_new]
    unique_round(lambda o: (o.job, o.where, "id", o.step_id) if o.step_id else None)
    unique_round(lambda o: (o.job, o.where, "name", o.step_name) if o.step_name else None)
    unique_round(lambda o: "last")
    return pairs, left_old, left_new


def pin_changes(old: list[Occurrence], new: list[Occurrence]) -> list[dict]:
    """Changed pins (one row per dependency, old ref and new ref, with every place it changed), then
    refs used in one revision only that no change explains: added and removed."""
    pairs, gone, came = pair(old, new)
    rows: dict[tuple, dict] = {}

    def row(o: Occurrence | None, n: Occurrence | None, change: str) -> dict:
        entry = n or o
        assert entry is not None
        key = (entry.key, o.ref if o else None, n.ref if n else None)
        if key not in rows:
            link = None
            if o and n and entry.kind != "image":
                link = f"{SERVER}/{entry.repository}/compare/{o.ref}...{n.ref}"
            rows[key] = {"name": entry.name, "kind": entry.kind, "change": change,
                         "old": o.ref if o else None, "old_version": o.version if o else None,
                         "new": n.ref if n else None, "new_version": n.version if n else None,
                         "compare": link, "sites": []}
        return rows[key]

    explained_old: set[tuple[str, str]] = set()
    explained_new: set[tuple[str, str]] = set()
    for o, n in pairs:
        if o.ref == n.ref:
            explained_old.add((o.key, o.ref))
            explained_new.add((n.key, n.ref))
            continue
        row(o, n, "changed")["sites"].append(_site(n))
        explained_old.add((o.key, o.ref))
        explained_new.add((n.key, n.ref))
    still_old = {(o.key, o.ref) for o in old}
    still_new = {(n.key, n.ref) for n in new}
    for o in gone:
        if (o.key, o.ref) not in explained_old and (o.key, o.ref) not in still_new:
            row(o, None, "removed")["sites"].append(_site(o))
    for n in came:
        if (n.key, n.ref) not in explained_new and (n.key, n.ref) not in still_old:
            row(None, n, "added")["sites"].append(_site(n))
    order = {"changed": 0, "added": 1, "removed": 2}
    return sorted(rows.values(), key=lambda r: (r["name"].lower(), r["kind"], order[r["change"]],
                                                r["old"] or "", r["new"] or ""))


def _site(o: Occurrence) -> dict:
    return {"path": o.path, "job": o.job, "step": o.step}


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
    else:
        out.write("| Dependency | Change | Old | New | Compare | Where |\n|---|---|---|---|---|---|\n")
        for p in result["pins"]:
            link = f"[{p['old'][:7]}...{p['new'][:7]}]({p['compare']})" if p["compare"] else ""
            where = "<br>".join(_where(site) for site in p["sites"])
            out.write(f"| `{p['name']}` | {p['change']} | {_ref(p['old'], p['old_version'])} | "
                      f"{_ref(p['new'], p['new_version'])} | {link} | {where} |\n")
    if result["skipped"]:
        out.write("\n## Not compared\n\n")
        for s in result["skipped"]:
            out.write(f"- `{s['path']}`: skipped: {s['reason']} ({_sides(s)}); its pins and interface were not "
                      "compared\n")


def _where(site: dict) -> str:
    from ci_tools.core.markdown import code_span, table_cell

    job = f", job {code_span(site['job'])}" if site["job"] else ""
    step = f", {table_cell(site['step'])}" if site["step"] in ("container",) or site["step"].startswith("service ") \
        else (f", step {code_span(site['step'])}" if site["step"] not in ("job",) else "")
    return f"{code_span(site['path'])}{job}{step}"


def _sides(skipped: dict) -> str:
    if skipped["base"] == skipped["head"]:
        return f"{skipped['base']}, in both revisions"
    parts = [f"{label}: {skipped[key]}" for key, label in (("base", "BASE"), ("head", "HEAD")) if skipped[key]]
    return "; ".join(parts)


def compare(root: Path, base: str, head: str | None, exclude: list[str]) -> tuple[dict[str, Any], list[str]]:
    """The pin and interface changes from commit ``base`` to commit ``head`` (None: the working tree),
    as the versioned document (without the names the user gave) and the warnings about skipped files.
    A revision git cannot read raises LookupError."""
    from ci_tools.gha import interface

    old = read_revision(root, base, exclude)
    new = read_revision(root, head, exclude)
    warnings: list[str] = []
    skipped_paths = sorted(old.skipped.keys() | new.skipped.keys())
    skipped = []
    for path in skipped_paths:
        a, b = old.skipped.get(path), new.skipped.get(path)
        first = a or b
        if first is None:  # cannot happen: the path was skipped on one side at least
            continue
        reason = f"{a[0]}, {b[0]}" if a and b and a[0] != b[0] else first[0]
        skipped.append({"path": path, "reason": reason, "base": a[1] if a else None, "head": b[1] if b else None})
        for label, side in (("BASE", old), ("HEAD", new)):
            doc = side.docs.get(path)
            problems = [f for f in doc.findings if f.check == "syntax"] if doc is not None else []
            for f in problems[:1]:
                warnings.append(f"{f.location.path}:{f.location.line}:{f.location.col}: {f.message} [syntax] "
                                f"in {label}; skipped: its pins and interface were not compared")
            if not problems and path in side.skipped:
                warnings.append(f"{path}: skipped in {label}: {side.skipped[path][0]} ({side.skipped[path][1]}); "
                                "its pins and interface were not compared")
    old_docs = [d for p, d in old.docs.items() if p not in skipped_paths]
    new_docs = [d for p, d in new.docs.items() if p not in skipped_paths]
    old_if = {d.display: i for d in old_docs if (i := interface.extract(d)) is not None}
    new_if = {d.display: i for d in new_docs if (i := interface.extract(d)) is not None}
    changes = []
    for path in sorted(old_if.keys() | new_if.keys()):
        changes.extend(interface.compare(old_if.get(path), new_if.get(path)))
    result = {
        "base_commit": base,
        "head_commit": head,
        "bump": interface.bump(changes),
        "breaking": any(c.breaking for c in changes),
        "interface": [c.as_dict() for c in changes],
        "pins": pin_changes(occurrences(old_docs), occurrences(new_docs)),
        "skipped": skipped,
    }
    return result, warnings
