"""`cache-poisoning`: a job that publishes does not restore a cache.

GitHub's cache is shared by every run of a branch, and a run on the default branch (where releases
are made) restores what any run of that branch wrote: a ``pull_request_target`` or ``workflow_run``
job that touched a pull request's files, or any step of any workflow that was compromised, can write
an entry under the key a release job will look for. Restoring it (tar archives may write outside
the cached directory) runs its contents inside the job that signs, tags or uploads the release.

A job publishes when the workflow is started by a release, a tag push or a package event, or when
one of its steps publishes: a known release or upload action (``pypa/gh-action-pypi-publish``,
``softprops/action-gh-release``, ``docker/build-push-action`` with ``push: true``, ...) or a command
(``npm publish``, ``twine upload``, ``docker push``, ``gh release create`` or ``edit``,
``git push --tags``, ...; not with ``--dry-run``). In such a job,
reported at the step: the actions of :data:`CACHE_INPUTS` with their cache on, setup-buildx asked
for a version (its binary cache), and builds reading ``cache-from: type=gha``. A cache input that
is an expression is reported when it is true exactly for tags or releases, and taken to be off for
them otherwise; a step whose ``if:`` looks at the event or ref is skipped unless it selects tags or
releases; ``lookup-only: true`` restores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import (
    Document,
    MappingNode,
    iter_jobs,
    mapping_get,
    mapping_items,
    mapping_pair,
    on_events,
    scalar_text,
    sequence_items,
)
from ci_tools.gha.uses import REMOTE, comment_version, parse_uses, semver_key

ID = "cache-poisoning"
SUMMARY = "a job that publishes (release, tag, package, image) does not restore a cache other runs can write"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}

class CacheInput(NamedTuple):
    """The input that turns an action's cache on or off."""

    name: str  # "" when the action always caches
    default: bool  # the cache is on when the input is not given
    inverted: bool = False  # the input turns the cache off (ignore-cache: true)
    default_off_from: int | None = None  # from this major version on, the default is off for releases


# action (lower case) -> its cache input
CACHE_INPUTS: dict[str, tuple[CacheInput, ...]] = {
    "actions/setup-python": (CacheInput("cache", False),),
    "actions/setup-node": (CacheInput("cache", False), CacheInput("package-manager-cache", False)),
    "actions/setup-java": (CacheInput("cache", False),),
    "actions/setup-dotnet": (CacheInput("cache", False),),
    "actions/setup-go": (CacheInput("cache", True),),
    # setup-uv 10 turns its default cache off for release events by itself
    "astral-sh/setup-uv": (CacheInput("enable-cache", True, default_off_from=10),),
    "ruby/setup-ruby": (CacheInput("bundler-cache", False),),
    "pyo3/maturin-action": (CacheInput("sccache", False),),
    "ramsey/composer-install": (CacheInput("ignore-cache", True, inverted=True),),
    "swatinem/rust-cache": (CacheInput("", True),),
    "mozilla-actions/sccache-action": (CacheInput("", True),),
    "actions/cache": (CacheInput("", True),),
    "actions/cache/restore": (CacheInput("", True),),
}
PUBLISHING_ACTIONS = {
    "pypa/gh-action-pypi-publish", "softprops/action-gh-release", "ncipollo/release-action",
    "actions/create-release", "actions/upload-release-asset", "svenstaro/upload-release-action",
    "goreleaser/goreleaser-action", "js-devtools/npm-publish", "actions/deploy-pages",
}
PUSHING_BUILDS = {"docker/build-push-action", "docker/bake-action"}
_PUBLISHERS = PUBLISHING_ACTIONS | PUSHING_BUILDS
_PUBLISH_COMMAND = re.compile(
    r"\b(?:(?:npm|yarn|pnpm)\s+publish|twine\s+upload|uv\s+publish|poetry\s+publish|cargo\s+publish|"
    r"gem\s+push|docker\s+(?:image\s+)?push|podman\s+push|skopeo\s+copy|crane\s+push|"
    r"gh\s+release\s+(?:create|upload|edit)|git\s+push\b[^\n]*--tags|goreleaser\s+release|mvn\b[^\n]*\bdeploy|gradlew?\b[^\n]*\bpublish|"
    r"helm\s+push|oras\s+push|dotnet\s+nuget\s+push)\b")
_DRY_RUN = re.compile(r"--dry[-_]run\b|\s-n\b(?=.*\bpublish\b)")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0", ""}
_REF_CONDITION = re.compile(r"github\.(?:ref|ref_name|ref_type|event_name|event\.release|head_ref|base_ref)\b|"
                            r"refs/tags", re.I)
_RELEASE_TEST = re.compile(r"refs/tags|ref_type|'release'|'published'|event\.release", re.I)
_NEGATED = re.compile(r"!\s*(?:startswith|contains|endswith|\()|!=", re.I)


def _selects_releases(text: str) -> bool | None:
    """Whether a condition is true for releases and tag pushes (True), false for them (False), or
    says nothing about them (None)."""
    if not _RELEASE_TEST.search(text):
        return None
    return not _NEGATED.search(text)


_CACHE_WORDS = ("cache", "setup-go", "setup-uv", "setup-buildx", "composer-install")
_PUBLISH_WORDS = ("publish", "release", "upload", "deploy-pages", "push", "registry_package", "tags")


def check(doc: Document, ctx) -> Iterator[Finding]:
    low = doc.lower_text if doc.root is not None else ""
    if not any(w in low for w in _CACHE_WORDS) or not any(w in low for w in _PUBLISH_WORDS):
        return
    trigger = _publishing_trigger(doc)
    for job_id, _, job in iter_jobs(doc):
        steps = [s for s in sequence_items(mapping_get(job, "steps")) if isinstance(s, MappingNode)]
        why = trigger or _publishing_step(steps)
        if why is None:
            continue
        for step in steps:
            found = _restores(doc, step)
            if found is None:
                continue
            node, what = found
            yield doc.finding(ID, f'{what} restores a cache in job "{job_id}", which {why}; any run of the branch can '
                                  "write that cache, and what it restores runs in the job that publishes; remove the "
                                  "cache from this job, or turn it off when it publishes", node, SEVERITY)


def _publishing_trigger(doc: Document) -> str | None:
    events = on_events(doc)
    if "release" in events:
        return "runs on releases"
    if "registry_package" in events:
        return "runs on package events"
    push = events.get("push")
    if "push" in events and mapping_get(push, "tags") is not None:
        return "runs on tag pushes"
    return None


def _publishing_step(steps: list[MappingNode]) -> str | None:
    for step in steps:
        uses = scalar_text(mapping_get(step, "uses"))
        if uses and uses.split("@", 1)[0].lower() in _PUBLISHERS:
            ref = parse_uses(uses)
            action = ref.action.lower() if ref.kind == REMOTE else ""
            if action in PUBLISHING_ACTIONS:
                return f'publishes with "{ref.action}"'
            if action in PUSHING_BUILDS:
                push = scalar_text(mapping_get(mapping_get(step, "with"), "push")) or ""
                if push.strip().lower() in _TRUE:
                    return f'pushes an image with "{ref.action}"'
        run = scalar_text(mapping_get(step, "run")) or ""
        if not any(w in run for w in ("publish", "upload", "push", "release", "deploy", "copy")):
            continue
        for line in run.splitlines():
            m = _PUBLISH_COMMAND.search(line)
            if m and not _DRY_RUN.search(line):
                return f'publishes with "{" ".join(m.group(0).split()[:3])}"'
    return None


def _restores(doc: Document, step: MappingNode):
    """(node to point at, description) when the step restores a cache when it publishes; else None."""
    condition = scalar_text(mapping_get(step, "if")) or ""
    if _REF_CONDITION.search(condition) and not _selects_releases(condition):
        return None  # the step chooses by event or ref: taken to skip the cache when publishing
    uses_node = mapping_get(step, "uses")
    uses = scalar_text(uses_node)
    if not uses:
        return None
    ref = parse_uses(uses)
    if ref.kind != REMOTE:
        return None
    action = ref.action.lower()
    with_ = mapping_get(step, "with")
    if action in PUSHING_BUILDS:
        cache_from = mapping_get(with_, "cache-from")
        sources = scalar_text(cache_from) or " ".join(scalar_text(n) or "" for n in sequence_items(cache_from))
        if "type=gha" in sources and "${{" not in sources:
            return cache_from, f'"{ref.action}" with "cache-from: type=gha"'
        return None
    if action == "docker/setup-buildx-action":
        # the buildx binary is cached when a version is asked for, unless cache-binary is false
        version, binary = mapping_pair(with_, "version"), scalar_text(mapping_get(with_, "cache-binary"))
        if version is not None and (binary or "true").strip().lower() not in _FALSE and "${{" not in (binary or ""):
            return version[0], f'"{ref.action}" with "version:" (it caches the buildx binary)'
        return None
    lookup = scalar_text(mapping_get(with_, "lookup-only")) or ""
    if lookup.strip().lower() in _TRUE or "${{" in lookup:
        return None
    for spec in CACHE_INPUTS.get(action, ()):
        if not spec.name:
            return uses_node, f'"{ref.action}"'
        pair = next(((k, v) for k, v in mapping_items(with_) if k.value.lower() == spec.name), None)
        if pair is None:
            if spec.default and not _newer(doc, uses_node, ref.ref, spec.default_off_from):
                return uses_node, f'"{ref.action}" (its cache is on by default)'
            continue
        key, value = pair
        text = scalar_text(value)
        if text is None:
            continue
        if "${{" in text:
            if _selects_releases(text) is True:  # on exactly for releases and tags
                return value, f'"{ref.action}" with "{key.value}: {text}"'
            continue  # decided at run time from something else: taken to be off for releases
        on = text.strip().lower() not in _FALSE
        if on != spec.inverted:
            return value, f'"{ref.action}" with "{key.value}: {text}"'
    return None


def _newer(doc: Document, node, ref: str, major: int | None) -> bool:
    """Whether the action's version (its tag, or the version comment after a pinned SHA) is at least ``major``."""
    if major is None:
        return False
    version = ref
    if len(ref) >= 40:  # a pinned SHA: its version comment says which release it is
        version = comment_version(doc.comment_after(node)) or ""
    key = semver_key(version)
    return key is not None and key[0] >= major
