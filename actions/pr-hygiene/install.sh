#!/usr/bin/env bash
# Step "install" of actions/pr-hygiene: a Python with ci-tools' run-time dependencies, written as
# the step output "python". ci-tools itself runs from this repository's scripts/ (no build).
#
# CI_TOOLS_PYTHON, when set in the job's environment, names a Python that already has them (a
# runner image that ships them, or the tests): nothing is installed then.
#
# Nothing of the caller's checkout runs here (the step starts in it, and it holds the pull
# request's files): every Python is started isolated (-I: no PYTHON* variables, no user site, no
# working directory on sys.path) from a fresh empty directory, venv and pip included, and pip
# installs hash-pinned wheels only, so no setup.py or build backend ever runs.
set -euo pipefail

out="${GITHUB_OUTPUT:-/dev/stdout}"
action_path="${GITHUB_ACTION_PATH:-$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)}"
python="${CI_TOOLS_PYTHON:-}"
if [ -n "$python" ] && [ "${python#/}" = "$python" ] && [ "${python#*/}" != "$python" ]; then
  python="$PWD/$python" # a relative path names a file of the workspace; resolve it before leaving it
fi
neutral="$(mktemp -d)"
trap 'rm -rf "$neutral"' EXIT
cd "$neutral"

if [ -z "$python" ]; then
  if ! python3 -I -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "::error title=pr-hygiene::Python 3.11 or later must be on PATH; add actions/setup-python before this action"
    echo "failure-reason=install-failed" >>"$out"
    exit 1
  fi
  venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ci-tools-pr-hygiene"
  if ! python3 -I -m venv "$venv" \
     || ! "$venv/bin/python" -I -m pip install --quiet --disable-pip-version-check --no-input --require-hashes \
          --only-binary :all: -r "$action_path/requirements.txt"; then
    echo "::error title=pr-hygiene::installing ci-tools' dependencies into $venv failed; see pip's message above"
    echo "failure-reason=install-failed" >>"$out"
    exit 1
  fi
  python="$venv/bin/python"
fi
if ! "$python" -I -c 'import yaml, jsonschema_rs, detect_secrets' 2>/dev/null; then
  echo "::error title=pr-hygiene::$python lacks ci-tools' dependencies (PyYAML, jsonschema-rs, detect-secrets)"
  echo "failure-reason=install-failed" >>"$out"
  exit 1
fi
echo "python=$python" >>"$out"
