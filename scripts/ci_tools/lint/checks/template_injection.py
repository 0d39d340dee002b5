"""`template-injection`: attacker-controllable expressions expanded inside run: scripts or github-script.

GitHub expands ``${{ }}`` into a script's text before the shell (or Node.js, for
``actions/github-script``) reads it, so a pull request title of ``a"; curl evil | sh; "`` becomes
code. Every expression of a ``run:`` (workflow and composite action steps) and of github-script's
``script:`` is parsed with :mod:`ci_tools.gha.expressions`; one finding per expression whose *value*
can carry attacker-controllable text, at the expression's own line and column.

Sources, from most to least direct:

- event fields anyone can write (:data:`ci_tools.gha.untrusted.UNTRUSTED_PATHS`) and ``github.head_ref``;
- ``inputs.*`` of a composite action (the caller decides), and the ``string`` inputs of a reusable
  workflow (``on: workflow_call``); ``workflow_dispatch`` inputs come from people with write access
  and are not reported;
- ``env.NAME`` when NAME is set, in the step, its job or the workflow, from such a source;
- ``steps.<id>.outputs.*`` of a step that is known to output attacker text: an action on the list
  below, or a ``run:`` step that writes ``$GITHUB_OUTPUT`` from such a source;
- ``needs.<job>.outputs.<name>`` when that job output is set from such a source.

Values that are booleans or numbers (comparisons, ``contains()``, ``github.event.pull_request.number``)
are never reported.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

from ci_tools.core.findings import Finding, Severity
from ci_tools.gha.expressions import ExpressionError, find_expressions
from ci_tools.gha.scalars import locate
from ci_tools.gha.source import (
    Document,
    MappingNode,
    ScalarNode,
    Step,
    iter_jobs,
    iter_steps,
    mapping_get,
    mapping_items,
    on_events,
    scalar_text,
    sequence_items,
)
from ci_tools.gha.untrusted import untrusted_match, value_refs
from ci_tools.gha.uses import REMOTE, parse_uses

ID = "template-injection"
SUMMARY = "attacker-controllable expressions expanded inside run: scripts or github-script"
SEVERITY = Severity.ERROR
APPLIES_TO = {"workflow", "template", "action"}

# Actions whose outputs carry text that the author of a pull request or comment chooses
# (file names, branch names, titles, comment bodies). None: every output; a set: those outputs;
# a string starting with "*": outputs whose name ends with the rest.
TAINTED_ACTION_OUTPUTS: dict[str, object] = {
    "tj-actions/changed-files": None,
    "tj-actions/verify-changed-files": None,
    "tj-actions/branch-names": None,
    "jitterbit/get-changed-files": None,
    "ana06/get-changed-files": None,
    "trilom/file-changes-action": None,
    "dorny/paths-filter": "*_files",
    "peter-evans/find-comment": {"comment-body"},
    "8bitjonny/gh-get-current-pr": {"pr_title", "pr_body"},
    "actions-ecosystem/action-get-merged-pull-request": {"title", "body"},
    "xt0rted/pull-request-comment-branch": {"head_ref"},
}

_SHELL_VAR = re.compile(r"\$\{?([A-Za-z_][A-Za-z0-9_]*)")


class Sink(NamedTuple):
    """An input of an action that the action runs as code: an expression in it is code too."""

    action: str  # owner/repo[/path], compared without regard to case
    input: str
    language: str
    fix: str  # what to do instead, after "; "


_ENV = 'pass it through "env:" and read it '
_ENV_SHELL = _ENV + "as a shell variable"
_ENV_PS = _ENV + 'from "$env:"'
_ENV_JS = _ENV + 'from "process.env"'
# Script inputs of third-party actions, each checked in the action's own source (the head of its
# default branch, read in December 2026): the input reaches an interpreter as code.
SCRIPT_SINKS: tuple[Sink, ...] = (
    # the input is the body of an async JavaScript function
    Sink("actions/github-script", "script", "JavaScript", _ENV_JS),
    # src/main.ts writes the input into a script file that bash runs in the azure-cli container
    Sink("azure/cli", "inlineScript", "Bash", _ENV_SHELL),
    # src/ScriptRunner.ts writes the input into a .ps1 file that pwsh runs
    Sink("azure/powershell", "inlineScript", "PowerShell", _ENV_PS),
    # github-action/entrypoint.sh runs eval "$1" on the input
    Sink("mikefarah/yq", "cmd", "sh", _ENV_SHELL),
    # entrypoint.sh runs eval $INPUT_CMD
    Sink("sergeysova/jq-action", "cmd", "Bash", _ENV_SHELL),
    # action.ps1 writes the input into a file and runs it with Invoke-Expression
    Sink("amadevus/pwsh-script", "script", "PowerShell", _ENV_PS),
    # index.mjs writes the input into a file that python runs
    Sink("jannekem/run-python-script-action", "script", "Python", _ENV + 'from "os.environ"'),
    # the composite action hands the input to the remote host's shell
    Sink("appleboy/ssh-action", "script", "a shell on the remote host",
         'pass it through "env:", list it in "envs:" and read it as a shell variable there'),
    # src/index.ts compiles each template with lodash's template(), whose <% %> blocks are JavaScript
    *(Sink("tibdex/backport", name, "a lodash template (JavaScript)",
           'use the template\'s own variables (such as "<%= title %>") instead of an expression')
      for name in ("title_template", "body_template", "head_template", "labels_template")),
    # src/client.ts runs the input through eval()
    Sink("8398a7/action-slack", "custom_payload", "JavaScript", _ENV_JS),
    # entrypoint.sh runs the input with the container's shell (-c) and splits options unquoted into
    # the "docker run" command line of the runner (--entrypoint, -v /:/host, --privileged)
    Sink("addnab/docker-run-action", "run", "a shell in the container", _ENV_SHELL),
    Sink("addnab/docker-run-action", "options", "the options of \"docker run\" on the runner",
         "keep event text out of the options; pass it to the container with -e and read it there"),
)


_TABLES: dict[int, tuple[object, dict[str, dict[str, Sink]]]] = {}


def sinks(ctx) -> dict[str, dict[str, Sink]]:
    """The table above plus ``checks.template-injection.script-sinks`` of the configuration, made
    once per configuration."""
    config = getattr(ctx, "config", None)
    cached = _TABLES.get(id(config))
    if cached is not None and cached[0] is config:
        return cached[1]
    table = _sinks(ctx)
    _TABLES[id(config)] = (config, table)
    return table


def _sinks(ctx) -> dict[str, dict[str, Sink]]:
    table: dict[str, dict[str, Sink]] = {}
    extra = []
    config = getattr(ctx, "config", None)
    if config is not None:
        for entry in config.check(ID).options.get("script-sinks", ()):
            extra.append(Sink(entry["action"], entry["input"], entry.get("language", "code"),
                              entry.get("fix", _ENV + "from the environment there")))
    for sink in (*SCRIPT_SINKS, *extra):
        table.setdefault(sink.action.lower(), {})[sink.input.lower()] = sink
    return table


def check(doc: Document, ctx) -> Iterator[Finding]:
    if doc.root is None or "${{" not in doc.text:
        return
    scope = Scope(doc)
    table = None
    for step in iter_steps(doc):
        run = mapping_get(step.node, "run")
        if isinstance(run, ScalarNode):
            yield from _scan(doc, scope, step, run, None)
        uses = scalar_text(mapping_get(step.node, "uses"))
        if not uses:
            continue
        table = sinks(ctx) if table is None else table
        if uses.split("@", 1)[0].strip().lower() not in table:
            continue  # the cheap test first: most actions run none of their inputs
        with_ = mapping_get(step.node, "with")
        if with_ is not None:
            ref = parse_uses(uses)
            if ref.kind != REMOTE:
                continue
            inputs = table.get(ref.action.lower())
            if not inputs:
                continue
            for key, value in mapping_items(with_):
                sink = inputs.get(key.value.lower())
                if sink is not None and isinstance(value, ScalarNode):
                    shown = sink._replace(action=ref.action, input=key.value)  # as the workflow writes them
                    yield from _scan(doc, scope, step, value, shown)


def _scan(doc: Document, scope: Scope, step: Step, node: ScalarNode, sink: Sink | None) -> Iterator[Finding]:
    if "${{" not in node.value:
        return
    try:
        expressions = find_expressions(node.value)
    except ExpressionError:
        return  # actionlint reports the broken expression
    for expr in expressions:
        for ref in value_refs(expr.body):
            why = scope.source(ref.path, step)
            if why is None:
                continue
            loc = locate(doc, node, expr.start, expr.end)
            name = scope.env_name(ref.path.split(".")[1], step) if ref.path.lower().startswith("env.") else None
            yield doc.finding(ID, _message(ref.path, why, sink, name), loc, SEVERITY)
            break  # one finding per expression


def _message(path: str, why: str, sink: Sink | None, env_name: str | None = None) -> str:
    """``env_name``: for ``env.X``, the variable as its ``env:`` key spells it (the expression reads
    the env context case-insensitively; a shell or ``process.env`` reads the exact name)."""
    if sink is None:
        where = 'a "run:" script, where it can run commands'
        fix = f'use "${env_name}" instead' if env_name else 'pass it through "env:" and read it as a shell variable'
    elif sink.action.lower() == "actions/github-script":
        where = 'the script of "actions/github-script", where it can run code'
        fix = f'use "process.env.{env_name}" instead' if env_name \
            else 'pass it through "env:" and read it from "process.env"'
    else:
        where = f'the "{sink.input}" input of "{sink.action}", which runs it as {sink.language}'
        fix = f'read the environment variable "{env_name}" there instead' if env_name else sink.fix
    sep = "," if ", which" in why else ""
    return f'"{path}" {why}{sep} and is expanded into {where}; {fix}'


class Scope:
    """Resolves a context path to the reason it carries attacker text, or None."""

    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.is_action = doc.kind == "action"
        self.workflow_env = {} if self.is_action else _env_map(mapping_get(doc.root, "env"))
        self.jobs = {} if self.is_action else {job_id: job for job_id, _, job in iter_jobs(doc)}
        self.string_inputs = self._string_inputs()
        # (job id, step id, output), lower case -> the source reaching that step output
        self._step_cache: dict[tuple[str | None, str, str], str | None] = {}
        self._active: set[tuple[str | None, str, str]] = set()

    def _string_inputs(self) -> set[str] | None:
        """Names of the ``string`` inputs of a reusable workflow; None when not one."""
        if self.is_action:
            return None
        events = on_events(self.doc)
        if "workflow_call" not in events:
            return None
        out = set()
        for key, spec in mapping_items(mapping_get(events["workflow_call"], "inputs")):
            kind = scalar_text(mapping_get(spec, "type"))
            if kind is None or kind.lower() == "string":
                out.add(key.value.lower())
        return out

    # -------------------------------------------------------------------- sources
    def source(self, path: str, step: Step | None, depth: int = 0) -> str | None:
        if depth > 8:
            return None
        pattern = untrusted_match(path)
        if pattern is not None:
            pattern_parts = pattern.split(".")
            if len(path.split(".")) < len(pattern_parts) and pattern_parts[-1] != "**":
                return f'holds "{pattern}", which an attacker can write'
            return "can be written by an attacker"
        parts = path.split(".")
        head = parts[0].lower()
        if head == "inputs":
            return self._input(parts)
        if head == "env" and len(parts) >= 2:
            return self._env(parts[1], step, depth)
        if head == "steps" and len(parts) >= 2 and step is not None:
            return self._step_output(step.job_id, parts[1], parts[3] if len(parts) > 3 else None, depth)
        if head == "needs" and len(parts) >= 2 and not self.is_action:
            return self._needs(parts[1], parts[3] if len(parts) > 3 else None, depth)
        if head == "matrix" and step is not None and not self.is_action:
            return self._matrix(step.job_id, parts[1] if len(parts) > 1 else "*", depth)
        return None

    def _matrix(self, job_id: str | None, name: str, depth: int) -> str | None:
        """``matrix.<name>`` of a job whose matrix takes attacker text: the whole matrix or its
        ``include:`` built by ``fromJSON()`` of it, a value list of that key, or an ``include:``
        entry that sets that key from it."""
        job = self.jobs.get(job_id) if job_id is not None else None
        matrix = mapping_get(mapping_get(job, "strategy"), "matrix")
        if matrix is None:
            return None
        whole = name in ("*", "")
        # the job's own context: the matrix is evaluated before its steps, with no step outputs
        none = Step(job_id, -1, MappingNode("tag:yaml.org,2002:map", []))
        if isinstance(matrix, ScalarNode):
            found = self._node_source(matrix, none, depth + 1)
            return f'is a value of the matrix built from "{found[0]}"{writable(found[0])}' if found else None
        for key, value in mapping_items(matrix):
            lowered = key.value.lower()
            if lowered == "exclude":
                continue
            if lowered == "include":
                candidates = [value] if isinstance(value, ScalarNode) else []
                for entry in sequence_items(value):
                    if isinstance(entry, ScalarNode):
                        candidates.append(entry)
                    for entry_key, entry_value in mapping_items(entry):
                        if (whole or entry_key.value.lower() == name.lower()) and isinstance(entry_value, ScalarNode):
                            candidates.append(entry_value)
            elif whole or lowered == name.lower():
                candidates = [value] if isinstance(value, ScalarNode) else \
                    [item for item in sequence_items(value) if isinstance(item, ScalarNode)]
            else:
                continue
            for candidate in candidates:
                found = self._node_source(candidate, none, depth + 1)
                if found is not None:
                    where = "include" if lowered == "include" else key.value
                    return f'is set by the matrix ("{where}:") from "{found[0]}"{writable(found[0])}'
        return None

    def _input(self, parts: list[str]) -> str | None:
        if self.is_action:
            return "is an input of the action, which its caller may fill with attacker text"
        if self.string_inputs is None:
            return None
        if len(parts) < 2 or parts[1] == "*":
            return "comes from the caller of the reusable workflow" if self.string_inputs else None
        if parts[1].lower() in self.string_inputs:
            return "is a string input that the caller of the reusable workflow controls"
        return None

    def env_name(self, name: str, step: Step | None) -> str:
        """``name`` as the nearest ``env:`` that defines it spells it (``name`` itself when none does)."""
        for env, _ in self._env_chain(step):
            if name in env:
                return name
            spelled = next((k for k in env if k.lower() == name.lower()), None)
            if spelled is not None:
                return spelled
        return name

    def _env(self, name: str, step: Step | None, depth: int) -> str | None:
        for env, level in self._env_chain(step):
            node = env.get(name) if name in env else next(
                (v for k, v in env.items() if k.lower() == name.lower()), None)
            if node is None:
                continue
            inner = self._node_source(node, None if level == "workflow" else step, depth + 1)
            if inner is None:
                return None  # the nearest definition wins and is safe
            inner_path, _ = inner
            return f'is set from "{inner_path}"' if inner_path.startswith(("env.", "steps.", "needs.", "inputs.")) \
                else f'is set from "{inner_path}", which an attacker can write'
        return None

    def _env_chain(self, step: Step | None) -> list[tuple[dict[str, ScalarNode], str]]:
        chain = []
        if step is not None:
            chain.append((_env_map(mapping_get(step.node, "env")), "step"))
            if step.job_id is not None and step.job_id in self.jobs:
                chain.append((_env_map(mapping_get(self.jobs[step.job_id], "env")), "job"))
        chain.append((self.workflow_env, "workflow"))
        return chain

    def _node_source(self, node: ScalarNode, step: Step | None, depth: int) -> tuple[str, str] | None:
        """The first attacker-controllable path whose text reaches the scalar's value."""
        if "${{" not in node.value:
            return None
        try:
            expressions = find_expressions(node.value)
        except ExpressionError:
            return None
        for expr in expressions:
            for ref in value_refs(expr.body):
                why = self.source(ref.path, step, depth)
                if why is not None:
                    return ref.path, why
        return None

    def _find_step(self, job_id: str | None, step_id: str) -> Step | None:
        for step in self._steps(job_id):
            if (scalar_text(mapping_get(step.node, "id")) or "").lower() == step_id.lower():
                return step
        return None

    def _steps(self, job_id: str | None) -> list[Step]:
        if self.is_action:
            return list(iter_steps(self.doc))
        job = self.jobs.get(job_id) if job_id is not None else None
        return [Step(job_id, i, s) for i, s in enumerate(sequence_items(mapping_get(job, "steps")))
                if isinstance(s, MappingNode)]

    def _step_output(self, job_id: str | None, step_id: str, output: str | None, depth: int) -> str | None:
        key = (job_id, step_id.lower(), (output or "").lower())
        if key in self._step_cache:
            return self._step_cache[key]
        if key in self._active:
            return None
        self._active.add(key)
        try:
            result = self._step_output_uncached(job_id, step_id, output, depth)
        finally:
            self._active.discard(key)
        self._step_cache[key] = result
        return result

    def _step_output_uncached(self, job_id, step_id, output, depth) -> str | None:
        step = self._find_step(job_id, step_id)
        if step is None:
            return None
        uses = scalar_text(mapping_get(step.node, "uses"))
        if uses:
            ref = parse_uses(uses)
            if ref.kind != REMOTE:
                return None
            action = ref.action.lower()
            if action not in TAINTED_ACTION_OUTPUTS:
                return None
            names = TAINTED_ACTION_OUTPUTS[action]
            if output is not None and output != "*":
                if isinstance(names, set) and output.lower() not in names:
                    return None
                if isinstance(names, str) and not output.lower().endswith(names[1:]):
                    return None
            return f'is an output of "{ref.action}", which an attacker can choose'
        run = mapping_get(step.node, "run")
        if not isinstance(run, ScalarNode) or not ("GITHUB_OUTPUT" in run.value or "set-output" in run.value):
            return None
        found = self._node_source(run, step, depth + 1)
        if found is not None:
            return f'is written by step "{step_id}" from "{found[0]}"'
        for name in dict.fromkeys(_SHELL_VAR.findall(run.value)):
            if name == "GITHUB_OUTPUT":
                continue
            if self._env(name, step, depth + 1) is not None:
                return f'is written by step "{step_id}" from "${name}"'
        return None

    def _needs(self, job_id: str, output: str | None, depth: int) -> str | None:
        # ``needs.META`` reads job ``meta`` (property names are case-insensitive); its outputs read
        # the steps of that job, found under the id the workflow gives it
        name = job_id if job_id in self.jobs else next((k for k in self.jobs if k.lower() == job_id.lower()), None)
        job = self.jobs.get(name) if name is not None else None
        if job is None:
            return None
        for key, value in mapping_items(mapping_get(job, "outputs")):
            if output not in (None, "*") and key.value.lower() != output.lower():
                continue
            if not isinstance(value, ScalarNode):
                continue
            found = self._node_source(value, Step(name, -1, MappingNode("tag:yaml.org,2002:map", [])), depth + 1)
            if found is not None:
                return f'is set by job "{job_id}" from "{found[0]}"'
        return None


def writable(path: str) -> str:
    """", which an attacker can write" after a path of the event; nothing after a derived one."""
    derived = path.startswith(("env.", "steps.", "needs.", "inputs.", "matrix.", "$"))
    return "" if derived else ", which an attacker can write"


def _env_map(node) -> dict[str, ScalarNode]:
    return {k.value: v for k, v in mapping_items(node) if isinstance(v, ScalarNode)}
