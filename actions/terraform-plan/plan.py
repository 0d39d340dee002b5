"""terraform-plan's main step: init, fmt -check, validate, plan, show; writes the manifest.

Each stage that fails ends the step with its own failure reason (``lock-file``, ``init-failed``,
``fmt``, ``invalid``, ``plan-failed``). The saved plan holds the prior state and the values of
sensitive variables in clear text, so it never leaves the job: it is read with ``terraform show``
and deleted. What a successful plan leaves, in ``$RUNNER_TEMP/terraform-plan/``:

- ``<name>/plan.json``, the artifact: the manifest terraform-apply checks, with the normalised
  plan (``tfkit.normalize_plan``: no timestamp, no prior or planned state, every sensitive value
  redacted) and its SHA-256, the Terraform version, the SHA-256 of the committed
  ``.terraform.lock.hcl``, the directory, workspace, var files, commit and run;
- ``<name>.txt``: ``terraform show -no-color`` (sensitive values hidden by Terraform), for the
  comment and the summary; not uploaded.

Inputs (environment): INPUT_WORKING_DIRECTORY, INPUT_WORKSPACE, INPUT_BACKEND_CONFIG (lines),
INPUT_VAR_FILES (lines), INPUT_FMT_CHECK, INPUT_LOCK_TIMEOUT, INPUT_ARTIFACT_NAME,
INPUT_TERRAFORM_VERSION (a warning when the terraform on PATH is another version).
"""

from __future__ import annotations

import json
import os
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "_lib"))
import actionkit  # noqa: E402
import inputs  # noqa: E402
import tfkit  # noqa: E402


def _settings() -> dict:
    shared = tfkit.Settings.read()
    return {
        "workspace": shared.workspace,
        "working_dir": shared.working_dir,
        "path": shared.path(),
        "backend_config": shared.backend_config,
        "var_files": shared.var_files,
        "fmt_check": inputs.boolean("fmt-check", True),
        "lock_timeout": shared.lock_timeout,
        "artifact_name": shared.artifact_name,
        "want_version": inputs.text("terraform-version"),
    }


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def _init(cfg: dict, env: dict) -> str | None:
    """Run ``terraform init``; return the committed lock file's SHA-256 (``None``: no lock file).

    A lock file that init had to write or change is put back as committed and the plan fails
    with ``lock-file`` (see :func:`tfkit.lock_file_problem`)."""
    lock = cfg["path"] / tfkit.LOCK_FILE
    before = _read(lock)
    args = ["init", "-input=false", "-no-color", f"-lock-timeout={cfg['lock_timeout']}"]
    args += [f"-backend-config={item}" for item in cfg["backend_config"]]
    result = tfkit.terraform(args, cfg["path"], env=env)
    after = _read(lock)
    problem = tfkit.lock_file_problem(before, after, result.output, result.code == 0)
    if after != before:
        if before is None:
            lock.unlink(missing_ok=True)
        else:
            lock.write_text(before, encoding="utf-8")
    if problem:
        raise actionkit.ActionFailure("lock-file", problem)
    if result.code != 0 and result.config_invalid:
        raise actionkit.ActionFailure("invalid", f"the configuration is not valid: {result.first_error()}")
    if result.code != 0:
        raise actionkit.ActionFailure("init-failed", f"terraform init failed: {result.first_error()}")
    return tfkit.sha256_file(lock)


def _fmt(cfg: dict) -> None:
    result = tfkit.terraform(["fmt", "-check", "-recursive", "-no-color"], cfg["path"], capture=True)
    if result.code == 0:
        return
    files = [line.strip() for line in result.stdout.splitlines() if line.strip()]
    if result.code == 3 and files:
        for name in files:
            actionkit.annotate("error", "not in canonical format; run terraform fmt", file=_rel(cfg, name), title="fmt")
        raise actionkit.ActionFailure(
            "fmt", f"{len(files)} file(s) not formatted ({', '.join(files[:5])}); run terraform fmt -recursive"
        )
    raise actionkit.ActionFailure("invalid", f"terraform fmt cannot parse the configuration: {result.first_error()}")


def _rel(cfg: dict, name: str) -> str:
    return str(Path(cfg["working_dir"]) / name) if cfg["working_dir"] != "." else name


def _validate(cfg: dict, env: dict) -> None:
    result = tfkit.terraform(["validate", "-json", "-no-color"], cfg["path"], capture=True, env=env)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        if result.code == 0:
            return
        raise actionkit.ActionFailure("invalid", f"terraform validate failed: {result.first_error()}") from None
    errors = []
    for diag in report.get("diagnostics") or []:
        rng = diag.get("range") or {}
        level = "error" if diag.get("severity") == "error" else "warning"
        text = f"{diag.get('summary', '')}: {diag.get('detail', '')}".strip(": ")
        actionkit.annotate(
            level,
            text,
            file=_rel(cfg, rng["filename"]) if rng.get("filename") else "",
            line=(rng.get("start") or {}).get("line", 0),
            title="terraform validate",
        )
        if level == "error":
            where = f"{rng['filename']}:{(rng.get('start') or {}).get('line', '?')}: " if rng.get("filename") else ""
            errors.append(f"{where}{diag.get('summary', '')}")
    if result.code != 0 or report.get("valid") is False:
        first = errors[0] if errors else result.first_error()
        raise actionkit.ActionFailure("invalid", f"terraform validate found {max(len(errors), 1)} error(s): {first}")


def _plan(cfg: dict, env: dict, plan_file: Path) -> bool:
    """Run the plan; ``-detailed-exitcode`` is read explicitly: 0 no changes, 2 changes, else an error."""
    args = [
        "plan",
        "-input=false",
        "-no-color",
        "-detailed-exitcode",
        f"-lock-timeout={cfg['lock_timeout']}",
        f"-out={plan_file}",
    ]
    args += [f"-var-file={item}" for item in cfg["var_files"]]
    result = tfkit.terraform(args, cfg["path"], env=env)
    if result.code == 0:
        return False
    if result.code == 2:
        return True
    raise actionkit.ActionFailure("plan-failed", f"terraform plan failed: {result.first_error()}")


def _show(cfg: dict, env: dict, plan_file: Path) -> tuple[dict, str]:
    as_json = tfkit.terraform(["show", "-json", "-no-color", str(plan_file)], cfg["path"], capture=True, env=env)
    as_text = tfkit.terraform(["show", "-no-color", str(plan_file)], cfg["path"], capture=True, env=env)
    if as_json.code != 0 or as_text.code != 0:
        failed = as_json if as_json.code != 0 else as_text
        raise actionkit.ActionFailure("plan-failed", f"terraform show failed: {failed.first_error()}")
    try:
        return json.loads(as_json.stdout), as_text.stdout
    except ValueError:
        raise actionkit.ActionFailure("plan-failed", "terraform show -json printed no JSON") from None


def _write_summary(cfg: dict, summary: tfkit.PlanSummary, changes: bool, sha: str, version: str, text: str) -> None:
    title = f"Terraform plan: {tfkit.code(cfg['working_dir'])} (workspace {tfkit.code(cfg['workspace'])})"
    rows = [
        "| Add | Change | Destroy | Replace |",
        "|---:|---:|---:|---:|",
        f"| {len(summary.add)} | {len(summary.change)} | {len(summary.destroy)} | {len(summary.replace)} |",
    ]
    head = f"### {title}\n\n{'Changes: ' + summary.line() if changes else 'No changes.'}\n\n" + "\n".join(rows)
    meta = f"\n\nPlan SHA-256 `{sha}`, Terraform {version}, artifact `{cfg['artifact_name']}`.\n\n"
    block = tfkit.folded_block("Plan output", text, 900_000, f"the full plan is in the artifact {cfg['artifact_name']}")
    actionkit.summary(head + meta + block)


def run() -> None:
    cfg = _settings()
    env = {"TF_WORKSPACE": cfg["workspace"]}
    version = tfkit.terraform_version(cfg["path"])
    if cfg["want_version"] and re.fullmatch(r"\d+\.\d+\.\d+", cfg["want_version"]) and version != cfg["want_version"]:
        actionkit.annotate("warning", f"terraform on PATH is {version}, not the pinned {cfg['want_version']}")
    base = Path(os.environ.get("RUNNER_TEMP") or cfg["path"]) / "terraform-plan"
    out_dir = base / cfg["artifact_name"]
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.iterdir():
        stale.unlink()
    plan_file = base / f"{cfg['artifact_name']}.tfplan"
    text_file = base / f"{cfg['artifact_name']}.txt"

    lock_sha = _init(cfg, env)
    if cfg["fmt_check"]:
        _fmt(cfg)
    _validate(cfg, env)
    try:
        changes = _plan(cfg, env, plan_file)
        plan_json, plan_text = _show(cfg, env, plan_file)
    finally:
        plan_file.unlink(missing_ok=True)  # prior state and sensitive values in clear: never kept
    summary = tfkit.summarize(plan_json)
    normalized = tfkit.normalize_plan(plan_json)
    sha = tfkit.plan_digest(normalized)
    manifest = {
        "format": tfkit.MANIFEST_FORMAT,
        "plan_sha256": sha,
        "terraform_version": version,
        "lock_file_sha256": lock_sha,  # the committed file, which init left as it was
        "working_directory": cfg["working_dir"],
        "workspace": cfg["workspace"],
        "var_files": cfg["var_files"],
        "artifact_name": cfg["artifact_name"],
        "changes": changes,
        "summary": summary.as_dict(),
        "repository": os.environ.get("GITHUB_REPOSITORY", ""),
        "event": os.environ.get("GITHUB_EVENT_NAME", ""),
        "ref": os.environ.get("GITHUB_REF", ""),
        "commit": os.environ.get("GITHUB_SHA", ""),
        "run_id": os.environ.get("GITHUB_RUN_ID", ""),
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "plan": normalized,
    }
    (out_dir / tfkit.MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    text_file.write_text(plan_text, encoding="utf-8")

    line = summary.line() if changes else "no changes"
    actionkit.set_output("changes", "true" if changes else "false")
    actionkit.set_output("plan-sha256", sha)
    actionkit.set_output("summary", line)
    actionkit.set_output("summary-json", json.dumps(summary.as_dict(), separators=(",", ":")))
    actionkit.set_output("artifact-name", cfg["artifact_name"])
    actionkit.set_output("artifact-dir", str(out_dir))
    actionkit.set_output("terraform-version", version)
    actionkit.set_output("plan-text-file", str(text_file))
    _write_summary(cfg, summary, changes, sha, version, plan_text)
    print(f"Plan for {cfg['working_dir']} ({cfg['workspace']}): {line}; SHA-256 {sha}")


def main() -> None:
    """Run; on any failure leave what the comment step needs to report it."""
    actionkit.main(run, on_failure=lambda failure: actionkit.set_output("failure-message", failure.message))


if __name__ == "__main__":
    main()
