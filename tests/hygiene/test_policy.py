"""``ci-tools policy``: what a pull request changes in the gates' policy is shown to the reviewer
(issue 10, item 2), on real git histories, and through both gates end to end.

A pull request may switch a check off in the configuration, suppress a finding with
``# ci-tools: ignore[...]``, hide a line from the secret scan with ``pragma: allowlist secret``, or
accept a secret in the baseline. Each becomes a note at the place it is written, in the job summary of
``pr-hygiene`` and of ``check``; none of them is hidden by the pull request's own configuration.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from support.fake_credentials import AWS_KEY
from support.gitrepo import Repo
from support.paths import REPO
from support.runner import run_action

sys.path.insert(0, str(REPO / "tests" / "actions" / "check"))
from check_support import BAD, USES, VENV_PYTHON, UploadSarif  # noqa: E402

WF = ".github/workflows/ci.yml"
CONFIG = '[tool.ci-tools]\nexclude = ["tests/**"]\n\n[tool.ci-tools.checks.missing-timeout]\nseverity = "error"\n'


def notes(cli, repo, *args: str) -> tuple[subprocess.CompletedProcess, list[tuple[str, int, int, str]]]:
    done = cli("policy", "main", *args, "--format", "json", cwd=repo.path)
    data = json.loads(done.stdout)
    assert all(f["check"] == "policy-change" and f["severity"] == "note" for f in data["findings"])
    return done, [(f["path"], f["line"], f["col"], f["message"]) for f in data["findings"]]


def test_configuration_changes_name_each_key_where_it_is_written(cli, repo):
    repo.commit("chore: init", {"pyproject.toml": CONFIG})
    repo.branch("feature/x")
    repo.commit("chore: loosen", {"pyproject.toml": '[tool.ci-tools]\nexclude = ["**"]\n\n'
                                                    '[tool.ci-tools.checks.template-injection]\nenabled = false\n'
                                                    '\n[tool.ci-tools.checks.secret]\nenabled = false\n'})
    done, found = notes(cli, repo)
    assert done.returncode == 0
    prefix = "the pull request changes the ci-tools configuration: it "
    assert found == [
        ("pyproject.toml", 1, 1, prefix + 'removes "checks.missing-timeout.severity" (was "error")'),
        ("pyproject.toml", 2, 1, prefix + 'changes "exclude" from ["tests/**"] to ["**"]'),
        ("pyproject.toml", 5, 1, prefix + 'sets "checks.template-injection.enabled" to false'),
        ("pyproject.toml", 8, 1, prefix + 'sets "checks.secret.enabled" to false'),
    ]


def test_a_new_configuration_file_that_takes_precedence(cli, repo):
    repo.commit("chore: init", {"pyproject.toml": CONFIG})
    repo.branch("feature/x")
    repo.commit("chore: own file", {".github/ci-tools.toml": "[checks.missing-timeout]\nenabled = false\n"})
    _, found = notes(cli, repo)
    assert found[0] == (".github/ci-tools.toml", 1, 1, "the pull request moves the ci-tools configuration from "
                        "pyproject.toml to .github/ci-tools.toml (it now takes precedence over pyproject.toml)")
    assert ('the pull request changes the ci-tools configuration: it changes "checks.missing-timeout.severity"'
            not in [m for *_, m in found])
    assert (".github/ci-tools.toml", 2, 1, "the pull request changes the ci-tools configuration: it sets "
            '"checks.missing-timeout.enabled" to false') in found


def test_unreadable_and_removed_configuration(cli, repo):
    repo.commit("chore: init", {"pyproject.toml": CONFIG})
    repo.branch("feature/x")
    repo.commit("chore: break", {"pyproject.toml": "[tool.ci-tools\n"})
    _, found = notes(cli, repo)
    assert [(p, m.split(" (")[0]) for p, _, _, m in found] == [
        ("pyproject.toml", "the pull request makes the ci-tools configuration unreadable")]
    repo.git("rm", "-q", "pyproject.toml")
    repo.commit("chore: remove")
    _, found = notes(cli, repo)
    assert found == [("pyproject.toml", 1, 1, "the pull request removes the ci-tools configuration: every check runs "
                                              "with its defaults")]


def test_ignore_and_allowlist_comments_on_added_lines(cli, repo):
    repo.commit("chore: init", {WF: "name: ci\n", "app.py": "A = 1  # ci-tools: ignore[syntax] already here\n"})
    repo.branch("feature/x")
    repo.commit("feat: x", {
        WF: "name: ci  # ci-tools: ignore[template-injection, missing-timeout] the title is ours\n",
        "app.py": "A = 1  # ci-tools: ignore[syntax] already here\nB = 2  # ci-tools: ignore[schema]\n",
        "keys.py": f'KEY = "{AWS_KEY}"  # pragma: allowlist secret\n# pragma: allowlist nextline secret\nX = 1\n',
    })
    done, found = notes(cli, repo)
    assert done.returncode == 0
    assert found == [
        (WF, 1, 11, 'the pull request adds an ignore comment for template-injection, missing-timeout ("the title is '
                    'ours")'),
        ("app.py", 2, 8, "the pull request adds an ignore comment for schema (without a reason: it suppresses nothing)"),
        ("keys.py", 1, 33, "the pull request adds a detect-secrets allowlist comment: the secret scan skips this line"),
        ("keys.py", 2, 3, "the pull request adds a detect-secrets allowlist comment: the secret scan skips the next line"),
    ]
    assert AWS_KEY not in done.stdout


def test_comments_in_files_of_any_encoding(cli, repo):
    repo.commit("chore: init")
    repo.branch("feature/x")
    (repo.path / "latin1.py").write_bytes("# caf\xe9\nX = 1  # pragma: allowlist secret\n".encode("latin-1"))
    repo.git("add", "latin1.py")
    repo.commit("feat: latin-1")
    _, found = notes(cli, repo)
    assert [(p, line) for p, line, _, _ in found] == [("latin1.py", 2)]


def test_baseline_settings_and_accepted_secrets(cli, repo):
    base = {"version": "1.5.0", "plugins_used": [{"name": "AWSKeyDetector"}], "filters_used": [], "results": {}}
    repo.commit("chore: init", {".secrets.baseline": json.dumps(base, indent=2) + "\n"})
    repo.branch("feature/x")
    head = dict(base, plugins_used=[], results={"keys.py": [{"type": "AWS Access Key", "hashed_secret": "ab" * 20,
                                                             "is_verified": False, "line_number": 1}]})
    repo.commit("chore: accept", {".secrets.baseline": json.dumps(head, indent=2) + "\n"})
    _, found = notes(cli, repo)
    assert [(line, m) for _, line, _, m in found] == [
        (3, 'the pull request changes "plugins_used" of .secrets.baseline; the secret scan takes its plugins and filters '
            "from the base, so the change applies once it is merged"),
        (9, "the pull request adds 1 secret to the accepted results of .secrets.baseline (keys.py); a reviewer should "
            "confirm none is a real one"),
    ]


def test_no_change_and_notes_never_fail(cli, repo, tmp_path):
    repo.commit("chore: init", {"pyproject.toml": CONFIG})
    repo.branch("feature/x")
    repo.commit("feat: x", {"app.py": "x = 1\n"})
    done = cli("policy", "main", "--summary", str(tmp_path / "s.md"), cwd=repo.path)
    assert (done.returncode, done.stdout) == (0, "no change to the gates' policy (ci-tools configuration, secrets "
                                                 "baseline, ignore and allowlist comments)\n")
    assert "✅ no change to the gates' policy" in (tmp_path / "s.md").read_text()
    repo.commit("chore: quiet", {"pyproject.toml": CONFIG + "\n[tool.ci-tools.checks.policy-change]\nenabled = false\n"})
    done = cli("policy", "main", "--summary", str(tmp_path / "t.md"), cwd=repo.path)
    assert done.returncode == 0 and "[policy-change]" in done.stdout  # its own configuration hides nothing
    assert '"checks.policy-change.enabled" to false' in (tmp_path / "t.md").read_text().replace("\\", "")
    assert cli("policy", "main", "--fail-level", "note", cwd=repo.path).returncode == 1
    bad = cli("policy", "no-such-base", cwd=repo.path)
    assert bad.returncode == 3 and 'unknown revision "no-such-base"' in bad.stderr


# ------------------------------------------------------------------------------ through the gates
def _pull_request(tmp: Path, *, depth: int | None = None) -> tuple[Path, str, str]:
    """A pull request that silences the finding of its own workflow with an ignore comment and switches the
    secret check off in its configuration; checked out as GitHub does (the merge commit), optionally shallow."""
    origin = Repo(tmp / "origin")
    origin.commit("chore: init", {WF: BAD, "pyproject.toml": CONFIG})
    base = origin.git("rev-parse", "HEAD")
    origin.branch("fix/x")
    silenced = BAD.replace('}}"\n', '}}" # ci-tools: ignore[template-injection] the title is escaped upstream\n')
    origin.commit("fix: x", {WF: silenced, "pyproject.toml": CONFIG + "\n[tool.ci-tools.checks.secret]\nenabled = false\n",
                             "keys.py": f'KEY = "{AWS_KEY}"\n'})
    head = origin.git("rev-parse", "HEAD")
    origin.checkout("main")
    origin.git("checkout", "-q", "--detach")
    merge = origin.merge("fix/x")
    origin.git("update-ref", "refs/pull/1/merge", merge)
    ws = tmp / "ws"
    clone = ["git", "clone", "-q", *(["--depth", str(depth)] if depth else []), "--no-checkout",
             f"file://{origin.path}", str(ws)]
    subprocess.run(clone, check=True, capture_output=True)
    subprocess.run(["git", "fetch", "-q", *(["--depth", str(depth)] if depth else []), "origin",
                    "refs/pull/1/merge"], cwd=ws, check=True, capture_output=True)
    subprocess.run(["git", "checkout", "-q", "FETCH_HEAD"], cwd=ws, check=True, capture_output=True)
    return ws, base, head


def _event(base: str, head: str) -> dict:
    return {"event_name": "pull_request", "head_ref": "fix/x", "base_ref": "main",
            "event": {"number": 1, "pull_request": {"number": 1, "title": "fix: x", "base": {"sha": base, "ref": "main"},
                                                    "head": {"sha": head, "ref": "fix/x"}}}}


def test_the_check_gate_shows_the_ignore_comment_that_silences_it(tmp_path):
    ws, base, head = _pull_request(tmp_path, depth=2)
    result = run_action(REPO / "actions" / "check", workspace=ws, env={"CI_TOOLS_PYTHON": str(VENV_PYTHON)},
                        github=_event(base, head), stand_ins={USES: UploadSarif()})
    assert not result.failed, (result.errors, result.stdout)  # the finding is suppressed, as the comment asks
    assert "### Policy changes" in result.summary
    assert "ignore comment for template\\-injection" in result.summary
    assert '"checks\\.secret\\.enabled" to false' in result.summary
    assert any(n.startswith("the pull request adds an ignore comment for template-injection") for n in result.notices)


def test_the_check_gate_says_when_it_cannot_compare(tmp_path):
    ws, base, head = _pull_request(tmp_path, depth=1)
    result = run_action(REPO / "actions" / "check", workspace=ws, env={"CI_TOOLS_PYTHON": str(VENV_PYTHON)},
                        github=_event(base, head), stand_ins={USES: UploadSarif()})
    assert "### Policy changes\n\n⚠️ not compared: its base commit" in result.summary
    assert any("fetch-depth: 2" in w for w in result.warnings)


def test_the_check_gate_on_a_push_lists_nothing(tmp_path):
    ws, base, head = _pull_request(tmp_path, depth=2)
    result = run_action(REPO / "actions" / "check", workspace=ws, env={"CI_TOOLS_PYTHON": str(VENV_PYTHON)},
                        github={"event_name": "push"}, stand_ins={USES: UploadSarif()})
    assert "### Policy changes" not in result.summary


def test_pr_hygiene_lists_the_policy_changes_and_still_finds_the_secret(tmp_path):
    ws, base, head = _pull_request(tmp_path)
    result = run_action(REPO / "actions" / "pr-hygiene", workspace=ws, env={"CI_TOOLS_PYTHON": str(VENV_PYTHON)},
                        github=_event(base, head), timeout=180)
    assert result.failed and result.outputs["failed-checks"] == "secrets", (result.errors, result.stderr)
    section = result.summary.split("### Policy changes", 1)[1]
    assert "ignore comment for template\\-injection" in section and '"checks\\.secret\\.enabled" to false' in section
    assert result.outputs["problems"] == "1"  # the secret; policy notes inform, they are no problem
