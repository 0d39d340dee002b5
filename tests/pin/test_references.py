"""Issue 12, items 5 and 6, for pin and verify: the spellings of `uses:` that
tests/gha/test_references.py holds the parser to, seen by ``verify`` (positions, malformed and
non-canonical findings, unpinned images) and written canonically by ``pin``."""

from __future__ import annotations

from support.pinworld import write
from support.references import CHECK_BODY, HEAD
from support.references import found as _found


def test_verify_reports_malformed_and_non_canonical_with_positions(cli, env, tmp_path):
    write(tmp_path / ".github/workflows/a.yml", CHECK_BODY)
    done = cli("verify", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    got = _found(done.stdout)
    assert {(9, "malformed-uses"), (10, "malformed-uses"), (11, "malformed-uses")} <= got
    assert {(6, "non-canonical-uses"), (7, "non-canonical-uses"), (8, "non-canonical-uses"),
            (12, "non-canonical-uses")} <= got
    assert (6, "unpinned-uses") in got  # the trailing slash no longer hides the tag


def test_pin_refuses_malformed_and_writes_the_canonical_spelling(cli, env, world, tmp_path):
    c = world.sha
    body = HEAD + (
        "      - uses: acme/checkout/@v4.1.0\n"                         # 6
        "      - uses: ' acme/checkout@v4.1.0'  # keep\n"               # 7
        f"      - uses: acme//checkout/./@{c['checkout v4.2.2']} # v4.2.2\n"  # 8: pinned, only the spelling
        "      - uses: acme/codeql/x/../init@v3\n"                      # 9
        "      - uses: acme/checkout@\n"                                # 10 malformed
        "      - uses: acme/checkout@v4 extra\n")                       # 11 malformed
    wf = write(tmp_path / ".github/workflows/a.yml", body)
    done = cli("pin", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1, done.stderr
    assert _found(done.stdout) == {(10, "malformed-uses"), (11, "malformed-uses")}
    assert wf.read_text().splitlines()[5:] == [
        f"      - uses: acme/checkout@{c['checkout v4.1.0']} # v4.1.0",
        f"      - uses: 'acme/checkout@{c['checkout v4.1.0']}'  # v4.1.0 # keep",
        f"      - uses: acme/checkout@{c['checkout v4.2.2']} # v4.2.2",
        f"      - uses: acme/codeql/init@{c['codeql v3.27.0']} # v3.27.0",
        "      - uses: acme/checkout@",
        "      - uses: acme/checkout@v4 extra"]
    again = cli("verify", "--format", "json", cwd=tmp_path, env=env)
    assert _found(again.stdout) == {(10, "malformed-uses"), (11, "malformed-uses")}


def test_verify_reports_unpinned_images(cli, env, tmp_path):
    digest = "sha256:" + "a" * 64
    write(tmp_path / ".github/workflows/a.yml",
          "on: push\njobs:\n  a:\n    runs-on: x\n"
          "    container: node:20\n"                                     # 5
          "    services:\n"
          "      db:\n        image: postgres:16\n"                       # 8
          f"      cache: redis:7@{digest}\n"                             # 9 pinned
          "    steps:\n"
          "      - uses: docker://alpine:3.20\n"                         # 11
          f"      - uses: docker://alpine:3.20@{digest}\n")              # 12 pinned
    done = cli("verify", "--format", "json", cwd=tmp_path, env=env)
    assert done.returncode == 1
    assert _found(done.stdout) == {(5, "unpinned-uses"), (8, "unpinned-uses"), (11, "unpinned-uses")}
