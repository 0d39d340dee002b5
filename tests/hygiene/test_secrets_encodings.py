"""The secret scan reads every added line whatever its encoding (issue 13, items 1 and 2).

One latin-1 byte used to hide a whole file from detect-secrets (it opens files as UTF-8 and drops
the file at the first error) and git calls UTF-16 files binary, so a token in either passed. Here
real git histories add tokens in latin-1, Windows-1252, UTF-16 (with and without byte-order mark,
both byte orders), UTF-32, CRLF and mixed files; each token is found at its line and column, true
binaries are named as not scanned, and the counts say what was scanned. An oracle test holds the
scan equal to detect-secrets itself on the same files, the parallel scan equal to the serial one,
and the progress counter is read from a real pseudo-terminal.

Every credential is FAKE and built at run time by concatenation.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support.fake_credentials import AWS_KEY, PRIVATE_KEY
from support.terminal import run_on_terminal

GITHUB_TOKEN = "ghp_" + "Zq3Xb9Lk2Vn8Rt4Yw7Pm" + "1Hc5Jd6Fs0Ga2Ek9Ru3T"  # 36 characters after the prefix
PASSWORD_LINE = 'password = "' + "correct-horse" + '-battery-staple"'
TOKEN_LINE = f'GITHUB_TOKEN = "{GITHUB_TOKEN}"'
KEY_LINE = f'AWS_ACCESS_KEY_ID = "{AWS_KEY}"'


def add(repo, files: dict[str, bytes], message: str = "feat: add") -> None:
    for name, data in files.items():
        path = repo.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        repo.git("add", "--", name)
    repo.git("commit", "-q", "--no-verify", "-m", message)


def scan(cli, repo, *args: str, env: dict | None = None) -> tuple[subprocess.CompletedProcess, dict]:
    done = cli("secrets", "main", "--format", "json", *args, cwd=repo.path, env=env)
    assert done.stdout.strip(), done.stderr
    return done, json.loads(done.stdout)


def found(data: dict) -> list[tuple[str, int, int, str]]:
    """``(path, line, col, secret type)``; the GitHub token is also a high-entropy string: both are listed once,
    as ``GitHub Token``, to keep the expectations short."""
    out = [(f["path"], f["line"], f["col"], f["message"].split("(")[1].split(")")[0])
           for f in data["findings"] if f["check"] == "secret" and f["severity"] == "error"]
    tokens = {(p, line) for p, line, _, kind in out if kind == "GitHub Token"}
    return [f for f in out if not (f[3] == "Base64 High Entropy String" and (f[0], f[1]) in tokens)]


@pytest.fixture
def pr(repo):
    repo.commit("chore: init", {"README.md": "service\n"})
    repo.branch("feature/x")
    return repo


def test_the_issue_one_latin1_line_no_longer_hides_the_file(cli, pr):
    add(pr, {"settings.py": (f"# caf\xe9 cr\xe8me\n{TOKEN_LINE}\n{PASSWORD_LINE}\n").encode("latin-1")})
    done, data = scan(cli, pr)
    assert done.returncode == 1
    assert found(data) == [("settings.py", 2, 17, "GitHub Token"), ("settings.py", 3, 13, "Secret Keyword")]
    assert data["scanned"] == {"files": 1, "lines": 3, "baseline": None}
    assert GITHUB_TOKEN not in done.stdout + done.stderr


ENCODED = {
    "utf8.py": lambda text: text.encode("utf-8"),
    "utf8-bom.py": lambda text: b"\xef\xbb\xbf" + text.encode("utf-8"),
    "latin1.py": lambda text: text.encode("latin-1"),
    "cp1252.py": lambda text: text.replace("é", "\u20ac").encode("cp1252"),
    "crlf.py": lambda text: text.replace("\n", "\r\n").encode("utf-8"),
    "utf16-bom.py": lambda text: text.encode("utf-16"),
    "utf16le.py": lambda text: text.encode("utf-16-le"),
    "utf16be-bom.py": lambda text: b"\xfe\xff" + text.encode("utf-16-be"),
    "utf16be.py": lambda text: text.encode("utf-16-be"),
    "utf16-crlf.py": lambda text: text.replace("\n", "\r\n").encode("utf-16"),
    "utf32-bom.py": lambda text: text.encode("utf-32"),
}


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_tokens_in_every_encoding(cli, pr, name):
    text = f"# caf\xe9\n{KEY_LINE}\nx = 1\n{TOKEN_LINE}\n"
    add(pr, {name: ENCODED[name](text)})
    done, data = scan(cli, pr)
    assert done.returncode == 1, done.stderr
    assert found(data) == [(name, 2, 22, "AWS Access Key"), (name, 4, 17, "GitHub Token")]
    assert data["scanned"]["lines"] == 4 and data["not_scanned"] == {"binary": [], "filtered": []}


def test_a_mixed_file_keeps_every_line(cli, pr):
    data_bytes = (b"# utf-8: \xc3\xa9t\xc3\xa9\n" + KEY_LINE.encode() + b"\n# latin-1: \xe9t\xe9\n"
                  + TOKEN_LINE.encode() + b"\r\n# stray: \xff\xfe\x81 bytes \x9d\n" + PASSWORD_LINE.encode() + b"\n")
    add(pr, {"mixed.py": data_bytes})
    done, data = scan(cli, pr)
    assert [(f[1], f[3]) for f in found(data)] == [(2, "AWS Access Key"), (4, "GitHub Token"), (6, "Secret Keyword")]
    assert data["scanned"] == {"files": 1, "lines": 6, "baseline": None}


def test_only_the_added_lines_of_a_changed_utf16_file(cli, repo):
    """git's line numbers of a UTF-16 file count \\n bytes, not lines: the added lines come from the text."""
    before = f"# 《 header 》\n{KEY_LINE}\nx = 1\n"  # 《 is U+300A: a 0x0A byte in UTF-16
    repo.commit("chore: init", {"README.md": "x\n"})
    add(repo, {"wide.py": before.encode("utf-16")}, "chore: wide")
    repo.branch("feature/x")
    add(repo, {"wide.py": (before.replace("x = 1", "x = 2") + f"{TOKEN_LINE}\n").encode("utf-16")})
    done, data = scan(cli, repo)
    assert found(data) == [("wide.py", 4, 17, "GitHub Token")]  # the key was there before
    assert data["scanned"]["lines"] == 2


def test_binaries_are_named_and_not_counted(cli, pr):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + KEY_LINE.encode() + b"\x00" * 16
    elf = b"\x7fELF\x02\x01\x01" + bytes(range(256)) + KEY_LINE.encode()
    add(pr, {"logo.png": png, "bin/tool": elf, "app.py": b"x = 1\n",
             "disguised.png": f"{KEY_LINE}\n".encode()})  # text, whatever its name says
    done, data = scan(cli, pr)
    assert done.returncode == 1
    assert data["not_scanned"] == {"binary": ["bin/tool", "logo.png"], "filtered": []}
    assert found(data) == [("disguised.png", 1, 22, "AWS Access Key")]
    assert data["scanned"] == {"files": 2, "lines": 2, "baseline": None}


def test_the_text_summary_names_what_was_not_scanned(cli, pr):
    add(pr, {"logo.png": b"\x89PNG\r\n\x1a\n\x00\x00", "package-lock.json": f'{{"k": "{AWS_KEY}"}}\n'.encode(),
             "app.py": b"x = 1\n"})
    done = cli("secrets", "main", cwd=pr.path)
    assert done.returncode == 0, done.stdout
    assert done.stdout == ('1 added line in 1 file scanned; not scanned: 1 binary file ("logo.png"), 1 file excluded '
                           "by detect-secrets' file-name filters (\"package-lock.json\")\n")


def test_gitattributes_of_the_pull_request_cannot_make_text_binary(cli, pr):
    add(pr, {".gitattributes": b"* binary\n*.py -diff\n", "app.py": f"{KEY_LINE}\n".encode()})
    done, data = scan(cli, pr)
    assert found(data) == [("app.py", 1, 22, "AWS Access Key")]


def test_undecodable_names_and_empty_files(cli, pr):
    add(pr, {"empty.py": b"", "only-newlines.py": b"\n\n\n", "naïve name.py": f"{KEY_LINE}\n".encode()})
    done, data = scan(cli, pr)
    assert found(data) == [("naïve name.py", 1, 22, "AWS Access Key")]
    assert data["scanned"]["files"] == 2  # the empty file adds no line


# ------------------------------------------------------------------------------ the same as detect-secrets
ORACLE_FILES = {
    "app/config.py": f'{KEY_LINE}\nSECRET_KEY = "{PRIVATE_KEY}"\napi_key = "s3cr3t-v4lue-of-th3-api"\nx = 1\n'
                     f'password = "{"abc" + "def"}"  # pragma: allowlist secret\n',
    "app/settings.yaml": f"db:\n  password: {'Tr0ub4dor' + '&3xyzzy'}\n  token: |\n    {GITHUB_TOKEN}\nother: 1\n",
    "app/legacy.cfg": f"[server]\npassword = {'hunter' + '2hunter2'}\nhost = example.invalid\n",
    "app/.env": f"API_TOKEN={GITHUB_TOKEN}\nDEBUG=1\n",
    "app/notes.md": "# pragma: allowlist nextline secret\n" + f"{KEY_LINE}\n" + "plain text\n",
    "app/jwt.js": 'const t = "eyJhbGciOiJIUzI1NiJ9.' + 'eyJzdWIiOiIxMjM0NTY3ODkwIn0.' + 'c2lnbmF0dXJlLXZhbHVl";\n',
    "app/hex.go": 'var k = "' + "0123456789abcdef" * 2 + '"\nvar h = "' + "8f3a9c1e7b2d4f6a" + "0e5c3b1a9d7f2e4c" + '"\n',
    "app/url.sh": "curl https://user:" + "p4ssw0rdp4ss" + "@example.invalid/x\n",
}


def test_findings_equal_detect_secrets_on_the_same_files(cli, pr):
    """Every line added: the scan must report exactly what detect-secrets itself reports for these files."""
    add(pr, {name: text.encode() for name, text in ORACLE_FILES.items()})
    oracle = subprocess.run(
        [sys.executable, "-c",
         "import json, sys\n"
         "from detect_secrets.core.secrets_collection import SecretsCollection\n"
         "from detect_secrets.settings import default_settings\n"
         "with default_settings():\n"
         "    c = SecretsCollection()\n"
         "    c.scan_files(*sys.argv[1:], num_processors=1)\n"
         "print(json.dumps(sorted([f, s.line_number, s.type] for f, s in c)))\n",
         *sorted(ORACLE_FILES)], cwd=pr.path, capture_output=True, text=True, check=True)
    expected = [tuple(x) for x in json.loads(oracle.stdout)]
    assert len(expected) >= 8, expected  # the files exercise most plugins
    _, data = scan(cli, pr, "--no-baseline")
    got = sorted((path, line, kind) for path, line, _, kind in found(data))
    assert got == sorted(expected)


# ------------------------------------------------------------------------------ parallel and progress
def _many(repo, files: int, lines: int) -> None:
    body = {}
    for f in range(files):
        rows = [f"value_{f}_{n} = compute({n})" for n in range(lines)]
        if f % 3 == 0:
            rows[(f * 37) % lines] = KEY_LINE
        if f % 4 == 1:
            rows[-1] = TOKEN_LINE
        body[f"pkg/m{f}.py"] = ("\n".join(rows) + "\n").encode()
    add(repo, body)


def test_the_parallel_scan_finds_what_the_serial_one_finds(cli, pr):
    from ci_tools.hygiene.secrets import CHUNK_LINES, PARALLEL_LINES

    _many(pr, 9, (PARALLEL_LINES // 9) + CHUNK_LINES)  # files larger than a chunk: split across processes
    serial = scan(cli, pr, env={"CI_TOOLS_JOBS": "1"})[1]
    parallel = scan(cli, pr, env={"CI_TOOLS_JOBS": "2"})[1]
    assert found(parallel) == found(serial) and len(found(serial)) == 5
    assert parallel["scanned"] == serial["scanned"]


def test_the_pool_is_used_from_the_threshold_on(pr, monkeypatch):
    """In process, to see the pool: the work goes through it, and the result is the serial one."""
    import multiprocessing.pool

    from ci_tools.hygiene import secrets as secrets_scan

    _many(pr, 2, secrets_scan.PARALLEL_LINES)
    calls = []
    original = multiprocessing.pool.Pool.imap_unordered

    def spy(self, func, iterable, chunksize=1):
        calls.append(func.__name__)
        return original(self, func, iterable, chunksize)

    monkeypatch.setattr(multiprocessing.pool.Pool, "imap_unordered", spy)
    monkeypatch.setenv("CI_TOOLS_JOBS", "2")
    monkeypatch.setattr(secrets_scan.sys, "platform", "linux")
    base = pr.git("merge-base", "main", "HEAD")
    parallel = secrets_scan.scan_range(pr.path, base, "HEAD", use_baseline=False)
    assert calls == ["_work"]
    monkeypatch.setenv("CI_TOOLS_JOBS", "1")
    serial = secrets_scan.scan_range(pr.path, base, "HEAD", use_baseline=False)
    assert calls == ["_work"] and parallel.hits == serial.hits and len(serial.hits) == 3  # the token twice


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_progress_on_a_terminal(pr, jobs):
    from ci_tools.hygiene.secrets import CHUNK_LINES

    _many(pr, 3, CHUNK_LINES + 10)
    total = 3 * (CHUNK_LINES + 10)
    code, out, err = run_on_terminal(["secrets", "main"], pr.path, {"CI_TOOLS_JOBS": jobs})
    assert code == 1, out + err
    assert f"\rscanning added lines {total}/{total}" in err
    assert err.endswith("\r") and "\r" + " " * len(f"scanning added lines {total}/{total} ") + "\r" in err
    assert "scanning" not in out and f"{total} added lines in 3 files scanned" in out


@pytest.mark.parametrize("env", [{"CI": "true"}, {"GITHUB_ACTIONS": "true"}])
def test_no_progress_in_ci_nor_into_a_pipe(cli, pr, env):
    from ci_tools.hygiene.secrets import CHUNK_LINES

    _many(pr, 2, CHUNK_LINES + 10)
    code, out, err = run_on_terminal(["secrets", "main", "--format", "text"], pr.path, env)
    assert code == 1 and "scanning added lines" not in err
    piped = cli("secrets", "main", cwd=pr.path)
    assert "scanning added lines" not in piped.stderr + piped.stdout
