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
"""

from __future__ import annotations

import json
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from ci_tools.model import Location, Severity


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
class Config:
    source: Path | None = None
    repository: str | None = None
    organisation_owners: list[str] = field(default_factory=list)
    allowed_owners: list[str] | None = None
    exclude: list[str] = field(default_factory=list)
    checks: dict[str, CheckConfig] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def check(self, check_id: str) -> CheckConfig:
        return self.checks.get(check_id, CheckConfig())

    @property
    def owner(self) -> str | None:
        return self.repository.split("/", 1)[0] if self.repository else None


def find_config(root: Path) -> tuple[Path, dict[str, Any]] | None:
    own = root / ".github" / "ci-tools.toml"
    if own.is_file():
        return own, _read_toml(own)
    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        table = _read_toml(pyproject).get("tool", {}).get("ci-tools")
        if table is not None:
            return pyproject, table
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path.name}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name}: invalid TOML: {exc}") from None


def load_config(root: Path, explicit: Path | None = None) -> Config:
    if explicit is not None:
        data = _read_toml(explicit)
        if explicit.name == "pyproject.toml":
            data = data.get("tool", {}).get("ci-tools", {})
        found: tuple[Path, dict[str, Any]] | None = (explicit, data)
    else:
        found = find_config(root)
    if found is None:
        return Config()
    source, data = found
    _validate(source, data)
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
        raw=data,
    )


def config_schema() -> dict[str, Any]:
    text = resources.files("ci_tools.schemas").joinpath("ci-tools-config.schema.json").read_text("utf-8")
    return json.loads(text)


def _validate(source: Path, data: dict[str, Any]) -> None:
    import jsonschema_rs

    from ci_tools.checks import known_ids

    schema = config_schema()
    validator = jsonschema_rs.validator_for(schema)
    for error in validator.iter_errors(data):
        where = ".".join(str(p) for p in error.instance_path) or "(top level)"
        raise ConfigError(f"{source.name}: [tool.ci-tools] {where}: {error.message}")
    for check_id in (data.get("checks") or {}):
        if check_id not in known_ids():
            raise ConfigError(f'{source.name}: unknown check "{check_id}" in [tool.ci-tools.checks]; '
                              "run `ci-tools check --list` for the ids")
