"""`workflow-call`: reusable workflow calls match the callee's inputs, secrets and types.

A job's ``uses:`` that names a reusable workflow of this repository is checked against the
callee's ``on.workflow_call``: ``./.github/workflows/x.yml`` and ``$/.github/workflows/x.yml``
always, and ``OWNER/REPO/.github/workflows/x.yml@REF`` when ``OWNER/REPO`` is this repository
(``repository`` in the configuration), as the starter templates call them. The callee is read from
the working tree under the repository root, whatever the ref: the check is about the contract of
the workflows being changed together.

Reported, each at the offending key or value: ``with:`` keys the callee does not declare; required
inputs without a default that are not given; literal values whose type is not the input's
(``boolean`` and ``number`` inputs take unquoted literals of their type; a number given to a
``string`` input is reported when GitHub's conversion changes its text, ``3.10`` arriving as
``"3.1"``; a value with an expression is left to run time); secrets the
callee does not declare; required secrets not passed; a callee that does not exist or has no
``workflow_call`` trigger. ``secrets: inherit`` is left to the ``secrets-inherit`` check.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.source import (
    Document,
    MappingNode,
    Node,
    ScalarNode,
    is_within,
    iter_jobs,
    load,
    mapping_get,
    mapping_items,
    on_events,
    resolve_scalar,
    scalar_text,
)
from ci_tools.gha.uses import LOCAL, REMOTE, SELF, parse_uses

ID = "workflow-call"
SUMMARY = "reusable workflow calls match the callee's inputs, secrets and types"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template"}

_TYPES = ("boolean", "number", "string")


@dataclass
class _Input:
    name: str
    type: str | None
    required: bool
    has_default: bool


@dataclass
class _Contract:
    """What a reusable workflow declares under ``on.workflow_call``."""

    display: str
    inputs: dict[str, _Input] = field(default_factory=dict)  # by lower-case name
    secrets: dict[str, bool] = field(default_factory=dict)  # lower-case name -> required
    secret_names: dict[str, str] = field(default_factory=dict)  # lower-case -> as declared


class _Missing:
    """The callee file is absent (or outside the repository)."""


class _NotReusable:
    """The callee exists but has no ``workflow_call`` trigger."""


class _Unreadable:
    """The callee does not parse: its own syntax findings say why."""


def keep(doc: Document) -> bool:
    """Keep the node tree of files that call a reusable workflow (the engine drops the others)."""
    return any(mapping_get(job, "uses") is not None for _, _, job in iter_jobs(doc))


def check_all(docs: list[Document], ctx) -> Iterator[Finding]:
    root = Path(ctx.root)
    loaded = {_key(d.path): d for d in docs if d.root is not None}
    contracts: dict[str, object] = {}
    for doc in docs:
        if doc.root is None:
            continue
        for _, _, job in iter_jobs(doc):
            uses = mapping_get(job, "uses")
            if not isinstance(uses, ScalarNode):
                continue
            target = _callee_path(uses.value, ctx)
            if target is None:
                continue
            path = root / target
            key = _key(path)
            if key not in contracts:
                contracts[key] = _contract(path, target, root, loaded)
            contract = contracts[key]
            yield from _check_call(doc, job, uses, target, contract)


# ---------------------------------------------------------------------------- callee
def _callee_path(value: str, ctx) -> str | None:
    """Repository-relative path of the reusable workflow a job calls, or None when not ours."""
    ref = parse_uses(value)
    if ref.kind in (LOCAL, SELF):
        path = ref.path
    elif ref.kind == REMOTE and ctx.config.repository \
            and ref.repository.lower() == ctx.config.repository.lower():
        path = ref.path
    else:
        return None
    path = path.lstrip("/")
    if not (path.startswith(".github/workflows/") and path.endswith((".yml", ".yaml"))):
        return None
    return path


def _key(path: Path) -> str:
    return str(path.absolute())


def _contract(path: Path, display: str, root: Path, loaded: dict[str, Document]) -> object:
    if not path.is_file() or not is_within(path, root):
        return _Missing()
    doc = loaded.get(_key(path))
    if doc is None:
        doc = load(path, root=root, display=display)
    if doc.root is None:
        return _Unreadable()
    events = on_events(doc)
    if "workflow_call" not in events:
        return _NotReusable()
    call = events["workflow_call"]
    contract = _Contract(display)
    for key, spec in mapping_items(mapping_get(call, "inputs")):
        type_ = scalar_text(mapping_get(spec, "type"))
        required = _true(mapping_get(spec, "required"))
        default = mapping_get(spec, "default")
        has_default = default is not None and not (isinstance(default, ScalarNode) and resolve_scalar(default) is None)
        contract.inputs[key.value.lower()] = _Input(key.value, type_, required, has_default)
    for key, spec in mapping_items(mapping_get(call, "secrets")):
        contract.secrets[key.value.lower()] = _true(mapping_get(spec, "required"))
        contract.secret_names[key.value.lower()] = key.value
    return contract


def _true(node: Node | None) -> bool:
    return isinstance(node, ScalarNode) and resolve_scalar(node) is True


# ------------------------------------------------------------------------------ call
def _check_call(doc: Document, job: MappingNode, uses: ScalarNode, target: str,
                contract: object) -> Iterator[Finding]:
    if isinstance(contract, _Unreadable):
        return
    if isinstance(contract, _Missing):
        yield doc.finding(ID, f'"{target}" does not exist in this repository; '
                              "call an existing reusable workflow or add this one", uses)
        return
    if isinstance(contract, _NotReusable):
        yield doc.finding(ID, f'"{target}" is not a reusable workflow (it has no on.workflow_call); '
                              "add the trigger or call another workflow", uses)
        return
    assert isinstance(contract, _Contract)
    yield from _check_inputs(doc, mapping_get(job, "with"), uses, contract)
    yield from _check_secrets(doc, mapping_get(job, "secrets"), uses, contract)


def _names(names: list[str]) -> str:
    return ", ".join(f'"{n}"' for n in sorted(names)) if names else "none"


def _check_inputs(doc: Document, with_node: Node | None, uses: ScalarNode,
                  contract: _Contract) -> Iterator[Finding]:
    given: set[str] = set()
    for key, value in mapping_items(with_node):
        name = key.value.lower()
        given.add(name)
        spec = contract.inputs.get(name)
        if spec is None:
            yield doc.finding(ID, f'input "{key.value}" is not defined by "{contract.display}"; remove it '
                                  f"or use one of its inputs: {_names([i.name for i in contract.inputs.values()])}",
                              key)
            continue
        problem = _type_problem(spec, value)
        if problem:
            yield doc.finding(ID, problem, value)
    for name, spec in contract.inputs.items():
        if spec.required and not spec.has_default and name not in given:
            yield doc.finding(ID, f'required input "{spec.name}" of "{contract.display}" is not given; '
                                  "add it under with:", uses)


def _type_problem(spec: _Input, value: Node) -> str | None:
    if spec.type not in _TYPES:
        return None  # an unknown type is the callee's schema problem
    if not isinstance(value, ScalarNode):
        kind = "a mapping" if isinstance(value, MappingNode) else "a list"
        return f'input "{spec.name}" is a {spec.type}, but {kind} is given; pass a single {spec.type} value'
    if "${{" in value.value:
        return None  # known at run time only
    plain = resolve_scalar(value)
    if plain is None:
        return None  # an empty value: GitHub passes the type's empty value
    shown = value.value
    if spec.type == "boolean" and not isinstance(plain, bool):
        return (f'input "{spec.name}" is a boolean, but "{shown}" is {_describe(plain, value)}; '
                "write true or false, unquoted")
    if spec.type == "number" and (isinstance(plain, bool) or not isinstance(plain, (int, float))):
        return (f'input "{spec.name}" is a number, but "{shown}" is {_describe(plain, value)}; '
                "write a number, unquoted")
    if spec.type == "string" and isinstance(plain, (int, float)) and not isinstance(plain, bool):
        # GitHub turns the number into text: 3.10 arrives as "3.1", 1e3 as "1000"
        text = _number_text(plain)
        if text != shown:
            return (f'input "{spec.name}" is a string, but {shown} is a number and arrives as "{text}"; '
                    f'quote it: "{shown}"')
    return None


def _number_text(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _describe(plain: object, node: ScalarNode) -> str:
    if isinstance(plain, bool):
        return "a boolean"
    if isinstance(plain, (int, float)):
        return "a number"
    return "a quoted string" if node.style in ("'", '"') else "a string"


def _check_secrets(doc: Document, secrets_node: Node | None, uses: ScalarNode,
                   contract: _Contract) -> Iterator[Finding]:
    if isinstance(secrets_node, ScalarNode) and secrets_node.value.strip() == "inherit":
        return  # every secret is passed: the secrets-inherit check reports this form
    given: set[str] = set()
    for key, _ in mapping_items(secrets_node):
        name = key.value.lower()
        given.add(name)
        if name not in contract.secrets:
            yield doc.finding(ID, f'secret "{key.value}" is not declared by "{contract.display}"; remove it '
                                  f"or use one of its secrets: {_names(list(contract.secret_names.values()))}",
                              key)
    for name, required in contract.secrets.items():
        if required and name not in given:
            yield doc.finding(ID, f'required secret "{contract.secret_names[name]}" of "{contract.display}" is '
                                  "not passed; add it under secrets:", uses)
