"""JSON Schema validation with positions.

The fast path is ``jsonschema-rs`` (8 ms for the corpus' 340 workflows, against 3.9 s for the
``jsonschema`` package). When a document fails under ``oneOf``/``anyOf``, whose raw messages say
nothing useful, :func:`_descend_rs` reports the most specific sub-error (the branch that got
deepest). The ``jsonschema`` package is the oracle (:func:`oracle_validator`):
``tests/gha/test_schema_oracle.py`` checks that both validators agree on validity.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

VENDOR = {
    "workflow": "github-workflows.json",
    "action": "github-actions.json",
    "dependabot": "dependabot.json",
}
OWN = {  # name -> (package, file); ci-tools' own configuration schema lives beside core/config.py, which reads it
    "pre-commit": ("ci_tools.gha.schemas", "pre-commit-config.schema.json"),
    "zizmor": ("ci_tools.gha.schemas", "zizmor-config.schema.json"),
    "org-action": ("ci_tools.gha.schemas", "org-action.schema.json"),
    "template-properties": ("ci_tools.gha.schemas", "workflow-template-properties.schema.json"),
    "config": ("ci_tools.core", "config.schema.json"),
}
MAX_ERRORS_PER_FILE = 20


@dataclass(frozen=True)
class SchemaError:
    path: tuple[Any, ...]
    message: str
    key: str | None = None  # an unexpected property: point at its key


def vendor_dir() -> Path:
    spec = importlib.util.find_spec("check_jsonschema")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("check-jsonschema is not installed; it provides GitHub's schemas")
    return Path(list(spec.submodule_search_locations)[0]) / "builtin_schemas" / "vendor"


@cache
def schema(name: str) -> dict:
    if name in VENDOR:
        loaded = json.loads((vendor_dir() / VENDOR[name]).read_text("utf-8"))
        return amend_workflow(loaded) if name == "workflow" else loaded
    package, file = OWN[name]
    return json.loads(resources.files(package).joinpath(file).read_text("utf-8"))


_EXPRESSION = {"$ref": "#/definitions/expressionSyntax"}


def amend_workflow(doc: dict) -> dict:
    """Corrections of SchemaStore's workflow schema where it rejects what GitHub runs.

    Each one is a form GitHub accepts and documents (or that its parser takes): without them a
    valid workflow gets schema errors. ``tests/gha/test_schema_amendments.py`` holds a workflow
    per amendment and a wrong form next to it that must still fail.
    """
    defs = doc["definitions"]
    on_map = doc["properties"]["on"]["oneOf"][2]["properties"]
    # 1. the image_version event (custom runner images), by name and with names/versions filters
    if "image_version" not in defs["event"]["enum"]:
        defs["event"]["enum"].append("image_version")
        on_map["image_version"] = {"oneOf": [{"type": "null"}, {
            "type": "object", "additionalProperties": False,
            "properties": {"names": {"$ref": "#/definitions/globs"}, "versions": {"$ref": "#/definitions/globs"}}}]}
    # 2. a snapshot version "2.*" (the vendored pattern wants "2*", which GitHub rejects), and the
    #    snapshot's own "if:" condition (actionlint's parser takes it too)
    for form in defs["snapshot"].get("oneOf", []):
        version = form.get("properties", {}).get("version")
        if version is not None:
            version["pattern"] = r"^\d+(\.(\d+|\*))?$"
            form["properties"]["if"] = {"type": ["boolean", "number", "string"]}
    # 3. one filter pattern as a plain string (branches: main, paths: src/**, workflows: build)
    defs["globs"] = {"oneOf": [dict(defs["globs"]), {"type": "string", "minLength": 1}]}
    workflow_run = on_map["workflow_run"]["oneOf"][1]["properties"]
    workflow_run["workflows"] = {"oneOf": [workflow_run["workflows"], {"type": "string", "minLength": 1}]}
    # 4. a declared reusable-workflow secret with nothing under it
    secrets = on_map["workflow_call"]["oneOf"][1]["properties"]["secrets"]["patternProperties"]
    for pattern, spec in list(secrets.items()):
        secrets[pattern] = {"oneOf": [{"type": "null"}, spec]}
    # 5. "container: null" (the steps run on the host) and containers, services and credentials as expressions
    job = defs["normalJob"]["properties"]
    job["container"] = {**job["container"], "oneOf": [*job["container"]["oneOf"], {"type": "null"}]}
    job["services"] = {"oneOf": [{k: v for k, v in job["services"].items() if k not in ("$comment", "description")},
                                 _EXPRESSION]}
    for name in ("jobContainer", "serviceContainer"):
        credentials = defs[name]["properties"]["credentials"]
        defs[name]["properties"]["credentials"] = {"oneOf": [credentials, _EXPRESSION]}
    return doc


@cache
def fast_validator(name: str):
    import jsonschema_rs

    return jsonschema_rs.validator_for(schema(name))


@cache
def oracle_validator(name: str):
    import jsonschema

    cls = jsonschema.validators.validator_for(schema(name))
    return cls(schema(name))


def is_valid(name: str, instance: Any) -> bool:
    return fast_validator(name).is_valid(instance)


def validate(name: str, instance: Any) -> list[SchemaError]:
    validator = fast_validator(name)
    if validator.is_valid(instance):
        return []
    out = []
    for e in validator.iter_errors(instance):
        out.append(_from_rs(_descend_rs(e)))
        if len(out) >= MAX_ERRORS_PER_FILE:
            break
    return out


def _descend_rs(error):
    """The most specific sub-error of a oneOf/anyOf failure: the branch that got deepest wins,
    then the error in it that is deepest (what the author most likely meant to write)."""
    while getattr(error.kind, "name", "") in ("oneOf", "anyOf") and getattr(error.kind, "context", None):
        candidates = [sub for branch in error.kind.context for sub in branch]
        if not candidates:
            break
        best = max(candidates, key=lambda sub: (len(sub.instance_path),
                                               getattr(sub.kind, "name", "") not in ("type", "oneOf", "anyOf",
                                                                                       "required")))
        if len(best.instance_path) <= len(error.instance_path) and getattr(best.kind, "name", "") in (
                "oneOf", "anyOf") and best is error:
            break
        error = best
    return error


def _from_rs(e) -> SchemaError:
    kind = e.kind
    name = getattr(kind, "name", "")
    path = tuple(e.instance_path)
    if name == "additionalProperties":
        unexpected = list(getattr(kind, "unexpected", None) or [])
        if not unexpected and isinstance(e.instance, dict):
            allowed = getattr(kind, "value", None)
            unexpected = [k for k in e.instance if not isinstance(allowed, list) or k not in allowed]
        if unexpected:
            return SchemaError(path + (unexpected[0],), f'unexpected key "{unexpected[0]}"', key=unexpected[0])
    return SchemaError(path, message(name, getattr(kind, "value", None), e.instance, e.message))


_JSON_TYPES = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", int: "a number",
               float: "a number", type(None): "null"}


def short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def message(validator: str, expected: Any, instance: Any, fallback: str) -> str:
    """One readable sentence for a schema error: what was found, what was expected."""
    got = _JSON_TYPES.get(type(instance), "a value")
    if validator == "type":
        types = expected if isinstance(expected, list) else [expected]
        shown = "" if instance is None else f" {short(instance, 40)}"
        return f"expected {' or '.join(str(t) for t in types)}, got {got}{shown}"
    if validator == "required":
        missing = expected if isinstance(expected, str) else None
        if missing is None and isinstance(expected, list) and isinstance(instance, dict):
            missing = next((k for k in expected if k not in instance), None)
        return f'missing required key "{missing}"' if missing else "a required key is missing"
    if validator == "enum":
        options = ", ".join(short(v, 30) for v in (expected or [])[:10])
        more = ", ..." if expected and len(expected) > 10 else ""
        return f"{short(instance)} is not one of {options}{more}"
    if validator == "const":
        return f"expected {short(expected)}, got {short(instance)}"
    if validator in ("minItems", "minLength"):
        return f"{short(instance)} is too short (at least {expected})"
    if validator in ("minProperties",):
        return f"expected at least {expected} key{'s' if expected != 1 else ''}, got {short(instance)}"
    if validator == "pattern":
        return f"{short(instance)} does not match the pattern {short(expected)}"
    if validator in ("oneOf", "anyOf"):
        if "valid under each" in fallback:
            return f"{short(instance)} matches more than one of the allowed forms"
        return f"{short(instance)} matches none of the allowed forms"
    return _tidy(fallback)


def _tidy(text: str) -> str:
    text = text.strip().rstrip(".")
    if len(text) > 200:
        text = text[:197] + "..."
    return text[:1].lower() + text[1:]
