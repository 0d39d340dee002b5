#!/usr/bin/env python3
"""`make mutate`: can the tests of the security-critical code fail? (issue 14)

Two kinds of mutation, each module scored as killed / total, and the run fails under 90%:

- **mutmut** (3.x, configured in ``[tool.mutmut]`` of pyproject.toml) over the modules of
  ``ci_tools`` that decide what is attacker-controlled, what is pinned and what is secret
  (:data:`MUTMUT_MODULES`). mutmut imports the package as ``src/<package>``, so it runs in a staging
  tree, ``build/mutate``, whose ``src`` is a link to ``scripts/`` and whose other entries link to
  the repository's (mutmut copies them into ``build/mutate/mutants``). Mutants that cannot change
  behaviour are listed, each with its reason, in ``tests/mutation-equivalents.toml``; they count
  neither as killed nor as survived.
- **a table** of realistic mutations (:data:`TABLE`), applied one at a time to the source, each
  followed by the tests that cover it, then reverted. The actions' scripts (``actions/_lib``,
  ``terraform-apply``, ``canary``) are run by their tests as subprocesses, which mutmut 3 cannot
  see (its trampolines record calls in the test's own process only; a subprocess imports the
  script from its path, not the mutated copy), so the table is how they are measured. It also
  holds the survivors that issue 14 named in the ci_tools modules, as a fast regression set.

One run at a time (a lock in ``build/mutate``): the table edits the source in place, and mutmut
would copy a file the table has mutated into its own tree.

A mutant is killed when its tests fail (pytest exit code 1); a table entry whose text is no
longer in the file is an error (the table must follow the code), never a pass.

Usage: ``python scripts/mutate.py [--table] [--mutmut] [--only LABEL ...] [--max-children N]``
(both kinds by default).
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import shutil
import signal
import subprocess
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
STAGE = REPO / "build" / "mutate"
THRESHOLD = 0.90
PYTHON = sys.executable

# ---------------------------------------------------------------------------------------------- mutmut
# label -> (module name as mutmut names mutants, its file under scripts/)
MUTMUT_MODULES: dict[str, tuple[str, str]] = {
    "untrusted": ("ci_tools.gha.untrusted", "ci_tools/gha/untrusted.py"),
    "template-injection": ("ci_tools.lint.checks.template_injection", "ci_tools/lint/checks/template_injection.py"),
    "uses": ("ci_tools.gha.uses", "ci_tools/gha/uses.py"),
    "verify": ("ci_tools.pin.verify", "ci_tools/pin/verify.py"),
    "redact": ("ci_tools.core.redact", "ci_tools/core/redact.py"),
}
# what the staging tree links to besides src (mutmut copies `also_copy` and tests/ into mutants/)
STAGED = ("tests", "actions", ".github", "workflow-templates", "docs", "README.md", "pyproject.toml")


# ---------------------------------------------------------------------------------------------- table
@dataclass(frozen=True)
class Mutation:
    label: str  # the module it scores for
    path: str  # repository-relative
    old: str  # exact text, once in the file
    new: str
    tests: tuple[str, ...]  # pytest arguments: the tests that cover it
    what: str


T_INJ = ("tests/lint/test_hostile_contexts.py", "tests/gha/test_untrusted.py")
T_FIX = ("tests/lint/test_fixtures.py", "-k", "template-injection or dangerous-triggers")
T_USES = ("tests/gha/test_references.py", "-k", "pinned or sha")
T_VERIFY = ("tests/pin/test_verify.py", "tests/pin/test_pages.py", "tests/pin/test_false_passes.py")
T_REDACT = ("tests/core/test_redact.py",)
T_KIT = ("tests/actions/_lib/test_outputs.py", "tests/actions/_lib/test_download.py", "tests/actions/_lib/test_inputs.py")
T_DL = ("tests/actions/_lib/test_download.py", "tests/actions/canary/test_canary_script.py", "-k", "http or url")
T_APPLY = ("tests/actions/terraform-apply/test_apply_manifest.py",)
T_APPLY_RUN = ("tests/actions/terraform-apply/test_apply_script.py", "-k",
               "applies_the_reviewed_plan or other_than_the_reviewed_one or swapped_plan_with_its_own")
T_CANARY = ("tests/actions/canary/test_canary_watch.py", "tests/actions/canary/test_canary_script.py",
            "tests/actions/canary/test_canary_verify.py", "tests/actions/canary/test_canary_e2e.py", "-k", "not transient")

UNTRUSTED = "scripts/ci_tools/gha/untrusted.py"
INJECTION = "scripts/ci_tools/lint/checks/template_injection.py"
TRIGGERS = "scripts/ci_tools/lint/checks/dangerous_triggers.py"
USES = "scripts/ci_tools/gha/uses.py"
VERIFY = "scripts/ci_tools/pin/verify.py"
GITHUB = "scripts/ci_tools/gha/resolve/github.py"
REDACT = "scripts/ci_tools/core/redact.py"
KIT = "actions/_lib/actionkit.py"
DOWNLOAD = "actions/_lib/download.py"
APPLY = "actions/terraform-apply/apply.py"
CANARY = "actions/canary/canary.py"


def _drop(label: str, path: str, line: str, tests: tuple[str, ...], what: str, after: str = "") -> Mutation:
    """Delete ``line`` (with the line after it as context, when the line alone is not unique)."""
    return Mutation(label, path, line + after, after, tests, what)


TABLE: tuple[Mutation, ...] = (
    # --- the table of attacker-controlled contexts and the expression reading (gha/untrusted.py)
    _drop("untrusted", UNTRUSTED, '    "github.event.workflow_run.head_branch",\n', T_INJ,
          "workflow_run.head_branch dropped from the contexts", '    "github.event.workflow_run.display_title",\n'),
    _drop("untrusted", UNTRUSTED, '    "github.event.head_commit.message",\n', T_INJ, "head_commit.message dropped"),
    _drop("untrusted", UNTRUSTED, '    "github.event.pull_request.head.repo.default_branch",\n', T_INJ,
          "a fork's default branch dropped"),
    _drop("untrusted", UNTRUSTED, '    "github.event.pages.*.title",\n', T_INJ, "wiki page titles dropped"),
    _drop("untrusted", UNTRUSTED, '    "github.event.merge_group.head_commit.author.email",\n', T_INJ,
          "merge group author email dropped"),
    _drop("untrusted", UNTRUSTED, '    "github.event.client_payload.**",\n', T_INJ, "client_payload dropped"),
    _drop("untrusted", UNTRUSTED, '    "github.event.check_run.check_suite.head_branch",\n', T_INJ,
          "check_run's head branch dropped"),
    Mutation("untrusted", UNTRUSTED, '"startswith", "endswith", "success"', '"startswith", "success"', T_INJ,
             "endsWith() carries its argument"),
    Mutation("untrusted", UNTRUSTED, "return _refs(node.left) + _refs(node.right)  # either side",
             "return _refs(node.right)  # either side", T_INJ, "a || b: only the right side"),
    Mutation("untrusted", UNTRUSTED, "return _refs(node.right)  # the left side is the value only when falsy",
             "return _refs(node.left) + _refs(node.right)", T_INJ, "a && b: both sides (false alarms)"),
    Mutation("untrusted", UNTRUSTED, "segs = path.lower().split(\".\")", "segs = path.split(\".\")", T_INJ,
             "contexts read case-sensitively"),
    Mutation("untrusted", UNTRUSTED, "return [ref for arg in node.args for ref in _refs(arg)]", "return []",
             T_INJ, "format()/join() carry nothing"),
    Mutation("untrusted", UNTRUSTED, "and not key.value.isdigit():\n        return key.value\n    return \"*\"",
             "and not key.value.isdigit():\n        return key.value\n    return \"0\"", T_INJ,
             "commits[0] not read as commits.*"),
    Mutation("untrusted", UNTRUSTED, '        if want == "**":\n            return True',
             '        if want == "**":\n            return False', T_INJ, '"**" matches nothing'),
    # --- template-injection: env, inputs, outputs, sinks
    Mutation("template-injection", INJECTION,
             '                chain.append((_env_map(mapping_get(self.jobs[step.job_id], "env")), "job"))',
             "                pass", T_INJ, "a job-level env: not read"),
    Mutation("template-injection", INJECTION,
             "node = env.get(name) if name in env else next(\n"
             "                (v for k, v in env.items() if k.lower() == name.lower()), None)",
             "node = env.get(name)", T_INJ, "env.title does not read TITLE"),
    Mutation("template-injection", INJECTION, '        chain.append((self.workflow_env, "workflow"))\n', "", T_INJ,
             "the workflow's env: not read"),
    Mutation("template-injection", INJECTION, "return None  # the nearest definition wins and is safe",
             "continue", T_INJ, "a safe nearer env: does not hide a tainted outer one (false alarm)"),
    Mutation("template-injection", INJECTION,
             '            return "is an input of the action, which its caller may fill with attacker text"',
             "            return None", T_FIX, "composite action inputs trusted"),
    Mutation("template-injection", INJECTION, '("GITHUB_OUTPUT" in run.value or "set-output" in run.value)',
             '("GITHUB_OUTPUT" in run.value)', T_FIX, "::set-output steps trusted"),
    _drop("template-injection", INJECTION, '    "tj-actions/changed-files": None,\n', T_FIX,
          "tj-actions/changed-files outputs trusted"),
    _drop("template-injection", INJECTION,
          '    Sink("actions/github-script", "script", "JavaScript", _ENV_JS),\n', T_FIX, "github-script not a sink"),
    Mutation("template-injection", INJECTION,
             "            return self._needs(parts[1], parts[3] if len(parts) > 3 else None, depth)",
             "            return None", T_FIX, "needs.<job>.outputs trusted"),
    # --- dangerous-triggers
    Mutation("template-injection", TRIGGERS, 'for key in ("ref", "repository"):', 'for key in ("ref",):',
             T_INJ, "a pull_request_target checkout by repository: alone"),
    Mutation("template-injection", TRIGGERS, '_TRIGGERS = ("pull_request_target", "workflow_run")',
             '_TRIGGERS = ("pull_request_target",)', T_INJ, "workflow_run not privileged"),
    # --- the SHA pattern (gha/uses.py)
    Mutation("uses", USES, r'SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")',
             r'SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})")', T_USES, "no end anchor: 41 hex pinned"),
    Mutation("uses", USES, r'SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")',
             r'SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})$")', T_USES, "$ instead of \\Z"),
    Mutation("uses", USES, r'SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")',
             r'SHA_RE = re.compile(r"(?:[0-9a-fA-F]{40}|[0-9a-fA-F]{64})\Z")', T_USES, "uppercase accepted"),
    Mutation("uses", USES, r'SHA_RE = re.compile(r"(?:[0-9a-f]{40}|[0-9a-f]{64})\Z")',
             r'SHA_RE = re.compile(r"[0-9a-f]{40,64}\Z")', T_USES, "any length from 40 to 64"),
    Mutation("uses", USES, "return bool(SHA_RE.match(self.ref))", "return bool(SHA_RE.search(self.ref))", T_USES,
             "search: a SHA at the end of a branch name"),
    # --- verify and pages of the API
    Mutation("verify", VERIFY, "if name in refs.branches and refs.branches[name] == sha:",
             "if name in refs.branches:", T_VERIFY, "a branch comment accepted at any commit"),
    Mutation("verify", VERIFY, "and (is_exact_version(name) or not tags):", "and is_exact_version(name):",
             T_VERIFY, "a moved major tag reported as a stale comment"),
    Mutation("verify", VERIFY, "            continue  # its comment says nothing", "            pass  # its comment",
             T_VERIFY, "an impostor's comment also checked"),
    Mutation("verify", VERIFY, "if name and name in refs.tags and name in refs.branches:",
             "if name and name in refs.tags and name in refs.tags and False:", T_VERIFY, "no ref confusion"),
    Mutation("verify", GITHUB, 'branches = {b["name"]: b["commit"]["sha"] for b in self._pages(f"{base}/branches")}',
             'branches = {b["name"]: b["commit"]["sha"] for b in self._get(f"{base}/branches", '
             'params={"per_page": 100})[0]}', T_VERIFY, "branches past the first API page"),
    Mutation("verify", GITHUB, 'url = resp.links.get("next", {}).get("url")', "url = None", T_VERIFY,
             "no page after the first"),
    # --- redaction
    Mutation("redact", REDACT, '("GITHUB_TOKEN", "GH_TOKEN", "REGISTRY_PASSWORD", "CI_TOOLS_TOKEN")',
             '("GITHUB_TOKEN", "REGISTRY_PASSWORD", "CI_TOOLS_TOKEN")', T_REDACT, "GH_TOKEN not redacted"),
    Mutation("redact", REDACT, '("GITHUB_TOKEN", "GH_TOKEN", "REGISTRY_PASSWORD", "CI_TOOLS_TOKEN")',
             '("GH_TOKEN", "REGISTRY_PASSWORD", "CI_TOOLS_TOKEN")', T_REDACT, "GITHUB_TOKEN not redacted"),
    Mutation("redact", REDACT, "gh[pousr]_", "ghp_", T_REDACT, "only classic personal tokens by shape"),
    Mutation("redact", REDACT, "|github_pat_[A-Za-z0-9_]{20,}", "", T_REDACT, "fine-grained tokens by shape"),
    Mutation("redact", REDACT, "key=len, reverse=True", "key=len", T_REDACT, "the shortest secret first"),
    # --- step outputs and workflow commands (actions/_lib/actionkit.py)
    Mutation("actionkit", KIT, '    delimiter = f"ghadelim_{secrets.token_hex(8)}"\n    while delimiter in value:\n'
             '        delimiter = f"ghadelim_{secrets.token_hex(8)}"\n', '    delimiter = "EOF"\n', T_KIT,
             "a fixed EOF delimiter"),
    Mutation("actionkit", KIT, '    while delimiter in value:\n        delimiter = f"ghadelim_{secrets.token_hex(8)}"\n',
             "", T_KIT, "a delimiter found in the value is kept"),
    Mutation("actionkit", KIT, 'if "\\n" not in value and "\\r" not in value:', 'if "\\n" not in value:', T_KIT,
             "a lone CR written as name=value"),
    Mutation("actionkit", KIT, 'return value.replace("%", "%25").replace("\\r", "%0D").replace("\\n", "%0A")\n',
             'return value.replace("%", "%25").replace("\\r", "%0D")\n', T_KIT,
             "a newline in a message starts a workflow command"),
    Mutation("actionkit", KIT, '.replace(":", "%3A").replace(",", "%2C")', '.replace(",", "%2C")', T_KIT,
             "a colon in a title property ends it"),
    Mutation("actionkit", DOWNLOAD, "return ipaddress.ip_address(host).is_loopback",
             "return ipaddress.ip_address(host).is_private", T_DL, "plain HTTP to any private address"),
    Mutation("actionkit", DOWNLOAD, 'return parts.scheme == "http" and loopback_http and _loopback(parts.hostname)',
             'return parts.scheme == "http" and _loopback(parts.hostname)', T_DL,
             "loopback HTTP without asking for it"),
    Mutation("actionkit", DOWNLOAD, 'if host.lower() == "localhost":', 'if host.lower().startswith("localhost"):',
             T_DL, "localhost.example.test is loopback"),
    Mutation("actionkit", DOWNLOAD, ' or "@" in parts.netloc', "", T_DL, "credentials in a URL"),
    Mutation("actionkit", DOWNLOAD, "if not allowed(newurl, loopback_http=self.loopback_http):",
             "if not allowed(newurl, loopback_http=True):", T_KIT, "a redirect to plain http on loopback"),
    Mutation("actionkit", DOWNLOAD, "if actual != value.lower():", "if actual != value:", T_KIT,
             "an uppercase checksum refused"),
    # --- terraform-apply
    Mutation("terraform-apply", APPLY, "if expected and stated != expected:", "if not expected and stated != expected:",
             T_APPLY, "the reviewed plan-sha256 ignored"),
    Mutation("terraform-apply", APPLY, "if not isinstance(plan, dict) or tfkit.plan_digest(plan) != stated:",
             "if not isinstance(plan, dict):", T_APPLY, "the manifest vouches for its own plan"),
    Mutation("terraform-apply", APPLY, 'if manifest.get("commit") != here and not cfg["allow_other_commit"]:',
             'if manifest.get("commit") and manifest.get("commit") != here and not cfg["allow_other_commit"]:',
             T_APPLY, "a manifest without a commit accepted"),
    Mutation("terraform-apply", APPLY, 'if lock_sha != manifest.get("lock_file_sha256"):',
             'if lock_sha and lock_sha != manifest.get("lock_file_sha256"):', T_APPLY, "a deleted lock file accepted"),
    Mutation("terraform-apply", APPLY, 'if run.get("event") != "push":', 'if run.get("event") == "pull_request":',
             T_APPLY, "a pull_request_target run accepted as the source"),
    Mutation("terraform-apply", APPLY, 'for key in ("repository", "head_repository"):', 'for key in ("repository",):',
             T_APPLY, "a fork's head repository accepted"),
    Mutation("terraform-apply", APPLY, 'if not default or run.get("head_branch") != default:',
             'if default and run.get("head_branch") != default:', T_APPLY, "no default branch: any branch"),
    Mutation("terraform-apply", APPLY, 'if run.get("head_sha") != manifest.get("commit"):',
             'if not run.get("head_sha"):', T_APPLY, "the source run at another commit"),
    Mutation("terraform-apply", APPLY, 'if cfg["run_id"] and not cfg["expected"]:',
             'if cfg["run_id"] and cfg["expected"]:', T_APPLY_RUN, "the source run not checked"),
    Mutation("terraform-apply", APPLY, 'if tfkit.plan_digest(now) != manifest["plan_sha256"]:', "if not now:",
             T_APPLY_RUN, "the new plan not compared"),
    Mutation("terraform-apply", APPLY, "shutil.rmtree(work, ignore_errors=True)  # the plan file",
             "pass  # the plan file", T_APPLY_RUN, "the plan file (secrets) left behind"),
    Mutation("terraform-apply", APPLY, 'if source and str(manifest.get("run_id") or "") != source:',
             'if source and manifest.get("run_id") and str(manifest.get("run_id")) != source:', T_APPLY,
             "a manifest without a run accepted"),
    # --- canary
    Mutation("canary", CANARY, "if not DIGEST_RE.search(image) and not allow_tag:",
             "if not DIGEST_RE.search(image) and allow_tag:", T_CANARY, "a tag accepted without allow-tag"),
    Mutation("canary", CANARY, "    if len(chosen) != 1:", "    if len(chosen) < 1:", T_CANARY,
             "two identities to verify against"),
    Mutation("canary", CANARY, '        expected.append(("plugin-sha256", settings.plugin_sha256))', "        pass",
             T_CANARY, "plugin-sha256 not checked"),
    Mutation("canary", CANARY, "if view.step_index is None or view.step_index in promoted:",
             "if view.step_index is None:", T_CANARY, "a step promoted twice"),
    Mutation("canary", CANARY, "return settings.promote_up_to is None or view.step_index < settings.promote_up_to",
             "return settings.promote_up_to is None or view.step_index <= settings.promote_up_to", T_CANARY,
             "promoted past promote-up-to-step"),
    Mutation("canary", CANARY, 'if settings.promote != "auto" or view.phase != "Paused" or view.spec_paused:',
             'if settings.promote != "auto" or view.phase != "Paused":', T_CANARY, "a manual pause promoted"),
    Mutation("canary", CANARY, 'if "CanaryPauseStep" not in view.pause_reasons or view.timed_pause:',
             'if "CanaryPauseStep" not in view.pause_reasons:', T_CANARY, "a timed pause promoted"),
    Mutation("canary", CANARY, 'if view.phase == "Healthy" and self.runs_new_template(view):',
             'if view.phase == "Healthy":', T_CANARY, "Healthy before the new template runs"),
    Mutation("canary", CANARY, "    if before.revision:\n        restored", "    if False:\n        restored",
             T_CANARY, "rollback by image only"),
    Mutation("canary", CANARY, "    if now is not None and now != before.image:", "    if False:", T_CANARY,
             "the image after undo not checked"),
    Mutation("canary", CANARY, "    outcome.rolled_back = aborted and restored", "    outcome.rolled_back = restored",
             T_CANARY, "a failed abort counted as rolled back"),
)


def _pytest(args: tuple[str, ...]) -> int:
    cmd = [PYTHON, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *args]
    done = subprocess.run(cmd, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return done.returncode


def run_table(labels: set[str] | None) -> dict[str, tuple[int, int, list[str]]]:
    """label -> (killed, total, survivors' descriptions)."""
    scores: dict[str, tuple[int, int, list[str]]] = {}
    for m in TABLE:
        if labels and m.label not in labels:
            continue
        path = REPO / m.path
        original = path.read_text(encoding="utf-8")
        if original.count(m.old) != 1:
            raise SystemExit(f"mutate: {m.path}: the text of {m.what!r} is in the file "
                             f"{original.count(m.old)} times, not once; update the table")
        path.write_text(original.replace(m.old, m.new), encoding="utf-8")
        try:
            code = _pytest(m.tests)
        finally:
            path.write_text(original, encoding="utf-8")
        if code not in (0, 1):
            raise SystemExit(f"mutate: pytest exited {code} for {m.what!r} ({m.path}); fix the table or the tests")
        killed, total, survivors = scores.get(m.label, (0, 0, []))
        scores[m.label] = (killed + (code == 1), total + 1, survivors + ([] if code == 1 else [f"{m.path}: {m.what}"]))
        print(f"  {'killed  ' if code == 1 else 'SURVIVED'} {m.label}: {m.what}", flush=True)
    return scores


# ---------------------------------------------------------------------------------------------- mutmut
def _stage() -> None:
    STAGE.mkdir(parents=True, exist_ok=True)
    for name in ("src", *STAGED):
        link = STAGE / name
        target = Path(os.path.relpath(REPO / ("scripts" if name == "src" else name), STAGE))
        if link.is_symlink() and Path(os.readlink(link)) == target:
            continue
        if link.is_symlink() or link.is_file():
            link.unlink()
        elif link.exists():
            shutil.rmtree(link)
        link.symlink_to(target)


def _equivalents() -> dict[str, str]:
    path = REPO / "tests" / "mutation-equivalents.toml"
    if not path.is_file():
        return {}
    return {name: entry["reason"] for name, entry in tomllib.loads(path.read_text(encoding="utf-8")).items()}


def run_mutmut(labels: set[str] | None, max_children: int, fresh: bool) -> dict[str, tuple[int, int, list[str]]]:
    _stage()
    if fresh:
        shutil.rmtree(STAGE / "mutants", ignore_errors=True)
    mutmut = str(Path(PYTHON).with_name("mutmut"))
    chosen = [label for label in MUTMUT_MODULES if not labels or label in labels]
    globs = [f"{MUTMUT_MODULES[label][0]}.*" for label in chosen]
    done = subprocess.run([mutmut, "run", "--max-children", str(max_children), *globs], cwd=STAGE)
    if done.returncode != 0:
        raise SystemExit(f"mutate: mutmut run exited {done.returncode}")
    equivalent = _equivalents()
    scores: dict[str, tuple[int, int, list[str]]] = {}
    for label in chosen:
        module, rel = MUTMUT_MODULES[label]
        meta = json.loads((STAGE / "mutants" / "src" / (rel + ".meta")).read_text(encoding="utf-8"))
        killed = total = 0
        survivors = []
        for name, code in meta["exit_code_by_key"].items():
            if name in equivalent:
                continue
            total += 1
            if code in (1, 3, -24, 36, 37) or (code is not None and code < 0):  # failed, timed out, crashed
                killed += 1
            else:
                survivors.append(f"{name} (exit {code})")
        scores[label] = (killed, total, survivors)
    return scores


# ---------------------------------------------------------------------------------------------- report
def report(title: str, scores: dict[str, tuple[int, int, list[str]]], verbose: bool) -> tuple[int, int, bool]:
    all_killed = all_total = 0
    ok = True
    print(f"\n{title}")
    for label, (killed, total, survivors) in scores.items():
        share = killed / total if total else 1.0
        ok &= share >= THRESHOLD
        all_killed, all_total = all_killed + killed, all_total + total
        print(f"  {label:<20} {killed:>4}/{total:<4} killed  {share:6.1%}{'' if share >= THRESHOLD else '  < 90%'}")
        for survivor in survivors if verbose else ():
            print(f"      survived: {survivor}")
    share = all_killed / all_total if all_total else 1.0
    print(f"  {'overall':<20} {all_killed:>4}/{all_total:<4} killed  {share:6.1%}")
    return all_killed, all_total, ok and share >= THRESHOLD


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--table", action="store_true", help="only the table of realistic mutations")
    parser.add_argument("--mutmut", action="store_true", help="only mutmut")
    parser.add_argument("--only", action="append", default=[], help="a module label (repeatable)")
    parser.add_argument("--max-children", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="reuse build/mutate/mutants (mutmut's results so far)")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the survivors")
    args = parser.parse_args(argv)
    both = not args.table and not args.mutmut
    labels = set(args.only) or None
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # restore the file being mutated, then stop
    STAGE.mkdir(parents=True, exist_ok=True)
    lock = (STAGE / ".lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        print("mutate: another run is under way (build/mutate/.lock)", file=sys.stderr)
        return 2
    ok, killed, total = True, 0, 0
    if args.table or both:
        k, t, good = report("realistic mutations, one at a time (scripts/mutate.py TABLE)", run_table(labels),
                            args.verbose)
        ok, killed, total = ok and good, killed + k, total + t
    if (args.mutmut or both) and (labels is None or labels & set(MUTMUT_MODULES)):
        k, t, good = report("mutmut", run_mutmut(labels, args.max_children, not args.keep), args.verbose)
        ok, killed, total = ok and good, killed + k, total + t
    share = killed / total if total else 1.0
    print(f"\nall mutations: {killed}/{total} killed ({share:.1%}); threshold {THRESHOLD:.0%} per module and overall")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
