"""The test world of pin, verify and update: real git repositories behind the GitHub API double.

The world (built once per session, read-only afterwards):

- ``acme/checkout``: ``v4.0.0`` (lightweight), ``v4.1.0`` and ``v4.2.2`` (annotated), ``v4`` moved
  along to ``v4.2.2``'s commit, ``v5.0.0-beta.1`` on main's tip; releases with dates, a draft
  ``v4.3.0`` and the prerelease; a fork ``evil/checkout`` whose extra commit GitHub would serve
  through ``acme/checkout`` (:meth:`GitHubDouble.add_fork`);
- ``acme/nested``: ``v2.0.0`` is a tag of a tag of a commit;
- ``acme/clash``: ``v1`` is both a branch and a tag;
- ``acme/codeql``: subpath actions (``acme/codeql/init@v3``);
- ``acme/many``: 230 tags (three pages of tags);
- ``acme/secret``: private, readable only with the token;
- ``acme/moved``: the full release tag ``v1.0.0`` was moved to a later commit while the floating
  ``v1`` still sits on the commit it was released at (``sha["moved v1.0.0"]``, what a careful user
  pinned; ``sha["moved v1.0.0 now"]`` is where the tag points now); its release is not immutable;
- ``acme/sealed``: the same, but ``v2.0.0`` is an *immutable* release, whose tag GitHub never lets
  move: the alarm case (``sha["sealed v2.0.0"]`` pinned, ``sha["sealed v2.0.0 now"]``).

Releases carry GitHub's ``immutable`` field: ``acme/checkout`` ``v4.2.2`` is immutable, ``v4.1.0``
is not, ``v4.0.0`` predates the field (absent).
"""

from __future__ import annotations

import os
import subprocess
from dataclasses import dataclass, field
from datetime import UTC
from pathlib import Path

from support.github_api import GitHubDouble
from support.gitrepo import Repo

TOKEN = "ghp_" + "T3stT0ken" * 4


@dataclass
class World:
    root: Path
    repos: dict[str, Repo] = field(default_factory=dict)
    sha: dict[str, str] = field(default_factory=dict)  # "repo tag" -> commit
    tag_object: dict[str, str] = field(default_factory=dict)
    releases: dict[str, list[dict]] = field(default_factory=dict)
    fork_commit: str = ""

    def repo(self, name: str) -> Repo:
        repo = Repo(self.root / name.replace("/", "+"))
        self.repos[name] = repo
        return repo

    def double(self, **kwargs) -> GitHubDouble:
        double = GitHubDouble(token=TOKEN, **kwargs)
        for name, repo in self.repos.items():
            if name.startswith("evil/"):
                continue
            double.add_repo(name, repo.path, private=name == "acme/secret", releases=self.releases.get(name))
        return double


def _days_ago(days: int) -> str:
    from datetime import datetime, timedelta

    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _tag(repo: Repo, name: str, target: str = "HEAD", message: str | None = None, force: bool = False) -> None:
    args = ["tag"] + (["-f"] if force else []) + (["-a", "-m", message] if message else []) + [name, target]
    repo.git(*args)


def _tagged_commits(repo: Repo, tags: list[str]) -> None:
    """One empty commit on main per tag, each with its lightweight tag, in one ``git fast-import``: a
    git process per commit and tag was most of the world's build (and of every mutant's, under
    ``make mutate``, which builds the world for each)."""
    stream = []
    for i, tag in enumerate(tags, 1):
        message = f"c{i - 1}\n"
        stream += ["commit refs/heads/main", f"mark :{i}", f"committer Test <test@example.invalid> {1700000000 + i} +0000",
                   f"data {len(message)}", message.rstrip("\n"), "", f"reset refs/tags/{tag}", f"from :{i}", ""]
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo.path, input="\n".join(stream) + "\n", text=True,
                   check=True, capture_output=True)


def build_world(root: Path) -> World:
    w = World(root)
    co = w.repo("acme/checkout")
    c1 = co.commit("first", {"action.yml": "name: checkout\nruns:\n  using: node20\n  main: index.js\n"})
    _tag(co, "v4.0.0")
    _tag(co, "v4")
    c2 = co.commit("second")
    _tag(co, "v4.1.0", message="v4.1.0")
    c3 = co.commit("third")
    _tag(co, "v4.2.2", message="v4.2.2")
    _tag(co, "v4", force=True)
    c4 = co.commit("fourth")
    _tag(co, "v5.0.0-beta.1", message="beta")
    w.sha.update({"checkout v4.0.0": c1, "checkout v4.1.0": c2, "checkout v4.2.2": c3, "checkout main": c4})
    w.tag_object["checkout v4.2.2"] = co.git("rev-parse", "v4.2.2")
    w.releases["acme/checkout"] = [
        {"tag_name": "v5.0.0-beta.1", "published_at": "2026-11-01T00:00:00Z", "prerelease": True},
        {"tag_name": "v4.3.0", "draft": True},
        {"tag_name": "v4.2.2", "published_at": _days_ago(10), "immutable": True},  # inside a 30-day cooldown
        {"tag_name": "v4.1.0", "published_at": _days_ago(100), "immutable": False},
        {"tag_name": "v4.0.0", "published_at": _days_ago(400)},
    ]
    fork = Repo(w.root / "evil+checkout")
    fork.git("fetch", "-q", "--update-head-ok", str(co.path), "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*")
    fork.git("reset", "-q", "--hard", c4)
    w.fork_commit = fork.commit("innocent looking change", {"index.js": "steal()\n"})
    w.repos["evil/checkout"] = fork

    nested = w.repo("acme/nested")
    n1 = nested.commit("one")
    _tag(nested, "inner", message="inner")
    _tag(nested, "v2.0.0", "inner", message="outer")
    w.sha["nested v2.0.0"] = n1
    w.tag_object["nested v2.0.0"] = nested.git("rev-parse", "v2.0.0")

    clash = w.repo("acme/clash")
    k1 = clash.commit("one")
    _tag(clash, "v1.0.0")
    _tag(clash, "v1")
    clash.git("branch", "v1")
    w.sha["clash v1.0.0"] = k1

    codeql = w.repo("acme/codeql")
    q1 = codeql.commit("one", {"init/action.yml": "name: init\nruns:\n  using: node20\n  main: i.js\n"})
    _tag(codeql, "v3.27.0")
    _tag(codeql, "v3")
    w.sha["codeql v3.27.0"] = q1

    many = w.repo("acme/many")
    _tagged_commits(many, [f"v1.0.{i}" for i in range(230)])
    w.sha["many v1.0.0"] = many.git("rev-parse", "v1.0.0")
    w.sha["many v1.0.229"] = many.git("rev-parse", "v1.0.229")

    comp = w.repo("acme/comp")
    w.sha["comp v1.0.0"] = comp.commit("composite", {"action.yml": (
        "name: comp\nruns:\n  using: composite\n  steps:\n    - uses: acme/checkout@v4\n")})
    _tag(comp, "v1.0.0")

    secret = w.repo("acme/secret")
    s1 = secret.commit("one")
    _tag(secret, "v1.0.0")
    w.sha["secret v1.0.0"] = s1

    moved = w.repo("acme/moved")
    w.sha["moved v1.0.0"] = moved.commit("release 1.0.0")
    _tag(moved, "v1.0.0", message="v1.0.0")
    _tag(moved, "v1")
    w.sha["moved v1.0.0 now"] = moved.commit("not what was released")
    _tag(moved, "v1.0.0", message="v1.0.0 again", force=True)  # the floating v1 stays where it was
    w.releases["acme/moved"] = [{"tag_name": "v1.0.0", "published_at": _days_ago(50), "immutable": False}]

    sealed = w.repo("acme/sealed")
    w.sha["sealed v2.0.0"] = sealed.commit("release 2.0.0")
    _tag(sealed, "v2.0.0")
    _tag(sealed, "v2")
    w.sha["sealed v2.0.0 now"] = sealed.commit("someone else's code")
    _tag(sealed, "v2.0.0", force=True)
    w.releases["acme/sealed"] = [{"tag_name": "v2.0.0", "published_at": _days_ago(50), "immutable": True}]

    double = w.double()  # the fork network lives in acme/checkout's object store
    double.add_fork("acme/checkout", fork.path)
    return w




def write(path: Path, text: str, mode: int | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8"))
    if mode is not None:
        os.chmod(path, mode)
    return path
