"""``ci-tools secrets``: real detect-secrets runs over real git diffs.

The credentials are FAKE and built at run time by concatenation, so this file itself holds no
string a scanner would flag: an AWS-shaped access key id, a high-entropy base64 string and a
private key header.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ci_tools.hygiene.secrets import parse_added_lines, unquote
from support.fake_credentials import AWS_KEY, HIGH_ENTROPY, PLANTED, PRIVATE_KEY


@pytest.fixture
def pr(repo):
    """main with a clean settings file; feature/keys adds two fake secrets to it and a clean file."""
    repo.commit("chore: init", {"app/settings.py": "import os\n\nDEBUG = False\n"})
    repo.branch("feature/keys")
    repo.commit("feat: configure the client", {
        "app/settings.py": f'import os\n\nDEBUG = False\nAWS_ACCESS_KEY_ID = "{AWS_KEY}"\n'
                           f'SIGNING = "{HIGH_ENTROPY}"\n',
        "app/clean.py": "def add(a, b):\n    return a + b\n",
    })
    return repo


def test_planted_secrets_are_reported_by_file_line_and_type(cli, pr):
    done = cli("secrets", "main", cwd=pr.path)
    assert done.returncode == 1, done.stderr
    heads = [line for line in done.stdout.splitlines() if "[secret]" in line]
    assert len(heads) == 2
    assert heads[0].startswith("app/settings.py:4:22: error: the added line holds a possible secret (AWS Access Key);")
    assert heads[1].startswith("app/settings.py:5:12: error: the added line holds a possible secret "
                               "(Base64 High Entropy String);")
    assert "4 added lines in 2 files scanned" in done.stdout


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "github"])
def test_the_value_never_appears_in_any_output(cli, pr, tmp_path, fmt):
    summary = tmp_path / "summary.md"
    done = cli("secrets", "main", "--format", fmt, "--summary", str(summary), cwd=pr.path)
    assert done.returncode == 1
    everything = done.stdout + done.stderr + summary.read_text()
    assert "AWS Access Key" in everything
    for value in PLANTED:
        assert value not in everything
        assert value[4:16] not in everything
    if fmt == "json":
        data = json.loads(done.stdout)
        assert [(f["path"], f["line"]) for f in data["findings"]] == [("app/settings.py", 4), ("app/settings.py", 5)]
        assert data["scanned"] == {"files": 2, "lines": 4, "baseline": None}
    if fmt == "sarif":  # the rule is described by the checks reference, as check's own rules are
        (rule,) = json.loads(done.stdout)["runs"][0]["tool"]["driver"]["rules"]
        assert rule["id"] == "secret" and "detect-secrets" in rule["shortDescription"]["text"]
        assert rule["help"]["text"].startswith("## `secret`\n")


def test_clean_diff(cli, repo):
    repo.commit("chore: init", {"a.py": "x = 1\n"})
    repo.branch("feature/clean")
    repo.commit("feat: more", {"a.py": "x = 1\ny = 'hello world'\n", "b.md": "# Title\n"})
    done = cli("secrets", "main", "feature/clean", cwd=repo.path)
    assert (done.returncode, done.stdout) == (0, "2 added lines in 2 files scanned\n")


def test_only_added_lines_count(cli, repo):
    # the secret is already on main: a pull request that edits another line of the file is clean
    repo.commit("chore: init", {"old.py": f'KEY = "{AWS_KEY}"\nA = 1\n'})
    repo.branch("feature/edit")
    repo.commit("fix: edit", {"old.py": f'KEY = "{AWS_KEY}"\nA = 2\n'})
    repo.git("mv", "old.py", "renamed.py")
    repo.commit("refactor: rename")
    done = cli("secrets", "main", cwd=repo.path)
    assert done.returncode == 0, done.stdout
    assert "1 added line in 1 file scanned" in done.stdout


def test_changes_on_the_base_branch_are_not_the_pull_requests(cli, repo):
    repo.commit("chore: init", {"a.py": "x = 1\n"})
    repo.branch("feature/x")
    repo.commit("feat: x", {"b.py": "y = 2\n"})
    repo.checkout("main")
    repo.commit("chore: leaked on main", {"c.py": f'KEY = "{AWS_KEY}"\n'})
    done = cli("secrets", "main", "feature/x", cwd=repo.path)
    assert done.returncode == 0, done.stdout


def test_allowlist_pragma_and_baseline(cli, pr):
    # the baseline, made by the real detect-secrets CLI, knows the two secrets of feature/keys
    baseline = subprocess.run([sys.executable, "-m", "detect_secrets", "scan"], cwd=pr.path,
                              capture_output=True, text=True, check=True).stdout
    assert AWS_KEY not in baseline
    pr.commit("chore: baseline", {".secrets.baseline": baseline})
    done = cli("secrets", "main", cwd=pr.path)
    assert done.returncode == 0, done.stdout
    assert "(baseline .secrets.baseline)" in done.stdout
    # the entries the pull request adds to the baseline are shown to the reviewer, as notes
    notes = json.loads(cli("secrets", "main", "--format", "json", cwd=pr.path).stdout)["findings"]
    policy = [n["message"] for n in notes if n["check"] == "policy-change"]
    assert policy == ["the pull request adds .secrets.baseline; this scan used detect-secrets' defaults (no baseline "
                      "at the base), its plugins and filters apply once it is merged"]
    notes = [n for n in notes if n["check"] == "secret"]
    assert sorted((n["severity"], n["path"], n["message"]) for n in notes) == [
        ("note", ".secrets.baseline", f'the pull request adds a secret ({kind}) in "app/settings.py" to the baseline; '
                                      "a reviewer should confirm it is not a real one before approving")
        for kind in ("AWS Access Key", "Base64 High Entropy String")
    ]
    assert baseline.splitlines()[notes[0]["line"] - 1].strip().startswith('"hashed_secret": ')
    # a new secret is still reported; one marked with the inline allowlist is not
    pr.commit("feat: more", {"app/extra.py": f'KEY = "{PRIVATE_KEY}"\n'
                                             f'OTHER = "{AWS_KEY[:-4]}WXYZ"  # pragma: allowlist secret\n'})
    done = cli("secrets", "main", cwd=pr.path)
    assert done.returncode == 1
    errors = [f for f in json.loads(cli("secrets", "main", "--format", "json", cwd=pr.path).stdout)["findings"]
              if f["severity"] == "error"]
    assert [(f["path"], f["line"], f["col"]) for f in errors] == [("app/extra.py", 1, 13)]
    assert "(Private Key)" in done.stdout and "add it to .secrets.baseline" in done.stdout
    # --no-baseline reports the known ones too; --baseline reads a file from disk
    assert cli("secrets", "main", "--no-baseline", cwd=pr.path).stdout.count("[secret]") == 3
    (pr.path / "other.baseline").write_text(baseline)
    assert cli("secrets", "main", "--baseline", "other.baseline", cwd=pr.path).stdout.count("[secret]") == 1
    # a baseline already on main adds no note
    pr.checkout("main")
    pr.commit("chore: baseline on main", {".secrets.baseline": baseline})
    pr.checkout("feature/keys")
    pr.merge("main")
    assert cli("secrets", "main", cwd=pr.path).stdout.count("[secret]") == 1


def test_excluded_paths_and_unusual_names(cli, repo):
    # the exclusion is the base's configuration (a pull request's own applies once merged)
    repo.commit("chore: init", {"pyproject.toml": '[tool.ci-tools.secrets]\nexclude = ["tests/fixtures/**"]\n'})
    repo.branch("feature/odd")
    repo.commit("test: fixtures", {
        "tests/fixtures/creds.py": f'KEY = "{AWS_KEY}"\n',
        "dir with space/naïve \"q\".py": f'KEY = "{AWS_KEY}"\n',
    })
    done = cli("secrets", "main", cwd=repo.path)
    assert done.returncode == 1
    heads = [line for line in done.stdout.splitlines() if "[secret]" in line]
    assert len(heads) == 1 and heads[0].startswith('dir with space/naïve "q".py:1:8: ')


def test_bad_baseline_and_bad_revision_are_one_line_errors(cli, pr):
    pr.commit("chore: baseline", {".secrets.baseline": "{\n  nope\n}\n"})
    done = cli("secrets", "main", cwd=pr.path)
    assert done.returncode == 3
    assert done.stderr.startswith("ci-tools secrets: error: .secrets.baseline:2:3: not a detect-secrets baseline")
    done = cli("secrets", "no-such-base", cwd=pr.path)
    assert done.returncode == 3 and 'unknown revision "no-such-base"' in done.stderr
    assert "Traceback" not in done.stderr


def test_diff_parser_counts_hunk_lines():
    diff = (
        "diff --git a/x b/x\n--- a/x\n+++ b/x\n@@ -1,0 +2,2 @@\n+++ b/not-a-header\n+@@ -9 +9 @@\n"
        "@@ -5 +7 @@\n-old\n+new\n"
        'diff --git a/y b/"sp ace\\303\\251"\n--- /dev/null\n+++ "b/sp ace\\303\\251"\n@@ -0,0 +1 @@\n+z\n'
        "diff --git a/gone b/gone\n--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-bye\n"
    )
    assert parse_added_lines(diff) == {"x": {2, 3, 7}, "sp aceé": {1}}
    assert unquote('"a\\tb\\"c"') == 'a\tb"c'


def test_many_small_files(cli, repo):
    repo.commit("chore: init")
    repo.branch("feature/many")
    files = {f"pkg/m{i}.py": f"VALUE_{i} = {i}\n" for i in range(20)}
    files["pkg/m7.py"] = f'KEY = "{AWS_KEY}"\n'
    repo.commit("feat: many modules", files)
    done = cli("secrets", "main", "--format", "json", cwd=repo.path)
    assert done.returncode == 1
    data = json.loads(done.stdout)
    assert [(f["path"], f["line"], f["col"]) for f in data["findings"]] == [("pkg/m7.py", 1, 8)]
    assert AWS_KEY not in done.stdout + done.stderr


def test_a_shallow_clone_says_to_fetch_the_history(cli, pr, tmp_path):
    clone = tmp_path / "shallow"
    subprocess.run(["git", "clone", "-q", "--depth", "1", "--no-single-branch", f"file://{pr.path}", str(clone)],
                   check=True, capture_output=True)
    done = cli("secrets", "origin/main", "origin/feature/keys", cwd=clone)
    assert done.returncode == 3
    assert "no merge base" in done.stderr and "fetch-depth: 0" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
