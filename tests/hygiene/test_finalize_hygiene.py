"""The hygiene commands post-process their findings as ``check`` does (issue 14): one ``finalize``.

``check`` applies the configured severities, the ``# ci-tools: ignore[id] reason`` comments and one
order (path, line, column); ``secrets`` used to apply only the first, so its notes came after its
findings whatever their paths. (Ignore comments need a file's text: ``secrets`` has none to give, and
detect-secrets already passes over a line that carries such a comment.)
"""

from __future__ import annotations

import json

from support.fake_credentials import AWS_KEY


def _scan(cli, repo):
    done = cli("secrets", "main", "--format", "json", cwd=repo.path)
    return done, json.loads(done.stdout)["findings"]


def test_secrets_findings_are_in_path_order_notes_included(cli, repo):
    repo.commit("chore: init", {"app.py": "x = 1\n", ".github/ci-tools.toml": "[secrets]\n"})
    repo.branch("feature/x")
    repo.commit("feat: x", {"keys.py": f'KEY = "{AWS_KEY}"\n',
                            ".github/ci-tools.toml": '[secrets]\nexclude = ["docs/**"]\n'})
    done, findings = _scan(cli, repo)
    assert done.returncode == 1, done.stderr
    assert [(f["path"], f["check"]) for f in findings] == [(".github/ci-tools.toml", "policy-change"),
                                                           ("keys.py", "secret")]


def test_the_configured_severity_applies_to_the_branch_name(cli, repo):
    repo.commit("chore: init", {".github/ci-tools.toml": '[checks.branch-name]\nseverity = "note"\n'})
    done = cli("branch", "Bad Name", "--format", "json", cwd=repo.path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [f["severity"] for f in json.loads(done.stdout)["findings"]] == ["note"]
