#!/usr/bin/env bash
# Step "hygiene" of actions/pr-hygiene: runs the chosen checks with ci-tools, every one of them
# even when an earlier one fails, annotates each problem (--format github), appends a section per
# check to the job summary and sets the outputs bump, next-version, problems and failed-checks;
# then lists what the pull request changes in the checks' policy (ci-tools policy).
#
# Inputs arrive through the environment only (HYGIENE_*), never spliced into this script:
#   HYGIENE_CHECKS      title,commits,secrets,branch (comma or space separated)
#   HYGIENE_BASE        base commit; HYGIENE_HEAD head commit
#   HYGIENE_TITLE       pull request title; HYGIENE_BRANCH head branch name
#   HYGIENE_BASELINE    detect-secrets baseline file (empty: .secrets.baseline as of HEAD)
#   HYGIENE_FAIL_LEVEL  note | warning | error
#   CI_TOOLS_PYTHON     Python with ci-tools' dependencies (from install.sh)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
launcher="$(cd "$here/../_lib" && pwd)/run_ci_tools.py"
python="${CI_TOOLS_PYTHON:-python3}"
summary="${GITHUB_STEP_SUMMARY:-/dev/null}"
output="${GITHUB_OUTPUT:-/dev/null}"
fail_level="${HYGIENE_FAIL_LEVEL:-warning}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

ci_tools() {
  # isolated (-I): the working directory is the pull request's checkout, and nothing of it may be
  # imported; run_ci_tools.py puts only this repository's scripts/ on sys.path
  "$python" -I "$launcher" "$@"
}

status=0
problems=0
failed=()
reason="" # failure-reason, by precedence: invalid-input, check-error, problems
fail_with() { # REASON: keep the reason of highest precedence
  case "$reason:$1" in
    invalid-input:*) ;;
    check-error:problems) ;;
    *) reason="$1" ;;
  esac
}
run_check() { # NAME ARGS...: run one ci-tools command, print its annotations, count its problems
  local name="$1" rc=0 count
  shift
  ci_tools "$@" --format github --fail-level "$fail_level" --summary "$summary" --output "$work/$name.out" || rc=$?
  if [ -f "$work/$name.out" ]; then
    cat "$work/$name.out"
    count="$(grep -cE '^::(error|warning|notice) .*title=(commit-message|branch-name|secret)[ :]' "$work/$name.out" || true)"
    problems=$((problems + count))
  fi
  if [ "$rc" -gt 1 ]; then
    echo "::error title=pr-hygiene::the $name check could not run (exit $rc); see the log above"
    printf '### %s\n\n❌ the check could not run (exit %s); see the log\n\n' "$name" "$rc" >>"$summary"
  fi
  if [ "$rc" -ne 0 ]; then
    status=1
    failed+=("$name")
    if [ "$rc" -gt 1 ]; then fail_with check-error; else fail_with problems; fi
  fi
}

skip() { # NAME REASON
  echo "::notice title=pr-hygiene::$1 not checked: $2"
  printf '### %s\n\nℹ️ not checked: %s\n\n' "$1" "$2" >>"$summary"
}

printf '## Pull request hygiene\n\n' >>"$summary"

IFS=', ' read -r -a checks <<<"${HYGIENE_CHECKS:-title,commits,secrets,branch}"
for check in "${checks[@]}"; do
  case "$check" in
    "") ;;
    title)
      if [ -n "${HYGIENE_TITLE:-}" ]; then
        run_check title commits --title "$HYGIENE_TITLE"
      else
        skip "Title" "no pull request title (not a pull_request event?)"
      fi
      ;;
    commits)
      if [ -n "${HYGIENE_BASE:-}" ] && [ -n "${HYGIENE_HEAD:-}" ]; then
        run_check commits commits "$HYGIENE_BASE..$HYGIENE_HEAD" --bump-output "$output"
      else
        skip "Commit messages" "no base and head commits (not a pull_request event?)"
      fi
      ;;
    secrets)
      if [ -n "${HYGIENE_BASE:-}" ] && [ -n "${HYGIENE_HEAD:-}" ]; then
        baseline=()
        if [ -n "${HYGIENE_BASELINE:-}" ]; then
          baseline=(--baseline "$HYGIENE_BASELINE")
        fi
        run_check secrets secrets "$HYGIENE_BASE" "$HYGIENE_HEAD" "${baseline[@]}"
      else
        skip "Secrets" "no base and head commits (not a pull_request event?)"
      fi
      ;;
    branch)
      if [ -n "${HYGIENE_BRANCH:-}" ]; then
        run_check branch branch "$HYGIENE_BRANCH"
      else
        skip "Branch name" "no head branch (not a pull_request event?)"
      fi
      ;;
    *)
      echo "::error title=pr-hygiene::unknown check \"$check\" in the checks input; use title, commits, secrets, branch"
      status=1
      fail_with invalid-input
      ;;
  esac
done

# What the pull request changes in the policy of the checks (configuration, baseline, ignore and
# allowlist comments): notes for the reviewer, never a problem; always shown, whatever HYGIENE_CHECKS
# says, and a failure to list them fails the step (check-error).
if [ -n "${HYGIENE_BASE:-}" ] && [ -n "${HYGIENE_HEAD:-}" ]; then
  rc=0
  ci_tools policy "$HYGIENE_BASE" "$HYGIENE_HEAD" --format github --fail-level error --summary "$summary" \
    --output "$work/policy.out" || rc=$?
  if [ -f "$work/policy.out" ]; then
    cat "$work/policy.out"
  fi
  if [ "$rc" -ne 0 ]; then
    echo "::error title=pr-hygiene::the policy changes could not be listed (exit $rc); see the log above"
    printf '### Policy changes\n\n❌ could not be listed (exit %s); see the log\n\n' "$rc" >>"$summary"
    status=1
    failed+=("policy")
    fail_with check-error
  fi
fi

{
  echo "problems=$problems"
  (IFS=,; echo "failed-checks=${failed[*]}")
  echo "failure-reason=$reason"
} >>"$output"
if [ -n "$reason" ]; then
  printf '**Failed** (%s%s%s)\n' '`' "$reason" '`' >>"$summary"
fi
exit "$status"
