"""``ci-tools commits`` on real git histories, titles and message files."""

from __future__ import annotations

import json

import pytest


@pytest.fixture
def history(repo):
    """main: chore; feature/login: feat, a merge of main, a fix and a non-conventional commit."""
    repo.commit("chore: initial commit", {"README.md": "hello\n"})
    repo.branch("feature/login")
    repo.commit("feat(auth): add login form", {"login.py": "x = 1\n"})
    repo.checkout("main")
    repo.commit("docs: main moves on", {"docs.md": "d\n"})
    repo.checkout("feature/login")
    repo.merge("main")
    repo.commit("fix(auth): reject empty passwords", {"login.py": "x = 2\n"})
    repo.commit("Update login.py", {"login.py": "x = 3\n"})
    return repo


def test_range_reports_bad_commits_with_underline_and_the_bump(cli, history):
    sha = history.git("rev-parse", "HEAD")
    done = cli("commits", "main..HEAD", cwd=history.path)
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == (f'{sha[:12]}:1:1: error: "Update login.py" does not start with a type; write it as '
                        '"<type>: update login.py", e.g. "feat: ..." or "fix: ..." [commit-message]')
    assert lines[1:3] == ["Update login.py", "^~~~~~~~~~~~~~~"]
    assert lines[-1] == ("semver bump: minor (1 feature; 3 commits checked, 1 not conventional "
                         "(release-please ignores it), 1 merge commit skipped)")
    assert "Merge branch" not in done.stdout


def test_range_json_carries_the_bump(cli, history):
    done = cli("commits", "main", "--format", "json", "--current-version", "1.4.2", cwd=history.path)
    data = json.loads(done.stdout)
    assert data["version"] == 1
    assert [f["check"] for f in data["findings"]] == ["commit-message"]
    assert data["bump"] == {"level": "minor", "reason": "1 feature", "commits": 3, "conventional": 2,
                            "ignored": 1, "merges_skipped": 1, "current_version": "1.4.2",
                            "next_version": "1.5.0", "release_as": None}


def test_clean_range_exits_zero_and_breaking_change_is_major(cli, repo):
    repo.commit("chore: init")
    repo.branch("feature/v2")
    repo.commit("refactor(api)!: rename the endpoints\n\nBREAKING CHANGE: /v1 is gone; call /v2")
    repo.commit("fix: typo")
    done = cli("commits", "main..feature/v2", cwd=repo.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout == "semver bump: major (1 breaking change; 2 commits checked)\n"


def test_pre_major_from_release_please_files(cli, repo):
    repo.commit("chore: init", {
        ".release-please-manifest.json": '{".": "0.3.0"}\n',
        "release-please-config.json": '{"packages": {".": {"bump-minor-pre-major": true}}}\n',
    })
    repo.branch("feature/x")
    repo.commit("feat!: new config format")
    done = cli("commits", "main..HEAD", cwd=repo.path)
    assert "semver bump: minor (1 breaking change before 1.0.0 (bump-minor-pre-major)" in done.stdout
    assert done.stdout.rstrip().endswith("next version 0.3.0 -> 0.4.0")
    # release-please's default, without the option: 1.0.0
    (repo.path / "release-please-config.json").write_text("{}\n")
    done = cli("commits", "main..HEAD", cwd=repo.path)
    assert done.stdout.rstrip().endswith("next version 0.3.0 -> 1.0.0")


def test_only_chores_bump_none_and_bump_output_file(cli, repo, tmp_path):
    repo.commit("chore: init")
    repo.branch("feature/ci")
    repo.commit("ci: cache pip")
    repo.commit("docs: explain the cache")
    out = tmp_path / "github_output"
    done = cli("commits", "main..HEAD", "--bump-output", str(out), cwd=repo.path)
    assert done.returncode == 0
    assert "semver bump: none (no feat, fix, perf, revert or breaking commit" in done.stdout
    assert out.read_text() == "bump=none\nnext-version=\n"


def test_title(cli, repo):
    ok = cli("commits", "--title", "feat(api): add pagination", cwd=repo.path)
    assert (ok.returncode, ok.stdout) == (0, "")
    bad = cli("commits", "--title", "Feat(api):add pagination", cwd=repo.path)
    assert bad.returncode == 1
    assert bad.stdout.splitlines()[:6] == [
        'title:1:1: error: type "Feat" must be lower case; write "feat(api): add pagination" (release-please bumps by the '
        'exact type) [commit-message]',
        "Feat(api):add pagination",
        "^~~~",
        'title:1:10: error: no space after the colon; write "feat(api): add pagination" [commit-message]',
        "Feat(api):add pagination",
        "         ^~",
    ]


def test_a_merge_header_is_no_title(cli, repo):
    done = cli("commits", "--title", "Merge branch 'main' into feature/x", cwd=repo.path)
    assert done.returncode == 1 and "does not start with a type" in done.stdout
    msg = repo.path / "MERGE_MSG"
    msg.write_text("Merge branch 'main' into feature/x\n\n# Conflicts:\n#\tapp.py\n")
    assert cli("commits", "--message-file", str(msg), cwd=repo.path).returncode == 0


def test_message_file_like_the_commit_msg_hook(cli, repo):
    msg = repo.path / ".git" / "COMMIT_EDITMSG"
    msg.write_text("fix: handle empty input\n\n# Please enter the commit message for your changes.\n"
                   "# ------------------------ >8 ------------------------\ndiff --git a/x b/x\n")
    ok = cli("commits", "--message-file", ".git/COMMIT_EDITMSG", cwd=repo.path)
    assert (ok.returncode, ok.stdout, ok.stderr) == (0, "", "")
    msg.write_text("# comment first\nfixed the thing\n")
    bad = cli("commits", "--message-file", ".git/COMMIT_EDITMSG", cwd=repo.path)
    assert bad.returncode == 1
    assert bad.stdout.startswith('.git/COMMIT_EDITMSG:2:1: error: "fixed the thing" does not start with a type')
    # a repository whose comment character is ";"
    repo.git("config", "core.commentChar", ";")
    msg.write_text("; comment\nfix: y\n")
    assert cli("commits", "--message-file", str(msg), cwd=repo.path).returncode == 0


def test_configured_types_and_scopes(cli, repo):
    (repo.path / "pyproject.toml").write_text(
        '[tool.ci-tools.commits]\ntypes = ["feat", "fix", "ops"]\nscopes = ["api", "web"]\n'
        'require-scope = true\nmax-header-length = 30\n')
    assert cli("commits", "--title", "ops(web): rotate keys", cwd=repo.path).returncode == 0
    done = cli("commits", "--title", "chore: rotate keys", cwd=repo.path)
    assert 'unknown type "chore"; use one of feat, fix, ops' in done.stdout
    done = cli("commits", "--title", "fix(cli): a header that is far too long", cwd=repo.path)
    assert 'unknown scope "cli"' in done.stdout
    assert "the header is 39 characters long, more than 30" in done.stdout
    (repo.path / "pyproject.toml").write_text('[tool.ci-tools.commits]\ntypes = "feat"\n')
    bad = cli("commits", "--title", "feat: x", cwd=repo.path)
    assert bad.returncode == 2 and "commits.types" in bad.stderr and "Traceback" not in bad.stderr


def test_severity_can_be_configured(cli, repo):
    (repo.path / "pyproject.toml").write_text('[tool.ci-tools.checks.commit-message]\nseverity = "note"\n')
    done = cli("commits", "--title", "update things", cwd=repo.path)
    assert done.returncode == 0 and "1 note" in done.stdout


@pytest.mark.parametrize("args, code, message", [
    ((), 2, "nothing to check"),
    (("main...HEAD",), 2, "use BASE..HEAD (two dots)"),
    (("main..",), 2, "is not a range"),
    (("nosuchbranch..HEAD",), 3, 'unknown revision "nosuchbranch"; fetch it first'),
    (("--message-file", "missing.txt"), 2, "missing.txt: No such file or directory"),
    (("main..HEAD", "--current-version", "one"), 2, '--current-version "one" is not a version'),
])
def test_usage_and_fatal_errors_are_one_line(cli, repo, args, code, message):
    repo.commit("chore: init")
    done = cli("commits", *args, cwd=repo.path)
    assert done.returncode == code
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_summary_lists_each_problem(cli, history, tmp_path):
    summary = tmp_path / "summary.md"
    summary.write_text("# before\n")
    cli("commits", "main..HEAD", "--title", "fix: ok", "--summary", str(summary), cwd=history.path)
    text = summary.read_text()
    assert text.startswith("# before\n### Commit messages\n")
    assert 'line 1, column 1: "Update login\\.py" does not start with a type' in text
    assert "  Update login.py\n  ^~~~~~~~~~~~~~~\n" in text
    assert "**semver bump: minor" in text


def test_a_shallow_clone_says_to_fetch_the_history(cli, history, tmp_path):
    import subprocess

    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{history.path}", str(clone)],
                   check=True, capture_output=True)
    done = cli("commits", "origin/main..origin/feature/login", cwd=clone)
    assert done.returncode == 3
    assert "share no history in this clone" in done.stderr and "fetch-depth: 0" in done.stderr


def test_control_characters_of_a_hostile_title_are_escaped_in_text(cli, repo):
    done = cli("commits", "--title", "Update \x1b[1A\x1b[2K\u202eeverything\x1b[0m", cwd=repo.path)
    assert done.returncode == 1
    assert not any(c in done.stdout for c in "\x1b\u202e")
    assert done.stdout.startswith('title:1:1: error: "Update \\x1b[1A\\x1b[2K\\u202eeverything\\x1b[0m" does not '
                                  "start with a type")
