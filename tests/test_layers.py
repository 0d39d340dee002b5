"""The import contract of ``scripts/ci_tools`` (issue 14): imports point one way.

    base (ci_tools/__init__.py, errors.py) < core < gha < lint, pin, review, hygiene, metrics < commands < cli

A module may import its own layer and the layers below it, never one above: library code never
imports the command line, ``core`` knows nothing of GitHub Actions, and what a domain needs of the
lint registry (check ids, rule texts) is handed down to it by ``commands``. The domain packages may
not import each other, except the edges of :data:`ALLOWED`, each with its reason.

Every import counts: module level, inside functions, under ``if TYPE_CHECKING:``, relative ones,
and ``importlib.import_module`` of a literal name (an f-string counts by its literal prefix). A
module that no layer names is itself a violation, so a new package has to be placed here.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "scripts" / "ci_tools"

# the first name under ci_tools -> (layer, rank); "" is the package itself (its __version__)
LAYERS: dict[str, tuple[str, int]] = {
    "": ("base", 0),
    "errors": ("base", 0),
    "core": ("core", 1),
    "gha": ("gha", 2),
    "lint": ("lint", 3),
    "pin": ("pin", 3),
    "review": ("review", 3),
    "hygiene": ("hygiene", 3),
    "metrics": ("metrics", 3),
    "commands": ("commands", 4),
    "cli": ("cli", 5),
    "__main__": ("cli", 5),  # python -m ci_tools: the console script's twin
}
DOMAIN_RANK = 3

# (importer, imported): why the edge between two domains is right
ALLOWED: dict[tuple[str, str], str] = {
    ("pin", "lint"): "pin and verify report malformed-uses, non-canonical-uses and unpinned images with the "
                     "check's own site_finding/image_findings, so the three commands cannot word or rank "
                     "one finding differently",
    ("review", "pin"): "report --online shows each pin as verify judges it (pin.verify, pin.transitive) and "
                       "resolves it with pin's prefetch: one verification, whichever command asks",
}


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(module: str) -> tuple[str, int] | None:
    parts = module.split(".")
    if parts[0] != "ci_tools":
        return None
    return LAYERS.get(parts[1] if len(parts) > 1 else "")


def _literal_prefix(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
        return str(node.values[0].value).rstrip(".")
    return None


def imports(module: str, source: str, is_package: bool) -> list[tuple[int, str]]:
    """``(line, imported module)`` for every import of ``source`` that names a ci_tools module."""
    found: list[tuple[int, str]] = []
    here = module.split(".") if is_package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here[:len(here) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.append((node.lineno, base))
            # ``from ci_tools import cli`` imports the module ci_tools.cli, not only the package
            found += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif isinstance(node, ast.Call) and node.args:
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                target = _literal_prefix(node.args[0])
                if target:
                    found.append((node.lineno, target))
    return [(line, name) for line, name in found if name == "ci_tools" or name.startswith("ci_tools.")]


def violations(sources: dict[str, tuple[str, str, bool]]) -> list[str]:
    """Each import that breaks the contract, as ``path:line: message``.

    ``sources`` maps a module's dotted name to (its path as shown, its text, whether it is a package).
    An imported name is judged by its layer; ``from ci_tools.x import y`` counts once for ``ci_tools.x``
    and once for ``ci_tools.x.y``, and a name that is an attribute, not a module, sits in its module's
    layer anyway."""
    out: list[str] = []
    for module, (shown, text, is_package) in sorted(sources.items()):
        mine = layer_of(module)
        if mine is None:
            out.append(f"{shown}:1: {module} is in no layer; place its package in LAYERS of tests/test_layers.py")
            continue
        reported = set()
        for line, target in imports(module, text, is_package):
            theirs = layer_of(target)
            if theirs is None:
                continue  # a package not written yet is no layer's; the module itself reports it
            (my_name, my_rank), (their_name, their_rank) = mine, theirs
            if their_rank < my_rank or my_name == their_name:
                continue
            if their_rank == my_rank == DOMAIN_RANK:
                if (my_name, their_name) in ALLOWED:
                    continue
                why = "another domain (allow the edge in ALLOWED with its reason, or move the code down)"
            elif their_rank == my_rank:
                continue
            else:
                why = "a higher layer"
            key = (line, their_name)
            if key not in reported:
                reported.add(key)
                out.append(f"{shown}:{line}: {module} ({my_name}) imports {target} ({their_name}), {why}")
    return out


def package_sources(package: Path = PACKAGE) -> dict[str, tuple[str, str, bool]]:
    root = package.parent.parent
    return {module_name(path, package): (path.relative_to(root).as_posix(), path.read_text("utf-8"),
                                         path.name == "__init__.py")
            for path in sorted(package.rglob("*.py")) if "__pycache__" not in path.parts}


def used_domain_edges(sources: dict[str, tuple[str, str, bool]]) -> set[tuple[str, str]]:
    edges = set()
    for module, (_, text, is_package) in sources.items():
        mine = layer_of(module)
        for _, target in imports(module, text, is_package):
            theirs = layer_of(target)
            if mine and theirs and mine[0] != theirs[0] and mine[1] == theirs[1] == DOMAIN_RANK:
                edges.add((mine[0], theirs[0]))
    return edges


def test_ci_tools_keeps_its_layers():
    sources = package_sources()
    assert len(sources) > 100  # the whole package was read, not an empty glob
    assert violations(sources) == []


def test_no_allowed_edge_is_stale():
    """An edge that no import uses any more is taken out of ALLOWED, so it cannot hide a new one."""
    assert set(ALLOWED) <= used_domain_edges(package_sources())


def test_every_layer_names_a_package_that_exists():
    for name in LAYERS:
        if name:
            assert (PACKAGE / name).is_dir() or (PACKAGE / f"{name}.py").is_file(), name


def _one(module: str, text: str, is_package: bool = False) -> list[str]:
    return violations({module: (module.replace(".", "/") + ".py", text, is_package)})


# hostile imports, written out here (never derived from the tables above): each must be reported
@pytest.mark.parametrize(("module", "text", "is_package", "reported"), [
    ("ci_tools.core.config", "def f():\n    from ci_tools.cli import UsageError\n", False, "ci_tools.cli (cli)"),
    ("ci_tools.core.output", "import ci_tools.commands.check\n", True, "ci_tools.commands.check (commands)"),
    ("ci_tools.core.output.sarif", "def rules():\n    from ci_tools.lint.checks import summaries\n", False,
     "ci_tools.lint.checks (lint)"),
    ("ci_tools.core.git", "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ci_tools.gha.source import Document\n",
     False, "ci_tools.gha.source (gha)"),
    ("ci_tools.core.output.text", "from ...gha import uses\n", False, "ci_tools.gha (gha)"),
    ("ci_tools.gha.resolve", "from ci_tools import cli\n", True, "ci_tools.cli (cli)"),
    ("ci_tools.gha.uses", "import importlib\nm = importlib.import_module('ci_tools.pin.plan')\n", False,
     "ci_tools.pin.plan (pin)"),
    ("ci_tools.gha.source", "import importlib\ndef f(n):\n    return importlib.import_module(f'ci_tools.lint.checks.{n}')\n",
     False, "ci_tools.lint.checks (lint)"),
    ("ci_tools.hygiene.policy", "def f():\n    from ci_tools.lint.engine import IGNORE_RE\n", False,
     "ci_tools.lint.engine (lint), another domain"),
    ("ci_tools.lint.engine", "from ci_tools.pin import plan\n", False, "ci_tools.pin (pin), another domain"),
    ("ci_tools.metrics.client", "from ci_tools.review.inventory import Inventory\n", False,
     "ci_tools.review.inventory (review), another domain"),
    ("ci_tools.pin.plan", "from ci_tools.review import render\n", False, "ci_tools.review (review), another domain"),
    ("ci_tools.lint.checks.schema", "from ci_tools.commands._common import emit\n", False,
     "ci_tools.commands._common (commands)"),
    ("ci_tools.commands.check", "from ci_tools.cli import main\n", False, "ci_tools.cli (cli)"),
    ("ci_tools.errors", "from ci_tools.core.findings import Severity\n", False, "ci_tools.core.findings (core)"),
])
def test_a_violating_import_is_reported(module, text, is_package, reported):
    found = _one(module, text, is_package)
    assert len(found) == 1 and reported in found[0], found
    assert found[0].startswith(module.replace(".", "/") + ".py:")


@pytest.mark.parametrize(("module", "text", "is_package"), [
    ("ci_tools.cli", "from ci_tools import __version__\nfrom ci_tools.commands import check\nfrom ci_tools.errors import UsageError\n", False),
    ("ci_tools.commands.report", "def run():\n    from ci_tools.lint import checks\n    from ci_tools.review import render\n", False),
    ("ci_tools.lint.engine", "from ci_tools.core.findings import IGNORE_RE\nfrom ci_tools.gha.source import load\n", False),
    ("ci_tools.pin.verify", "def f():\n    from ci_tools.lint.checks import malformed_uses\n", False),  # ALLOWED
    ("ci_tools.review.inventory", "def f():\n    from ci_tools.pin import verify\n", False),  # ALLOWED
    ("ci_tools.core.output", "from . import text\nfrom .sarif import render\nimport json\n", True),
    ("ci_tools.gha.resolve.github", "from ..uses import parse_uses\nfrom ...core import git\n", False),
])
def test_an_import_the_contract_allows_is_not_reported(module, text, is_package):
    assert _one(module, text, is_package) == []


def test_an_edge_allowed_one_way_is_not_allowed_back():
    assert _one("ci_tools.lint.checks.malformed_uses", "from ci_tools.pin import occurrences\n") != []
    assert _one("ci_tools.pin.plan", "from ci_tools.review import inventory\n") != []


def test_a_module_of_no_layer_is_reported():
    found = violations({"ci_tools.newdomain.thing": ("scripts/ci_tools/newdomain/thing.py", "x = 1\n", False)})
    assert found == ["scripts/ci_tools/newdomain/thing.py:1: ci_tools.newdomain.thing is in no layer; "
                     "place its package in LAYERS of tests/test_layers.py"]


def argparse_users(sources: dict[str, tuple[str, str, bool]]) -> list[str]:
    """Modules below ``commands`` that import argparse: the command line is read in ``commands`` and
    ``cli`` only, and library code is handed typed settings, never an ``argparse.Namespace``."""
    out = []
    for module, (shown, text, _) in sorted(sources.items()):
        layer = layer_of(module)
        if layer is not None and layer[1] >= LAYERS["commands"][1]:
            continue
        for node in ast.walk(ast.parse(text)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
            if any(name == "argparse" or name.startswith("argparse.") for name in names):
                out.append(f"{shown}:{node.lineno}: {module} imports argparse")
    return out


def test_only_the_command_line_layers_read_arguments():
    assert argparse_users(package_sources()) == []


@pytest.mark.parametrize(("module", "text", "found"), [
    ("ci_tools.gha.resolve", "import argparse\n", True),
    ("ci_tools.core.config", "def f():\n    from argparse import Namespace\n", True),
    ("ci_tools.pin.plan", "import argparse as ap\n", True),
    ("ci_tools.commands.pin", "import argparse\n", False),
    ("ci_tools.cli", "import argparse\n", False),
])
def test_an_argparse_import_below_commands_is_reported(module, text, found):
    assert bool(argparse_users({module: (module + ".py", text, False)})) is found
