#!/usr/bin/env bash
# Step "install" of actions/pr-hygiene: a Python with ci-tools' run-time dependencies, written as
# the step output "python". ci-tools itself runs from this repository's scripts/ (no build).
#
# CI_TOOLS_PYTHON, when set in the job's environment, names a Python that already has them (a
# runner image that ships them, or the tests): nothing is installed then.
set -euo pipefail

out="${GITHUB_OUTPUT:-/dev/stdout}"
if [ -n "${CI_TOOLS_PYTHON:-}" ]; then
  python="$CI_TOOLS_PYTHON"
else
  if ! python3 -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    echo "::error title=pr-hygiene::Python 3.11 or later must be on PATH; add actions/setup-python before this action"
    echo "failure-reason=install-failed" >>"$out"
    exit 1
  fi
  venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ci-tools-pr-hygiene"
  if ! python3 -m venv "$venv" \
     || ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes \
          -r "$GITHUB_ACTION_PATH/requirements.txt"; then
    echo "::error title=pr-hygiene::installing ci-tools' dependencies into $venv failed; see pip's message above"
    echo "failure-reason=install-failed" >>"$out"
    exit 1
  fi
  python="$venv/bin/python"
fi
if ! "$python" -c 'import yaml, jsonschema_rs, detect_secrets' 2>/dev/null; then
  echo "::error title=pr-hygiene::$python lacks ci-tools' dependencies (PyYAML, jsonschema-rs, detect-secrets)"
  echo "failure-reason=install-failed" >>"$out"
  exit 1
fi
echo "python=$python" >>"$out"
