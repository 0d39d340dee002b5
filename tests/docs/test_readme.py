"""The README's catalogue equals what exists: every ci-tools command, composite action, reusable
workflow, workflow of this repository's own pipeline, starter workflow and configuration table is
listed, and nothing that is gone."""

from __future__ import annotations

import re

import pytest

from support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _section(heading: str) -> str:
    """The text under a heading (``## X`` or ``### X``) up to the next heading of that level or above."""
    level = heading.split(" ", 1)[0]
    start = README.index(f"\n{heading}\n") + 1
    stop = re.search(rf"^#{{1,{len(level)}}} ", README[start + len(heading):], re.M)
    return README[start:start + len(heading) + (stop.start() if stop else len(README))]


def _first_column(text: str) -> set[str]:
    """The code spans of the first cell of each table row (links around them allowed)."""
    names = set()
    for row in re.findall(r"^\|([^|\n]+)\|", text, re.M):
        if set(row.strip()) <= {"-", ":"} or not row.strip():
            continue
        names |= set(re.findall(r"`([^`]+)`", row))
    return names


def _workflows() -> tuple[set[str], set[str]]:
    from ci_tools.gha.source import load, on_events

    reusable, own = set(), set()
    for path in sorted((REPO / ".github" / "workflows").glob("*.y*ml")):
        doc = load(path, root=REPO)
        (reusable if "workflow_call" in on_events(doc) else own).add(path.name)
    return reusable, own


def test_commands():
    from ci_tools.cli import command_modules

    commands = {m.NAME for m in command_modules()}
    listed = set(re.findall(r"^ci-tools (\w+)", _section("## ci-tools").split("```sh\n", 1)[1].split("```")[0],
                            re.M))
    assert listed == commands, "the command list under ## ci-tools"
    headings = re.findall(r"^### (.*`ci-tools .*)$", README, re.M)
    documented = {word.removeprefix("ci-tools ") for h in headings for word in re.findall(r"`([^`]+)`", h)}
    assert commands <= documented, f"commands without a ### section: {sorted(commands - documented)}"


def test_composite_actions():
    actions = {p.parent.name for p in (REPO / "actions").glob("*/action.y*ml")}
    assert _first_column(_section("### Composite actions (`actions/<name>/`)")) == actions
    for name in actions:  # each row links the action's README
        assert f"[`{name}`](actions/{name}/README.md)" in README, name


def test_reusable_workflows_and_the_own_pipeline():
    reusable, own = _workflows()
    assert _first_column(_section("### Reusable workflows (`.github/workflows/`, `on: workflow_call`)")) == reusable
    assert _first_column(_section("### This repository's own pipeline")) == own


def test_starter_workflows():
    templates = {p.stem for p in (REPO / "workflow-templates").glob("*.y*ml")}
    assert _first_column(_section("### Starter workflows (`workflow-templates/`)")) == templates


def _tables() -> list[tuple[str, list[str], list[str]]]:
    """``(table name, its keys, its sub-tables)`` of every table of the configuration schema."""
    from ci_tools.core.config import config_schema

    out: list[tuple[str, list[str], list[str]]] = []

    def walk(name: str, schema: dict) -> None:
        props = schema.get("properties", {})
        tables = [k for k, v in props.items() if v.get("type") == "object"]
        out.append((name, [k for k in props if k not in tables], tables))
        for key in tables:
            if "properties" in props[key]:
                walk(f"{name}.{key}" if name else key, props[key])

    walk("", config_schema())
    return out


@pytest.mark.parametrize(("table", "keys", "tables"), [pytest.param(*t, id=t[0] or "top") for t in _tables()])
def test_every_configuration_table_and_key_is_shown(table, keys, tables):
    """Each table of [tool.ci-tools] has a TOML example in the README that writes each of its keys."""
    blocks = re.findall(r"^ *```toml\n(.*?)^ *```", README, re.M | re.S)
    parent, _, leaf = table.rpartition(".")
    name = f"[tool.ci-tools{'.' + table if table else ''}]"
    # a table is written as a [header], or as dotted keys inside its parent's (update.within = ...)
    # a table of tables only ([tool.ci-tools.checks]) is written by the headers of its sub-tables
    holding = [b for b in blocks if name in b or (leaf and re.search(
        rf"^\[tool\.ci-tools{re.escape('.' + parent) if parent else ''}\]$(?:(?!^\[).)*^{re.escape(leaf)}\.",
        b, re.M | re.S)) or (not keys and tables and name[:-1] + "." in b)]
    assert holding, f"no TOML example of {name}"
    text = "\n".join(holding)
    for key in keys:
        assert re.search(rf"(^|[\s.]){re.escape(key)}\s*=", text, re.M), f"{name} {key} is not shown"
    for sub in tables:
        assert f"[tool.ci-tools.{table + '.' if table else ''}{sub}" in README or \
            re.search(rf"^{re.escape(sub)}\.", text, re.M), f"{name} {sub} is not shown"
