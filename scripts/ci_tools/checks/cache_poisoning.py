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
reported at the step: ``actions/cache`` (and ``actions/cache/restore``), setup actions with their
cache turned on (``cache:`` of setup-python, setup-node, setup-java, setup-dotnet; setup-go and
setup-uv, whose cache is on unless turned off; ``bundler-cache`` of setup-ruby;
``Swatinem/rust-cache``), and builds reading ``cache-from: type=gha``. A step whose cache input is
an expression, or whose ``if:`` looks at the event or ref, is taken to turn the cache off for
releases and is not reported; ``lookup-only: true`` restores nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ci_tools.model import Finding, Severity
from ci_tools.source import (
    Document,
    MappingNode,
    iter_jobs,
    mapping_get,
    mapping_items,
    on_events,
    scalar_text,
    sequence_items,
)
from ci_tools.uses import REMOTE, parse_uses

ID = "cache-poisoning"
SUMMARY = "a job that publishes (release, tag, package, image) does not restore a cache other runs can write"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}

# action (lower case) -> (the input that controls the cache, its default: on or off)
CACHE_INPUTS: dict[str, tuple[str, bool]] = {
    "actions/setup-python": ("cache", False),
    "actions/setup-node": ("cache", False),
    "actions/setup-java": ("cache", False),
    "actions/setup-dotnet": ("cache", False),
    "actions/setup-go": ("cache", True),
    "astral-sh/setup-uv": ("enable-cache", True),
    "ruby/setup-ruby": ("bundler-cache", False),
    "swatinem/rust-cache": ("", True),
    "actions/cache": ("", True),
    "actions/cache/restore": ("", True),
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


_CACHE_WORDS = ("cache", "setup-go", "setup-uv")
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
            found = _restores(step)
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
    if "push" in events and mapping_get(push, "tags") is not None and mapping_get(push, "branches") is None:
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


def _restores(step: MappingNode):
    """(node to point at, description) when the step restores a cache in every run; else None."""
    condition = scalar_text(mapping_get(step, "if")) or ""
    if _REF_CONDITION.search(condition):
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
        text = scalar_text(cache_from) or " ".join(scalar_text(n) or "" for n in sequence_items(cache_from))
        if "type=gha" in text and "${{" not in text:
            return cache_from, f'"{ref.action}" with "cache-from: type=gha"'
        return None
    spec = CACHE_INPUTS.get(action)
    if spec is None:
        return None
    name, default = spec
    lookup = scalar_text(mapping_get(with_, "lookup-only")) or ""
    if lookup.strip().lower() in _TRUE or "${{" in lookup:
        return None
    if not name:
        return uses_node, f'"{ref.action}"'
    for key, value in mapping_items(with_):
        if key.value.lower() != name:
            continue
        text = scalar_text(value)
        if text is None or "${{" in text:
            return None  # decided at run time: taken to be off for releases
        on = text.strip().lower() not in _FALSE
        return (value, f'"{ref.action}" with "{key.value}: {text}"') if on else None
    return (uses_node, f'"{ref.action}" (its cache is on by default)') if default else None
