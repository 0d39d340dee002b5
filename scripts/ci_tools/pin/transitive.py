"""Transitive audit (``verify --online --transitive``, ``report --online``): what pinned actions run.

For every remote action or reusable workflow pinned to a commit, its ``action.yml`` (or the workflow
file) is read at that commit through :meth:`Resolver.get_file` (GitHub's contents API, or git) and
reported:

- ``transitive-unpinned``: a ``uses:`` or container image inside it that is not pinned to a full
  commit SHA or digest: GitHub's policy that requires full-SHA pins rejects the whole run;
- ``deprecated-runtime``: a JavaScript action declaring a Node runtime GitHub has deprecated.

Composite actions and reusable workflows are followed into the actions they use, breadth first, to
``depth`` levels; an unpinned ref inside is resolved (one ``refs`` lookup per repository) so the
audit can go on below it. Each ``(repository, path, commit)`` is fetched once, and each repository's
refs are asked for at most once, however many files and levels reach them.

Findings point at the ``uses:`` in this repository through which the problem is reached, so an
ignore comment there silences them, and their message names the chain.
"""

from __future__ import annotations

import datetime as _dt
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.resolve.base import NotFound, Resolver, repo_key, resolve_ref
from ci_tools.gha.source import Document, iter_images, iter_uses, load_text, mapping_get, scalar_text
from ci_tools.gha.uses import REMOTE, image_is_pinned, parse_uses

DEFAULT_DEPTH = 3
UNPINNED = "transitive-unpinned"
RUNTIME = "deprecated-runtime"

# GitHub's deprecations of the Node runtimes JavaScript actions declare in `runs.using`
# (github.blog changelog): the date each was announced as deprecated, and what followed.
DEPRECATED_RUNTIMES: dict[str, tuple[_dt.date, str]] = {
    "node12": (_dt.date(2022, 9, 22), "deprecated in September 2022; runners no longer provide it"),
    "node16": (_dt.date(2023, 9, 22), "deprecated in September 2023; runners force it to Node 20 since June 2024"),
    "node20": (_dt.date(2025, 9, 19), "deprecated in September 2025; runners default to Node 24 since June 2026 "
                                      "and removed Node 20 in September 2026"),
}


def deprecated_runtime(using: str | None, today: _dt.date | None = None) -> str | None:
    """Why ``using`` is deprecated on ``today``, or None."""
    if not using:
        return None
    entry = DEPRECATED_RUNTIMES.get(using.strip().lower())
    if entry is None:
        return None
    since, why = entry
    return why if (today or _dt.date.today()) >= since else None


@dataclass
class Item:
    repo: str
    path: str  # directory of the action ("" for the root) or the reusable workflow file
    sha: str
    workflow: bool
    chain: tuple[str, ...]  # labels from the top-level reference down to this item
    roots: list = field(default_factory=list)  # (Document, ScalarNode) in this repository reaching it

    @property
    def key(self) -> tuple[str, str, str]:
        return repo_key(self.repo), self.path, self.sha

    @property
    def name(self) -> str:
        return self.repo + (f"/{self.path}" if self.path else "")


@dataclass
class Audit:
    findings: list[Finding] = field(default_factory=list)
    edges: dict[str, set[str]] = field(default_factory=dict)  # "owner/repo[/path]" -> what it uses
    runtimes: dict[str, str] = field(default_factory=dict)  # "owner/repo[/path]@sha" -> runs.using
    fetched: int = 0
    missing: list[str] = field(default_factory=list)

    def __iter__(self):
        return iter(self.findings)


class _Refs:
    """Each repository's refs, asked for at most once across threads."""

    def __init__(self, resolver: Resolver) -> None:
        self.resolver = resolver
        self.lock = threading.Lock()
        self.locks: dict[str, threading.Lock] = {}
        self.found: dict[str, object] = {}

    def get(self, repo: str):
        key = repo_key(repo)
        with self.lock:
            lock = self.locks.setdefault(key, threading.Lock())
        with lock:
            if key not in self.found:
                try:
                    self.found[key] = self.resolver.refs(repo)
                except NotFound:
                    self.found[key] = None
            return self.found[key]


def audit(docs: list[Document], resolver: Resolver, *, depth: int = DEFAULT_DEPTH, jobs: int = 16,
          today: _dt.date | None = None, resolved=None, **_ignored) -> Audit:
    """Audit every pinned remote reference of ``docs`` to ``depth`` levels. Raises ResolveError (fatal).

    The result iterates over its findings, so ``findings.extend(audit(...))`` works; other keyword
    arguments callers pass (``occurrences``, ``root``) are accepted and not needed; ``resolved`` (what
    :func:`ci_tools.pin.plan.prefetch` already learned) saves asking for those repositories' refs again.
    """
    result = Audit()
    refs = _Refs(resolver)
    if resolved is not None:
        refs.found.update(getattr(resolved, "refs", {}))
    level: dict[tuple[str, str, str], Item] = {}
    for doc in docs:
        if doc.root is None:
            continue
        for site in iter_uses(doc):
            ref = parse_uses(site.value)
            if ref.kind != REMOTE or not ref.is_sha:
                continue  # unpinned references are unpinned-uses' business
            item = _item(ref, ref.ref, (f"{ref.action}@{ref.ref[:12]}",))
            level.setdefault(item.key, item).roots.append((doc, site.node))
    seen: set[tuple[str, str, str]] = set()
    lock = threading.Lock()
    for current_depth in range(1, depth + 1):
        todo = [item for key, item in level.items() if key not in seen]
        seen.update(item.key for item in todo)
        if not todo:
            break
        following: dict[tuple[str, str, str], Item] = {}

        def work(item: Item, current_depth: int = current_depth, following: dict = following) -> None:
            children, findings = _visit(item, resolver, refs, result, lock, today,
                                        descend=current_depth < depth)
            with lock:
                result.findings.extend(findings)
                for child in children:
                    existing = following.get(child.key)
                    if existing is None:
                        following[child.key] = child
                    else:
                        existing.roots.extend(r for r in child.roots if r not in existing.roots)

        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(todo)))) as pool:
            for future in [pool.submit(work, item) for item in todo]:
                future.result()
        level = following
    result.findings.sort(key=Finding.sort_key)
    return result


def _item(ref, sha: str, chain: tuple[str, ...]) -> Item:
    if ref.is_reusable_workflow:
        return Item(ref.repository, ref.path, sha, True, chain)
    return Item(ref.repository, ref.path, sha, False, chain)


def _fetch(item: Item, resolver: Resolver) -> tuple[str, bytes] | None:
    if item.workflow:
        body = resolver.get_file(item.repo, item.path, item.sha)
        return (item.path, body) if body is not None else None
    for name in ("action.yml", "action.yaml"):
        path = f"{item.path}/{name}" if item.path else name
        body = resolver.get_file(item.repo, path, item.sha)
        if body is not None:
            return path, body
    return None


def _visit(item: Item, resolver: Resolver, refs: _Refs, result: Audit, lock: threading.Lock,
           today: _dt.date | None, *, descend: bool) -> tuple[list[Item], list[Finding]]:
    fetched = _fetch(item, resolver)
    findings: list[Finding] = []
    chain = " → ".join(f'"{c}"' for c in item.chain)
    with lock:
        result.fetched += 1
        result.edges.setdefault(item.name, set())
    if fetched is None:
        with lock:
            result.missing.append(f"{item.name}@{item.sha[:12]}")
        return [], findings
    path, body = fetched
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return [], findings
    display = f"{item.repo}/{path}@{item.sha[:12]}"
    doc = load_text(text, display, "workflow" if item.workflow else "action")
    if doc.root is None:
        return [], findings

    def report(check: str, message: str, severity: Severity) -> None:
        for root_doc, node in item.roots:
            findings.append(root_doc.finding(check, message, node, severity))

    if not item.workflow:
        runs = mapping_get(doc.root, "runs")
        using = scalar_text(mapping_get(runs, "using"))
        with lock:
            result.runtimes[f"{item.name}@{item.sha}"] = using or ""
        why = deprecated_runtime(using, today)
        if why:
            report(RUNTIME, f'{chain} runs on "{using}", {why}; move to a release that runs on node24', Severity.WARNING)
        image = scalar_text(mapping_get(runs, "image"))
        if using == "docker" and image and image.startswith("docker://") and not image_is_pinned(image):
            report(UNPINNED, f'{chain} runs the image "{image[len("docker://"):]}", which is not pinned to a '
                             "digest, so its code can change under the pin", Severity.WARNING)
    children: list[Item] = []
    for site in iter_uses(doc):
        ref = parse_uses(site.value)
        line = site.node.start_mark.line + 1
        if ref.kind != REMOTE:
            if ref.kind == "expression":
                report(UNPINNED, f'{chain} uses "{site.value}" (its line {line}), chosen by an expression, so its '
                                 "pin cannot be checked", Severity.NOTE)
            continue
        with lock:
            result.edges[item.name].add(ref.action)
        sha = ref.ref if ref.is_sha else None
        if not ref.is_sha:
            report(UNPINNED, f'{chain} uses "{site.value}" (its line {line}), which is not pinned to a commit: it '
                             "can change under the pin, and GitHub's policy requiring full-SHA pins rejects it",
                   Severity.WARNING)
            if descend:
                found = refs.get(ref.repository)
                if found is not None:
                    res = resolve_ref(found, ref.ref)
                    sha = res.commit if res.kind in ("tag", "branch", "ambiguous", "tag-object") else None
        if sha and descend:
            child = _item(ref, sha, (*item.chain, f"{ref.action}@{ref.ref[:12] if ref.is_sha else ref.ref}"))
            child.roots = list(item.roots)
            children.append(child)
    for image in iter_images(doc):
        if image.where == "docker" and not item.workflow and image.node is mapping_get(
                mapping_get(doc.root, "runs"), "image"):
            continue  # reported above with the runtime
        if "${{" not in image.image and not image_is_pinned(image.image):
            report(UNPINNED, f'{chain} uses the image "{image.image}", which is not pinned to a digest',
                   Severity.WARNING)
    return children, findings
