"""Issue 14: every page of the GitHub API is read, for tags and for branches alike.

The double serves at most two items a page here, so a repository of seven branches and five tags
takes four and three pages; a resolver that stops at the first page would miss the refs that the
test pins to.
"""

from __future__ import annotations

import json

from ci_tools.gha.resolve.github import GitHubResolver
from support.github_api import GitHubDouble
from support.gitrepo import Repo

BRANCHES = ["main", "release/1", "release/2", "zeta", "feature/a", "feature/b", "hotfix"]
TAGS = ["v1.0.0", "v1.1.0", "v2.0.0", "v2.1.0", "v3.0.0"]


def _repository(path) -> tuple[Repo, dict[str, str]]:
    repo = Repo(path)
    shas = {"main": repo.commit("root")}
    for name in BRANCHES[1:]:
        repo.branch(name)
        shas[name] = repo.commit(f"on {name}")
    for i, tag in enumerate(TAGS):
        repo.git("tag", tag, shas[BRANCHES[i]])
        shas[tag] = shas[BRANCHES[i]]
    return repo, shas


def test_branches_and_tags_past_the_first_page(tmp_path):
    repo, shas = _repository(tmp_path / "repo")
    with GitHubDouble(per_page_max=2) as api:
        api.add_repo("acme/paged", repo.path)
        refs = GitHubResolver(api.url, attempts=1, backoff=0).refs("acme/paged")
        assert refs.branches == {name: shas[name] for name in BRANCHES}
        assert refs.tags == {tag: shas[tag] for tag in TAGS}
        assert api.count(r"/repos/acme/paged/branches") == 4
        assert api.count(r"/repos/acme/paged/tags") == 3


def test_verify_reads_every_page(cli, tmp_path):
    """A pin to the head of the last page's branch is verified; a branch and tag of one name on
    later pages is reported as ref confusion."""
    repo, shas = _repository(tmp_path / "repo")
    repo.git("checkout", "-q", "main")
    repo.branch("v3.0.0")  # a branch named as the tag on the last page of tags
    shas["branch v3.0.0"] = repo.commit("confusing")
    shas["untagged"] = repo.commit("no tag here")
    repo.git("tag", "v1", shas["release/2"])  # a major tag, on the last page of tags
    work = tmp_path / "work"
    (work / ".github/workflows").mkdir(parents=True)
    (work / ".github/workflows/a.yml").write_text(
        "on: push\njobs:\n  a:\n    runs-on: x\n    steps:\n"
        f"      - uses: acme/paged@{shas['hotfix']} # hotfix\n"
        f"      - uses: acme/paged@{shas['v3.0.0']} # v3.0.0\n"
        f"      - uses: acme/paged@{shas['release/1']} # hotfix\n"  # a branch, not at that commit
        f"      - uses: acme/paged@{shas['untagged']} # v1\n", encoding="utf-8")  # v1 is elsewhere
    with GitHubDouble(per_page_max=2) as api:
        api.add_repo("acme/paged", repo.path)
        env = {"GITHUB_API_URL": api.url, "XDG_CACHE_HOME": str(tmp_path / "cache"), "CI_TOOLS_HTTP_BACKOFF": "0.01",
               "CI": "true", "GITHUB_SERVER_URL": "https://github.invalid"}
        done = cli("verify", "--online", "--format", "json", cwd=work, env=env)
    got = sorted((f["line"], f["check"]) for f in json.loads(done.stdout)["findings"])
    # a branch name in the comment is no version (unpinned-uses); at the branch's head it is no stale
    # comment, elsewhere it is; a major tag that points elsewhere has moved (or the comment is wrong)
    assert got == [(6, "unpinned-uses"), (7, "ref-confusion"), (8, "stale-comment"), (8, "unpinned-uses"),
                   (9, "tag-moved"), (9, "unpinned-uses")], done.stdout + done.stderr


def test_a_next_page_on_another_origin_is_not_followed_with_the_token(tmp_path):
    """The API's Link header points the next page at another server (a hostile proxy, a forged
    answer): the resolver stops with a clear error and the token never reaches that server."""
    import pytest

    from ci_tools.gha.resolve import ResolveError
    from support.httpd import Handler, LoopbackServer

    class Elsewhere(Handler):
        def do_GET(self) -> None:  # noqa: N802 - http.server API
            self.record(self.headers.get("Authorization"))
            self.send(200, b"[]", {"Content-Type": "application/json"})

    repo, _ = _repository(tmp_path / "repo")
    token = "ghp_" + "A1b2C3d4" * 4 + "zz"
    with GitHubDouble(per_page_max=2) as api, LoopbackServer(Elsewhere) as elsewhere:
        api.add_repo("acme/paged", repo.path)
        api.public_url = elsewhere.url  # the next page's link names the other server
        with pytest.raises(ResolveError) as raised:
            GitHubResolver(api.url, token=token, attempts=1, backoff=0).refs("acme/paged")
        assert "another origin" in str(raised.value) and token not in str(raised.value)
        assert elsewhere.log == []
