"""ci-tools configuration: ``[tool.ci-tools]`` in pyproject.toml or ``.github/ci-tools.toml``.

Example::

    [tool.ci-tools]
    repository = "org/ci"            # this repository, for the self-repository check
    organisation-owners = ["org"]    # first-party owners (report)
    allowed-owners = ["actions", "docker", "org"]
    exclude = ["tests/fixtures/**"]

    [tool.ci-tools.checks.missing-timeout]
    severity = "error"

    [tool.ci-tools.checks.disallowed-action]
    enabled = false

    [tool.ci-tools.pin]              # pin, verify and update (command-line flags override it)
    allow-branches = false
    images = true
    jobs = 16
    via = "api"                      # or "git", with git-url-template
    cache-ttl = 3600
    exclude = ["org/*"]              # owner/repo patterns never pinned or updated
    update.within = "minor"
    update.min-age = 7

Errors name the file and, where the key can be found in it, the line: ``pyproject.toml:58: ...``.

Which check ids a ``[checks.<id>]`` table may name is the lint registry's to say, not this layer's:
every loader takes ``known_ids`` as a required keyword (the commands pass
:func:`ci_tools.lint.checks.known_ids`), so no caller can forget to reject a typo; ``None`` says
"do not check the ids" and must be written out.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ci_tools.core.findings import Location, Severity


class ConfigError(Exception):
    def __init__(self, message: str, location: Location | None = None) -> None:
        super().__init__(message)
        self.location = location


@dataclass
class CheckConfig:
    enabled: bool = True
    severity: Severity | None = None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class PinConfig:
    """``[tool.ci-tools.pin]``: defaults of pin, verify and update; ``None`` means not configured."""

    allow_branches: bool | None = None
    images: bool | None = None
    jobs: int | None = None
    via: str | None = None
    git_url_template: str | None = None
    cache_ttl: float | None = None
    exclude: list[str] = field(default_factory=list)
    within: str | None = None
    min_age: float | None = None

    def excludes(self, repository: str) -> bool:
        """Whether ``owner/repo`` matches an ``exclude`` pattern (case-insensitive, like GitHub's names)."""
        from fnmatch import fnmatchcase

        name = repository.lower()
        return any(fnmatchcase(name, pattern.lower()) for pattern in self.exclude)


@dataclass
class Config:
    source: Path | None = None
    repository: str | None = None
    organisation_owners: list[str] = field(default_factory=list)
    allowed_owners: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    checks: dict[str, CheckConfig] = field(default_factory=dict)
    pin: PinConfig = field(default_factory=PinConfig)
    raw: dict[str, Any] = field(default_factory=dict)

    def check(self, check_id: str) -> CheckConfig:
        return self.checks.get(check_id, CheckConfig())

    @property
    def owner(self) -> str | None:
        return self.repository.split("/", 1)[0] if self.repository else None


def find_config(root: Path) -> tuple[Path, dict[str, Any]] | None:
    own = root / ".github" / "ci-tools.toml"
    if own.is_file():
        return own, _read_toml(own, ".github/ci-tools.toml")
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject, "pyproject.toml").get("tool", {}).get("ci-tools")
        if table is not None:
            return pyproject, table
    return None


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {shown}: {getattr(exc, 'strerror', None) or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{shown}: invalid TOML: {exc}") from None


def shown_path(source: Path, root: Path, explicit: Path | None) -> str:
    """How messages name a configuration file: as given with ``--config``, else relative to the root."""
    if explicit is not None:
        return str(explicit)
    try:
        return source.relative_to(root).as_posix()
    except ValueError:
        return source.as_posix()


def load_config(root: Path, explicit: Path | None = None, *, known_ids: Collection[str] | None) -> Config:
    if explicit is not None:
        data = _read_toml(explicit, str(explicit))
        if explicit.name == "pyproject.toml":
            data = data.get("tool", {}).get("ci-tools", {})
        found: tuple[Path, dict[str, Any]] | None = (explicit, data)
    else:
        found = find_config(root)
    if found is None:
        return Config()
    source, data = found
    _validate(source, data, known_ids, shown_path(source, root, explicit))
    checks = {}
    for check_id, table in (data.get("checks") or {}).items():
        sev = table.get("severity")
        checks[check_id] = CheckConfig(
            enabled=table.get("enabled", True),
            severity=Severity.parse(sev) if sev else None,
            options={k: v for k, v in table.items() if k not in ("enabled", "severity")},
        )
    return Config(
        source=source,
        repository=data.get("repository"),
        organisation_owners=list(data.get("organisation-owners", [])),
        allowed_owners=list(data["allowed-owners"]) if "allowed-owners" in data else None,
        exclude=list(data.get("exclude", [])),
        checks=checks,
        pin=_pin_config(data.get("pin") or {}),
        raw=data,
    )


def _pin_config(table: dict[str, Any]) -> PinConfig:
    update = table.get("update") or {}
    ttl, min_age = table.get("cache-ttl"), update.get("min-age")
    return PinConfig(
        allow_branches=table.get("allow-branches"),
        images=table.get("images"),
        jobs=table.get("jobs"),
        via=table.get("via"),
        git_url_template=table.get("git-url-template"),
        cache_ttl=float(ttl) if ttl is not None else None,
        exclude=list(table.get("exclude", [])),
        within=update.get("within"),
        min_age=float(min_age) if min_age is not None else None,
    )


def config_schema() -> dict[str, Any]:
    text = resources.files("ci_tools.core").joinpath("config.schema.json").read_text("utf-8")
    return json.loads(text)


def _validate(source: Path, data: dict[str, Any], known_ids: Collection[str] | None, shown: str | None = None) -> None:
    import jsonschema_rs

    shown = shown or source.name

    def _where(source: Path, path: list[str]) -> str:
        return located(source, path, shown)

    schema = config_schema()
    validator = jsonschema_rs.validator_for(schema)
    for error in validator.iter_errors(data):
        path = [str(p) for p in error.instance_path]
        unexpected = getattr(error.kind, "unexpected", None) if type(error.kind).__name__ == "AdditionalProperties" \
            else None
        if unexpected:
            key = str(unexpected[0])
            known = ", ".join(sorted(_subschema(schema, path).get("properties", {})))
            raise ConfigError(f'{_where(source, [*path, key])} unknown key "{key}" in {_table(path)}; '
                              f"known keys: {known}")
        where = ".".join(path) or "(top level)"
        raise ConfigError(f"{_where(source, path)} [tool.ci-tools] {where}: {error.message}")
    for check_id in (data.get("checks") or {}) if known_ids is not None else ():
        if known_ids is not None and check_id not in known_ids:
            raise ConfigError(f'{shown}: unknown check "{check_id}" in [tool.ci-tools.checks]; '
                              "run `ci-tools check --list` for the ids")
    pin = data.get("pin") or {}
    template = pin.get("git-url-template")
    if template is not None and ("{owner}" not in template or "{repo}" not in template):
        raise ConfigError(f'{_where(source, ["pin", "git-url-template"])} git-url-template in [tool.ci-tools.pin] '
                          'needs "{owner}" and "{repo}"')
    for i, pattern in enumerate(pin.get("exclude", [])):
        if not re.fullmatch(r"[^/\s]+/[^/\s]+", pattern):
            raise ConfigError(f'{_where(source, ["pin", "exclude", str(i)])} exclude in [tool.ci-tools.pin]: '
                              f'"{pattern}" is not an owner/repo pattern (such as "org/*" or "actions/checkout")')


def _subschema(schema: dict[str, Any], path: list[str]) -> dict[str, Any]:
    for key in path:
        props = schema.get("properties", {})
        schema = props[key] if key in props else schema.get("additionalProperties") or {}
        if not isinstance(schema, dict):
            return {}
    return schema


def _table(path: list[str]) -> str:
    return "[" + ".".join(["tool.ci-tools", *path]) + "]"


def located(source: Path, path: list[str], shown: str) -> str:
    """``shown:line:`` where the key at ``path`` is written in ``source`` (``shown:`` when not found)."""
    line = key_line(source, path)
    return f"{shown}:{line}:" if line else f"{shown}:"


_KEY = r"""(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')"""
_DOTTED = re.compile(rf"\s*({_KEY}(?:\s*\.\s*{_KEY})*)\s*")
_PART = re.compile(_KEY)


def _keys(dotted: str) -> tuple[str, ...]:
    return tuple(m.group(0).strip("\"'") for m in _PART.finditer(dotted))


def key_line(source: Path, path: list[str]) -> int | None:
    """The 1-based line of the configuration key ``path`` (below ``[tool.ci-tools]`` in pyproject.toml).

    tomllib keeps no positions, so this reads the lines: table headers, dotted keys and inline tables.
    Array indexes in ``path`` are dropped (the array's line is the answer). When the key itself is not
    written, the line of its nearest written parent; ``None`` when nothing of it is.
    """
    try:
        lines = source.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    prefix = ("tool", "ci-tools") if source.name == "pyproject.toml" else ()
    want = (*prefix, *(p for p in path if not p.isdigit()))
    table: tuple[str, ...] = ()
    best, best_len = None, len(prefix) - 1 if prefix else 0
    for number, line in enumerate(lines, 1):
        header = re.match(r"\s*\[\[?" + _DOTTED.pattern + r"\]\]?", line)
        if header:
            table, keys = _keys(header.group(1)), _keys(header.group(1))
        else:
            match = re.match(_DOTTED.pattern + "=", line)
            if not match:
                continue
            keys = (*table, *_keys(match.group(1)))
        if keys == want:
            return number
        if len(keys) > best_len and want[:len(keys)] == keys:
            best, best_len = number, len(keys)
    return best


CONFIG_FILES = (".github/ci-tools.toml", "pyproject.toml")
"""Where the configuration is looked for, in order, relative to the repository root."""


def config_blobs(root: Path, rev: str) -> dict[str, bytes]:
    """The configuration files as committed at ``rev`` (``{name: content}``, missing ones left out),
    read with git: nothing is checked out. ``root`` may be a subdirectory of the work tree."""
    from ci_tools.core.git import git, read_blobs

    prefix = git(["rev-parse", "--show-prefix"], root).decode("utf-8", "replace").strip()
    found = read_blobs(root, rev, [prefix + name for name in CONFIG_FILES])
    return {name: found[prefix + name] for name in CONFIG_FILES if prefix + name in found}


def load_config_at(root: Path, rev: str, *, known_ids: Collection[str] | None) -> Config:
    """The configuration as committed at ``rev``, validated like :func:`load_config`.

    A gate reads the policy that decides what it checks from the pull request's base, so that the
    pull request cannot switch it off by editing it; errors name the file as ``name@<commit>``.
    """
    import tempfile

    blobs = config_blobs(root, rev)
    with tempfile.TemporaryDirectory(prefix="ci-tools-config-") as tmp:
        for name, data in blobs.items():
            target = Path(tmp, name)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        try:
            config = load_config(Path(tmp).resolve(), known_ids=known_ids)
        except ConfigError as exc:
            raise ConfigError(f"{exc} (as of {rev[:12]})", exc.location) from None
    if config.source is not None:
        config.source = root / config.source.relative_to(Path(tmp).resolve())
    return config
