"""The ``git`` backend (``--via git``): refs from ``git ls-remote``, for hosts without GitHub's API.

One ``git ls-remote --symref`` per repository gives every branch and tag; annotated tags come with
their peeled ``^{}`` line (git peels tag-of-tag chains fully), so tag object SHAs are known too.
Reachability (impostor detection) and file contents need objects: the repository is then fetched
once into a bare repository under the work directory. Works with ``https://``, ``http://``,
``file://`` URLs and local paths; the URL of each repository comes from a template with
``{owner}`` and ``{repo}`` (default ``$GITHUB_SERVER_URL/{owner}/{repo}.git``).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from pathlib import Path

from ci_tools.core.git import GitError, git
from ci_tools.core.redact import redact
from ci_tools.gha.resolve.base import NotFound, RepoRefs, ResolveError, Resolver

_NOT_FOUND = ("not found", "does not appear to be a git repository", "does not exist", "returned error: 404",
              "could not read username", "authentication failed", "terminal prompts disabled")


# What a bare mirror needs of its configuration: a kept mirror may come back from a cache that a pull
# request's run wrote (SECURITY.md: caches), so its config, hooks and alternates are replaced by these
# before any git command runs in it: no hook, hooksPath, credential helper, url rewrite or include.
_MIRROR_CONFIG = "[core]\n\trepositoryformatversion = 0\n\tfilemode = true\n\tbare = true\n"


def _remove(path: Path) -> None:
    """Delete ``path`` without following a symbolic link out of the cache."""
    import shutil

    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def _disarm(mirror: Path) -> None:
    for part in ("config", "hooks", "objects/info/alternates", "objects/info/http-alternates", "commondir"):
        _remove(mirror / part)
    (mirror / "config").write_text(_MIRROR_CONFIG, encoding="utf-8")


# a remote never prompts: no terminal, and an askpass that answers nothing
_REMOTE_ENV = {"GIT_TERMINAL_PROMPT": "0", "GIT_ASKPASS": "true"}


def default_template() -> str:
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
    return server + "/{owner}/{repo}.git"


class GitResolver(Resolver):
    name = "git"

    def __init__(self, template: str | None = None, work_dir: Path | None = None, timeout: float = 120.0) -> None:
        self.template = template or os.environ.get("CI_TOOLS_GIT_URL_TEMPLATE") or default_template()
        if "{owner}" not in self.template or "{repo}" not in self.template:
            raise ValueError('the git URL template needs "{owner}" and "{repo}"')
        self._tmp = None
        if work_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="ci-tools-git-")
            work_dir = Path(self._tmp.name)
        self.work_dir = Path(work_dir)
        self.timeout = timeout
        self.requests = 0
        self._lock = threading.Lock()
        self._fetched: dict[str, Path] = {}
        self._repo_locks: dict[str, threading.Lock] = {}

    def url(self, repo: str) -> str:
        owner, name = repo.split("/", 1)
        return self.template.format(owner=owner, repo=name)

    def _git(self, args: list[str], repo: str, cwd: Path | None = None, count: bool = True) -> str:
        if count:
            with self._lock:
                self.requests += 1
        try:
            out = git(args, cwd, env=_REMOTE_ENV, timeout=self.timeout)
        except GitError as exc:
            if exc.timed_out:
                raise ResolveError(f"git {args[0]} for {repo} timed out after {self.timeout:.0f}s") from None
            if exc.returncode is None:
                raise ResolveError("git is not installed") from None
            stderr = exc.stderr.lower()
            last = redact(exc.last_line if exc.stderr.strip() else f"exit status {exc.returncode}")
            if any(marker in stderr for marker in _NOT_FOUND):
                raise NotFound(f'repository "{repo}" was not found at {redact(self.url(repo))}, or it is private') from None
            if "failed to connect" in stderr or "could not resolve host" in stderr:
                raise ResolveError(f"cannot connect to {redact(self.url(repo))} ({last}): check --git-url-template "
                                   "(or GITHUB_SERVER_URL) and that the server is reachable from here") from None
            raise ResolveError(f"git {args[0]} for {repo} failed: {last}") from None
        return out.decode("utf-8", "replace")

    def refs(self, repo: str) -> RepoRefs:
        out = self._git(["ls-remote", "--symref", self.url(repo)], repo)
        refs = RepoRefs()
        direct: dict[str, str] = {}
        for line in out.splitlines():
            if line.startswith("ref: "):
                target, _, name = line[5:].partition("\t")
                if name == "HEAD" and target.startswith("refs/heads/"):
                    refs.default_branch = target[len("refs/heads/"):]
                continue
            sha, _, name = line.partition("\t")
            if name.startswith("refs/heads/"):
                refs.branches[name[len("refs/heads/"):]] = sha
            elif name.startswith("refs/tags/"):
                tag = name[len("refs/tags/"):]
                if tag.endswith("^{}"):
                    refs.tags[tag[:-3]] = sha
                else:
                    direct[tag] = sha
                    refs.tags.setdefault(tag, sha)
        for tag, obj in direct.items():
            if refs.tags[tag] != obj:  # annotated: the direct line is the tag object
                refs.tag_objects[obj] = refs.tags[tag]
        return refs

    def peel(self, repo: str, sha: str) -> str | None:
        return self.refs(repo).tag_objects.get(sha)

    def _mirror(self, repo: str) -> Path:
        with self._lock:
            lock = self._repo_locks.setdefault(repo, threading.Lock())
        with lock:
            if repo in self._fetched:
                return self._fetched[repo]
            path = self.work_dir / "git" / hashlib.sha256(self.url(repo).encode()).hexdigest()[:24]
            if path.is_symlink() or (path.exists() and not (path / "HEAD").is_file()) or \
                    any((path / part).is_symlink() for part in ("HEAD", "objects", "refs", "packed-refs", "info")):
                _remove(path)  # not what init --bare and fetch make: start again
            if not (path / "HEAD").exists():
                path.mkdir(parents=True, exist_ok=True)
                self._git(["init", "-q", "--bare", str(path)], repo, count=False)
            _disarm(path)
            self._git(["fetch", "-q", "--no-tags", "--prune", self.url(repo),
                       "+refs/heads/*:refs/heads/*", "+refs/tags/*:refs/tags/*"], repo, cwd=path)
            self._fetched[repo] = path
            return path

    def _has(self, path: Path, sha: str, repo: str) -> bool:
        try:
            self._git(["cat-file", "-e", f"{sha}^{{commit}}"], repo, cwd=path, count=False)
            return True
        except (ResolveError, NotFound):
            return False

    def contains(self, repo: str, sha: str, refs: RepoRefs) -> bool | None:
        if sha in refs.tags.values() or sha in refs.branches.values():
            return True
        path = self._mirror(repo)
        if self._has(path, sha, repo):
            out = self._git(["for-each-ref", "--count=1", "--contains", sha, "refs/heads", "refs/tags"], repo,
                            cwd=path, count=False)
            return bool(out.strip())
        try:  # not reachable from any ref: does the host still serve it (a fork's commit)?
            self._git(["fetch", "-q", "--no-tags", self.url(repo), sha], repo, cwd=path)
        except (ResolveError, NotFound):
            return None
        return False if self._has(path, sha, repo) else None

    def get_file(self, repo: str, path: str, sha: str) -> bytes | None:
        mirror = self._mirror(repo)
        if not self._has(mirror, sha, repo):
            try:
                self._git(["fetch", "-q", "--no-tags", self.url(repo), sha], repo, cwd=mirror)
            except (ResolveError, NotFound):
                return None
        try:
            return git(["show", f"{sha}:{path}"], mirror)
        except GitError:
            return None

    def close(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()
