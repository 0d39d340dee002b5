#!/usr/bin/env bash
# Step "install" of actions/pipeline-metrics: a Python with what `ci-tools metrics` imports, written as
# the step output "python". ci-tools itself runs from this repository's scripts/ (no build).
#
# CI_TOOLS_PYTHON, when set in the job's environment, names a Python that already has them (a
# runner image that ships them, or the tests): nothing is installed then.
set -euo pipefail

out="${GITHUB_OUTPUT:-/dev/stdout}"
fail() {
  echo "::error title=install-failed::$1"
  echo "failure-reason=install-failed" >>"$out"
  exit 1
}
if [ -n "${CI_TOOLS_PYTHON:-}" ]; then
  python="$CI_TOOLS_PYTHON"
else
  if ! python3 -I -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    fail "Python 3.11 or later must be on PATH; add actions/setup-python before this action"
  fi
  venv="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/ci-tools-pipeline-metrics"
  if ! python3 -I -m venv "$venv" \
     || ! "$venv/bin/python" -I -m pip install --quiet --disable-pip-version-check --no-input --require-hashes \
          --only-binary :all: -r "$GITHUB_ACTION_PATH/requirements.txt"; then
    fail "installing ci-tools' dependencies into $venv failed; see pip's message above"
  fi
  python="$venv/bin/python"
fi
if ! "$python" -I -c 'import requests, yaml, opentelemetry.proto.trace.v1.trace_pb2' 2>/dev/null; then
  fail "$python lacks what ci-tools metrics needs (requests, PyYAML, opentelemetry-proto)"
fi
echo "python=$python" >>"$out"
