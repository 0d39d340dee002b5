"""Reading a composite action: ``action.yml`` as GitHub parses it, and its inputs.

YAML is read with YAML 1.2 core booleans as GitHub does (``on``/``yes``/``no`` stay strings).
Only ``runs.using: composite`` can run here; each step needs exactly one of ``run``/``uses`` and a
``run`` step needs ``shell``, as GitHub requires of composite actions. Inputs take the value given,
else the rendered ``default``, else ''. Stricter than GitHub, which only warns: an unknown input
or a missing required one raises ValueError.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ci_tools.gha.evaluate import to_str

from .scope import Scope, render


class _Loader(yaml.SafeLoader):
    """YAML as GitHub reads it (1.2 core booleans): ``on``/``yes``/``no`` stay strings."""


_BOOL = "tag:yaml.org,2002:bool"
_Loader.yaml_implicit_resolvers = {k: [r for r in v if r[0] != _BOOL]
                                   for k, v in yaml.SafeLoader.yaml_implicit_resolvers.items()}
_Loader.add_implicit_resolver(_BOOL, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_action(action_dir: Path) -> dict[str, Any]:
    """The parsed ``action.yml`` (or ``action.yaml``) of a composite action; ValueError otherwise."""
    path = action_dir / "action.yml"
    if not path.is_file():
        path = action_dir / "action.yaml"
    if not path.is_file():
        raise ValueError(f"no action.yml in {action_dir}")
    doc = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader) or {}  # _Loader is a SafeLoader
    runs = doc.get("runs") or {}
    if runs.get("using") != "composite":
        raise ValueError(f"{path}: only composite actions can run here (runs.using={runs.get('using')!r})")
    for n, step in enumerate(runs.get("steps") or []):
        if ("run" in step) == ("uses" in step):
            raise ValueError(f"{path}: step {n + 1} needs exactly one of run/uses")
        if "run" in step and "shell" not in step:
            raise ValueError(f"{path}: step {n + 1}: composite run steps require `shell`")
    return doc


def resolve_inputs(doc: dict, given: dict[str, Any], scope: Scope, where: str) -> dict[str, str]:
    """The ``inputs`` context: given values, else rendered defaults, else ''."""
    declared = doc.get("inputs") or {}
    unknown = sorted(set(given) - set(declared))
    if unknown:
        raise ValueError(f"{where}: unknown input(s) {unknown}; declared: {sorted(declared)}")
    inputs = {}
    for name, spec in declared.items():
        spec = spec or {}
        if name in given:
            inputs[name] = to_str(given[name])
        elif "default" in spec:
            inputs[name] = render(scope, to_str(spec["default"]))
        elif spec.get("required") in (True, "true"):
            raise ValueError(f"{where}: required input {name!r} not given and has no default")
        else:
            inputs[name] = ""
    return inputs
