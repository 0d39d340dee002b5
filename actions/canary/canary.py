"""Drive an Argo Rollouts canary from a workflow: set the image, watch, promote, or roll back.

Standard library only (the runner's ``python3``). The flow, and why each part is there:

1. Validate the inputs (names are Kubernetes names, so nothing reaches ``kubectl`` as an option;
   the image is pinned by digest unless ``allow-tag`` says otherwise).
2. Install the ``kubectl-argo-rollouts`` plugin at a pinned version, verified against the
   release's published ``argo-rollouts-checksums.txt`` and, when the caller pins it, against
   ``plugin-sha256`` too (the checksums file comes from the same place as the binary, so only a
   checksum pinned in the caller's workflow protects against a tampered release).
3. Record the Rollout as it is (revision, pod template hash, stable ReplicaSet, the container's
   image) in a journal under ``RUNNER_TEMP``, then ``kubectl argo rollouts set image``, then poll
   ``kubectl get rollout -o json``. A status is trusted only once ``status.observedGeneration``
   equals ``metadata.generation`` (the plugin's own ``GetRolloutPhase`` rule). Healthy is success
   only when the Rollout runs the new pod template: its pod template hash and revision moved from
   the recorded ones and the stable ReplicaSet is the new one. When the API server refuses the new
   ReplicaSet, the v1.9.1 controller (rollout/sync.go) still marks the generation observed and
   recomputes the phase from the old status: Healthy at the old revision, which is no success.
4. Paused at a canary step: promote automatically while the step index is below
   ``promote-up-to-step`` (``promote: auto``), else wait for a human. Degraded, aborted or timed
   out is ``abort``, then ``undo --to-revision=<the recorded revision>`` (the plugin's plain
   ``undo`` takes the second-newest ReplicaSet, which is the release before the stable one when
   the new ReplicaSet was never created), then failure with the reason.
5. The watcher dying is a failure like the others: failed reads are retried with backoff until the
   deadline, then the rollout is aborted and undone. SIGINT and SIGTERM (a cancelled job, a job
   timeout) interrupt the watch and start the same rollback within the runner's grace period;
   ``mode: rollback`` in an ``if: cancelled()`` step finishes what a killed step left, from the
   journal.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
import download  # noqa: E402
import inputs  # noqa: E402
from actionkit import ActionFailure  # noqa: E402

DEFAULT_PLUGIN_VERSION = "v1.9.1"
DEFAULT_DOWNLOAD_URL = "https://github.com/argoproj/argo-rollouts/releases/download"
CHECKSUMS_ASSET = "argo-rollouts-checksums.txt"
PLUGIN_NAME = "kubectl-argo-rollouts"
REVISION_ANNOTATION = "rollout.argoproj.io/revision"

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
MAX_CHECKSUMS_BYTES = 1024 * 1024
GET_ATTEMPTS = 4
GET_TIMEOUT_S = 60
PLUGIN_TIMEOUT_S = 120
READ_BACKOFF_MIN_S = 0.5  # first pause after a failed read when poll-interval is shorter
READ_BACKOFF_MAX_S = 30.0
# actions/runner (v2.336.0, src/Runner.Sdk/ProcessInvoker.cs, CancelAndKillProcessTree): on cancel
# (or a job or step timeout) the runner sends SIGINT to the step's process, SIGTERM 7.5 s later if
# it is still there, and kills the whole process tree 2.5 s after that. The rollback that follows
# the first signal must be done within those 10 s; later signals do not interrupt it.
SIGNAL_GRACE_S = 9.0

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$")
DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
VERSION_RE = re.compile(r"^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.]+)?$")


# ---------------------------------------------------------------------------------------------
# inputs


GITHUB_ISSUER = "https://token.actions.githubusercontent.com"
REPOSITORY_RE = re.compile(r"([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)?")
COSIGN_TIMEOUT_S = 300


@dataclass(frozen=True)
class Verification:
    """``cosign verify`` of the image's digest before ``set image``: a public key, or a keyless identity."""

    key: str = ""  # public key PEM
    identity: str = ""
    identity_regexp: str = ""  # anchored by the action: cosign searches it unanchored
    issuer: str = GITHUB_ISSUER
    repository: str = ""  # the GitHub repository that built and signed the image
    ref: str = ""

    def flags(self, key_file: str = "") -> list[str]:
        if self.key:
            return ["--key", key_file]
        out = (["--certificate-identity", self.identity] if self.identity
               else ["--certificate-identity-regexp", f"^(?:{self.identity_regexp})$"])
        out += ["--certificate-oidc-issuer", self.issuer]
        if self.repository:
            out += ["--certificate-github-workflow-repository", self.repository]
        if self.ref:
            out += ["--certificate-github-workflow-ref", self.ref]
        return out

    def describe(self) -> str:
        if self.key:
            return "the given public key"
        who = self.identity or f"identity matching ^(?:{self.identity_regexp})$"
        extra = "".join(f", {k} {v}" for k, v in (("repository", self.repository), ("ref", self.ref)) if v)
        return f"{who}, issuer {self.issuer}{extra}"


@dataclass(frozen=True)
class Settings:
    rollout: str
    namespace: str
    container: str
    image: str
    timeout_s: float
    poll_s: float
    promote: str  # "auto" or "manual"
    promote_up_to: int | None  # auto: promote while the step index is below this; None: always
    install_plugin: bool = True
    plugin_version: str = DEFAULT_PLUGIN_VERSION
    plugin_sha256: str = ""
    download_url: str = DEFAULT_DOWNLOAD_URL
    mode: str = "canary"  # "canary" or "rollback" (finish a rollback a cancelled step left)
    verify: Verification | None = None


PLACEHOLDER_RE = re.compile(r"^<[a-z][a-z0-9]*(?:-[a-z0-9]+)*>$")  # as the unfilled-placeholder check of ci-tools


def _name(name: str, pattern: re.Pattern[str], what: str) -> str:
    value = inputs.text(name)
    if PLACEHOLDER_RE.match(value):
        raise ActionFailure("invalid-input", f"{name} is still the starter workflow's placeholder"
                            f" {inputs.quote(value)}; set it to {what} of yours")
    return inputs.matching(name, pattern, what)


def read_settings() -> Settings:
    """Read and validate every input; anything wrong is ``invalid-input`` before any change."""
    rollout = _name("rollout", NAME_RE, "a Kubernetes object name")
    namespace = _name("namespace", LABEL_RE, "a Kubernetes namespace name")
    container = _name("container", LABEL_RE, "a container name")
    image = inputs.matching("image", IMAGE_RE, "an image reference like name@sha256:<digest>")
    allow_tag = inputs.boolean("allow-tag", False)
    if not DIGEST_RE.search(image) and not allow_tag:
        raise ActionFailure("invalid-input", f"image {inputs.quote(image)} is not pinned by digest; use"
                            " name@sha256:<digest> (or set allow-tag: true)")
    promote = inputs.choice("promote", ("auto", "manual"), "manual")
    up_to = inputs.integer("promote-up-to-step", minimum=0, what="a step index (0, 1, ...)")
    poll_s = inputs.number("poll-interval", 10.0, minimum=0, maximum=600, what="a number of seconds from 0 to 600")
    version = inputs.matching("plugin-version", VERSION_RE, f"a release tag like {DEFAULT_PLUGIN_VERSION}",
                              DEFAULT_PLUGIN_VERSION)
    sha = inputs.sha256("plugin-sha256")
    verify = read_verification(image)
    mode = inputs.choice("mode", ("canary", "rollback"), "canary")
    return Settings(
        rollout=rollout,
        namespace=namespace,
        container=container,
        image=image,
        timeout_s=inputs.duration("timeout", "30m"),
        poll_s=poll_s,
        promote=promote,
        promote_up_to=up_to,
        install_plugin=inputs.boolean("install-plugin", True),
        plugin_version=version,
        plugin_sha256=sha,
        download_url=inputs.url("download-url", DEFAULT_DOWNLOAD_URL, loopback_http=True),
        mode=mode,
        verify=verify,
    )


def read_verification(image: str) -> Verification | None:
    """``verify-signature`` and what it verifies against: exactly one of a key, an identity, an identity regexp."""
    if not inputs.boolean("verify-signature", False):
        return None
    if not DIGEST_RE.search(image):
        raise ActionFailure("invalid-input", "verify-signature needs the image pinned by digest (name@sha256:<digest>):"
                            " a signature is made for a digest")
    key = inputs.text("cosign-public-key")
    given = {"cosign-public-key": key, "certificate-identity": inputs.text("certificate-identity"),
             "certificate-identity-regexp": inputs.text("certificate-identity-regexp")}
    chosen = [name for name, value in given.items() if value]
    if len(chosen) != 1:
        raise ActionFailure("invalid-input", "verify-signature needs exactly one of cosign-public-key, "
                            f"certificate-identity and certificate-identity-regexp, not {len(chosen)}")
    if key and not (key.startswith("-----BEGIN PUBLIC KEY-----") and key.endswith("-----END PUBLIC KEY-----")):
        raise ActionFailure("invalid-input", "cosign-public-key must be a PEM public key (-----BEGIN PUBLIC KEY-----)")
    repository = inputs.matching("certificate-github-workflow-repository", REPOSITORY_RE, "owner/name", "")
    ref = inputs.matching("certificate-github-workflow-ref", r"(refs/[A-Za-z0-9._/-]+)?",
                          "a ref like refs/heads/main")
    issuer = inputs.url("certificate-oidc-issuer", GITHUB_ISSUER, base=False)
    return Verification(key=key, identity=given["certificate-identity"],
                        identity_regexp=given["certificate-identity-regexp"], issuer=issuer,
                        repository=repository, ref=ref)


# ---------------------------------------------------------------------------------------------
# plugin installation


def platform_asset() -> str:
    """The release asset for this runner, from RUNNER_OS/RUNNER_ARCH (or the machine itself)."""
    system = (os.environ.get("RUNNER_OS") or platform.system()).lower()
    machine = (os.environ.get("RUNNER_ARCH") or platform.machine()).lower()
    goos = {"linux": "linux", "macos": "darwin", "darwin": "darwin"}.get(system)
    goarch = {"x64": "amd64", "x86_64": "amd64", "amd64": "amd64", "arm64": "arm64", "aarch64": "arm64"}.get(machine)
    if not goos or not goarch:
        raise ActionFailure("plugin-install-failed", f"no {PLUGIN_NAME} release for {system}/{machine}")
    return f"{PLUGIN_NAME}-{goos}-{goarch}"


def parse_checksums(text: str) -> dict[str, str]:
    """``shasum -a 256`` output (``<sha256>  <file>``), as the release's ``make checksums`` writes it."""
    sums: dict[str, str] = {}
    for line in text.splitlines():
        match = re.match(r"^([0-9a-fA-F]{64})\s+\*?(\S+)\s*$", line)
        if match:
            sums[match.group(2).rsplit("/", 1)[-1]] = match.group(1).lower()
    return sums


def install_plugin(settings: Settings, bin_dir: Path) -> tuple[Path, str]:
    """Download, verify and install the plugin; returns its path and verified SHA-256."""
    asset = platform_asset()
    base = f"{settings.download_url}/{settings.plugin_version}"
    # download-url may name a loopback mirror (read with inputs.url(loopback_http=True))
    checksums = download.fetch(f"{base}/{CHECKSUMS_ASSET}", reason="plugin-install-failed",
                               max_bytes=MAX_CHECKSUMS_BYTES, loopback_http=True)
    published = parse_checksums(checksums.decode("utf-8", "replace")).get(asset)
    if not published:
        raise ActionFailure("plugin-install-failed", f"{CHECKSUMS_ASSET} of {settings.plugin_version} lists no {asset}")
    expected = [("the release's " + CHECKSUMS_ASSET, published)]
    if settings.plugin_sha256:
        expected.append(("plugin-sha256", settings.plugin_sha256))
    binary = download.fetch(f"{base}/{asset}", reason="plugin-install-failed", max_bytes=MAX_DOWNLOAD_BYTES,
                            loopback_http=True)
    actual = download.verify(binary, expected, name=f"{asset} {settings.plugin_version}",
                             reason="plugin-checksum-mismatch")
    return download.place(binary, bin_dir / PLUGIN_NAME, mode=0o755, reason="plugin-install-failed"), actual


# ---------------------------------------------------------------------------------------------
# kubectl


class KubectlError(Exception):
    """A kubectl call that failed; ``message`` is its first meaningful stderr line."""

    def __init__(self, message: str, not_found: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.not_found = not_found


KLOG_RE = re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d")


def _first_line(text: str) -> str:
    """The line that says what went wrong: kubectl's klog lines (``E1130 22:02:05 ...``) come
    before its one-line verdict (``The connection to the server ... was refused``)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    plain = [line for line in lines if not KLOG_RE.match(line)]
    chosen = plain[0] if plain else (lines[-1] if lines else "")
    return chosen[:300]


class Kubectl:
    """``kubectl`` and ``kubectl argo rollouts`` for one rollout."""

    def __init__(self, settings: Settings, env: dict[str, str], sleep: Callable[[float], None] = time.sleep) -> None:
        self.settings = settings
        self.env = env
        self.sleep = sleep

    def _run(self, args: list[str], timeout: float) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run(
                ["kubectl", *args], env=self.env, capture_output=True, text=True, timeout=timeout, check=False
            )
        except FileNotFoundError:
            raise KubectlError("kubectl is not on PATH") from None
        except subprocess.TimeoutExpired:
            raise KubectlError(f"kubectl {args[0]} did not finish within {format_seconds(timeout)}") from None
        except OSError as error:
            raise KubectlError(f"kubectl could not run: {error}") from None

    def get(self, attempts: int = GET_ATTEMPTS, timeout: float = GET_TIMEOUT_S) -> dict:
        """The Rollout as JSON; transient failures are tried ``attempts`` times, NotFound and bad JSON once."""
        s = self.settings
        request = max(1, int(min(timeout, 30.0)))
        args = ["get", "rollout", s.rollout, "-n", s.namespace, "-o", "json", f"--request-timeout={request}s"]
        message = ""
        for attempt in range(attempts):
            if attempt:
                self.sleep(min(max(s.poll_s, 0.0), 5.0) * attempt)
            try:
                proc = self._run(args, timeout)
            except KubectlError as error:
                message = error.message
                continue
            if proc.returncode == 0:
                return _parse_rollout(proc.stdout)
            message = _first_line(proc.stderr) or f"exit code {proc.returncode}"
            if "(NotFound)" in message:
                raise KubectlError(message, not_found=True)
        times = f" {attempts} times" if attempts > 1 else ""
        raise KubectlError(f"kubectl get rollout failed{times}: {message}")

    def read(self) -> dict:
        """One read for the watch, which retries with its own backoff until its deadline."""
        return self.get(attempts=1)

    def plugin(self, *args: str, timeout: float = PLUGIN_TIMEOUT_S) -> str:
        """``kubectl argo rollouts ARGS -n NS``; returns stdout, raises with stderr's first line."""
        proc = self._run(["argo", "rollouts", *args, "-n", self.settings.namespace], timeout)
        if proc.returncode != 0:
            raise KubectlError(_first_line(proc.stderr) or _first_line(proc.stdout) or f"exit code {proc.returncode}")
        return _first_line(proc.stdout)

    def set_image(self, image: str = "", timeout: float = PLUGIN_TIMEOUT_S) -> str:
        s = self.settings
        return self.plugin("set", "image", s.rollout, f"{s.container}={image or s.image}", timeout=timeout)

    def promote(self) -> str:
        return self.plugin("promote", self.settings.rollout)

    def abort(self, timeout: float = PLUGIN_TIMEOUT_S) -> str:
        return self.plugin("abort", self.settings.rollout, timeout=timeout)

    def undo(self, revision: str, timeout: float = PLUGIN_TIMEOUT_S) -> str:
        """Always to an explicit revision: the plugin's default is the second-newest ReplicaSet (undo.go)."""
        return self.plugin("undo", self.settings.rollout, f"--to-revision={revision}", timeout=timeout)


def _parse_rollout(text: str) -> dict:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as error:
        raise KubectlError(f"kubectl get rollout printed malformed JSON ({error.msg} at line {error.lineno})") from None
    if not isinstance(obj, dict) or obj.get("kind") != "Rollout":
        raise KubectlError("kubectl get rollout printed JSON that is not a Rollout object")
    return obj


# ---------------------------------------------------------------------------------------------
# reading a Rollout


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class View:
    """What one ``get`` says, read the way the plugin's ``GetRolloutPhase`` reads it."""

    trusted: bool  # the controller has observed this generation and is not mid-unpause
    phase: str
    message: str
    step_index: int | None
    steps: list
    pause_reasons: tuple[str, ...]
    spec_paused: bool
    abort: bool
    revision: str
    generation: str
    image: str = ""  # the container's image in spec.template
    pod_hash: str = ""  # status.currentPodHash: the ReplicaSet of the current pod template
    stable_hash: str = ""  # status.stableRS
    progressing_reason: str = ""  # the Progressing condition's reason and message
    progressing_message: str = ""

    @property
    def step_text(self) -> str:
        return describe_step(self.steps, self.step_index)

    @property
    def timed_pause(self) -> bool:
        """A ``pause: {duration: ...}`` step ends by itself; promoting it would cut the soak short."""
        if self.step_index is None or self.step_index >= len(self.steps):
            return False
        pause = _dict(self.steps[self.step_index]).get("pause")
        return isinstance(pause, dict) and pause.get("duration") not in (None, "")

    @property
    def refusal(self) -> str:
        """The controller could not create the new ReplicaSet (``ReplicaSetCreateError``, rollout/sync.go)."""
        return self.progressing_message if self.progressing_reason == "ReplicaSetCreateError" else ""


def _one_line(value: object) -> str:
    return " ".join(str(value or "").split())  # it goes into logs and tables


def container_image(spec: dict, container: str) -> str:
    """The image ``set image`` gives ``container``: containers first, then init and ephemeral ones."""
    pod = _dict(_dict(spec.get("template")).get("spec"))
    for key in ("containers", "initContainers", "ephemeralContainers"):
        for entry in pod.get(key) or []:
            if isinstance(entry, dict) and entry.get("name") == container:
                return str(entry.get("image") or "")
    return ""


def read_view(obj: dict, container: str = "") -> View:
    meta, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    generation = str(meta.get("generation", ""))
    observed = str(status.get("observedGeneration", ""))
    pause_conditions = status.get("pauseConditions") or []
    reasons = tuple(str(_dict(c).get("reason", "")) for c in pause_conditions if isinstance(c, dict))
    unpausing = bool(status.get("controllerPause")) and not reasons
    index = status.get("currentStepIndex")
    steps = _dict(_dict(spec.get("strategy")).get("canary")).get("steps") or []
    raw_conditions = status.get("conditions")
    conditions = raw_conditions if isinstance(raw_conditions, list) else []
    progressing = next((_dict(c) for c in conditions if _dict(c).get("type") == "Progressing"), {})
    return View(
        trusted=bool(generation) and generation == observed and not unpausing,
        phase=str(status.get("phase") or ""),
        message=_one_line(status.get("message")),
        step_index=index if isinstance(index, int) else None,
        steps=steps if isinstance(steps, list) else [],
        pause_reasons=reasons,
        spec_paused=bool(spec.get("paused")),
        abort=bool(status.get("abort")),
        revision=str(_dict(meta.get("annotations")).get(REVISION_ANNOTATION, "")),
        generation=generation,
        image=container_image(spec, container) if container else "",
        pod_hash=str(status.get("currentPodHash") or ""),
        stable_hash=str(status.get("stableRS") or ""),
        progressing_reason=str(progressing.get("reason") or ""),
        progressing_message=_one_line(progressing.get("message")),
    )


@dataclass(frozen=True)
class Before:
    """The Rollout before ``set image``: what success is measured against, and what a rollback restores."""

    revision: str
    pod_hash: str
    stable_hash: str
    image: str
    generation: str

    @classmethod
    def of(cls, view: View) -> Before:
        return cls(view.revision, view.pod_hash, view.stable_hash, view.image, view.generation)


def describe_step(steps: list, index: int | None) -> str:
    """``setWeight 20``, ``pause 10s``, ``pause (until promoted)``, ``analysis``... for the summary."""
    if index is None:
        return "-"
    if index >= len(steps):
        return "all steps complete"
    step = _dict(steps[index])
    if "setWeight" in step:
        return f"setWeight {step['setWeight']}"
    if "pause" in step:
        duration = _dict(step["pause"]).get("duration")
        return f"pause {duration}" if duration not in (None, "") else "pause (until promoted)"
    if "setCanaryScale" in step:
        scale = _dict(step["setCanaryScale"])
        detail = next((f"{k} {v}" for k, v in scale.items()), "")
        return f"setCanaryScale {detail}".strip()
    return next(iter(step), "step")


# ---------------------------------------------------------------------------------------------
# the watch loop


class Clock(Protocol):
    def monotonic(self) -> float: ...
    def now(self) -> dt.datetime: ...
    def sleep(self, seconds: float) -> None: ...


class RealClock:
    def monotonic(self) -> float:
        return time.monotonic()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


class Cluster(Protocol):
    def read(self) -> dict: ...
    def promote(self) -> str: ...


@dataclass
class Observation:
    step_index: int | None
    step: str
    phase: str
    message: str
    reached: dt.datetime
    elapsed: float


@dataclass
class Action:
    action: str
    at: dt.datetime
    ok: bool
    output: str


@dataclass
class Outcome:
    """How the watch ended: ``healthy``, ``degraded``, ``aborted``, ``timeout``, ``kubectl-failed`` or
    ``cancelled``; then what the rollback did (``rolled_back`` is None when none was needed)."""

    result: str
    phase: str = ""
    revision: str = ""
    message: str = ""
    observations: list[Observation] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)
    rolled_back: bool | None = None
    by_hand: str = ""  # the commands that finish a rollback that did not complete


def should_promote(view: View, settings: Settings, promoted: set[int]) -> bool:
    """Auto mode promotes an indefinite canary pause step below the limit, once per step.

    Once only: after ``promote`` the plugin clears the pause conditions, and a second promote of a
    rollout that is not paused would skip the next step. Inconclusive analyses and manual pauses
    (``spec.paused``) are left to a human.
    """
    if settings.promote != "auto" or view.phase != "Paused" or view.spec_paused:
        return False
    if view.step_index is None or view.step_index in promoted:
        return False
    if "CanaryPauseStep" not in view.pause_reasons or view.timed_pause:
        return False
    return settings.promote_up_to is None or view.step_index < settings.promote_up_to


class Watch:
    """One canary's watch: poll, record each step reached, promote or wait, stop on a verdict."""

    def __init__(self, cluster: Cluster, settings: Settings, clock: Clock, log: Callable[[str], None],
                 before: Before) -> None:
        self.cluster, self.settings, self.clock, self.log, self.before = cluster, settings, clock, log, before
        self.start = clock.monotonic()
        self.outcome = Outcome(result="timeout")
        self.promoted: set[int] = set()
        self.waiting: set[int | None] = set()
        self.last: tuple | None = None  # (step index, phase, abort, new template) of the last observation
        self.last_view: View | None = None
        self.read_failures = 0

    def run(self) -> Outcome:
        deadline = self.start + self.settings.timeout_s
        while True:
            try:
                view = read_view(self.cluster.read(), self.settings.container)
            except KubectlError as error:
                pause = self.read_failed(error, deadline)
                if pause is None:
                    return self.outcome
                self.clock.sleep(pause)
                continue
            self.read_failures = 0
            if view.trusted:
                self.record(view)
                verdict = self.verdict(view)
                if verdict:
                    return self.finish(*verdict)
                self.on_pause(view)
            if self.clock.monotonic() >= deadline:
                return self.finish("timeout", self.timeout_message())
            self.clock.sleep(self.settings.poll_s)

    def read_failed(self, error: KubectlError, deadline: float) -> float | None:
        """The watcher lost the cluster: back off and try again until the deadline (then the rollback)."""
        now = self.clock.monotonic()
        if error.not_found or now >= deadline:
            where = "" if error.not_found else (
                f"kubectl could not read the rollout until the deadline ({format_seconds(self.settings.timeout_s)}): ")
            self.finish("kubectl-failed", where + error.message)
            return None
        self.read_failures += 1
        if self.read_failures == 1:
            actionkit.annotate("warning", f"{error.message}; retrying with backoff until the deadline")
        base = max(self.settings.poll_s, READ_BACKOFF_MIN_S)
        return min(READ_BACKOFF_MAX_S, base * 2 ** (self.read_failures - 1), deadline - now)

    def finish(self, result: str, message: str = "") -> Outcome:
        self.outcome.result, self.outcome.message = result, message
        return self.outcome

    def runs_new_template(self, view: View) -> bool:
        """The Rollout runs the pod template ``set image`` wrote: its image is ours, the stable ReplicaSet
        is the current one, and (when set image changed the template) the pod template hash and the
        revision both moved from the ones recorded before."""
        b, s = self.before, self.settings
        if view.image != s.image or not view.stable_hash or view.stable_hash != view.pod_hash:
            return False
        if b.image == s.image:
            return True  # set image changed nothing: the template was already this one
        if b.pod_hash and view.pod_hash == b.pod_hash:
            return False
        return not (b.revision and view.revision == b.revision)

    def record(self, view: View) -> None:
        self.last_view = view
        self.outcome.phase = view.phase
        if view.revision and (view.revision != self.before.revision or self.before.image == self.settings.image):
            self.outcome.revision = view.revision
        stale = view.phase == "Healthy" and not self.runs_new_template(view)
        message = view.message
        if stale:
            message = f"still revision {view.revision or 'unknown'}, not the new pod template"
            message += f": {view.refusal}" if view.refusal else ""
        key = (view.step_index, view.phase, view.abort, stale, view.refusal)
        if key == self.last:
            return
        self.last = key
        elapsed = self.clock.monotonic() - self.start
        self.outcome.observations.append(
            Observation(view.step_index, view.step_text, view.phase, message, self.clock.now(), elapsed)
        )
        step = "-" if view.step_index is None else f"{view.step_index}/{len(view.steps)}"
        suffix = f": {message}" if message else ""
        self.log(f"step {step} ({view.step_text}): {view.phase or 'no phase'}{suffix} [{elapsed:.0f}s]")

    def verdict(self, view: View) -> tuple[str, str] | None:
        """Aborted before Degraded: an aborted rollout's phase is Degraded too (``RolloutAborted``)."""
        if view.abort:
            return "aborted", view.message or "the rollout was aborted"
        if view.phase == "Healthy" and self.runs_new_template(view):
            return "healthy", ""
        if view.phase == "Degraded":
            return "degraded", view.message or "the rollout is Degraded"
        return None

    def on_pause(self, view: View) -> None:
        s = self.settings
        if view.step_index is not None and should_promote(view, s, self.promoted):
            self.promoted.add(view.step_index)
            action = f"promote at step {view.step_index}"
            try:
                output = self.cluster.promote()
                self.outcome.actions.append(Action(action, self.clock.now(), True, output))
                self.log(output or "promoted")
            except KubectlError as error:
                self.outcome.actions.append(Action(action, self.clock.now(), False, error.message))
                actionkit.annotate("warning", f"promote failed: {error.message}")
        elif view.phase == "Paused" and view.step_index not in self.waiting | self.promoted:
            self.waiting.add(view.step_index)
            actionkit.annotate(
                "notice",
                f"rollout {s.rollout} is paused at step {view.step_index} ({view.step_text});"
                f" waiting for: kubectl argo rollouts promote {s.rollout} -n {s.namespace}",
            )

    def timeout_message(self) -> str:
        within = format_seconds(self.settings.timeout_s)
        view = self.last_view
        if view is None:
            return f"the rollout did not become Healthy within {within} (the controller never reported the new generation)"
        if view.refusal:
            return (f"the rollout did not run the new pod template within {within} (the controller could not create"
                    f" the new ReplicaSet: {view.refusal})")
        if view.phase == "Healthy":
            return (f"the rollout did not run the new pod template within {within} (Healthy at revision"
                    f" {view.revision or 'unknown'}, stable ReplicaSet {view.stable_hash or 'unknown'})")
        where = f" at step {view.step_index}" if view.step_index is not None else ""
        return f"the rollout did not become Healthy within {within} (last phase {view.phase}{where})"


def watch(cluster: Cluster, settings: Settings, clock: Clock, before: Before,
          log: Callable[[str], None] = print) -> Outcome:
    return Watch(cluster, settings, clock, log, before).run()


# ---------------------------------------------------------------------------------------------
# rolling back


def rollback_steps(settings: Settings, before: Before) -> list[str]:
    """The commands a rollback runs, as someone would type them (for the summary, when it failed)."""
    s = settings
    restore = (f"kubectl argo rollouts undo {s.rollout} --to-revision={before.revision} -n {s.namespace}"
               if before.revision else
               f"kubectl argo rollouts set image {s.rollout} {s.container}={before.image} -n {s.namespace}")
    return [f"kubectl argo rollouts abort {s.rollout} -n {s.namespace}", restore]


def roll_back(kubectl: Kubectl, outcome: Outcome, before: Before, settings: Settings, clock: Clock,
              remaining: Callable[[], float | None] = lambda: None, check_first: bool = False) -> bool:
    """``abort`` (traffic back to the stable ReplicaSet), then the pod template back to what it was.

    The template goes back with ``undo --to-revision=<the revision recorded before set image>``, or,
    when the Rollout had no revision, by setting the recorded image again; never with a plain
    ``undo``, which takes the second-newest ReplicaSet (undo.go) and, when the new ReplicaSet was never
    created, rolls production back past the stable release. A read afterwards checks the image; if
    it is not the recorded one, the image is set back explicitly.

    ``check_first`` (after a cancellation, when set image may not have happened): a Rollout that
    still has the recorded image is left alone. ``remaining`` is the time left before the runner
    kills the step (None: no limit); commands that cannot fit are not started. Returns True when
    the Rollout was put back.
    """
    def budget(default: float) -> float:
        left = remaining()
        return default if left is None else min(default, left)

    def act(name: str, call: Callable[[float], str]) -> bool:
        left = budget(PLUGIN_TIMEOUT_S)
        if left < 0.5:
            outcome.actions.append(Action(name, clock.now(), False, "not run: no time left before the runner kills the step"))
            return False
        try:
            output = call(left)
        except KubectlError as error:
            outcome.actions.append(Action(name, clock.now(), False, error.message))
            actionkit.annotate("warning", f"{name} failed: {error.message}")
            return False
        outcome.actions.append(Action(name, clock.now(), True, output))
        print(output or name, flush=True)
        return True

    def image_now() -> str | None:
        left = budget(10.0)
        if left < 0.5:
            return None
        try:
            return read_view(kubectl.get(attempts=1, timeout=left), settings.container).image
        except KubectlError:
            return None

    if check_first and image_now() == before.image and before.image != settings.image:
        note = f"nothing to roll back: the rollout still has {before.image}"
        outcome.actions.append(Action("check", clock.now(), True, note))
        print(note, flush=True)
        outcome.rolled_back = True
        return True
    aborted = act("abort", kubectl.abort)
    if before.revision:
        restored = act(f"undo to revision {before.revision}", lambda t: kubectl.undo(before.revision, t))
    else:
        restored = act("set image back", lambda t: kubectl.set_image(before.image, t))
    now = image_now() if before.image else None
    if now is not None and now != before.image:
        restored = act("set image back", lambda t: kubectl.set_image(before.image, t))
    outcome.rolled_back = aborted and restored
    if not outcome.rolled_back:
        outcome.by_hand = " then ".join(f"`{command}`" for command in rollback_steps(settings, before))
    return outcome.rolled_back


def rolled_back(outcome: Outcome) -> str:
    """``; ran abort and undo to revision 4``, or which of them failed, for the failure's one line."""
    steps = [a for a in outcome.actions if not a.action.startswith(("promote", "check"))]
    if not steps and any(a.action == "check" for a in outcome.actions):
        return "; nothing to roll back (set image had not changed the rollout)"
    ran = [a.action for a in steps if a.ok]
    failed = [a.action for a in steps if not a.ok]
    text = "; ran " + " and ".join(ran) if ran else ""
    return text + ("; " + " and ".join(failed) + " FAILED" if failed else "")


# ---------------------------------------------------------------------------------------------
# cancellation


class Cancelled(Exception):
    """SIGINT or SIGTERM arrived while the canary ran."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.signal = name


class Signals:
    """SIGINT and SIGTERM as the runner sends them when the job is cancelled or times out.

    The runner signals only the step's own process (``kill(pid, ...)`` in ProcessInvoker.cs), which
    is this script because action.yml starts it with ``exec``. The first signal raises
    :class:`Cancelled` in the watch; from then on (and once :meth:`disarm` is called) signals only
    start the clock: the rollback has until :data:`SIGNAL_GRACE_S` after the first one.
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.armed = False
        self.received: list[str] = []
        self.deadline: float | None = None

    def install(self) -> Signals:
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._handle)
        self.armed = True
        return self

    def _handle(self, signum: int, frame: object) -> None:
        name = signal.Signals(signum).name
        self.received.append(name)
        if self.deadline is None:
            self.deadline = self.clock.monotonic() + SIGNAL_GRACE_S
        if self.armed:
            self.armed = False
            raise Cancelled(name)
        print(f"{name} received: finishing the rollback", flush=True)

    def disarm(self) -> None:
        self.armed = False

    def remaining(self) -> float | None:
        return None if self.deadline is None else max(0.0, self.deadline - self.clock.monotonic())


class Journal:
    """What this job's canary did to the Rollout, for ``mode: rollback`` in a later step of the job.

    A JSON file under ``RUNNER_TEMP`` (per job, removed by the runner), named after the namespace
    and the rollout (both validated Kubernetes names). Written before ``set image`` and after each
    change of state, atomically.
    """

    def __init__(self, settings: Settings) -> None:
        base = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir())
        self.path = base / f"canary-{settings.namespace}-{settings.rollout}.json"
        self.settings = settings

    def write(self, status: str, before: Before) -> None:
        s = self.settings
        data = {"version": 1, "status": status, "rollout": s.rollout, "namespace": s.namespace,
                "container": s.container, "image": s.image, "before": before.__dict__}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            handle, temp = tempfile.mkstemp(dir=self.path.parent, prefix=".canary-journal.")
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(data, out)
            os.replace(temp, self.path)
        except OSError as error:
            actionkit.annotate("warning", f"cannot write the canary journal {self.path}: {error}")

    def read(self) -> dict | None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as error:
            raise ActionFailure("rollback-failed", f"the canary journal {self.path} is unreadable: {error}") from None
        s = self.settings
        before = _dict(data.get("before")) if isinstance(data, dict) else {}
        fields = ("revision", "pod_hash", "stable_hash", "image", "generation")
        if (data.get("rollout"), data.get("namespace")) != (s.rollout, s.namespace) or not all(
            isinstance(before.get(k), str) for k in fields
        ):
            raise ActionFailure("rollback-failed", f"the canary journal {self.path} is not this rollout's")
        return data


# ---------------------------------------------------------------------------------------------
# reporting


def format_seconds(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h{minutes:02d}m{secs:02d}s"
    if minutes:
        return f"{minutes}m{secs:02d}s"
    return f"{secs}s"


def _time(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S")


def render_summary(settings: Settings, outcome: Outcome | None, notes: list[str]) -> str:
    esc = actionkit.md_escape
    lines = [f"## Canary of {esc(settings.namespace)}/{esc(settings.rollout)}", ""]
    lines.append(f"- Image: `{settings.container}={settings.image}`")
    lines.extend(f"- {note}" for note in notes)
    lines.append("")
    if outcome and outcome.observations:
        lines += ["| Step | Definition | Phase | Reached (UTC) | Elapsed |", "| --- | --- | --- | --- | --- |"]
        for obs in outcome.observations:
            step = "-" if obs.step_index is None else str(obs.step_index)
            phase = esc(obs.phase or "-") + (f": {esc(obs.message)}" if obs.message else "")
            lines.append(
                f"| {step} | {esc(obs.step)} | {phase} | {_time(obs.reached)} | {format_seconds(obs.elapsed)} |"
            )
        lines.append("")
    if outcome and outcome.actions:
        lines += ["| Time (UTC) | Action | Result |", "| --- | --- | --- |"]
        for act in outcome.actions:
            result = ("ok" if act.ok else "failed") + (f": {esc(act.output)}" if act.output else "")
            lines.append(f"| {_time(act.at)} | {esc(act.action)} | {result} |")
        lines.append("")
    if outcome:
        revision = f" at revision {outcome.revision}" if outcome.revision else ""
        if outcome.result == "healthy":
            lines.append(f"**Result**: Healthy{revision}.")
        else:
            lines.append(f"**Result**: {outcome.result}{revision}, last phase {outcome.phase or 'unknown'}.")
        if outcome.rolled_back is False:
            lines += ["", f"**Not rolled back**: the rollout may still run the canary. Run {outcome.by_hand}."]
    return "\n".join(lines) + "\n\n"


# ---------------------------------------------------------------------------------------------
# main


def child_env(bin_dir: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def plugin_dir() -> Path:
    return Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "argo-rollouts-bin"


def prepare_plugin(settings: Settings, notes: list[str]) -> Path | None:
    """Install the plugin (or check that the runner has it); returns the directory added to PATH."""
    if not settings.install_plugin:
        if not shutil.which(PLUGIN_NAME):
            raise ActionFailure("plugin-install-failed", f"install-plugin is false but {PLUGIN_NAME} is not on PATH")
        notes.append(f"Plugin: {PLUGIN_NAME} from the runner's PATH.")
        return None
    bin_dir = plugin_dir()
    path, sha = install_plugin(settings, bin_dir)
    actionkit.add_path(bin_dir)
    print(f"installed {PLUGIN_NAME} {settings.plugin_version} (sha256 {sha})", flush=True)
    notes.append(f"Plugin: {PLUGIN_NAME} {settings.plugin_version}, SHA-256 `{sha}` verified.")
    return bin_dir


def digest_ref(image: str) -> str:
    """``registry/name:tag@sha256:...`` as ``registry/name@sha256:...``: what was signed is the digest."""
    name, _, digest = image.partition("@")
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name[: len(name) - len(last[-1])] + last[-1].split(":", 1)[0]
    return f"{name}@{digest}"


def verify_signature(settings: Settings, env: dict[str, str], notes: list[str]) -> None:
    """``cosign verify`` of the image's digest; anything but a verified signature of that digest stops here."""
    check = settings.verify
    assert check is not None
    ref = digest_ref(settings.image)
    if not shutil.which("cosign", path=env.get("PATH")):
        raise ActionFailure("signature-invalid", "verify-signature is true but cosign is not on PATH; install it first"
                            " (sigstore/cosign-installer)")
    key_file = ""
    try:
        if check.key:
            handle, key_file = tempfile.mkstemp(prefix="cosign-key-", suffix=".pub",
                                                dir=os.environ.get("RUNNER_TEMP") or None)
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                out.write(check.key + "\n")
        try:
            proc = subprocess.run(["cosign", "verify", *check.flags(key_file), ref], env=env, capture_output=True,
                                  text=True, timeout=COSIGN_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired:
            raise ActionFailure("signature-invalid", f"cosign verify {ref} did not finish within"
                                f" {format_seconds(COSIGN_TIMEOUT_S)}") from None
        except OSError as error:
            raise ActionFailure("signature-invalid", f"cosign could not run: {error}") from None
    finally:
        if key_file:
            Path(key_file).unlink(missing_ok=True)
    if proc.returncode != 0:
        errors = [line[len("Error: "):] for line in proc.stderr.splitlines() if line.startswith("Error: ")]
        why = (errors[0] if errors else _first_line(proc.stderr) or f"exit code {proc.returncode}")[:300]
        raise ActionFailure("signature-invalid", f"cosign verify {ref} failed: {why}")
    try:
        payloads = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.stdout.strip() else []
    except json.JSONDecodeError:
        payloads = []
    digests = {_dict(_dict(_dict(p).get("critical")).get("image")).get("docker-manifest-digest")
               for p in payloads} if isinstance(payloads, list) else set()
    digest = ref.rsplit("@", 1)[1]
    if digest not in digests:
        raise ActionFailure("signature-invalid", f"cosign verify {ref} reported no verified signature of {digest}")
    print(f"signature of {digest} verified: {check.describe()}", flush=True)
    notes.append(f"Signature of `{digest}` verified by cosign ({check.describe()}).")


def read_before(kubectl: Kubectl, settings: Settings) -> View:
    """The Rollout before the change: it must exist and carry its own pod template.

    With ``spec.workloadRef`` the plugin sets the image on the Deployment, which leaves the
    Rollout's generation unchanged: the stale status would look observed, so such rollouts are
    refused rather than watched wrongly.
    """
    try:
        obj = kubectl.get()
    except KubectlError as error:
        raise ActionFailure("rollout-not-found" if error.not_found else "kubectl-failed", error.message) from None
    if _dict(obj.get("spec")).get("workloadRef"):
        raise ActionFailure(
            "invalid-input",
            f"rollout {settings.rollout} uses spec.workloadRef; this action only sets images on Rollouts with their"
            " own spec.template",
        )
    return read_view(obj, settings.container)


def canary(settings: Settings, clock: Clock) -> None:
    notes: list[str] = []
    outcome: Outcome | None = None
    before: Before | None = None
    watcher: Watch | None = None
    signals = Signals(clock).install()
    journal = Journal(settings)
    try:
        try:
            bin_dir = prepare_plugin(settings, notes)
            env = child_env(bin_dir)
            if not shutil.which("kubectl", path=env.get("PATH")):
                raise ActionFailure(
                    "kubectl-failed", "kubectl is not on PATH (GitHub-hosted runners have it; install it first)"
                )
            if settings.verify:
                verify_signature(settings, env, notes)
            kubectl = Kubectl(settings, env, clock.sleep)
            view = read_before(kubectl, settings)
            notes.append(f"Revision before: {view.revision or 'unknown'}.")
            if view.pod_hash and view.pod_hash != view.stable_hash:
                notes.append(f"The rollout was mid-update before (stable {view.stable_hash or 'none'}, current"
                             f" {view.pod_hash}); a rollback restores revision {view.revision or 'unknown'}.")
            before = Before.of(view)
            journal.write("changing", before)
            try:
                print(kubectl.set_image() or "image updated", flush=True)
            except KubectlError as error:
                journal.write("rolled-back", before)  # nothing changed: nothing for a later step to do
                raise ActionFailure(
                    "set-image-failed", f"kubectl argo rollouts set image failed: {error.message}"
                ) from None
            journal.write("watching", before)
            watcher = Watch(kubectl, settings, clock, print, before)
            outcome = watcher.run()
        except Cancelled as cancel:
            signals.disarm()
            if before is None:
                raise ActionFailure("cancelled", f"{cancel.signal} received before set image; the rollout was not"
                                    " changed") from None
            outcome = watcher.outcome if watcher else Outcome(result="cancelled")
            outcome.result, outcome.message = "cancelled", f"{cancel.signal} received (the job was cancelled or timed out)"
        signals.disarm()
        actionkit.set_output("phase", outcome.phase)
        actionkit.set_output("revision", outcome.revision)
        if outcome.result == "healthy":
            journal.write("done", before)
            print(f"rollout {settings.rollout} runs {settings.image}, Healthy at revision {outcome.revision or 'unknown'}",
                  flush=True)
            return
        # kubectl is set before `before` is; a cancellation ahead of both raised above
        ok = roll_back(kubectl, outcome, before, settings, clock, signals.remaining,  # type: ignore[possibly-undefined]
                       check_first=outcome.result == "cancelled")
        journal.write("rolled-back" if ok else "not-rolled-back", before)
        raise ActionFailure(
            outcome.result, f"canary {outcome.result}: {outcome.message.rstrip('.')}{rolled_back(outcome)}"
        )
    finally:
        signals.disarm()
        actionkit.summary(render_summary(settings, outcome, notes))


def rollback(settings: Settings, clock: Clock) -> None:
    """``mode: rollback``: finish what a canary step of this job left (it was killed, or cancelled)."""
    journal = Journal(settings)
    entry = journal.read()
    heading = f"## Canary rollback of {actionkit.md_escape(settings.namespace)}/{actionkit.md_escape(settings.rollout)}"
    if entry is None or entry["status"] in ("done", "rolled-back"):
        why = "no canary step of this job changed it" if entry is None else f"the canary step ended {entry['status']}"
        print(f"nothing to roll back: {why}", flush=True)
        actionkit.summary(f"{heading}\n\nNothing to roll back: {why}.\n\n")
        return
    settings = replace(settings, container=entry["container"], image=entry["image"])
    before = Before(**{k: entry["before"][k] for k in ("revision", "pod_hash", "stable_hash", "image", "generation")})
    signals = Signals(clock).install()
    signals.disarm()  # a signal here only starts the clock
    installed = plugin_dir()
    kubectl = Kubectl(settings, child_env(installed if (installed / PLUGIN_NAME).is_file() else None), clock.sleep)
    outcome = Outcome(result="cancelled", message=f"the canary step ended {entry['status']}")
    ok = roll_back(kubectl, outcome, before, settings, clock, signals.remaining, check_first=True)
    journal.write("rolled-back" if ok else "not-rolled-back", before)
    actionkit.summary(render_summary(settings, outcome, [f"The canary step ended {entry['status']}."])
                      .replace("## Canary of", "## Canary rollback of", 1))
    if not ok:
        raise ActionFailure("rollback-failed", f"the rollback did not complete{rolled_back(outcome)}")
    print(f"rolled back{rolled_back(outcome).replace('; ran', ':', 1)}", flush=True)


def run(clock: Clock | None = None) -> None:
    clock = clock or RealClock()
    settings = read_settings()
    if settings.mode == "rollback":
        rollback(settings, clock)
    else:
        canary(settings, clock)


if __name__ == "__main__":
    actionkit.main(run)
