"""The caller-facing interface of reusable workflows and composite actions, and how it changed.

:func:`extract` reads one document: for a reusable workflow (``on: workflow_call``) its inputs
(type, required, default), secrets (required), outputs, job ids with their names, and the
permissions a caller must grant (the highest level of each scope over the workflow's top-level and
job permissions); for an action its inputs (required, default) and outputs.

:func:`compare` lists the changes, each classified:

=============================================  ==========  =====
change                                         breaking    bump
=============================================  ==========  =====
workflow or action removed                     yes         major
input/secret/output removed                    yes         major
required input (no default) or secret added    yes         major
input becomes required (no default) / secret   yes         major
input type changed                             yes         major
job removed, or its name changed               yes         major
permission a caller must grant added/raised    yes         major
optional input, optional secret, output added  no          minor
workflow or action added, job added            no          minor
default changed                                no          minor
input or secret no longer required             no          minor
permission lowered or dropped                  no          patch
=============================================  ==========  =====

A changed default is compatible (every call still runs) but changes what callers that rely on it
get, so it is listed among the things to act on with a minor bump. Job names matter because
callers' required status checks name them (``caller-job / job name``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ci_tools.gha.source import Document, mapping_get, mapping_items, on_events, to_plain

LEVELS = {"none": 0, "read": 1, "write": 2}
BUMPS = ("none", "patch", "minor", "major")
_ALL_SCOPES = ("actions", "attestations", "checks", "contents", "deployments", "discussions", "id-token", "issues",
               "models", "packages", "pages", "pull-requests", "repository-projects", "security-events", "statuses")


@dataclass
class Interface:
    kind: str  # "workflow" or "action"
    path: str
    inputs: dict[str, dict] = field(default_factory=dict)  # name -> {type, required, default}
    secrets: dict[str, dict] = field(default_factory=dict)  # name -> {required}
    outputs: set[str] = field(default_factory=set)
    jobs: dict[str, str] = field(default_factory=dict)  # job id -> display name
    permissions: dict[str, int] = field(default_factory=dict)  # scope -> level


@dataclass(frozen=True)
class Change:
    path: str
    kind: str  # e.g. input-removed
    subject: str  # the input, secret, output, job or scope concerned ("" for the file)
    message: str
    breaking: bool
    bump: str

    def as_dict(self) -> dict:
        return {"path": self.path, "kind": self.kind, "subject": self.subject, "message": self.message,
                "breaking": self.breaking, "bump": self.bump}


def _str(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _permissions(node_value, into: dict[str, int]) -> None:
    if isinstance(node_value, str):
        if node_value in ("read-all", "write-all"):
            level = 1 if node_value == "read-all" else 2
            for scope in _ALL_SCOPES:
                into[scope] = max(into.get(scope, 0), level)
        return
    if isinstance(node_value, dict):
        for scope, level in node_value.items():
            into[str(scope)] = max(into.get(str(scope), 0), LEVELS.get(str(level), 0))


def extract(doc: Document) -> Interface | None:
    """The interface of a reusable workflow or an action; None for anything else."""
    if doc.root is None:
        return None
    if doc.kind == "action":
        data = doc.data if isinstance(doc.data, dict) else {}
        iface = Interface("action", doc.display)
        for name, spec in (data.get("inputs") or {}).items():
            spec = spec if isinstance(spec, dict) else {}
            iface.inputs[str(name)] = {"type": None, "required": bool(spec.get("required", False)),
                                       "default": _str(spec.get("default"))}
        iface.outputs = {str(k) for k in (data.get("outputs") or {})}
        return iface
    events = on_events(doc)
    if "workflow_call" not in events:
        return None
    call = to_plain(events["workflow_call"]) if events["workflow_call"] is not None else {}
    call = call if isinstance(call, dict) else {}
    iface = Interface("workflow", doc.display)
    for name, spec in (call.get("inputs") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        iface.inputs[str(name)] = {"type": _str(spec.get("type")), "required": bool(spec.get("required", False)),
                                   "default": _str(spec.get("default"))}
    for name, spec in (call.get("secrets") or {}).items():
        spec = spec if isinstance(spec, dict) else {}
        iface.secrets[str(name)] = {"required": bool(spec.get("required", False))}
    iface.outputs = {str(k) for k in (call.get("outputs") or {})}
    top = mapping_get(doc.root, "permissions")
    if top is not None:
        _permissions(to_plain(top), iface.permissions)
    for key, job in mapping_items(mapping_get(doc.root, "jobs")):
        name = mapping_get(job, "name")
        plain_name = to_plain(name) if name is not None else None
        iface.jobs[key.value] = str(plain_name) if plain_name is not None else key.value
        perms = mapping_get(job, "permissions")
        if perms is not None:
            _permissions(to_plain(perms), iface.permissions)
    return iface


def _level_name(level: int) -> str:
    return {0: "none", 1: "read", 2: "write"}[level]


def compare(old: Interface | None, new: Interface | None) -> list[Change]:
    either = new if new is not None else old
    if either is None:
        return []
    path = either.path
    what = "reusable workflow" if either.kind == "workflow" else "action"
    out: list[Change] = []

    def add(kind: str, subject: str, message: str, breaking: bool, bump: str) -> None:
        out.append(Change(path, kind, subject, message, breaking, bump))

    if new is None:
        add("removed", "", f"the {what} was removed; callers must stop using it", True, "major")
        return out
    if old is None:
        add("added", "", f"new {what}", False, "minor")
        return out
    for name in sorted(old.inputs.keys() - new.inputs.keys()):
        add("input-removed", name, f'input "{name}" was removed; callers passing it must stop', True, "major")
    for name in sorted(new.inputs.keys() - old.inputs.keys()):
        spec = new.inputs[name]
        if spec["required"] and spec["default"] is None:
            add("input-added", name, f'required input "{name}" was added; every caller must pass it', True, "major")
        else:
            add("input-added", name, f'optional input "{name}" was added', False, "minor")
    for name in sorted(old.inputs.keys() & new.inputs.keys()):
        a, b = old.inputs[name], new.inputs[name]
        if b["required"] and not a["required"] and b["default"] is None:
            add("input-required", name, f'input "{name}" is now required; callers that omit it must pass it',
                True, "major")
        elif a["required"] and not b["required"]:
            add("input-optional", name, f'input "{name}" is no longer required', False, "minor")
        if a["type"] != b["type"] and a["type"] is not None and b["type"] is not None:
            add("input-type", name, f'input "{name}" changed type from {a["type"]} to {b["type"]}; callers must '
                                    "pass the new type", True, "major")
        if a["default"] != b["default"]:
            before = "no default" if a["default"] is None else f'"{a["default"]}"'
            after = "no default" if b["default"] is None else f'"{b["default"]}"'
            add("input-default", name, f'the default of input "{name}" changed from {before} to {after}; callers '
                                       "relying on the default get the new value", False, "minor")
    for name in sorted(old.secrets.keys() - new.secrets.keys()):
        add("secret-removed", name, f'secret "{name}" was removed; callers passing it must stop', True, "major")
    for name in sorted(new.secrets.keys() - old.secrets.keys()):
        if new.secrets[name]["required"]:
            add("secret-added", name, f'required secret "{name}" was added; every caller must pass it', True, "major")
        else:
            add("secret-added", name, f'optional secret "{name}" was added', False, "minor")
    for name in sorted(old.secrets.keys() & new.secrets.keys()):
        if new.secrets[name]["required"] and not old.secrets[name]["required"]:
            add("secret-required", name, f'secret "{name}" is now required; callers that omit it must pass it',
                True, "major")
        elif old.secrets[name]["required"] and not new.secrets[name]["required"]:
            add("secret-optional", name, f'secret "{name}" is no longer required', False, "minor")
    for name in sorted(old.outputs - new.outputs):
        add("output-removed", name, f'output "{name}" was removed; callers reading it must stop', True, "major")
    for name in sorted(new.outputs - old.outputs):
        add("output-added", name, f'output "{name}" was added', False, "minor")
    for job in sorted(old.jobs.keys() - new.jobs.keys()):
        add("job-removed", job, f'job "{job}" ("{old.jobs[job]}") was removed; required status checks naming it '
                                "must change", True, "major")
    for job in sorted(new.jobs.keys() - old.jobs.keys()):
        add("job-added", job, f'job "{job}" ("{new.jobs[job]}") was added', False, "minor")
    for job in sorted(old.jobs.keys() & new.jobs.keys()):
        if old.jobs[job] != new.jobs[job]:
            add("job-renamed", job, f'job "{job}" is now named "{new.jobs[job]}" (was "{old.jobs[job]}"); required '
                                    "status checks naming it must change", True, "major")
    for scope in sorted(old.permissions.keys() | new.permissions.keys()):
        was, now = old.permissions.get(scope, 0), new.permissions.get(scope, 0)
        if now > was:
            add("permission-raised", scope, f'callers must now grant "{scope}: {_level_name(now)}" (was '
                                            f"{_level_name(was)})", True, "major")
        elif now < was:
            add("permission-lowered", scope, f'"{scope}" needs only {_level_name(now)} now (was {_level_name(was)}); '
                                             "callers may grant less", False, "patch")
    return out


def bump(changes: list[Change]) -> str:
    """The semver bump the changes imply: major, minor, patch or none."""
    return max((c.bump for c in changes), key=BUMPS.index, default="none")
