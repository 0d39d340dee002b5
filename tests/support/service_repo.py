"""A service repository as the act tests' caller: real git, its own code, a starter template as its workflow.

:class:`ServiceRepo` lays out what a service that adopted our starter workflows holds: a small
Python package (``src/svc``, tests, ``pyproject.toml`` built by flit-core, the hashed
``requirements.txt`` of ``tests/workflows/service/``), a ``Dockerfile``, a Terraform root module
in ``infra/`` (``support.terraform``'s configuration; its local state outside the checkout, as a
remote backend would keep it), a release-please configuration, and a Conventional Commit history.
Its ``.github/workflows/`` holds starter templates of ``workflow-templates/`` as GitHub writes them
when a user adopts one (``$default-branch`` replaced), their ``org/ci/...@<release sha>`` calls moved
to the commit under test, plus the observer job of ``support.act``.

The repository is pushed to a bare ``origin`` under a :class:`~support.gitserver.GitServer` root;
``github.server_url`` stays ``https://github.com`` and git reaches that server through
``url.<server>/.insteadOf https://github.com/`` in the runner's environment (``support.act``). :meth:`pull_request` makes the
refs GitHub makes for a pull request (``refs/pull/N/head`` and the test merge ``refs/pull/N/merge``).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from support.act import CI, add_observer
from support.gitrepo import Repo
from support.terraform import CHILD_TF, MAIN_TF

REPO = Path(__file__).resolve().parents[2]
TEMPLATES = REPO / "workflow-templates"
REQUIREMENTS = REPO / "tests" / "workflows" / "service" / "requirements.txt"
_PIN = re.compile(rf"({re.escape(CI)}/\.github/workflows/[A-Za-z0-9_.-]+\.ya?ml)@[0-9a-f]{{40}}(\s*#[^\n]*)?")

PYPROJECT = """[build-system]
requires = ["flit_core>=3.12,<4"]
build-backend = "flit_core.buildapi"

[project]
name = "svc"
version = "1.2.0"
description = "A small service"
requires-python = ">=3.11"

[tool.mypy]
strict = true
mypy_path = "src"
explicit_package_bases = true

[tool.pytest.ini_options]
testpaths = ["tests"]
"""
PACKAGE = '''"""A small service."""


def greet(name: str) -> str:
    """Greet someone by name."""
    return f"hello, {name}"
'''
TEST = '''from svc import greet


def test_greet() -> None:
    assert greet("ci") == "hello, ci"
'''


def template(name: str, sha: str) -> str:
    """``workflow-templates/<name>.yml`` as a service adopts it, calling ``org/ci`` at ``sha``."""
    text = (TEMPLATES / f"{name}.yml").read_text(encoding="utf-8").replace("$default-branch", "main")
    moved, count = _PIN.subn(lambda m: f"{m[1]}@{sha}", text)
    if not count:
        raise ValueError(f"workflow-templates/{name}.yml calls no org/ci reusable workflow by commit")
    return moved


class ServiceRepo:
    """``org/<name>`` with its origin under ``server_root``; ``state_dir`` holds the Terraform state."""

    def __init__(self, root: Path, server_root: Path, name: str, sha: str, templates: list[str],
                 extra: dict[str, str] | None = None) -> None:
        self.name = f"org/{name}"
        self.work = Repo(root / "work")
        self.state_dir = root / "terraform-state"
        self.origin = server_root / "org" / f"{name}.git"
        self.sha_under_test = sha
        main_tf = MAIN_TF.format(generation="1", keep="stable", child="alpha", extra="").replace(
            'backend "local" {}', f'backend "local" {{\n    path = "{self.state_dir}/terraform.tfstate"\n  }}')
        self.work.commit("chore: start the service", {
            "pyproject.toml": PYPROJECT, "src/svc/__init__.py": PACKAGE, "tests/test_svc.py": TEST,
            "requirements.txt": REQUIREMENTS.read_text(encoding="utf-8"),
            "Dockerfile": "FROM scratch\nCOPY src /app\n", ".gitignore": "__pycache__/\n",
            "infra/main.tf": main_tf, "infra/modules/child/main.tf": CHILD_TF,
            "release-please-config.json": '{"packages": {".": {"release-type": "simple"}}}\n',
            ".release-please-manifest.json": '{".": "1.2.0"}\n', "version.txt": "1.2.0\n",
            **(extra or {})})
        self.work.git("tag", "v1.2.0")
        workflows = {}
        for name_ in templates:
            path = f".github/workflows/{name_}.yml"
            workflows[path] = template(name_, sha)
        self.work.commit("ci: adopt the org/ci starter workflows", workflows)
        for name_ in templates:
            add_observer(self.work.path / ".github" / "workflows" / f"{name_}.yml")
        self.work.git("add", "-A")
        self.work.commit("ci: observe the reusable workflows' results")
        self.work.commit("feat: greet by name", {"src/svc/__init__.py": PACKAGE + '\n\nDEFAULT = greet("world")\n'})
        self.origin.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(self.origin)], check=True)
        for key, value in (("uploadpack.allowAnySHA1InWant", "true"), ("http.receivepack", "true")):
            subprocess.run(["git", "--git-dir", str(self.origin), "config", key, value], check=True)
        self.push()
        self.pulls = 0

    @property
    def path(self) -> Path:
        return self.work.path

    def head(self) -> str:
        return self.work.git("rev-parse", "HEAD")

    def push(self) -> None:
        self.work.git("push", "-q", "--force", str(self.origin), "refs/heads/*:refs/heads/*", "refs/tags/*:refs/tags/*")

    def repository(self) -> dict:
        owner, name = self.name.split("/")
        return {"name": name, "full_name": self.name, "default_branch": "main", "owner": {"login": owner},
                "html_url": f"https://github.com/{self.name}"}

    def push_event(self, api_url: str = "https://api.github.com") -> tuple[dict, dict[str, str]]:
        """The ``push`` of ``main`` as it is: payload and the ``github`` context act needs."""
        self.push()
        sha = self.head()
        payload = {"ref": "refs/heads/main", "before": self.work.git("rev-parse", "HEAD~1"), "after": sha,
                   "repository": self.repository(), "pusher": {"name": "octocat"}}
        return payload, self._context("refs/heads/main", sha, api_url)

    def commit_on(self, branch: str, message: str, files: dict[str, str]) -> str:
        if self.work.git("branch", "--list", branch):
            self.work.checkout(branch)
        else:
            self.work.branch(branch)
        sha = self.work.commit(message, files)
        self.work.checkout("main")
        return sha

    def pull_request(self, branch: str, title: str, api_url: str = "https://api.github.com",
                     number: int | None = None) -> tuple[dict, dict[str, str]]:
        """Open (or synchronise) a pull request of ``branch`` into ``main``: GitHub's refs, its payload."""
        self.pulls += 1
        number = number or self.pulls
        base, head = self.work.git("rev-parse", "main"), self.work.git("rev-parse", branch)
        self.work.git("checkout", "-q", "--detach", "main")
        self.work.git("merge", "-q", "--no-ff", "--no-edit", "-m", f"Merge {head} into {base}", branch)
        merge = self.head()
        self.work.git("checkout", "-q", branch)  # act reads the workflow files from here
        self.push()
        self.work.git("push", "-q", "--force", str(self.origin), f"{head}:refs/pull/{number}/head",
                      f"{merge}:refs/pull/{number}/merge")
        payload = {"action": "opened", "number": number, "repository": self.repository(),
                   "pull_request": {"number": number, "title": title, "body": "",
                                    "head": {"ref": branch, "sha": head, "repo": {"full_name": self.name}},
                                    "base": {"ref": "main", "sha": base, "repo": {"full_name": self.name}}}}
        context = self._context(f"refs/pull/{number}/merge", merge, api_url)
        context.update(GITHUB_HEAD_REF=branch, GITHUB_BASE_REF="main")
        return payload, context

    def add_inputs(self, workflow: str, inputs: dict[str, str], job: str | None = None) -> None:
        """Add ``with:`` inputs to the reusable workflow call of ``job`` (default: the only one)."""
        path = self.path / ".github" / "workflows" / f"{workflow}.yml"
        text = path.read_text(encoding="utf-8")
        start = text.index(f"\n  {job}:\n") if job else 0
        if job is None and text.count("\n    with:\n") != 1:
            raise ValueError(f"{path} has not exactly one `with:` to extend")
        at = text.index("\n    with:\n", start) + len("\n    with:\n")
        lines = "".join(f"      {key}: {value}\n" for key, value in inputs.items())
        path.write_text(text[:at] + lines + text[at:], encoding="utf-8")
        self.work.git("add", "-A")
        self.work.commit(f"ci: {workflow} inputs of this service")

    def add_secrets(self, workflow: str, secrets: dict[str, str], job: str) -> None:
        """Pass ``secrets:`` to the reusable workflow call of ``job`` (added to its ``secrets:``, or a new
        one before its ``with:``), as a service whose registry is not ghcr.io must."""
        path = self.path / ".github" / "workflows" / f"{workflow}.yml"
        text = path.read_text(encoding="utf-8")
        start = text.index(f"\n  {job}:\n")
        following = re.compile(r"\n  [A-Za-z0-9_-]+:\n").search(text, start + 1)
        end = following.start() if following else len(text)
        lines = "".join(f"      {key}: {value}\n" for key, value in secrets.items())
        if "\n    secrets:\n" in text[start:end]:
            at = text.index("\n    secrets:\n", start) + len("\n    secrets:\n")
        else:
            at = text.index("\n    with:\n", start) + 1
            lines = "    secrets:\n" + lines
        if at > end:
            raise ValueError(f"{path}: job {job} calls no reusable workflow with `with:`")
        path.write_text(text[:at] + lines + text[at:], encoding="utf-8")
        self.work.git("add", "-A")
        self.work.commit(f"ci: {workflow} secrets of this service")

    def replace_input(self, workflow: str, name: str, value: str) -> None:
        """Give input ``name`` of the first reusable workflow call in ``<workflow>.yml`` another value."""
        path = self.path / ".github" / "workflows" / f"{workflow}.yml"
        text, count = re.subn(rf"(?m)^(      {re.escape(name)}:) .*$", lambda m: f"{m[1]} {value}",
                              path.read_text(encoding="utf-8"), count=1)
        if not count:
            raise ValueError(f"{path} passes no input {name!r}")
        path.write_text(text, encoding="utf-8")
        self.work.git("add", "-A")
        self.work.commit(f"ci: {workflow} {name} of this service")

    def back_to_main(self) -> None:
        self.work.checkout("main")

    def _context(self, ref: str, sha: str, api_url: str) -> dict[str, str]:
        return {"GITHUB_REPOSITORY": self.name, "GITHUB_REPOSITORY_OWNER": self.name.split("/")[0],
                "GITHUB_REF": ref, "SHA_REF": sha, "GITHUB_API_URL": api_url,
                "GITHUB_RUN_ID": "4242", "GITHUB_RUN_NUMBER": "7"}

    def remove(self) -> None:
        shutil.rmtree(self.work.path, ignore_errors=True)
