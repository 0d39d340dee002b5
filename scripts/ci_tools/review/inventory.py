"""The inventory behind ``ci-tools report``: every external dependency of a set of documents.

A dependency is one action, reusable workflow or container image at one ref: ``owner/repo[/path]``
(or the image name), its pinned SHA or digest, the version it claims (the tag, or the comment
after the SHA), first-party or third-party, and every place it is used (``file:line``). Local
(``./``) and this repository's own (``$/``) actions are not dependencies; they appear in the graph,
with the actions they use in turn (read from their ``action.yml`` here, offline).

Offline by construction: :func:`build` reads only the parsed documents. ``report --online`` adds
facts from a :class:`~ci_tools.gha.resolve.Resolver` through :func:`enrich`.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from ci_tools.core.findings import Finding
from ci_tools.gha.source import Document, iter_images, iter_uses
from ci_tools.gha.uses import DOCKER, EXPRESSION, LOCAL, REMOTE, SELF, comment_version, parse_uses, semver_key

ACTION, WORKFLOW, IMAGE = "action", "reusable-workflow", "image"


@dataclass(frozen=True)
class Use:
    path: str
    line: int
    col: int
    job: str | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


@dataclass
class Dependency:
    kind: str  # action, reusable-workflow or image
    name: str  # owner/repo[/path], or the image name without tag and digest
    repository: str  # owner/repo; for an image its registry path
    ref: str  # the ref as written (SHA, tag, branch) or the image's tag
    sha: str | None  # the commit, or the image digest, when pinned
    version: str | None  # the tag it claims (ref or comment)
    first_party: bool
    uses: list[Use] = field(default_factory=list)
    # --online facts
    published_at: str | None = None
    age_days: int | None = None
    newest_in_major: str | None = None
    status: str | None = None  # verified, tag-moved, stale-comment, unpinned, impostor-commit, not-found, ...
    immutable: bool | None = None  # the version's release is immutable (its tag cannot move); None: no such release
    notes: list[str] = field(default_factory=list)

    @property
    def key(self) -> tuple[str, str, str]:
        return self.kind, self.name.lower(), self.ref

    @property
    def party(self) -> str:
        return "first-party" if self.first_party else "third-party"

    @property
    def label(self) -> str:
        if self.kind == IMAGE:
            return self.name + (f":{self.ref}" if self.ref else "") + (f"@{self.sha[:19]}" if self.sha else "")
        return f"{self.name}@{self.ref[:12] if self.sha else self.ref}"


@dataclass
class Inventory:
    dependencies: list[Dependency] = field(default_factory=list)
    # graph: node -> set of nodes it uses. Nodes: "file:<path>" for workflows, "action:<name>" for actions
    # (remote, by owner/repo[/path]) and "local:<path>" for ./ and $/ actions.
    edges: dict[str, set[str]] = field(default_factory=dict)
    transitive: dict[str, set[str]] = field(default_factory=dict)  # online only: remote action -> what it uses
    # how "local:" nodes are reached: "./" (this checkout) or "$/" (the repository of the calling
    # workflow, this repository's own form); the graph labels each as written
    reached_as: dict[str, set[str]] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    online: bool = False
    generated_at: str | None = None
    skipped: list[str] = field(default_factory=list)  # optional online sources that were missing

    def edge(self, src: str, dst: str, transitive: bool = False) -> None:
        (self.transitive if transitive else self.edges).setdefault(src, set()).add(dst)

    def by_repository(self) -> dict[str, list[Dependency]]:
        out: dict[str, list[Dependency]] = {}
        for dep in self.dependencies:
            if dep.kind != IMAGE:
                out.setdefault(dep.repository.lower(), []).append(dep)
        return out


def first_party(owner: str, organisation_owners: Iterable[str], repository: str | None) -> bool:
    owners = {o.lower() for o in organisation_owners}
    if repository:
        owners.add(repository.split("/", 1)[0].lower())
    return owner.lower() in owners


def split_image(image: str) -> tuple[str, str, str | None]:
    """``name``, ``tag`` and ``digest`` of an image reference (``docker://`` removed)."""
    image = image.strip().removeprefix("docker://")
    name, _, digest = image.partition("@")
    tag = ""
    last = name.rsplit("/", 1)[-1]
    if ":" in last:
        name, tag = name.rsplit(":", 1)
    return name, tag, digest or None


def _local_node(path: str) -> str:
    """The graph node of ``./path`` or ``$/path`` (both from the repository root): a workflow file or an action."""
    target = str(PurePosixPath(path)).rstrip("/")
    if target.startswith(".github/workflows/"):
        return "file:" + target
    return "local:" + target


def action_dir_of(doc: Document) -> str | None:
    """``actions/x`` for ``actions/x/action.yml``: the node name of a local action document."""
    if doc.kind != "action":
        return None
    return str(PurePosixPath(doc.display).parent)


def build(docs: Iterable[Document], organisation_owners: Iterable[str] = (), repository: str | None = None) -> Inventory:
    inv = Inventory()
    owners = list(organisation_owners)
    by_key: dict[tuple[str, str, str], Dependency] = {}

    def add(dep: Dependency, use: Use) -> Dependency:
        found = by_key.get(dep.key)
        if found is None:
            found = by_key[dep.key] = dep
            inv.dependencies.append(dep)
        elif dep.version and not found.version:
            found.version = dep.version
        found.uses.append(use)
        return found

    for doc in docs:
        if doc.root is None:
            continue
        node = f"local:{action_dir_of(doc)}" if doc.kind == "action" else f"file:{doc.display}"
        for site in iter_uses(doc):
            ref = parse_uses(site.value)
            loc = doc.location(site.node)
            use = Use(doc.display, loc.line, loc.col, site.job_id)
            if ref.kind == REMOTE:
                kind = WORKFLOW if ref.is_reusable_workflow else ACTION
                version = comment_version(doc.comment_after(site.node)) if ref.is_sha else ref.ref
                if version and version.startswith(("ci-tools", "zizmor")):
                    version = None
                dep = add(Dependency(kind, ref.action, ref.repository, ref.ref, ref.ref if ref.is_sha else None,
                                     version, first_party(ref.owner, owners, repository)), use)
                own = bool(repository) and ref.repository.lower() == (repository or "").lower()
                inv.edge(node, _local_node(ref.path) if own and ref.path else f"action:{dep.name}")
            elif ref.kind in (LOCAL, SELF):
                target = _local_node(ref.path)
                inv.edge(node, target)
                inv.reached_as.setdefault(target, set()).add("./" if ref.kind == LOCAL else "$/")
            elif ref.kind == EXPRESSION:
                inv.edge(node, "expr:" + site.value)
            elif ref.kind == DOCKER:
                pass  # counted with the images below
        for site in iter_images(doc):
            if "${{" in site.image:
                continue
            name, tag, digest = split_image(site.image)
            loc = doc.location(site.node)
            registry_path = name
            dep = add(Dependency(IMAGE, name, registry_path, tag, digest, tag or None,
                                 False), Use(doc.display, loc.line, loc.col, site.job_id))
            inv.edge(node, f"image:{dep.name}")
    return inv


# ------------------------------------------------------------------------------ online
def age_in_days(published_at: str | None, now: _dt.datetime) -> int | None:
    if not published_at:
        return None
    try:
        when = _dt.datetime.fromisoformat(published_at.replace("Z", "+00:00"))
    except ValueError:
        return None
    return max(0, (now - when).days)


def newest_in_major(version: str | None, tags: Iterable[str]) -> str | None:
    """The highest stable full-semver tag with the same major as ``version``."""
    key = semver_key(version or "")
    if key is None:
        return None
    best, best_key = None, None
    for tag in tags:
        k = semver_key(tag)
        if k is None or k[0] != key[0] or not k[3] or k[4] < 3:
            continue
        if best_key is None or k > best_key:
            best, best_key = tag, k
    return best


def _status(dep: Dependency, refs) -> str:
    if refs is None:
        return "not-found"
    if not dep.sha:
        return "unpinned"
    tags = refs.tags_at(dep.sha)
    if not dep.version:
        return "no-version-comment"
    if dep.version in tags or refs.branches.get(dep.version) == dep.sha:
        return "verified"
    if dep.version in refs.tags and not tags:
        return "tag-moved"
    if tags:
        return "stale-comment"
    return "untagged-commit"


def enrich(inv: Inventory, docs: list[Document], resolver, *, now: _dt.datetime, depth: int = 3,
           jobs: int = 16) -> None:
    """Online facts, one resolution per repository (refs and releases, both cached by the resolver),
    GitHub's advisory database, and the transitive audit. Raises ResolveError (fatal)."""
    from concurrent.futures import ThreadPoolExecutor

    from ci_tools.gha import advisories
    from ci_tools.gha.resolve.base import NotFound

    inv.online = True
    groups = inv.by_repository()

    def work(key: str) -> None:
        deps = groups[key]
        repo = deps[0].repository
        try:
            refs = resolver.refs(repo)
        except NotFound as exc:
            for dep in deps:
                dep.status = "not-found"
                dep.notes.append(str(exc))
            return
        try:
            releases = [r for r in resolver.releases(repo) if not r.draft]
        except NotFound:
            releases = []
        by_tag = {r.tag: r for r in releases}
        stable = [r.tag for r in releases if r.stable] or list(refs.tags)
        for dep in deps:
            dep.status = _status(dep, refs)
            version = dep.version
            if dep.sha and (not version or version not in by_tag):
                tags = refs.tags_at(dep.sha)
                version = next((t for t in tags if t in by_tag), version)
            release = by_tag.get(version or "")
            if release is not None:
                dep.published_at = release.published_at
                dep.age_days = age_in_days(release.published_at, now)
                dep.immutable = release.immutable
            dep.newest_in_major = newest_in_major(version, stable)

    if groups:
        with ThreadPoolExecutor(max_workers=max(1, min(jobs, len(groups)))) as pool:
            for future in [pool.submit(work, key) for key in groups]:
                future.result()
    _verify(inv, docs, resolver, jobs)
    for dep in inv.dependencies:
        if dep.kind == IMAGE:
            dep.status = "pinned" if dep.sha else "unpinned"

    inv.findings.extend(advisories.online_findings(docs, resolver, inv.skipped))
    if depth > 0:
        from ci_tools.pin import transitive

        result = transitive.audit(docs, resolver, depth=depth, jobs=jobs, today=now.date())
        inv.findings.extend(result.findings)
        for parent, children in result.edges.items():
            for child in children:
                inv.edge(f"action:{parent}", f"action:{child}", transitive=True)


def _verify(inv: Inventory, docs: list[Document], resolver, jobs: int) -> None:
    """The status column from the checks of ``verify --online`` (moved tags, stale comments, impostor
    commits, tag objects, missing commits), run on the same resolver so its refs come from the cache.

    A dependency none of whose uses has a finding keeps the status computed from its refs; one with
    findings gets their ids, and the findings join the report's.
    """
    from ci_tools.gha.resolve.base import repo_key
    from ci_tools.pin import verify as verification
    from ci_tools.pin.occurrences import collect
    from ci_tools.pin.plan import prefetch

    occurrences = collect(docs)
    resolved = prefetch(resolver, occurrences, jobs, need_refs_for_pinned=True)
    pinned = {repo_key(o.repo): o.repo for o in occurrences if o.ref.is_sha and repo_key(o.repo) in resolved.refs}
    releases = verification.releases_by_tag(resolver, pinned, jobs)  # cached: enrich read them already
    alarms: list = []
    found = verification.online_findings(resolver, resolved, occurrences, releases, alarms) + alarms
    by_use: dict[tuple[str, int], set[str]] = {}
    for f in found:
        by_use.setdefault((f.location.path, f.location.line), set()).add(f.check)
    for dep in inv.dependencies:
        if dep.kind == IMAGE:
            continue
        ids = sorted(set().union(*(by_use.get((u.path, u.line), set()) for u in dep.uses)))
        if ids:
            dep.status = ", ".join(ids)
    inv.findings.extend(found)
