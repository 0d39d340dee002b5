"""terraform-apply: check the reviewed plan's manifest, plan again, apply only an identical plan.

No plan file leaves terraform-plan's job (it holds the prior state and sensitive values in clear
text); its artifact is a manifest with the normalised plan (``tfkit.normalize_plan``) and that
plan's SHA-256. ``apply.py prepare`` names the artifact and the directory to download it to.
``apply.py`` then refuses with ``plan-changed`` when the manifest does not fit (its plan is not
the SHA-256 it states or the reviewed ``plan-sha256``, another Terraform version, directory,
workspace or var files, or a lock file other than the committed one), runs ``terraform init
-lockfile=readonly`` and ``terraform plan -out``, and compares the new plan, normalised, with the
reviewed one: any difference is refused with ``plan-changed``, naming each (address and
attribute, reviewed and now; sensitive values are never shown). An identical plan is applied from
its own plan file, which is deleted afterwards. A held state lock (``state-locked``, with the
lock's ID, holder and creation time), a plan made stale between the two steps (``stale-plan``)
and any other failure (``plan-failed``, ``apply-failed``) are told apart.

The manifest must be of this commit (``GITHUB_SHA``, unless ``allow-other-commit``) and of the run
it was downloaded from. With ``run-id`` (a plan of another run) and no ``plan-sha256``, the
source run is checked through the API (``GET /repos/{repo}/actions/runs/{id}``): it must be a
push to the default branch of this repository at the manifest's commit, or the apply fails with
``source-run``; a manifest cannot vouch for itself.

Inputs (environment): INPUT_WORKING_DIRECTORY, INPUT_WORKSPACE, INPUT_BACKEND_CONFIG,
INPUT_VAR_FILES, INPUT_LOCK_TIMEOUT, INPUT_ARTIFACT_NAME, INPUT_PLAN_SHA256 (the reviewed
SHA-256), INPUT_RUN_ID, INPUT_GITHUB_TOKEN (only with a run id; never printed),
INPUT_ALLOW_OTHER_COMMIT, PLAN_DIR (where the artifact was downloaded), GITHUB_API_URL,
GITHUB_REPOSITORY, GITHUB_SHA, GITHUB_RUN_ID.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
import inputs  # noqa: E402
import tfkit  # noqa: E402

_LOCK_FIELD = re.compile(r"^\s*(ID|Path|Operation|Who|Version|Created|Info):[ \t]*(.*?)\s*$", re.MULTILINE)


@dataclass
class LockInfo:
    """The holder of a state lock, as Terraform prints it under ``Lock Info:``."""

    id: str = ""
    path: str = ""
    operation: str = ""
    who: str = ""
    version: str = ""
    created: str = ""
    info: str = ""

    def describe(self) -> str:
        who = self.who or "an unknown holder"
        since = f" since {self.created}" if self.created else ""
        op = f", operation {self.operation}" if self.operation else ""
        return f"held by {who}{since} (lock ID {self.id or 'unknown'}{op})"


def parse_lock_error(output: str) -> LockInfo | None:
    """The lock holder from Terraform's "Error acquiring the state lock" block, or None if absent."""
    start = output.find("Error acquiring the state lock")
    if start < 0:
        return None
    block = output[start:]
    info_at = block.find("Lock Info:")
    lock = LockInfo()
    if info_at < 0:
        return lock
    fields: dict[str, str] = {}
    for match in _LOCK_FIELD.finditer(block[info_at:]):
        fields.setdefault(match.group(1).lower(), match.group(2))
    for key, value in fields.items():
        setattr(lock, key, value)
    return lock


def is_stale_plan(output: str) -> bool:
    return "Saved plan is stale" in output


def _settings() -> dict:
    shared = tfkit.Settings.read()
    return {
        "workspace": shared.workspace,
        "working_dir": shared.working_dir,
        "settings": shared,
        "lock_timeout": shared.lock_timeout,
        "expected": inputs.sha256("plan-sha256"),
        "artifact_name": shared.artifact_name,
        "backend_config": shared.backend_config,
        "var_files": shared.var_files,
        "run_id": inputs.matching("run-id", r"[0-9]*", "a workflow run ID (a number)"),
        "allow_other_commit": inputs.boolean("allow-other-commit", False),
    }


def prepare() -> None:
    cfg = _settings()
    cfg["settings"].path()
    plan_dir = Path(os.environ.get("RUNNER_TEMP") or ".") / "terraform-apply" / cfg["artifact_name"]
    actionkit.set_output("artifact-name", cfg["artifact_name"])
    actionkit.set_output("plan-dir", str(plan_dir))


def differences(
    manifest: dict,
    expected: str,
    version: str,
    lock_sha: str | None,
    cfg: dict,
) -> list[str]:
    """Everything that makes the manifest unfit for this apply, one phrase each (before planning)."""
    found = []
    working_dir, workspace = cfg["working_dir"], cfg["workspace"]
    if manifest.get("working_directory") != working_dir or manifest.get("workspace") != workspace:
        found.append(
            f"the plan was made for {manifest.get('working_directory')} (workspace {manifest.get('workspace')}), "
            f"not {working_dir} (workspace {workspace})"
        )
    stated = manifest.get("plan_sha256")
    plan = manifest.get("plan")
    if not isinstance(plan, dict) or tfkit.plan_digest(plan) != stated:
        found.append(f"the manifest's plan does not have its SHA-256 {stated}")
    if expected and stated != expected:
        found.append(f"the manifest's plan has SHA-256 {stated}, the reviewed plan-sha256 is {expected}")
    if version != manifest.get("terraform_version"):
        found.append(f"Terraform is {version}, the plan was made with {manifest.get('terraform_version')}")
    if lock_sha != manifest.get("lock_file_sha256"):
        now = lock_sha or "absent"
        then = manifest.get("lock_file_sha256") or "absent"
        found.append(f"{tfkit.LOCK_FILE} has SHA-256 {now}, at plan time {then}")
    here = actionkit.env("GITHUB_SHA")
    if manifest.get("commit") != here and not cfg["allow_other_commit"]:
        found.append(
            f"the plan was made at commit {manifest.get('commit') or 'unknown'}, this run is at {here} "
            "(allow-other-commit: true accepts that)"
        )
    source = cfg["run_id"] or actionkit.env("GITHUB_RUN_ID")
    if source and str(manifest.get("run_id") or "") != source:
        found.append(f"the manifest is from run {manifest.get('run_id') or 'unknown'}, not run {source}")
    if list(manifest.get("var_files") or []) != cfg["var_files"]:
        found.append(f"var-files are {cfg['var_files']}, the plan used {manifest.get('var_files') or []}")
    return found


def _api(path: str, token: str) -> dict:
    api = (actionkit.env("GITHUB_API_URL") or "https://api.github.com").rstrip("/")
    request = urllib.request.Request(
        api + path,
        headers={
            "Accept": "application/vnd.github+json",
            "Authorization": f"Bearer {token}",
            "X-GitHub-Api-Version": "2022-11-28",
            "User-Agent": "org-ci-terraform-apply",
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            data = json.loads(response.read() or b"null")
    except urllib.error.HTTPError as error:
        hint = " (the token needs actions: read)" if error.code in (401, 403, 404) else ""
        raise actionkit.ActionFailure("source-run", f"GET {path} answered {error.code}{hint}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise actionkit.ActionFailure("source-run", f"GET {path} failed: {getattr(error, 'reason', error)}") from None
    if not isinstance(data, dict):
        raise actionkit.ActionFailure("source-run", f"GET {path} answered no object")
    return data


def verify_source_run(manifest: dict, run_id: str) -> None:
    """Require run ``run_id`` to be a push to this repository's default branch at the manifest's commit."""
    token = inputs.text("github-token")
    repository = actionkit.env("GITHUB_REPOSITORY")
    if not token or not re.fullmatch(r"[\w.-]+/[\w.-]+", repository):
        raise actionkit.ActionFailure(
            "source-run", "with run-id and no plan-sha256 the source run is checked: pass github-token"
        )
    default = str(_api(f"/repos/{repository}", token).get("default_branch") or "")
    run = _api(f"/repos/{repository}/actions/runs/{run_id}", token)
    problems = []
    if run.get("event") != "push":
        problems.append(f'run {run_id} was triggered by "{run.get("event")}", not a push')
    if not default or run.get("head_branch") != default:
        problems.append(f'run {run_id} ran on branch "{run.get("head_branch")}", not the default branch "{default}"')
    for key in ("repository", "head_repository"):
        name = str((run.get(key) or {}).get("full_name") or "")
        if name.lower() != repository.lower():
            problems.append(f'run {run_id} is of "{name}", not "{repository}"')
    if run.get("head_sha") != manifest.get("commit"):
        problems.append(f"run {run_id} ran at {run.get('head_sha')}, the manifest says {manifest.get('commit')}")
    if problems:
        raise actionkit.ActionFailure(
            "source-run",
            "refusing a plan of another run that is not a push to the default branch: " + "; ".join(problems),
        )
    print(f"Run {run_id} is a push to {default} at {manifest.get('commit')}")


def _summary(cfg: dict, manifest: dict, status: str, detail: str = "") -> None:
    counts = manifest.get("summary") or {}
    table = (
        "| Add | Change | Destroy | Replace |\n|---:|---:|---:|---:|\n"
        f"| {len(counts.get('add', []))} | {len(counts.get('change', []))} | {len(counts.get('destroy', []))} "
        f"| {len(counts.get('replace', []))} |\n"
    )
    actionkit.summary(
        f"### Terraform apply: {tfkit.code(cfg['working_dir'])} (workspace {tfkit.code(cfg['workspace'])})\n\n"
        f"{status}\n\n{table}\nPlan SHA-256 `{manifest.get('plan_sha256', '')}`, Terraform "
        f"{manifest.get('terraform_version', '')}, commit `{manifest.get('commit', '')[:12]}`.\n"
        + (f"\n{detail}\n" if detail else "")
    )


def _refuse(cfg: dict, manifest: dict, found: list[str], headline: str = "refusing to apply") -> None:
    _summary(cfg, manifest, "Refused: the plan is not the reviewed one.", "\n".join(f"- {item}" for item in found))
    raise actionkit.ActionFailure("plan-changed", f"{headline}: " + "; ".join(found))


def _locked(cfg: dict, manifest: dict, result: tfkit.Result) -> None:
    """Fail with ``state-locked`` when Terraform could not take the state lock."""
    lock = parse_lock_error(result.output)
    if lock is None:
        return
    for key in ("id", "who", "created"):
        actionkit.set_output(f"lock-{key}", getattr(lock, key))
    message = (
        f"the state is locked, {lock.describe()}; retry when it is released, or, if that run is gone, "
        f"run terraform force-unlock {lock.id or 'LOCK_ID'}"
    )
    _summary(
        cfg,
        manifest,
        "Not applied: the state is locked.",
        f"Lock ID {tfkit.code(lock.id)}, held by {tfkit.code(lock.who)} since {actionkit.md_escape(lock.created)}, "
        f"operation {actionkit.md_escape(lock.operation)}.",
    )
    raise actionkit.ActionFailure("state-locked", message)


def _plan_again(cfg: dict, manifest: dict, path: Path, plan_file: Path, env: dict) -> dict:
    """``terraform plan -out`` as terraform-plan made it; the plan, normalised."""
    args = ["plan", "-input=false", "-no-color", f"-lock-timeout={cfg['lock_timeout']}", f"-out={plan_file}"]
    args += [f"-var-file={item}" for item in cfg["var_files"]]
    result = tfkit.terraform(args, path, env=env)
    if result.code != 0:
        _locked(cfg, manifest, result)
        _summary(cfg, manifest, "Not applied: planning again failed.")
        raise actionkit.ActionFailure("plan-failed", f"terraform plan failed: {result.first_error()}")
    shown = tfkit.terraform(["show", "-json", "-no-color", str(plan_file)], path, capture=True, env=env)
    try:
        return tfkit.normalize_plan(json.loads(shown.stdout))
    except ValueError:
        raise actionkit.ActionFailure("plan-failed", f"terraform show -json failed: {shown.first_error()}") from None


def run() -> None:
    cfg = _settings()
    path = cfg["settings"].path()
    plan_dir = Path(actionkit.env("PLAN_DIR"))
    manifest = tfkit.read_manifest(plan_dir / tfkit.MANIFEST_FILE)
    env = {"TF_WORKSPACE": cfg["workspace"]}
    version = tfkit.terraform_version(path)
    found = differences(manifest, cfg["expected"], version, tfkit.sha256_file(path / tfkit.LOCK_FILE), cfg)
    if found:
        _refuse(cfg, manifest, found)
    if cfg["run_id"] and not cfg["expected"]:
        verify_source_run(manifest, cfg["run_id"])

    init = ["init", "-input=false", "-no-color", "-lockfile=readonly", f"-lock-timeout={cfg['lock_timeout']}"]
    init += [f"-backend-config={item}" for item in cfg["backend_config"]]
    result = tfkit.terraform(init, path, env=env)
    if result.code != 0:
        raise actionkit.ActionFailure("init-failed", f"terraform init failed: {result.first_error()}")

    work = Path(tempfile.mkdtemp(prefix="terraform-apply-", dir=os.environ.get("RUNNER_TEMP") or None))
    plan_file = work / tfkit.PLAN_FILE
    try:
        now = _plan_again(cfg, manifest, path, plan_file, env)
        if tfkit.plan_digest(now) != manifest["plan_sha256"]:
            changed = tfkit.plan_differences(manifest["plan"], now) or ["the normalised plans differ"]
            _refuse(cfg, manifest, changed, "refusing to apply: the plan made now differs from the reviewed plan")
        actionkit.set_output("plan-sha256", manifest["plan_sha256"])
        apply = ["apply", "-input=false", "-no-color", f"-lock-timeout={cfg['lock_timeout']}", str(plan_file)]
        result = tfkit.terraform(apply, path, env=env)
    finally:
        shutil.rmtree(work, ignore_errors=True)  # the plan file holds secrets: never left behind
    if result.code == 0:
        actionkit.set_output("applied", "true")
        _summary(cfg, manifest, ":white_check_mark: Applied.")
        print(f"Applied the reviewed plan (SHA-256 {manifest['plan_sha256']})")
        return
    _locked(cfg, manifest, result)
    if is_stale_plan(result.output):
        _summary(cfg, manifest, "Not applied: the plan is stale.")
        raise actionkit.ActionFailure(
            "stale-plan", "the state changed since the plan was made; plan again and review the new plan"
        )
    _summary(cfg, manifest, "Apply failed.")
    raise actionkit.ActionFailure("apply-failed", f"terraform apply failed: {result.first_error()}")


def main() -> None:
    actionkit.main(prepare if sys.argv[1:] == ["prepare"] else run,
                   on_failure=lambda failure: actionkit.set_output("applied", "false"))


if __name__ == "__main__":
    main()
