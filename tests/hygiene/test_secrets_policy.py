"""What the pull request controls cannot run code in the secret scan or switch it off (issue 10, item 2).

The pull request can edit ``.secrets.baseline`` and the ci-tools configuration. Each test here is a
hostile pull request over a real git history, scanned by the real ``ci-tools secrets`` (detect-secrets
underneath): a ``file://`` filter or plugin that names the pull request's own Python file, a dotted
filter path that imports a module of the checkout, ``"plugins_used": []``, a filter that excludes
every file, a configuration that excludes everything or disables the check. None of them runs, the
secret is still found, and a note tells the reviewer that the pull request changes the scan's policy.
Settings that are bad on the base side are an error (exit 3), not a silent pass.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from support.fake_credentials import AWS_KEY

PLUGINS = [{"name": "AWSKeyDetector"}, {"name": "Base64HighEntropyString", "limit": 4.5},
           {"name": "KeywordDetector", "keyword_exclude": ""}, {"name": "PrivateKeyDetector"},
           {"name": "SlackDetector"}]
FILTERS = [{"path": "detect_secrets.filters.allowlist.is_line_allowlisted"},
           {"path": "detect_secrets.filters.heuristic.is_sequential_string"}]


def baseline(plugins=None, filters=None, results=None) -> str:
    return json.dumps({"version": "1.5.0", "plugins_used": PLUGINS if plugins is None else plugins,
                       "filters_used": FILTERS if filters is None else filters,
                       "results": results or {}, "generated_at": "2026-01-01T00:00:00Z"}, indent=2) + "\n"


def evil(marker: Path) -> str:
    """A module that records its import and, as a filter, excludes every secret."""
    return (f"import os\n_fd = os.open({str(marker)!r}, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)\n"
            "os.write(_fd, b'imported\\n')\nos.close(_fd)\n\n"
            "def should_exclude_secret(secret):\n    return True\n\n"
            "def should_exclude_file(filename):\n    return True\n")


def ran(marker: Path) -> list[str]:
    return marker.read_text().splitlines() if marker.exists() else []


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    return tmp_path / "imported.txt"


def pull_request(repo, files: dict[str, str], base_files: dict[str, str] | None = None):
    repo.commit("chore: init", {"app.py": "x = 1\n", **(base_files or {})})
    repo.branch("feature/x")
    repo.commit("feat: x", {"keys.py": f'KEY = "{AWS_KEY}"\n', **files})
    return repo


def scan(cli, repo, *args: str):
    done = cli("secrets", "main", "--format", "json", *args, cwd=repo.path)
    data = json.loads(done.stdout) if done.stdout.strip() else {"findings": []}
    return done, data["findings"]


def secrets_found(findings) -> list[tuple[str, int]]:
    return [(f["path"], f["line"]) for f in findings if f["check"] == "secret" and f["severity"] == "error"]


def policy_notes(findings) -> list[str]:
    return [f["message"] for f in findings if f["check"] == "policy-change"]


# ------------------------------------------------------------------------------ the pull request's baseline
@pytest.mark.parametrize("settings", [
    {"filters": [*FILTERS, {"path": "file://evil.py::should_exclude_secret"}]},
    {"filters": [*FILTERS, {"path": "file://evil.py::should_exclude_file"}]},
    {"filters": [*FILTERS, {"path": "evil.should_exclude_secret"}]},
    {"plugins": [*PLUGINS, {"name": "EvilDetector", "path": "file://evil.py"}]},
], ids=["file-filter-secret", "file-filter-file", "module-filter", "file-plugin"])
def test_code_named_by_the_pull_requests_baseline_never_runs(cli, repo, marker, settings):
    pull_request(repo, {"evil.py": evil(marker), ".secrets.baseline": baseline(**settings)})
    done, findings = scan(cli, repo)
    assert ran(marker) == []
    assert done.returncode == 1, done.stderr
    assert secrets_found(findings) == [("keys.py", 1)]
    assert policy_notes(findings) == [
        "the pull request adds .secrets.baseline; this scan used detect-secrets' defaults (no baseline at the base), "
        "its plugins and filters apply once it is merged"]


@pytest.mark.parametrize("settings", [
    {"plugins": []},
    {"filters": [*FILTERS, {"path": "detect_secrets.filters.regex.should_exclude_file", "pattern": [".*"]}]},
    {"filters": [*FILTERS, {"path": "detect_secrets.filters.regex.should_exclude_secret", "pattern": [".*"]}]},
], ids=["no-plugins", "exclude-every-file", "exclude-every-secret"])
def test_the_pull_requests_baseline_cannot_switch_the_scan_off(cli, repo, settings):
    """The base has a baseline of its own; the pull request rewrites its settings."""
    pull_request(repo, {".secrets.baseline": baseline(**settings)}, base_files={".secrets.baseline": baseline()})
    done, findings = scan(cli, repo)
    assert done.returncode == 1, done.stderr
    assert secrets_found(findings) == [("keys.py", 1)]
    assert policy_notes(findings) == [
        "the pull request changes the plugins or filters of .secrets.baseline; this scan used .secrets.baseline as "
        "of the base, its plugins and filters apply once it is merged"]


def test_the_bases_baseline_settings_apply(cli, repo):
    """The other way round: what the base excludes stays excluded, whatever the pull request's baseline says."""
    excluded = baseline(filters=[*FILTERS, {"path": "detect_secrets.filters.regex.should_exclude_file",
                                            "pattern": ["^keys\\.py$"]}])
    pull_request(repo, {".secrets.baseline": baseline()}, base_files={".secrets.baseline": excluded})
    done, findings = scan(cli, repo)
    assert done.returncode == 0 and secrets_found(findings) == [], done.stdout + done.stderr


def test_the_results_of_the_pull_requests_baseline_still_count(cli, repo):
    """Accepting a secret stays possible, and visible: the entry is a note for the reviewer."""
    repo.commit("chore: init", {"app.py": "x = 1\n", ".secrets.baseline": baseline()})
    repo.branch("feature/x")
    repo.commit("feat: x", {"keys.py": f'KEY = "{AWS_KEY}"\n'})
    known = subprocess.run([sys.executable, "-m", "detect_secrets", "scan", "keys.py"], cwd=repo.path,
                           capture_output=True, text=True, check=True).stdout
    repo.commit("chore: accept", {".secrets.baseline": baseline(results=json.loads(known)["results"])})
    done, findings = scan(cli, repo)
    assert done.returncode == 0, done.stdout + done.stderr
    assert [(f["check"], f["severity"]) for f in findings] == [("secret", "note")]
    assert policy_notes(findings) == []


# ------------------------------------------------------------------------------ the base's baseline
@pytest.mark.parametrize(("settings", "message", "points_at"), [
    ({"plugins": []}, 'no plugins to scan with ("plugins_used" is empty or missing)', '"plugins_used"'),
    ({"filters": [{"path": "file://evil.py::should_exclude_secret"}]},
     'filter "file://evil.py::should_exclude_secret" is refused: a file of code to run', "file://evil.py"),
    ({"filters": [{"path": "evil.should_exclude_secret"}]},
     "filter \"evil.should_exclude_secret\" is refused: not one of detect-secrets' filters", "evil.should"),
    ({"plugins": [{"name": "EvilDetector", "path": "file://evil.py"}]},
     'plugin "EvilDetector" is loaded from "file://evil.py": a baseline may name only detect-secrets\' own plugins',
     "file://evil.py"),
    ({"plugins": [{"name": "NoSuchDetector"}]}, 'unknown plugin "NoSuchDetector" in "plugins_used"', '"NoSuchDetector"'),
    ({"filters": [{"path": "detect_secrets.filters.wordlist.should_exclude_secret", "file_name": "words.txt"}]},
     'filter "detect_secrets.filters.wordlist.should_exclude_secret" is refused',
     "detect_secrets.filters.wordlist"),
], ids=["no-plugins", "file-filter", "module-filter", "file-plugin", "unknown-plugin", "wordlist"])
def test_bad_settings_on_the_base_are_an_error_not_a_pass(cli, repo, marker, settings, message, points_at):
    pull_request(repo, {}, base_files={".secrets.baseline": baseline(**settings), "evil.py": evil(marker)})
    done = cli("secrets", "main", cwd=repo.path)
    assert ran(marker) == []
    assert done.returncode == 3, done.stdout
    assert "Traceback" not in done.stderr and len(done.stderr.splitlines()) == 1
    first = done.stderr.strip()
    assert first.startswith("ci-tools secrets: error: .secrets.baseline (as of the base, "), first
    assert message in first
    # file:line:col of the offending entry in the base's file
    _, line, col, _ = first.split(")", 1)[1].split(":", 3)
    row = baseline(**settings).splitlines()[int(line) - 1]
    assert row[int(col) - 1:].startswith(points_at), row


def test_an_explicit_baseline_in_the_repository_takes_its_settings_from_the_base(cli, repo, marker):
    pull_request(repo, {"ci/baseline.json": baseline(filters=[{"path": "file://evil.py::should_exclude_secret"}]),
                        "evil.py": evil(marker)}, base_files={"ci/baseline.json": baseline()})
    done, findings = scan(cli, repo, "--baseline", "ci/baseline.json")
    assert ran(marker) == [] and done.returncode == 1
    assert secrets_found(findings) == [("keys.py", 1)]


def test_an_explicit_baseline_outside_the_repository_is_the_callers_and_still_checked(cli, repo, marker, tmp_path):
    pull_request(repo, {"evil.py": evil(marker)})
    outside = tmp_path / "caller.baseline"
    outside.write_text(baseline(filters=[{"path": "file://evil.py::should_exclude_secret"}]))
    done = cli("secrets", "main", "--baseline", str(outside), cwd=repo.path)
    assert ran(marker) == [] and done.returncode == 3
    assert 'filter "file://evil.py::should_exclude_secret" is refused' in done.stderr
    outside.write_text(baseline(filters=[*FILTERS, {"path": "detect_secrets.filters.regex.should_exclude_file",
                                                    "pattern": ["^keys\\.py$"]}]))
    done, findings = scan(cli, repo, "--baseline", str(outside))
    assert done.returncode == 0 and secrets_found(findings) == []  # the caller's own settings apply


# ------------------------------------------------------------------------------ the configuration
@pytest.mark.parametrize("config", [
    '[tool.ci-tools.secrets]\nexclude = ["**", "*"]\n',
    '[tool.ci-tools.checks.secret]\nenabled = false\n',
    '[tool.ci-tools.checks.secret]\nseverity = "note"\n',
    '[tool.ci-tools.secrets]\nbaseline = "accepted.json"\n',
], ids=["exclude-all", "disabled", "note", "other-baseline"])
def test_the_pull_requests_configuration_cannot_switch_the_scan_off(cli, repo, config):
    accepted = subprocess.run([sys.executable, "-m", "detect_secrets", "scan"], input=f'KEY = "{AWS_KEY}"\n',
                              capture_output=True, text=True, cwd=repo.path.parent).stdout
    pull_request(repo, {"pyproject.toml": config, "accepted.json": accepted})
    done, findings = scan(cli, repo)
    assert done.returncode == 1, done.stdout + done.stderr
    assert secrets_found(findings) == [("keys.py", 1)]
    [note] = policy_notes(findings)
    assert note.startswith('the pull request changes the secret scan\'s configuration ("[tool.ci-tools.secrets]" '
                           'or "[tool.ci-tools.checks.secret]"); this scan used the base\'s')
    assert [f["path"] for f in findings if f["check"] == "policy-change"] == ["pyproject.toml"]


def test_an_explicit_config_is_used_as_given(cli, repo, tmp_path):
    pull_request(repo, {})
    config = tmp_path / "ci-tools.toml"
    config.write_text('[secrets]\nexclude = ["keys.py"]\n')
    done, findings = scan(cli, repo, "--config", str(config))
    assert done.returncode == 0 and secrets_found(findings) == [] and policy_notes(findings) == []


# ------------------------------------------------------------------------------ no network
class _Proxy:
    """A proxy on 127.0.0.1 that records each request line (``CONNECT host:443``) and answers 502."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                try:
                    self.lines.append(conn.recv(4096).split(b"\r\n", 1)[0].decode("latin-1"))
                    conn.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n")
                except OSError:
                    pass


def test_the_verification_filter_of_a_real_baseline_sends_nothing_anywhere(cli, repo):
    """`detect-secrets scan` writes is_ignored_due_to_verification_policies into every baseline; applied, it
    would send a Slack token found to slack.com to ask whether it is live. The scan drops that filter."""
    real = subprocess.run([sys.executable, "-m", "detect_secrets", "scan"], cwd=repo.path.parent, input="",
                          capture_output=True, text=True, check=True).stdout
    assert "is_ignored_due_to_verification_policies" in real
    token = "xoxb-" + "4815162342" + "-" + "abcdefghij" + "klmnop"  # Slack's shape, FAKE
    pull_request(repo, {"slack.py": f'TOKEN = "{token}"\n'}, base_files={".secrets.baseline": real})
    proxy = _Proxy()
    env = {"HTTPS_PROXY": proxy.url, "https_proxy": proxy.url, "HTTP_PROXY": proxy.url, "http_proxy": proxy.url,
           "NO_PROXY": "", "no_proxy": ""}
    done = cli("secrets", "main", "--format", "json", cwd=repo.path, env=env)
    assert done.returncode == 1, done.stderr
    assert ("slack.py", 1) in secrets_found(json.loads(done.stdout)["findings"])
    assert proxy.lines == []
    assert token not in done.stdout + done.stderr
