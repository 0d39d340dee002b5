"""The check command's contract: inputs, configuration, exit codes, --explain and --list."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ci_tools import cli as cli_module

CLEAN = ("on: push\npermissions: {}\njobs:\n  a:\n    runs-on: ubuntu-latest\n    timeout-minutes: 5\n"
         "    steps:\n      - run: echo hi\n")
BAD = CLEAN + "        bogus: 1\n"


def put(root: Path, rel: str, text: str) -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def paths(out) -> list[str]:
    assert "Traceback" not in out.stderr, out.stderr
    return sorted({f["path"] for f in json.loads(out.stdout)["findings"]})


def test_default_inputs(repo_dir, cli):
    put(repo_dir, ".github/workflows/a.yml", BAD)
    put(repo_dir, ".github/workflows/b.yaml", BAD)
    put(repo_dir, ".github/workflows/notes.txt", "not yaml")
    put(repo_dir, ".github/dependabot.yml", "version: 2\nupdates:\n  - package-ecosystem: pip\n    bogus: 1\n")
    put(repo_dir, "actions/x/action.yml", "name: x\n")
    put(repo_dir, "deep/er/action.yaml", "name: y\n")
    put(repo_dir, "node_modules/pkg/action.yml", "name: skipped\n")
    put(repo_dir, ".venv/lib/action.yml", "name: skipped\n")
    put(repo_dir, "workflow-templates/t.yml", BAD)
    put(repo_dir, "workflow-templates/t.properties.json", '{"name": 1}')
    put(repo_dir, "other/ci.yml", BAD)  # not a default input
    out = cli("check", "--no-actionlint", "--format", "json", cwd=repo_dir)
    assert out.returncode == 1
    assert paths(out) == [".github/dependabot.yml", ".github/workflows/a.yml", ".github/workflows/b.yaml",
                          "actions/x/action.yml", "deep/er/action.yaml", "workflow-templates/t.properties.json",
                          "workflow-templates/t.yml"]


def test_paths_are_relative_to_the_working_directory(repo_dir, cli):
    put(repo_dir, ".github/workflows/a.yml", BAD)
    out = cli("check", "--no-actionlint", "--format", "json", "a.yml", cwd=repo_dir / ".github" / "workflows")
    assert paths(out) == ["a.yml"]


def test_explicit_directory_and_exclude(repo_dir, cli):
    put(repo_dir, "ci/one.yml", BAD)
    put(repo_dir, "ci/sub/two.yml", BAD)
    put(repo_dir, "ci/sub/skip.yml", BAD)
    out = cli("check", "--no-actionlint", "--format", "json", "ci", "--exclude", "ci/sub/skip*", cwd=repo_dir)
    assert paths(out) == ["ci/one.yml", "ci/sub/two.yml"]


def test_clean_repository_exits_zero(repo_dir, cli):
    put(repo_dir, ".github/workflows/a.yml", CLEAN)
    out = cli("check", "--no-actionlint", "--select", "schema", cwd=repo_dir)
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_usage_errors_exit_two_with_one_line(repo_dir, cli):
    for argv in (["check", "missing.yml"], ["check", "--select", "no-such-check"], ["check", "--format", "xml"],
                 ["check", "--explain", "no-such-check"], ["no-such-command"]):
        out = cli(*argv, cwd=repo_dir)
        assert out.returncode == 2, argv
        assert "Traceback" not in out.stderr


def test_configuration_severity_enable_and_exclude(repo_dir, cli):
    put(repo_dir, ".github/workflows/a.yml", BAD)
    put(repo_dir, ".github/workflows/skip.yml", BAD)
    put(repo_dir, ".github/ci-tools.toml",
        '[checks.schema]\nseverity = "note"\n\n[checks.missing-timeout]\nenabled = false\n'
        .replace("[checks", "exclude = [\".github/workflows/skip.yml\"]\n\n[checks", 1))
    out = cli("check", "--no-actionlint", "--format", "json", cwd=repo_dir)
    findings = json.loads(out.stdout)["findings"]
    assert {(f["path"], f["severity"]) for f in findings} == {(".github/workflows/a.yml", "note")}
    assert out.returncode == 0  # notes do not fail at the default --fail-level warning
    assert cli("check", "--no-actionlint", "--fail-level", "note", cwd=repo_dir).returncode == 1


def test_pyproject_table_is_read(repo_dir, cli):
    put(repo_dir, ".github/workflows/a.yml", BAD)
    put(repo_dir, "pyproject.toml", '[tool.ci-tools.checks.schema]\nenabled = false\n')
    out = cli("check", "--no-actionlint", "--format", "json", "--select", "schema", cwd=repo_dir)
    assert json.loads(out.stdout)["findings"] == []


@pytest.mark.parametrize("text,words", [
    ('[checks.no-such-check]\nenabled = false\n', 'unknown check "no-such-check"'),
    ('allowed-owners = "actions"\n', "allowed-owners"),
    ('checks = [\n', "invalid TOML"),
])
def test_bad_configuration_is_a_usage_error(text, words, repo_dir, cli):
    put(repo_dir, ".github/ci-tools.toml", text)
    out = cli("check", "--no-actionlint", cwd=repo_dir)
    assert out.returncode == 2 and words in out.stderr and "Traceback" not in out.stderr


def test_explain_and_list(cli):
    listed = cli("check", "--list")
    assert listed.returncode == 0
    ids = [line.split()[0] for line in listed.stdout.splitlines()]
    assert {"syntax", "schema", "unpinned-uses", "template-injection", "actionlint"} <= set(ids)
    explained = cli("check", "--explain", "schema")
    assert explained.returncode == 0 and explained.stdout.startswith("## `schema`")


def test_interrupt_exits_130(monkeypatch, capsys):
    import ci_tools.commands.check as check_command

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(check_command, "run", interrupted)
    assert cli_module.main(["check"]) == 130
    assert "interrupted" in capsys.readouterr().err


def test_unexpected_error_is_one_line_exit_three_and_redacted(monkeypatch, capsys):
    import ci_tools.commands.check as check_command

    monkeypatch.setenv("GITHUB_TOKEN", "ghs_secretvalue1234567890abcdef")

    def broken(args):
        raise RuntimeError("boom with ghs_secretvalue1234567890abcdef inside")

    monkeypatch.setattr(check_command, "run", broken)
    assert cli_module.main(["check"]) == 3
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "secretvalue" not in err and "***" in err


@pytest.mark.parametrize("argv, unknown", [
    (["check", "--bogus"], "--bogus"),
    (["branch", "a", "b"], "b"),
    (["diff", "--bogus", "v1"], "--bogus"),
])
def test_an_unknown_argument_prints_the_subcommands_usage(argv, unknown, repo_dir, cli):
    out = cli(*argv, cwd=repo_dir)
    assert out.returncode == 2 and out.stdout == ""
    assert out.stderr.startswith(f"usage: ci-tools {argv[0]} "), out.stderr
    assert out.stderr.rstrip().endswith(f"ci-tools {argv[0]}: error: unrecognized arguments: {unknown}")


@pytest.mark.parametrize("where, given, shown", [
    (".github/ci-tools.toml", None, ".github/ci-tools.toml:2:"),
    ("pyproject.toml", None, "pyproject.toml:4:"),
    ("config/ci/strict.toml", "config/ci/strict.toml", "config/ci/strict.toml:2:"),
    ("config/ci/strict.toml", "./config/ci/../ci/strict.toml", "config/ci/../ci/strict.toml:2:"),
])
def test_configuration_errors_name_the_file_by_its_path(where, given, shown, repo_dir, cli):
    if where == "pyproject.toml":
        put(repo_dir, where, "[project]\nname = 'x'\n[tool.ci-tools]\nno-such-key = 1\n")
    else:
        put(repo_dir, where, "# strict\nno-such-key = 1\n")
    put(repo_dir, ".github/workflows/a.yml", CLEAN)
    sub = repo_dir / ".github" / "workflows"  # from a subdirectory, the path is still the repository's
    out = cli("check", "--no-actionlint", *(["--config", given] if given else []), cwd=repo_dir if given else sub)
    assert out.returncode == 2, out.stderr
    assert out.stderr.startswith(f"ci-tools check: {shown} unknown key \"no-such-key\""), out.stderr


def test_invalid_toml_names_the_file_by_its_path(repo_dir, cli):
    put(repo_dir, ".github/ci-tools.toml", "checks = [\n")
    out = cli("check", "--no-actionlint", cwd=repo_dir)
    assert out.returncode == 2 and out.stderr.startswith("ci-tools check: .github/ci-tools.toml: invalid TOML")


def test_files_named_that_are_not_workflows_are_classified_by_place_and_content(repo_dir, cli):
    """A hostile or careless command line: configuration files of other tools given as workflows."""
    put(repo_dir, "mkdocs.yml", "site_name: docs\nnav:\n  - index.md\n")
    put(repo_dir, "config/dependabot.yml", "version: 2\nupdates:\n  - package-ecosystem: pip\n    directory: /\n"
                                           "    schedule:\n      interval: weekly\n    cooldown:\n      default-days: 7\n")
    put(repo_dir, ".pre-commit-config.yaml", "repos:\n  - repo: local\n    hooks:\n      - id: x\n        name: x\n"
                                             "        entry: make\n        language: system\n")
    put(repo_dir, "zizmor.yml", "rules:\n  template-injection:\n    disable: true\n")
    put(repo_dir, "elsewhere/ci.yml", BAD)  # a workflow by its content, wherever it is
    out = cli("check", "--no-actionlint", "--format", "json", "mkdocs.yml", "config/dependabot.yml",
              ".pre-commit-config.yaml", "zizmor.yml", "elsewhere/ci.yml", cwd=repo_dir)
    found = json.loads(out.stdout)["findings"]
    by_path: dict[str, list[str]] = {}
    for f in found:
        by_path.setdefault(f["path"], []).append(f'{f["check"]}:{f["severity"]}:{f["message"]}')
    assert by_path.pop("mkdocs.yml") == [
        "syntax:warning:not a workflow or action (nor a Dependabot, pre-commit or zizmor configuration), so it was "
        "not checked; name only the files to check, or exclude this one"]
    assert [m.split(":")[0] for m in by_path.pop("elsewhere/ci.yml")] == ["schema"]
    assert by_path == {}, by_path  # the configurations are valid under their own schemas: no bogus findings


def test_a_directory_walk_skips_yaml_that_is_none_of_ours(repo_dir, cli):
    put(repo_dir, "tree/mkdocs.yml", "site_name: docs\n")
    put(repo_dir, "tree/.github/ISSUE_TEMPLATE/bug.yml", "name: Bug\nbody:\n  - type: textarea\n")
    put(repo_dir, "tree/.github/workflows/ci.yml", CLEAN)
    out = cli("check", "--no-actionlint", "--format", "json", "tree", cwd=repo_dir)
    assert out.returncode == 0, out.stdout
    assert json.loads(out.stdout)["findings"] == []
