"""Terraform helpers shared by terraform-plan and terraform-apply (standard library only).

Both actions import it from here, beside actionkit: the plan side and the apply side compute
artifact names, hashes and the manifest in exactly one place and cannot drift apart.
"""

from __future__ import annotations

import hashlib
import json
import platform as _platform
import re
import secrets
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import actionkit
import inputs

MANIFEST_FORMAT = 2
PLAN_FILE = "tfplan"  # terraform-apply's own plan, made again (never uploaded)
MANIFEST_FILE = "plan.json"
LOCK_FILE = ".terraform.lock.hcl"
# Characters upload-artifact refuses in a name, plus path separators and spaces.
_NAME_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
_ERROR_LINE = re.compile(r"^(?:│ )?Error: (.+)$", re.MULTILINE)
_INIT_PREAMBLE = "Terraform encountered problems during initialisation"


@dataclass
class Result:
    """A finished Terraform command: exit code and what it printed."""

    code: int
    stdout: str
    stderr: str = ""

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def errors(self) -> list[str]:
        """Terraform's ``Error: ...`` headlines, without init's preamble about configuration problems."""
        found = [match.group(1).strip() for match in _ERROR_LINE.finditer(self.output)]
        specific = [line for line in found if not line.startswith(_INIT_PREAMBLE)]
        return specific or found

    @property
    def config_invalid(self) -> bool:
        """``terraform init`` refused because the configuration does not parse."""
        return _INIT_PREAMBLE in self.output

    def first_error(self) -> str:
        """Terraform's first specific ``Error: ...`` headline, the line a person needs to see first."""
        errors = self.errors()
        if errors:
            return errors[0]
        lines = [line.strip() for line in self.output.splitlines() if line.strip()]
        return lines[-1] if lines else f"exit code {self.code}"


def terraform(args: list[str], cwd: Path, *, capture: bool = False, env: dict[str, str] | None = None) -> Result:
    """Run ``terraform ARGS`` in ``cwd``.

    By default the output goes to the log as it comes (an apply can take an hour) and is kept
    for parsing; workflow commands are stopped meanwhile, so a resource value or a local-exec
    printing ``::add-mask::`` or ``::error::`` cannot speak to the runner. The runner's cancel
    (SIGINT, then SIGTERM) is passed to Terraform as one SIGINT, and waited for: Terraform then
    stops, writes the state and releases the lock (:func:`actionkit.stopping_child`). ``capture``
    keeps stdout apart and unprinted (``show -json``, ``version``: quick, and killed on cancel).

    Terraform runs code the pull request chooses (providers, modules, external data sources),
    so its environment has no runner file-command paths, no OIDC request variables and none of
    the step's inputs (:func:`actionkit.child_env`).
    """
    full_env = actionkit.child_env(env)
    full_env.setdefault("TF_IN_AUTOMATION", "1")
    full_env["TF_INPUT"] = "0"
    try:
        if capture:
            done = subprocess.run(
                ["terraform", *args], cwd=cwd, env=full_env, capture_output=True, text=True, stdin=subprocess.DEVNULL
            )
            return Result(done.returncode, done.stdout, done.stderr)
        token = secrets.token_hex(16)
        print(f"::stop-commands::{token}", flush=True)
        chunks: list[str] = []
        try:
            with subprocess.Popen(
                ["terraform", *args],
                cwd=cwd,
                env=full_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                text=True,
                errors="replace",
            ) as proc, actionkit.stopping_child(proc, "terraform"):
                assert proc.stdout is not None
                for line in proc.stdout:
                    chunks.append(line)
                    sys.stdout.write(line)
                    sys.stdout.flush()
        finally:
            print(f"::{token}::", flush=True)
        return Result(proc.returncode, "".join(chunks))
    except FileNotFoundError:
        raise actionkit.ActionFailure(
            "setup-failed", "terraform is not on PATH; set setup-terraform to true or install it on the runner"
        ) from None


_ARCH = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}


def platform() -> str:
    """Terraform's name for this machine's platform (``linux_amd64``), as in provider packages."""
    system = sys.platform if sys.platform in ("linux", "darwin") else ""
    arch = _ARCH.get(_platform.machine().lower(), "")
    if not system or not arch:
        raise actionkit.ActionFailure("setup-failed", f"no Terraform build for {sys.platform}/{_platform.machine()}")
    return f"{system}_{arch}"


_LOCK_PROVIDER = re.compile(r'^provider\s+"([^"]+)"\s*\{(.*?)^\}', re.MULTILINE | re.DOTALL)
_LOCK_HASH = re.compile(r'"((?:h1|zh):[^"]+)"')


def lock_hashes(text: str | None) -> dict[str, set[str]]:
    """The hashes of each provider in a ``.terraform.lock.hcl`` (the file Terraform writes)."""
    return {m.group(1): set(_LOCK_HASH.findall(m.group(2))) for m in _LOCK_PROVIDER.finditer(text or "")}


_CHECKSUM_MISMATCH = re.compile(
    r"Error while installing (\S+) v\S+: the (?:current|local) package for \S+ \S+\s+doesn't match any of the\s+"
    r"checksums previously recorded in the dependency lock file"
)


def lock_file_problem(before: str | None, after: str | None, init_output: str, init_ok: bool) -> str:
    """Why the committed lock file does not fit this runner, judged from what ``terraform init``
    did to it; empty when it fits.

    The apply later runs ``init -lockfile=readonly`` on the same committed file and compares its
    SHA-256 with the plan's: a lock file that init has to change (no file, or no checksum for this
    platform, as when it was made on macOS) would make them differ on every run, so the plan
    stops here and says what to commit."""
    here = platform()
    fix = (
        f"run terraform providers lock -platform={here} -platform=darwin_arm64 -platform=darwin_amd64 "
        f"(every platform that runs Terraform) and commit {LOCK_FILE}"
    )
    if not init_ok:
        missing = sorted(set(_CHECKSUM_MISMATCH.findall(" ".join(init_output.split()))))
        if not missing:
            return ""
        names = ", ".join(f'"{name}"' for name in missing)
        return f"the committed {LOCK_FILE} has no checksum for {here} of {names}; {fix}"
    if before == after:
        return ""
    now = lock_hashes(after)
    if before is None:
        names = ", ".join(f'"{name}"' for name in sorted(now)) or "its providers"
        return f"no {LOCK_FILE} is committed: terraform init had to choose the versions of {names}; {fix}"
    then = lock_hashes(before)
    changed = sorted(name for name in set(now) | set(then) if now.get(name) != then.get(name))
    added = [name for name in changed if name in then and now.get(name, set()) > then[name]]
    if added and added == changed:
        names = ", ".join(f'"{name}"' for name in added)
        return f"the committed {LOCK_FILE} has no checksum for {here} of {names} (terraform init added it); {fix}"
    names = ", ".join(f'"{name}"' for name in changed) or "its contents"
    return f"terraform init changed the committed {LOCK_FILE} ({names}): it does not match the configuration; {fix}"


def sha256_file(path: Path) -> str | None:
    """Hex SHA-256 of a file, or ``None`` when there is no such file."""
    if not path.is_file():
        return None
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def terraform_version(cwd: Path) -> str:
    result = terraform(["version", "-json"], cwd, capture=True)
    try:
        return str(json.loads(result.stdout)["terraform_version"])
    except (ValueError, KeyError, TypeError):
        raise actionkit.ActionFailure(
            "setup-failed", f"terraform version -json failed: {result.first_error()}"
        ) from None


def normalize_dir(value: str) -> str:
    """A working directory as a clean relative POSIX path (``.`` for the workspace root)."""
    path = PurePosixPath((value or ".").strip().replace("\\", "/"))
    if path.is_absolute() or ".." in path.parts:
        raise inputs.invalid("working-directory", "a path inside the workspace", value)
    return str(path)


def artifact_name(working_dir: str, workspace: str) -> str:
    """The plan artifact's name, the same on the plan and the apply side for a directory and workspace."""
    slug = _NAME_UNSAFE.sub("-", normalize_dir(working_dir)).strip("-.") or "root"
    ws = _NAME_UNSAFE.sub("-", workspace).strip("-.") or "default"
    return f"terraform-plan-{slug}-{ws}"


LOCK_TIMEOUT = re.compile(r"[0-9]+(ms|s|m|h)")  # what Terraform's -lock-timeout accepts
WORKSPACE = re.compile(r"[A-Za-z0-9._-]{1,90}")
_NAME_CHARACTERS = 'letters, digits, ".", "_" and "-"'


def read_workspace() -> str:
    """The ``workspace`` input (default ``default``)."""
    return inputs.matching("workspace", WORKSPACE, f"a name of {_NAME_CHARACTERS}", "default")


@dataclass(frozen=True)
class Settings:
    """The inputs terraform-plan and terraform-apply share, read and checked the same way."""

    working_dir: str  # relative POSIX path, "." for the workspace's root
    workspace: str
    lock_timeout: str
    artifact_name: str
    backend_config: list[str]
    var_files: list[str]

    @classmethod
    def read(cls) -> Settings:
        workspace = read_workspace()
        working_dir = inputs.relative_path("working-directory", ".")
        name = inputs.matching("artifact-name", r"[A-Za-z0-9._-]+", f"a name of {_NAME_CHARACTERS}",
                               artifact_name(working_dir, workspace))
        return cls(
            working_dir=working_dir,
            workspace=workspace,
            lock_timeout=inputs.matching("lock-timeout", LOCK_TIMEOUT, "a duration such as 30s or 5m", "5m"),
            artifact_name=name,
            backend_config=inputs.items("backend-config"),
            var_files=inputs.items("var-files"),
        )

    def path(self) -> Path:
        """The working directory, which must exist inside the workspace."""
        return inputs.locate("working-directory", self.working_dir, kind="dir")


# --------------------------------------------------------------------------- plan JSON


@dataclass
class PlanSummary:
    """What a plan does, by kind of change, with the addresses of each."""

    add: list[str] = field(default_factory=list)
    change: list[str] = field(default_factory=list)
    destroy: list[str] = field(default_factory=list)
    replace: list[str] = field(default_factory=list)
    forget: list[str] = field(default_factory=list)
    imports: list[str] = field(default_factory=list)
    outputs: list[str] = field(default_factory=list)

    @property
    def resource_changes(self) -> int:
        return len(self.add) + len(self.change) + len(self.destroy) + len(self.replace) + len(self.forget)

    def line(self) -> str:
        """One line, in Terraform's order; replacements are counted apart, not as add plus destroy."""
        parts = [
            f"{len(self.add)} to add",
            f"{len(self.change)} to change",
            f"{len(self.destroy)} to destroy",
            f"{len(self.replace)} to replace",
        ]
        if self.forget:
            parts.append(f"{len(self.forget)} to forget")
        if self.imports:
            parts.insert(0, f"{len(self.imports)} to import")
        if self.outputs and not self.resource_changes:
            parts.append(f"{len(self.outputs)} output(s) to change")
        return ", ".join(parts)

    def as_dict(self) -> dict[str, list[str]]:
        return {
            "add": self.add,
            "change": self.change,
            "destroy": self.destroy,
            "replace": self.replace,
            "forget": self.forget,
            "import": self.imports,
            "outputs": self.outputs,
        }


def is_replace(actions: list[str]) -> bool:
    """Terraform encodes a replacement as delete-then-create or (create_before_destroy) create-then-delete."""
    return actions in (["delete", "create"], ["create", "delete"])


def summarize(plan: dict) -> PlanSummary:
    """Count the changes of ``terraform show -json`` output (format 1.x)."""
    summary = PlanSummary()
    for change in plan.get("resource_changes") or []:
        if change.get("mode", "managed") != "managed":
            continue  # data sources are read, not changed
        address = str(change.get("address", "?"))
        detail = change.get("change") or {}
        actions = list(detail.get("actions") or [])
        if detail.get("importing"):
            summary.imports.append(address)
        if is_replace(actions):
            summary.replace.append(address)
        elif actions == ["create"]:
            summary.add.append(address)
        elif actions == ["update"]:
            summary.change.append(address)
        elif actions == ["delete"]:
            summary.destroy.append(address)
        elif actions == ["forget"]:
            summary.forget.append(address)
    for name, change in sorted((plan.get("output_changes") or {}).items()):
        if (change or {}).get("actions") not in (["no-op"], None):
            summary.outputs.append(name)
    return summary


# --------------------------------------------------------------------------- the normalised plan

REDACTED = "(sensitive value)"
# Dropped: when the plan was made (timestamp), and the whole prior and planned state, which hold
# every attribute of every resource, secrets of the state included; what the plan changes is in
# resource_changes (before and after), resource_drift and output_changes.
_VOLATILE = ("timestamp", "prior_state", "planned_values")


def _redact(value: object, mask: object) -> object:
    """``value`` with every part that ``mask`` (Terraform's ``*_sensitive`` structure: ``true``, or
    objects and arrays of them) marks replaced by :data:`REDACTED`."""
    if mask is True:
        return REDACTED
    if isinstance(mask, dict) and isinstance(value, dict):
        return {key: _redact(item, mask.get(key)) for key, item in value.items()}
    if isinstance(mask, list) and isinstance(value, list):
        return [_redact(item, mask[i] if i < len(mask) else None) for i, item in enumerate(value)]
    return value


def _redact_change(change: dict) -> dict:
    """A change without its ``before`` side (the prior state, whose secrets Terraform does not
    always mark: ``terraform_data``'s ``output`` repeats a sensitive ``input`` unmarked) and with
    the sensitive parts of ``after`` redacted."""
    out = {key: value for key, value in change.items() if key not in ("before", "before_sensitive")}
    if "after" in out:
        out["after"] = _redact(out["after"], out.get("after_sensitive"))
    return out


def _redact_module(module: dict) -> dict:
    """A module of ``configuration``: defaults of sensitive variables redacted, child modules too."""
    out = dict(module)
    variables = {}
    for name, spec in (module.get("variables") or {}).items():
        spec = dict(spec or {})
        if spec.get("sensitive") and "default" in spec:
            spec["default"] = REDACTED
        variables[name] = spec
    if variables:
        out["variables"] = variables
    calls = {}
    for name, call in (module.get("module_calls") or {}).items():
        call = dict(call or {})
        if isinstance(call.get("module"), dict):
            call["module"] = _redact_module(call["module"])
        calls[name] = call
    if calls:
        out["module_calls"] = calls
    return out


def normalize_plan(plan: dict) -> dict:
    """``terraform show -json PLANFILE`` without what changes from one run to the next, without the
    prior state (no ``before`` side of a change, no drifted values) and without any value Terraform
    marks sensitive (variables declared ``sensitive``, sensitive attributes and outputs): what is
    hashed (:func:`plan_digest`), compared by terraform-apply and kept in the manifest. What the
    apply would do (actions and the values after) is all there; a change that touches only
    sensitive values is not told apart, and nobody reviewing the plan could see it either."""
    out = {key: value for key, value in plan.items() if key not in _VOLATILE}
    root = ((plan.get("configuration") or {}).get("root_module")) or {}
    secret_vars = {name for name, spec in (root.get("variables") or {}).items() if (spec or {}).get("sensitive")}
    if isinstance(out.get("variables"), dict):
        out["variables"] = {
            name: ({"value": REDACTED} if name in secret_vars else spec) for name, spec in out["variables"].items()
        }
    for key in ("resource_changes", "resource_drift"):
        if isinstance(out.get(key), list):
            if key == "resource_changes":
                items = [dict(item, change=_redact_change(item.get("change") or {})) for item in out[key]]
            else:  # drift is state on both sides: only which resources drifted, and how
                items = [dict(item, change={"actions": (item.get("change") or {}).get("actions")}) for item in out[key]]
            out[key] = sorted(items, key=lambda item: (str(item.get("address")), str(item.get("deposed", ""))))
    if isinstance(out.get("output_changes"), dict):
        out["output_changes"] = {name: _redact_change(change or {}) for name, change in out["output_changes"].items()}
    if isinstance(out.get("configuration"), dict):
        out["configuration"] = dict(out["configuration"], root_module=_redact_module(root))
    return out


def plan_digest(normalized: dict) -> str:
    """SHA-256 of a normalised plan, as canonical JSON (sorted keys, no spaces)."""
    text = json.dumps(normalized, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


_ABSENT = object()


def _leaves(a: object, b: object, path: str):
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b)):
            yield from _leaves(a.get(key, _ABSENT), b.get(key, _ABSENT), f"{path}.{key}" if path else key)
    elif isinstance(a, list) and isinstance(b, list):
        for i in range(max(len(a), len(b))):
            yield from _leaves(a[i] if i < len(a) else _ABSENT, b[i] if i < len(b) else _ABSENT, f"{path}[{i}]")
    elif a != b:
        yield path, a, b


def _shown(value: object) -> str:
    if value is _ABSENT:
        return "absent"
    text = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return text if len(text) <= 80 else text[:79] + "…"


def _verb(item: dict | None) -> str:
    actions = list(((item or {}).get("change") or {}).get("actions") or [])
    if is_replace(actions):
        return "replace"
    return "+".join(actions) or "none"


def plan_differences(reviewed: dict, now: dict, limit: int = 40) -> list[str]:
    """What differs between two normalised plans, one line each: resources first (address, then
    the action or each attribute), then anything else (outputs, variables, configuration)."""
    found: list[str] = []

    def keyed(plan: dict) -> dict:
        return {(str(c.get("address")), str(c.get("deposed") or "")): c for c in plan.get("resource_changes") or []}

    before, after = keyed(reviewed), keyed(now)
    for key in sorted(set(before) | set(after)):
        name = key[0] + (f" (deposed {key[1]})" if key[1] else "")
        old, new = before.get(key), after.get(key)
        if old == new:
            continue
        if old is None or new is None or _verb(old) != _verb(new):
            then = _verb(old) if old is not None else "absent"
            found.append(f"`{name}`: reviewed {then}, now {_verb(new) if new is not None else 'absent'}")
            continue
        for path, a, b in _leaves(old.get("change") or {}, new.get("change") or {}, ""):
            found.append(f"`{name}`: {path}: reviewed {_shown(a)}, now {_shown(b)}")
    rest_a = {k: v for k, v in reviewed.items() if k != "resource_changes"}
    rest_b = {k: v for k, v in now.items() if k != "resource_changes"}
    for path, a, b in _leaves(rest_a, rest_b, ""):
        found.append(f"{path}: reviewed {_shown(a)}, now {_shown(b)}")
    if len(found) > limit:
        found = found[:limit] + [f"… and {len(found) - limit} more"]
    return found


# --------------------------------------------------------------------------- markdown


def code(text: str) -> str:
    """``text`` as an inline code span: backslash escapes do not work there, so the span's own
    backticks outnumber any run inside, and padding keeps a leading or trailing backtick apart."""
    flat = text.replace("\r", " ").replace("\n", " ")
    ticks = "`" * (max((len(run) for run in re.findall(r"`+", flat)), default=0) + 1)
    pad = " " if flat.startswith("`") or flat.endswith("`") else ""
    return f"{ticks}{pad}{flat}{pad}{ticks}"


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run in ``text``, so the text cannot close it."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)


def truncate_lines(text: str, budget: int) -> tuple[str, int, int]:
    """The longest run of whole leading lines of ``text`` within ``budget`` characters.

    Returns (kept text, lines cut, characters cut). A single line longer than the budget is cut
    at the budget: a plan line can be a megabyte of JSON-encoded policy.
    """
    if len(text) <= budget:
        return text, 0, 0
    kept: list[str] = []
    used = 0
    all_lines = text.splitlines(keepends=True)
    for line in all_lines:
        if used + len(line) > budget:
            if not kept:
                kept.append(line[: max(budget, 0)].rstrip("\n") + "\n")
                used = len(kept[0])
            break
        kept.append(line)
        used += len(line)
    kept_text = "".join(kept)
    lines_cut = len(all_lines) - len(kept)  # lines not shown whole
    return kept_text, lines_cut, len(text) - len(kept_text)


def folded_block(title: str, text: str, budget: int, where_full: str) -> str:
    """``text`` in a fenced code block inside ``<details>``, truncated on a line boundary so the
    whole block fits ``budget`` characters; the fence is always closed and the cut is stated."""
    fence = fence_for(text)
    opening = f"<details><summary>{title}</summary>\n\n{fence}text\n"
    closing = f"{fence}\n\n</details>\n"
    note_room = 200 + len(where_full)
    room = budget - len(opening) - len(closing) - note_room
    kept, lines_cut, chars_cut = truncate_lines(text, max(room, 0))
    if kept and not kept.endswith("\n"):
        kept += "\n"
    note = ""
    if chars_cut:
        note = (
            f"\n**Truncated:** {lines_cut} line(s), {chars_cut} character(s) cut to fit the comment size limit; "
            f"{where_full}.\n"
        )
    return opening + kept + closing + note


def read_manifest(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise actionkit.ActionFailure(
            "plan-changed", f"the plan manifest {path.name} cannot be read: {error}"
        ) from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise actionkit.ActionFailure(
            "plan-changed", f"the plan manifest {path.name} is not a format-{MANIFEST_FORMAT} manifest"
        )
    return data
