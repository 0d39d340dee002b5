"""Stand-ins for the third-party actions our reusable workflows pin, served to act at those SHAs.

Each :class:`StandIn` declares the inputs (with their defaults) and outputs of the real action's
``action.yml`` at the pinned commit (read from the action's repository brought with ``fetch``; the
file is named in ``follows``), so a workflow passing an input the action does not have, or reading
an output it does not set, fails here as it would on GitHub. :func:`materialize` writes one
composite ``action.yml`` per stand-in whose single step hands the call to the test process
(``support.act.CallbackServer``); what the action *does* is the handler the test's world
registers: the ``StepCall -> outputs`` functions of ``support.runner``, shared with the composite
actions' own tests. The generic handlers below follow the real actions' sources named in each
docstring; none copies their code.

Adding a pin to a workflow or action without adding its stand-in here fails every act test that
reaches it (``ServedCI.check_stand_ins``).
"""

from __future__ import annotations

import base64
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import threading
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from support.gitrepo import GIT_ENV
from support.httpd import Handler, LoopbackServer
from support.runner import StandInFailure, StepCall


@dataclass(frozen=True)
class StandIn:
    action: str  # owner/repo[/path]
    sha: str
    version: str
    follows: str  # the real file its interface follows
    inputs: dict[str, str]  # name -> default ('' when the action declares none)
    outputs: tuple[str, ...] = ()

    @property
    def ref(self) -> str:
        return f"{self.action}@{self.sha}"

    @property
    def repo_key(self) -> str:
        owner, repo = self.action.split("/")[:2]
        return f"{owner}/{repo}@{self.sha}"

    @property
    def subpath(self) -> str:
        return "/".join(self.action.split("/")[2:])


STANDINS = (
    StandIn("actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", "v7.0.1", "action.yml, src/input-helper.ts, src/ref-helper.ts",
            {"repository": "${{ github.repository }}", "ref": "", "token": "${{ github.token }}", "ssh-key": "",
             "ssh-known-hosts": "", "ssh-strict": "true", "ssh-user": "git", "persist-credentials": "true",
             "path": "", "clean": "true", "filter": "", "sparse-checkout": "", "sparse-checkout-cone-mode": "true",
             "fetch-depth": "1", "fetch-tags": "false", "show-progress": "true", "lfs": "false", "submodules": "false",
             "set-safe-directory": "true", "github-server-url": "", "allow-unsafe-pr-checkout": "false"},
            ("ref", "commit")),
    StandIn("actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", "v7.0.0",
            "action.yml, src/find-python.ts, src/cache-distributions/cache-distributor.ts",
            {"python-version": "", "python-version-file": "", "cache": "", "architecture": "", "check-latest": "false",
             "token": "${{ github.server_url == 'https://github.com' && github.token || '' }}",
             "cache-dependency-path": "", "update-environment": "true", "allow-prereleases": "false",
             "freethreaded": "false", "pip-version": ""},
            ("python-version", "cache-hit", "python-path")),
    StandIn("actions/upload-artifact", "bbbca2ddaa5d8feaa63e36b76fdaad77386f024f", "v7.0.0", "action.yml",
            {"name": "artifact", "path": "", "if-no-files-found": "warn", "retention-days": "",
             "compression-level": "6", "overwrite": "false", "include-hidden-files": "false", "archive": "true"},
            ("artifact-id", "artifact-url", "artifact-digest")),
    StandIn("actions/download-artifact", "3e5f45b2cfb9172054b4087a40e8e0b5a5461e7c", "v8.0.1", "action.yml",
            {"name": "", "artifact-ids": "", "path": "", "pattern": "", "merge-multiple": "false", "github-token": "",
             "repository": "${{ github.repository }}", "run-id": "${{ github.run_id }}", "skip-decompress": "false",
             "digest-mismatch": "error"},
            ("download-path",)),
    StandIn("aws-actions/configure-aws-credentials", "e6de054238d6b7531b4efff3b6587d9aade6a06c", "v6.2.3",
            "action.yml, src/index.ts",
            {**dict.fromkeys(("aws-region", "aws-profile", "overwrite-aws-profile", "role-to-assume",
                              "aws-access-key-id", "aws-secret-access-key", "aws-session-token",
                              "web-identity-token-file", "role-chaining", "http-proxy", "no-proxy",
                              "mask-aws-account-id", "role-duration-seconds", "role-external-id", "role-session-name",
                              "role-skip-session-tagging", "transitive-tag-keys", "inline-session-policy",
                              "managed-session-policies", "output-credentials", "output-env-credentials",
                              "unset-current-credentials", "disable-retry", "retry-max-attempts",
                              "special-characters-workaround", "use-existing-credentials", "allowed-account-ids",
                              "force-skip-oidc", "action-timeout-s", "custom-tags", "sts-endpoint"), ""),
             "audience": "sts.amazonaws.com"},
            ("aws-account-id", "aws-access-key-id", "aws-secret-access-key", "aws-session-token", "aws-expiration")),
    StandIn("hashicorp/setup-terraform", "dfe3c3f87815947d99a8997f908cb6525fc44e9e", "v4.0.1", "action.yml, lib/setup-terraform.js",
            {"cli_config_credentials_hostname": "app.terraform.io", "cli_config_credentials_token": "",
             "terraform_version": "latest", "terraform_wrapper": "true"}),
    StandIn("docker/setup-buildx-action", "37fe631027851001ddb9b187196cc803df7f5f0e", "v4.3.0", "action.yml",
            {"version": "", "driver": "docker-container", "driver-opts": "", "buildkitd-flags": "", "buildkitd-config": "",
             "buildkitd-config-inline": "", "use": "true", "name": "", "endpoint": "", "platforms": "", "append": "",
             "keep-state": "false", "cache-binary": "true", "cleanup": "true"},
            ("name", "driver", "platforms", "nodes", "endpoint", "status", "flags")),
    StandIn("docker/login-action", "4907a6ddec9925e35a0a9e82d7399ccc52663121", "v4.1.0", "action.yml",
            {"registry": "", "username": "", "password": "", "ecr": "", "scope": "", "logout": "true", "registry-auth": ""}),
    StandIn("docker/metadata-action", "dc802804100637a589fabce1cb79ff13a1411302", "v6.2.0", "action.yml",
            {"context": "workflow", "images": "", "tags": "", "flavor": "", "labels": "", "annotations": "",
             "sep-tags": "", "sep-labels": "", "sep-annotations": "", "bake-target": "", "github-token": "${{ github.token }}"},
            ("version", "tags", "tag-names", "labels", "annotations", "json", "bake-file-tags", "bake-file-labels",
             "bake-file-annotations", "bake-file")),
    StandIn("docker/build-push-action", "53b7df96c91f9c12dcc8a07bcb9ccacbed38856a", "v7.3.0", "action.yml",
            {**dict.fromkeys(("add-hosts", "allow", "annotations", "attests", "build-args", "build-contexts", "builder",
                              "cache-from", "cache-to", "call", "cgroup-parent", "context", "file", "labels", "network",
                              "no-cache-filters", "outputs", "platforms", "provenance", "sbom", "secrets", "secret-envs",
                              "secret-files", "shm-size", "ssh", "tags", "target", "ulimit"), ""),
             "load": "false", "no-cache": "false", "pull": "false", "push": "false", "github-token": "${{ github.token }}"},
            ("imageid", "digest", "metadata")),
    StandIn("sigstore/cosign-installer", "6f9f17788090df1f26f669e9d70d6ae9567deba6", "v4.1.2", "action.yml",
            {"cosign-release": "v3.0.6", "install-dir": "$HOME/.cosign", "use-sudo": "false"}),
    StandIn("github/codeql-action/upload-sarif", "8aad20d150bbac5944a9f9d289da16a4b0d87c1e", "v4.36.2",
            "upload-sarif/action.yml",
            {"sarif_file": "../results", "checkout_path": "${{ github.workspace }}", "ref": "", "sha": "",
             "token": "${{ github.token }}", "matrix": "${{ toJson(matrix) }}", "category": "",
             "wait-for-processing": "true"},
            ("sarif-id", "sarif-ids")),
    StandIn("googleapis/release-please-action", "d1a8f221d7723166f48a584aebba00ef3f6febec", "v4.1.4", "action.yml, src/index.ts",
            {"token": "${{ github.token }}", "release-type": "", "path": "", "target-branch": "", "config-file": "",
             "manifest-file": "", "repo-url": "${{ github.repository }}", "github-api-url": "${{ github.api_url }}",
             "github-graphql-url": "${{ github.graphql_url }}", "fork": "false", "include-component-in-tag": "false",
             "proxy-server": "", "skip-github-release": "false", "skip-github-pull-request": "false",
             "changelog-host": "${{ github.server_url }}"}),
)
CATALOGUE = {s.ref: s for s in STANDINS}


def _yaml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML double-quoted scalar


def action_yml(standin: StandIn, client: Path) -> str:
    lines = [f"# Stand-in for {standin.ref} ({standin.version}): inputs and outputs of its {standin.follows}",
             "# at that commit; the step hands the call to the test process (tests/support/act.py).",
             f"name: {_yaml_string('stand-in for ' + standin.action)}",
             f"description: {_yaml_string('Test stand-in for ' + standin.ref)}", "inputs:"]
    for name, default in standin.inputs.items():
        lines += [f"  {name}:", "    required: false", f"    default: {_yaml_string(default)}"]
    if standin.outputs:
        lines.append("outputs:")
        for name in standin.outputs:
            lines += [f"  {name}:", f"    value: ${{{{ steps.call.outputs.{name} }}}}"]
    lines += ["runs:", "  using: composite", "  steps:", "    - id: call", "      shell: bash", "      env:",
              f"        STANDIN_ACTION: {standin.action}", f"        STANDIN_USES: {standin.ref}",
              "        STANDIN_INPUTS: ${{ toJSON(inputs) }}",
              f"      run: python3 {_yaml_string(str(client))[1:-1]}", ""]
    return "\n".join(lines)


def materialize(root: Path, client_source: str) -> Path:
    """Write every stand-in under ``root/OWNER/REPO/SHA[/path]``; return ``root``."""
    client = root / "standin_client.py"
    root.mkdir(parents=True, exist_ok=True)
    client.write_text(client_source, encoding="utf-8")
    for s in STANDINS:
        target = root / s.repo_key.replace("@", "/") / s.subpath
        target.mkdir(parents=True, exist_ok=True)
        (target / "action.yml").write_text(action_yml(s, client), encoding="utf-8")
    return root


# ------------------------------------------------------------------ generic handlers


def _append(call: StepCall, file_var: str, text: str) -> None:
    with open(call.env[file_var], "a", encoding="utf-8") as handle:
        handle.write(text)


def _git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    redirect = {k: v for k, v in (env or {}).items() if k.startswith("GIT_CONFIG_")}  # the job's url.insteadOf
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **GIT_ENV, **redirect}, timeout=120)
    if done.returncode:
        raise StandInFailure(f"The process '/usr/bin/git' failed with exit code {done.returncode}: "
                             f"git {' '.join(args)}: {done.stderr.strip()[-400:]}")
    return done.stdout.strip()


def checkout(call: StepCall) -> dict[str, str]:
    """actions/checkout v7.0.1 (src/input-helper.ts, src/ref-helper.ts, src/git-source-provider.ts):
    a real ``git init`` + ``git fetch`` from ``GITHUB_SERVER_URL/<repository>`` into the workspace.
    The workflow's own repository without ``ref`` checks out ``github.ref`` at ``github.sha``;
    ``fetch-depth`` (1 by default, 0 for all history and tags) bounds the fetch; branches check out
    as ``-B <branch> refs/remotes/origin/<branch>``, pull request refs detached at
    ``refs/remotes/pull/<N>/merge``; ``persist-credentials`` leaves the token as an extraheader."""
    i, env = call.inputs, call.env
    repository = i.get("repository") or env["GITHUB_REPOSITORY"]
    server = (i.get("github-server-url") or env["GITHUB_SERVER_URL"]).rstrip("/")
    run_git = lambda cwd, *args: _git(cwd, *args, env=env)  # noqa: E731
    ref, commit = i.get("ref", ""), ""
    if not ref and repository.lower() == env["GITHUB_REPOSITORY"].lower():
        ref, commit = env["GITHUB_REF"], env["GITHUB_SHA"]
    elif re.fullmatch(r"[0-9a-f]{40}", ref):
        ref, commit = "", ref
    try:
        depth = int(i.get("fetch-depth") or "1")
    except ValueError:
        raise StandInFailure(f"The input 'fetch-depth' must be a number: {i.get('fetch-depth')!r}") from None
    target = (call.workspace / (i.get("path") or "")).resolve()
    target.mkdir(parents=True, exist_ok=True)
    if not (target / ".git").exists():
        run_git(target, "init", "-q")
        run_git(target, "remote", "add", "origin", f"{server}/{repository}")
    header = "AUTHORIZATION: basic " + base64.b64encode(f"x-access-token:{i.get('token', '')}".encode()).decode()
    auth = ["-c", f"http.{server}/.extraheader={header}"]
    if ref.startswith("refs/heads/"):
        branch = ref.removeprefix("refs/heads/")
        local, start = f"refs/remotes/origin/{branch}", branch
    elif ref.startswith("refs/pull/"):
        local, start = "refs/remotes/pull/" + ref.removeprefix("refs/pull/"), ""
    elif ref.startswith("refs/tags/"):
        local, start = ref, ""
    else:
        local, start = "", ""
    fetch = ["fetch", "--no-tags", "--prune", "--no-recurse-submodules"]
    if depth > 0:
        refspecs = [f"+{commit or ref}:{local}" if local else f"+{commit or ref}"]
        run_git(target, *auth, *fetch, f"--depth={depth}", "origin", *refspecs)
    else:
        refspecs = ["+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*"]
        if local and not local.startswith("refs/remotes/origin/") and local != ref:
            refspecs.append(f"+{commit or ref}:{local}")
        run_git(target, *auth, *fetch, "origin", *refspecs)
    if start:
        run_git(target, "checkout", "-q", "--force", "-B", start, local)
    else:
        run_git(target, "checkout", "-q", "--force", "--detach", commit or local or ref)
    if i.get("persist-credentials", "true") == "true":
        run_git(target, "config", "--local", f"http.{server}/.extraheader", header)
    head = run_git(target, "rev-parse", "HEAD")
    return {"ref": ref, "commit": head}


# ------------------------------------------------------------------ setup-python


def _interpreters() -> dict[str, Path]:
    """This machine's CPython interpreters by full version: pyenv's, then the system's."""
    found: dict[str, Path] = {}
    candidates = sorted(Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")).glob("versions/3.*/bin/python3"))
    candidates += [Path(p) for p in (shutil.which(f"python3.{n}") for n in range(9, 16)) if p]
    for exe in candidates:
        done = subprocess.run([str(exe), "-c", "import platform; print(platform.python_version())"],
                              capture_output=True, text=True)
        version = done.stdout.strip()
        if done.returncode == 0 and re.fullmatch(r"3\.\d+\.\d+", version):
            found.setdefault(version, exe)
    return found


class ToolCache:
    """The runner image's tool cache: ``Python/<version>/x64``, one per CPython of this machine,
    made on first use as a virtual environment (so pip installs stay out of the machine's Python)
    with the pip the interpreter bundles (``ensurepip``'s wheel, unpacked: no network)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._interpreters: dict[str, Path] | None = None
        self._lock = threading.Lock()

    def versions(self) -> list[str]:
        with self._lock:
            if self._interpreters is None:
                self._interpreters = _interpreters()
            return sorted(self._interpreters, key=lambda v: tuple(int(x) for x in v.split(".")))

    def resolve(self, spec: str) -> str | None:
        """The newest version matching ``3.12`` or ``3.12.1`` (setup-python's semver match)."""
        spec = spec.strip()
        matches = [v for v in self.versions() if v == spec or v.startswith(spec + ".")]
        return matches[-1] if matches else None

    def install(self, version: str) -> Path:
        with self._lock:
            assert self._interpreters is not None
            home = self.root / "Python" / version / "x64"
            if (home / ".complete").exists():
                return home
            exe = self._interpreters[version]
            subprocess.run([str(exe), "-m", "venv", "--without-pip", str(home)], check=True, capture_output=True)
            bundled = subprocess.run([str(exe), "-c", "import ensurepip, pathlib; "
                                      "print(next((pathlib.Path(ensurepip.__file__).parent / '_bundled').glob('pip-*.whl')))"],
                                     capture_output=True, text=True, check=True).stdout.strip()
            site = subprocess.run([str(home / "bin" / "python"), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                                  capture_output=True, text=True, check=True).stdout.strip()
            with zipfile.ZipFile(bundled) as wheel:
                wheel.extractall(site)
            (home / ".complete").touch()
            return home


def setup_python(cache: ToolCache):
    """actions/setup-python v7.0.0 (src/find-python.ts, src/cache-distributions/cache-distributor.ts):
    the requested version from the tool cache (an unknown one fails as the action does when it
    cannot find or download it), its directories on PATH, ``pythonLocation`` and the
    ``*_ROOT_DIR`` variables exported; with ``cache``, the dependency files must exist (the
    action fails when ``cache-dependency-path`` matches no file); the cache itself is always a miss."""

    def handler(call: StepCall) -> dict[str, str]:
        spec = call.inputs.get("python-version", "").strip()
        if not spec:
            raise StandInFailure("the stand-in needs python-version (no .python-version lookup)")
        version = cache.resolve(spec)
        if version is None:
            raise StandInFailure(f"The version '{spec}' with architecture 'x64' was not found for this operating system.")
        home = cache.install(version)
        if call.inputs.get("cache"):
            patterns = [p.strip() for p in (call.inputs.get("cache-dependency-path") or "").splitlines() if p.strip()]
            patterns = patterns or ["**/requirements.txt"]
            for pattern in patterns:
                if not any(fnmatch.fnmatch(str(p.relative_to(call.workspace)), pattern.lstrip("./"))
                           for p in call.workspace.rglob("*") if p.is_file() and ".git" not in p.parts):
                    raise StandInFailure(f"No file in {call.workspace} matched to [{pattern}], make sure you have "
                                         "checked out the target repository")
        _append(call, "GITHUB_ENV", "".join(f"{k}={home}\n" for k in
                                            ("pythonLocation", "Python_ROOT_DIR", "Python2_ROOT_DIR", "Python3_ROOT_DIR")))
        _append(call, "GITHUB_PATH", f"{home}\n{home / 'bin'}\n")
        outputs = {"python-version": version, "python-path": str(home / "bin" / "python")}
        if call.inputs.get("cache"):
            outputs["cache-hit"] = "false"
        return outputs

    return handler


# ------------------------------------------------------------------ OIDC and AWS


class OIDCProvider(LoopbackServer):
    """The runner's ID token endpoint (``ACTIONS_ID_TOKEN_REQUEST_URL``/``_TOKEN``) on 127.0.0.1,
    minting unsigned JWTs with :attr:`claims` and the requested audience: ``GET URL&audience=A`` with
    ``Authorization: bearer TOKEN`` (the scheme in any case), 401 otherwise. Started on creation;
    :attr:`requests` are the paths asked for."""

    def __init__(self, claims: dict | None = None, token: str = "oidc-request-token-act") -> None:
        super().__init__()
        self.claims = dict(claims or {})
        self.token = token
        self.start()

    @property
    def requests(self) -> list[str]:
        return self.log

    @property
    def url(self) -> str:
        return f"{super().url}/token?api-version=2.0"

    @property
    def env(self) -> dict[str, str]:
        return {"ACTIONS_ID_TOKEN_REQUEST_URL": self.url, "ACTIONS_ID_TOKEN_REQUEST_TOKEN": self.token}


class _OIDCHandler(Handler):
    owner: OIDCProvider

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        provider = self.owner
        self.record(self.path)
        if self.headers.get("Authorization", "").lower() != f"bearer {provider.token}":
            self.send_response(401)
            self.end_headers()
            return
        audience = parse_qs(urlparse(self.path).query).get("audience", [""])[0]
        body = json.dumps({"value": jwt({**provider.claims, "aud": audience})}).encode()
        self.send(200, body, {"Content-Type": "application/json"})


OIDCProvider.handler = _OIDCHandler


def jwt(claims: dict) -> str:
    def part(data: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")
    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def jwt_claims(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def configure_aws_credentials(assumed: list[dict]):
    """aws-actions/configure-aws-credentials v6.2.3 (src/index.ts): with ``role-to-assume`` and no
    keys, OIDC: the job's ID token (audience ``audience``, default ``sts.amazonaws.com``) is
    exchanged for the role (here: recorded in ``assumed`` with the token's claims, as STS would
    see them), and the credentials and region are exported to the job's environment."""

    def handler(call: StepCall) -> dict[str, str]:
        i = call.inputs
        region = i.get("aws-region", "")
        if not region:
            raise StandInFailure("Input required and not supplied: aws-region")
        if not re.fullmatch(r"[a-z]{2}(-gov)?-[a-z]+-\d", region):
            raise StandInFailure(f"Region is not valid: {region}")
        role = i.get("role-to-assume", "")
        if not re.fullmatch(r"arn:aws:iam::\d{12}:role/[\w+=,.@/-]+", role):
            raise StandInFailure(f"Role ARN is not valid: {role}")
        url, token = call.env.get("ACTIONS_ID_TOKEN_REQUEST_URL"), call.env.get("ACTIONS_ID_TOKEN_REQUEST_TOKEN")
        if not url or not token:
            raise StandInFailure("It looks like you might be trying to authenticate with OIDC. Did you mean to set the "
                                 "`id-token` permission? If you are not trying to authenticate with OIDC and the action "
                                 "is working successfully, you can ignore this message.")
        request = urllib.request.Request(f"{url}&audience={i.get('audience') or 'sts.amazonaws.com'}",
                                         headers={"Authorization": f"bearer {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            claims = jwt_claims(json.loads(response.read())["value"])
        account = role.split(":")[4]
        assumed.append({"role": role, "session": i.get("role-session-name", ""), "claims": claims, "region": region})
        key = "ASIA" + account[:12].ljust(16, "X")
        _append(call, "GITHUB_ENV", f"AWS_REGION={region}\nAWS_DEFAULT_REGION={region}\nAWS_ACCESS_KEY_ID={key}\n"
                f"AWS_SECRET_ACCESS_KEY=secret-{len(assumed)}\nAWS_SESSION_TOKEN=session-{len(assumed)}\n")
        return {"aws-account-id": account}

    return handler



# ------------------------------------------------------------------ artifacts


class ArtifactService:
    """actions/upload-artifact v7.0.0 and actions/download-artifact v8.0.1 (their action.yml; the
    upload's file search follows its README): GitHub's artifact service is a directory per artifact
    of the run. ``path`` lines are files, directories or globs relative to the workspace; the files
    are stored relative to their least common ancestor; no file found is a warning, an error or
    nothing as ``if-no-files-found`` says; a name already used in the run fails (409) unless
    ``overwrite``. Downloading by ``name`` extracts into ``path`` (default the workspace); an
    unknown name fails with "Artifact not found for name"."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.uploaded: dict[str, dict] = {}
        self._lock = threading.Lock()

    def files(self, name: str) -> dict[str, bytes]:
        base = self.root / name
        return {str(p.relative_to(base)): p.read_bytes() for p in sorted(base.rglob("*")) if p.is_file()}

    def upload(self, call: StepCall) -> dict[str, str]:
        name = call.inputs.get("name") or "artifact"
        found: list[Path] = []
        for line in (call.inputs.get("path") or "").splitlines():
            pattern = line.strip()
            if not pattern:
                continue
            base = Path(pattern) if Path(pattern).is_absolute() else call.workspace / pattern
            matches = [base] if base.exists() else [Path(p) for p in sorted(glob.glob(str(base), recursive=True))]
            for match in matches:
                found += [p for p in match.rglob("*") if p.is_file()] if match.is_dir() else [match]
        if not found:
            message = f"No files were found with the provided path: {call.inputs.get('path', '')}. No artifacts will be uploaded."
            mode = call.inputs.get("if-no-files-found") or "warn"
            if mode == "error":
                raise StandInFailure(message)
            print(f"::{'warning' if mode == 'warn' else 'debug'}::{message}")
            return {}
        common = Path(os.path.commonpath([str(p.parent) for p in found]))
        with self._lock:
            target = self.root / name
            if target.exists():
                if call.inputs.get("overwrite") != "true":
                    raise StandInFailure("Failed to CreateArtifact: Received non-retryable error: (409) Conflict: "
                                         "an artifact with this name already exists on the workflow run")
                shutil.rmtree(target)
            for path in found:
                dest = target / path.relative_to(common)
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, dest)
            number = len(self.uploaded) + 1
            self.uploaded[name] = {"id": number, "retention-days": call.inputs.get("retention-days", "")}
        return {"artifact-id": str(number),
                "artifact-url": f"{call.env.get('GITHUB_SERVER_URL', '')}/{call.env.get('GITHUB_REPOSITORY', '')}"
                                f"/actions/runs/{call.env.get('GITHUB_RUN_ID', '')}/artifacts/{number}",
                "artifact-digest": "0" * 64}

    def download(self, call: StepCall) -> dict[str, str]:
        name = call.inputs.get("name", "")
        raw = call.inputs.get("path") or ""
        target = Path(raw) if raw and Path(raw).is_absolute() else call.workspace / raw
        if not name:
            raise StandInFailure("the stand-in downloads by name only")
        source = self.root / name
        if not source.is_dir():
            raise StandInFailure(f"Unable to download artifact(s): Artifact not found for name: {name}")
        target.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target, dirs_exist_ok=True)
        return {"download-path": str(target)}
