"""Drive an Argo Rollouts canary from a workflow: set the image, watch, promote, or roll back.

Standard library only (the runner's ``python3``). The flow, and why each part is there:

1. Validate the inputs (names are Kubernetes names, so nothing reaches ``kubectl`` as an option;
   the image is pinned by digest unless ``allow-tag`` says otherwise).
2. Install the ``kubectl-argo-rollouts`` plugin at a pinned version, verified against the
   release's published ``argo-rollouts-checksums.txt`` and, when the caller pins it, against
   ``plugin-sha256`` too (the checksums file comes from the same place as the binary, so only a
   checksum pinned in the caller's workflow protects against a tampered release).
3. ``kubectl argo rollouts set image``, then poll ``kubectl get rollout -o json``. A status is
   trusted only once ``status.observedGeneration`` equals ``metadata.generation`` (the same rule as
   the plugin's own ``GetRolloutPhase``): right after ``set image`` the controller has not seen
   the new spec, and the old ``Healthy`` would otherwise read as success.
4. Paused at a canary step: promote automatically while the step index is below
   ``promote-up-to-step`` (``promote: auto``), else wait for a human. Healthy is success;
   Degraded, aborted or timed out is ``abort``, then ``undo``, then failure with the reason.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
from actionkit import ActionFailure  # noqa: E402

DEFAULT_PLUGIN_VERSION = "v1.9.1"
DEFAULT_DOWNLOAD_URL = "https://github.com/argoproj/argo-rollouts/releases/download"
CHECKSUMS_ASSET = "argo-rollouts-checksums.txt"
PLUGIN_NAME = "kubectl-argo-rollouts"
REVISION_ANNOTATION = "rollout.argoproj.io/revision"
# SHA-256 of release binaries known to this action, keyed by (version, asset). Checked in
# addition to the release's checksums file. Empty until someone who can download the release
# fills it (the checksums file and ``plugin-sha256`` are verified either way).
KNOWN_SHA256: dict[tuple[str, str], str] = {}

MAX_DOWNLOAD_BYTES = 256 * 1024 * 1024
GET_ATTEMPTS = 4
GET_TIMEOUT_S = 60
PLUGIN_TIMEOUT_S = 120

NAME_RE = re.compile(r"^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$")
LABEL_RE = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
IMAGE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/:-]*(@sha256:[0-9a-f]{64})?$")
DIGEST_RE = re.compile(r"@sha256:[0-9a-f]{64}$")
VERSION_RE = re.compile(r"^v\d+\.\d+\.\d+(-[0-9A-Za-z.]+)?$")
SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
DURATION_RE = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?$")


# ---------------------------------------------------------------------------------------------
# inputs


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


def parse_duration(text: str, name: str) -> float:
    """``90``, ``90s``, ``15m``, ``1h30m``: seconds. Bare numbers are seconds."""
    match = DURATION_RE.match(text.strip())
    if not text.strip() or not match or not any(match.groups()):
        raise ActionFailure("invalid-input", f"{name} must be a duration like 90s, 15m or 1h30m, not {text!r}")
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise ActionFailure("invalid-input", f"{name} must be longer than zero, not {text!r}")
    return float(total)


def _name(value: str, name: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.match(value):
        raise ActionFailure("invalid-input", f"{name} must be {what}, not {value!r}")
    return value


def read_settings() -> Settings:
    """Read and validate every input; anything wrong is ``invalid-input`` before any change."""
    env = actionkit.env
    rollout = _name(env("INPUT_ROLLOUT"), "rollout", NAME_RE, "a Kubernetes object name")
    namespace = _name(env("INPUT_NAMESPACE"), "namespace", LABEL_RE, "a Kubernetes namespace name")
    container = _name(env("INPUT_CONTAINER"), "container", LABEL_RE, "a container name")
    image = env("INPUT_IMAGE")
    if not IMAGE_RE.match(image):
        raise ActionFailure(
            "invalid-input", f"image must be an image reference like name@sha256:<digest>, not {image!r}"
        )
    allow_tag = _bool("INPUT_ALLOW_TAG", "allow-tag", False)
    if not DIGEST_RE.search(image) and not allow_tag:
        raise ActionFailure(
            "invalid-input",
            f"image {image!r} is not pinned by digest; use name@sha256:<digest> (or set allow-tag: true)",
        )
    promote = env("INPUT_PROMOTE", "manual").lower() or "manual"
    if promote not in ("auto", "manual"):
        raise ActionFailure("invalid-input", f"promote must be auto or manual, not {promote!r}")
    up_to_text = env("INPUT_PROMOTE_UP_TO_STEP")
    up_to: int | None = None
    if up_to_text:
        if not up_to_text.isdigit():
            raise ActionFailure(
                "invalid-input", f"promote-up-to-step must be a step index (0, 1, ...), not {up_to_text!r}"
            )
        up_to = int(up_to_text)
    poll_text = env("INPUT_POLL_INTERVAL", "10") or "10"
    try:
        poll_s = float(poll_text)
    except ValueError:
        poll_s = -1.0
    if not 0 <= poll_s <= 600:
        raise ActionFailure(
            "invalid-input", f"poll-interval must be a number of seconds from 0 to 600, not {poll_text!r}"
        )
    version = env("INPUT_PLUGIN_VERSION") or DEFAULT_PLUGIN_VERSION
    if not VERSION_RE.match(version):
        raise ActionFailure(
            "invalid-input", f"plugin-version must be a release tag like {DEFAULT_PLUGIN_VERSION}, not {version!r}"
        )
    sha = env("INPUT_PLUGIN_SHA256").lower()
    if sha and not SHA256_RE.match(sha):
        raise ActionFailure("invalid-input", "plugin-sha256 must be 64 hexadecimal digits")
    return Settings(
        rollout=rollout,
        namespace=namespace,
        container=container,
        image=image,
        timeout_s=parse_duration(env("INPUT_TIMEOUT", "30m") or "30m", "timeout"),
        poll_s=poll_s,
        promote=promote,
        promote_up_to=up_to,
        install_plugin=_bool("INPUT_INSTALL_PLUGIN", "install-plugin", True),
        plugin_version=version,
        plugin_sha256=sha,
        download_url=check_download_url(env("INPUT_DOWNLOAD_URL") or DEFAULT_DOWNLOAD_URL),
    )


def _bool(variable: str, name: str, default: bool) -> bool:
    try:
        return actionkit.env_bool(variable, default)
    except ActionFailure:
        raise ActionFailure("invalid-input", f"{name} must be true or false, not {actionkit.env(variable)!r}") from None


def check_download_url(url: str) -> str:
    """HTTPS only, except plain HTTP to a loopback mirror (a local cache or a test)."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "https" and parsed.hostname:
        return url.rstrip("/")
    if parsed.scheme == "http" and parsed.hostname:
        try:
            loopback = parsed.hostname == "localhost" or ipaddress.ip_address(parsed.hostname).is_loopback
        except ValueError:
            loopback = False
        if loopback:
            return url.rstrip("/")
    raise ActionFailure(
        "invalid-input", f"download-url must be an https:// URL (plain http only for loopback), not {url!r}"
    )


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


def download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:  # noqa: S310 (scheme checked)
            data = response.read(MAX_DOWNLOAD_BYTES + 1)
    except urllib.error.HTTPError as error:
        raise ActionFailure("plugin-install-failed", f"downloading {url} failed: HTTP {error.code}") from None
    except (urllib.error.URLError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise ActionFailure("plugin-install-failed", f"downloading {url} failed: {reason}") from None
    if len(data) > MAX_DOWNLOAD_BYTES:
        raise ActionFailure("plugin-install-failed", f"{url} is larger than {MAX_DOWNLOAD_BYTES} bytes")
    return data


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
    checksums = parse_checksums(download(f"{base}/{CHECKSUMS_ASSET}").decode("utf-8", "replace"))
    published = checksums.get(asset)
    if not published:
        raise ActionFailure("plugin-install-failed", f"{CHECKSUMS_ASSET} of {settings.plugin_version} lists no {asset}")
    binary = download(f"{base}/{asset}")
    actual = hashlib.sha256(binary).hexdigest()
    expected = [("the release's " + CHECKSUMS_ASSET, published)]
    if settings.plugin_sha256:
        expected.append(("plugin-sha256", settings.plugin_sha256))
    known = KNOWN_SHA256.get((settings.plugin_version, asset))
    if known:
        expected.append(("this action's checksum table", known))
    for source, value in expected:
        if actual != value:
            raise ActionFailure(
                "plugin-checksum-mismatch",
                f"{asset} {settings.plugin_version} has SHA-256 {actual}, but {source} says {value}",
            )
    target = bin_dir / PLUGIN_NAME
    try:
        bin_dir.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=bin_dir, prefix=f".{PLUGIN_NAME}.")
        with os.fdopen(handle, "wb") as out:
            out.write(binary)
        os.chmod(temp, 0o755)
        os.replace(temp, target)
    except OSError as error:
        raise ActionFailure("plugin-install-failed", f"cannot write {target}: {error.strerror or error}") from None
    return target, actual


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
    """``kubectl`` and ``kubectl argo rollouts`` for one rollout, with retries for reads only."""

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
            raise KubectlError(f"kubectl {args[0]} did not finish within {timeout:.0f}s") from None
        except OSError as error:
            raise KubectlError(f"kubectl could not run: {error}") from None

    def get(self) -> dict:
        """The Rollout as JSON; transient failures are retried, NotFound and bad JSON are not."""
        s = self.settings
        args = ["get", "rollout", s.rollout, "-n", s.namespace, "-o", "json", "--request-timeout=30s"]
        message = ""
        for attempt in range(GET_ATTEMPTS):
            if attempt:
                self.sleep(min(max(s.poll_s, 0.0), 5.0) * attempt)
            try:
                proc = self._run(args, GET_TIMEOUT_S)
            except KubectlError as error:
                message = error.message
                continue
            if proc.returncode == 0:
                return _parse_rollout(proc.stdout)
            message = _first_line(proc.stderr) or f"exit code {proc.returncode}"
            if "(NotFound)" in message:
                raise KubectlError(message, not_found=True)
        raise KubectlError(f"kubectl get rollout failed {GET_ATTEMPTS} times: {message}")

    def plugin(self, *args: str) -> str:
        """``kubectl argo rollouts ARGS -n NS``; returns stdout, raises with stderr's first line."""
        proc = self._run(["argo", "rollouts", *args, "-n", self.settings.namespace], PLUGIN_TIMEOUT_S)
        if proc.returncode != 0:
            raise KubectlError(_first_line(proc.stderr) or _first_line(proc.stdout) or f"exit code {proc.returncode}")
        return _first_line(proc.stdout)

    def set_image(self) -> str:
        s = self.settings
        return self.plugin("set", "image", s.rollout, f"{s.container}={s.image}")

    def promote(self) -> str:
        return self.plugin("promote", self.settings.rollout)

    def abort(self) -> str:
        return self.plugin("abort", self.settings.rollout)

    def undo(self) -> str:
        return self.plugin("undo", self.settings.rollout)


def _parse_rollout(text: str) -> dict:
    try:
        obj = json.loads(text)
    except ValueError as error:
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
    observed_generation: str

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


def read_view(obj: dict) -> View:
    meta, spec, status = _dict(obj.get("metadata")), _dict(obj.get("spec")), _dict(obj.get("status"))
    generation = str(meta.get("generation", ""))
    observed = str(status.get("observedGeneration", ""))
    pause_conditions = status.get("pauseConditions") or []
    reasons = tuple(str(_dict(c).get("reason", "")) for c in pause_conditions if isinstance(c, dict))
    unpausing = bool(status.get("controllerPause")) and not reasons
    index = status.get("currentStepIndex")
    steps = _dict(_dict(spec.get("strategy")).get("canary")).get("steps") or []
    return View(
        trusted=bool(generation) and generation == observed and not unpausing,
        phase=str(status.get("phase") or ""),
        message=" ".join(str(status.get("message") or "").split()),  # one line: it goes into logs and tables
        step_index=index if isinstance(index, int) else None,
        steps=steps if isinstance(steps, list) else [],
        pause_reasons=reasons,
        spec_paused=bool(spec.get("paused")),
        abort=bool(status.get("abort")),
        revision=str(_dict(meta.get("annotations")).get(REVISION_ANNOTATION, "")),
        generation=generation,
        observed_generation=observed,
    )


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
    def get(self) -> dict: ...
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
    """How the watch ended: ``healthy``, ``degraded``, ``aborted``, ``timeout`` or ``kubectl-failed``."""

    result: str
    phase: str = ""
    revision: str = ""
    message: str = ""
    observations: list[Observation] = field(default_factory=list)
    actions: list[Action] = field(default_factory=list)


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

    def __init__(self, cluster: Cluster, settings: Settings, clock: Clock, log: Callable[[str], None]) -> None:
        self.cluster, self.settings, self.clock, self.log = cluster, settings, clock, log
        self.start = clock.monotonic()
        self.outcome = Outcome(result="timeout")
        self.promoted: set[int] = set()
        self.waiting: set[int | None] = set()
        self.last: tuple | None = None  # (step index, phase, abort) of the last observation

    def run(self) -> Outcome:
        deadline = self.start + self.settings.timeout_s
        while True:
            try:
                view = read_view(self.cluster.get())
            except KubectlError as error:
                return self.finish("kubectl-failed", error.message)
            if view.trusted:
                self.record(view)
                verdict = self.verdict(view)
                if verdict:
                    return self.finish(*verdict)
                self.on_pause(view)
            if self.clock.monotonic() >= deadline:
                return self.finish("timeout", self.timeout_message())
            self.clock.sleep(self.settings.poll_s)

    def finish(self, result: str, message: str = "") -> Outcome:
        self.outcome.result, self.outcome.message = result, message
        return self.outcome

    def record(self, view: View) -> None:
        self.outcome.phase, self.outcome.revision = view.phase, view.revision or self.outcome.revision
        key = (view.step_index, view.phase, view.abort)
        if key == self.last:
            return
        self.last = key
        elapsed = self.clock.monotonic() - self.start
        self.outcome.observations.append(
            Observation(view.step_index, view.step_text, view.phase, view.message, self.clock.now(), elapsed)
        )
        step = "-" if view.step_index is None else f"{view.step_index}/{len(view.steps)}"
        message = f": {view.message}" if view.message else ""
        self.log(f"step {step} ({view.step_text}): {view.phase or 'no phase'}{message} [{elapsed:.0f}s]")

    @staticmethod
    def verdict(view: View) -> tuple[str, str] | None:
        """Aborted before Degraded: an aborted rollout's phase is Degraded too (``RolloutAborted``)."""
        if view.abort:
            return "aborted", view.message or "the rollout was aborted"
        if view.phase == "Healthy":
            return "healthy", ""
        if view.phase == "Degraded":
            return "degraded", view.message or "the rollout is Degraded"
        return None

    def on_pause(self, view: View) -> None:
        s = self.settings
        if should_promote(view, s, self.promoted):
            self.promoted.add(view.step_index)  # type: ignore[arg-type]
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
        text = f"the rollout did not become Healthy within {format_seconds(self.settings.timeout_s)}"
        if not self.outcome.phase:
            return text + " (the controller never reported the new generation)"
        where = f" at step {self.last[0]}" if self.last and self.last[0] is not None else ""
        return text + f" (last phase {self.outcome.phase}{where})"


def watch(cluster: Cluster, settings: Settings, clock: Clock, log: Callable[[str], None] = print) -> Outcome:
    return Watch(cluster, settings, clock, log).run()


def roll_back(cluster: Kubectl, outcome: Outcome, clock: Clock) -> None:
    """``abort`` (back to the stable ReplicaSet), then ``undo`` (spec back to the previous revision)."""
    for name, call in (("abort", cluster.abort), ("undo", cluster.undo)):
        try:
            output = call()
            outcome.actions.append(Action(name, clock.now(), True, output))
            print(output or name, flush=True)
        except KubectlError as error:
            outcome.actions.append(Action(name, clock.now(), False, error.message))
            actionkit.annotate("warning", f"kubectl argo rollouts {name} failed: {error.message}")


def rolled_back(outcome: Outcome) -> str:
    """``; ran abort and undo``, or which of them failed, for the failure's one line."""
    ran = [a.action for a in outcome.actions if a.action in ("abort", "undo") and a.ok]
    failed = [a.action for a in outcome.actions if a.action in ("abort", "undo") and not a.ok]
    text = "; ran " + " and ".join(ran) if ran else ""
    return text + ("; " + " and ".join(failed) + " FAILED" if failed else "")


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
    return "\n".join(lines) + "\n\n"


# ---------------------------------------------------------------------------------------------
# main


def child_env(bin_dir: Path | None) -> dict[str, str]:
    env = dict(os.environ)
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    return env


def prepare_plugin(settings: Settings, notes: list[str]) -> Path | None:
    """Install the plugin (or check that the runner has it); returns the directory added to PATH."""
    if not settings.install_plugin:
        if not shutil.which(PLUGIN_NAME):
            raise ActionFailure("plugin-install-failed", f"install-plugin is false but {PLUGIN_NAME} is not on PATH")
        notes.append(f"Plugin: {PLUGIN_NAME} from the runner's PATH.")
        return None
    bin_dir = Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "argo-rollouts-bin"
    path, sha = install_plugin(settings, bin_dir)
    actionkit.add_path(bin_dir)
    print(f"installed {PLUGIN_NAME} {settings.plugin_version} (sha256 {sha})", flush=True)
    notes.append(f"Plugin: {PLUGIN_NAME} {settings.plugin_version}, SHA-256 `{sha}` verified.")
    return bin_dir


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
    return read_view(obj)


def run(clock: Clock | None = None) -> None:
    clock = clock or RealClock()
    settings = read_settings()
    notes: list[str] = []
    outcome: Outcome | None = None
    try:
        bin_dir = prepare_plugin(settings, notes)
        env = child_env(bin_dir)
        if not shutil.which("kubectl", path=env.get("PATH")):
            raise ActionFailure(
                "kubectl-failed", "kubectl is not on PATH (GitHub-hosted runners have it; install it first)"
            )
        kubectl = Kubectl(settings, env, clock.sleep)
        before = read_before(kubectl, settings)
        notes.append(f"Revision before: {before.revision or 'unknown'}.")
        try:
            print(kubectl.set_image() or "image updated", flush=True)
        except KubectlError as error:
            raise ActionFailure(
                "set-image-failed", f"kubectl argo rollouts set image failed: {error.message}"
            ) from None
        outcome = watch(kubectl, settings, clock)
        actionkit.set_output("phase", outcome.phase)
        actionkit.set_output("revision", outcome.revision)
        if outcome.result == "kubectl-failed":
            raise ActionFailure("kubectl-failed", outcome.message)
        if outcome.result != "healthy":
            roll_back(kubectl, outcome, clock)
            raise ActionFailure(
                outcome.result, f"canary {outcome.result}: {outcome.message.rstrip('.')}{rolled_back(outcome)}"
            )
        print(f"rollout {settings.rollout} is Healthy at revision {outcome.revision or 'unknown'}", flush=True)
    finally:
        actionkit.summary(render_summary(settings, outcome, notes))


def guarded() -> None:
    """Unexpected errors are one line with the ``internal-error`` reason, never a traceback."""
    try:
        run()
    except (ActionFailure, KeyboardInterrupt):
        raise
    except Exception as error:  # noqa: BLE001 (the one place that turns bugs into a clear failure)
        raise ActionFailure("internal-error", f"canary.py: {type(error).__name__}: {error}") from None


if __name__ == "__main__":
    actionkit.main(guarded)
