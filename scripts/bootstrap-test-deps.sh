#!/usr/bin/env bash
# What the test suite needs besides .venv, installed before pytest starts (`make test` runs this;
# `make test-deps` alone too). Every download of the suite happens here, never inside a test:
#
# - the system tools the tests run for real: git, docker-registry, skopeo, buildah, gpg, openssl,
#   node and npm. Missing ones are installed with apt when this runs as root on a system with
#   apt-get; otherwise it stops at once and prints the one command that installs them;
# - release-please from npm (`npm ci` from tests/npm's lock file into .cache/npm: versions and
#   integrity hashes pinned; tests/support/npm_release_please.py);
# - the wheels of the act tests' service repository for each Python its matrix names
#   (`pip download --require-hashes` into .cache/wheels; tests/support/wheelhouse.py).
#
# Each step checks first and does nothing when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-.venv/bin/python}"

# tool -> Debian package
declare -A PACKAGE=(
  [git]=git [docker-registry]=docker-registry [skopeo]=skopeo [buildah]=buildah
  [gpg]=gpg [gpgconf]=gpgconf [openssl]=openssl [node]=nodejs [npm]=npm
)
missing=()
for tool in git docker-registry skopeo buildah gpg gpgconf openssl node npm; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("${PACKAGE[$tool]}")
done
if [ ${#missing[@]} -gt 0 ]; then
  # shellcheck disable=SC2207 # package names have no spaces
  packages=($(printf '%s\n' "${missing[@]}" | sort -u))
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap-test-deps: installing ${packages[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
  else
    echo "bootstrap-test-deps: the tests need ${packages[*]}; install them with:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${packages[*]}" >&2
    exit 1
  fi
fi

mkdir -p .cache
exec 9>.cache/.bootstrap.lock  # two bootstraps at once (two checkouts' `make test`...) take turns
flock 9 2>/dev/null || true

if ! cmp -s tests/npm/package-lock.json .cache/npm/package-lock.json \
   || [ ! -f .cache/npm/node_modules/release-please/build/src/commit.js ]; then
  echo "bootstrap-test-deps: npm ci (release-please) into .cache/npm" >&2
  mkdir -p .cache/npm
  cp tests/npm/package.json tests/npm/package-lock.json .cache/npm/
  npm ci --silent --no-audit --no-fund --prefix .cache/npm >/dev/null
fi

# the Pythons of workflow-templates/python-ci.yml's matrix (tests/workflows/conftest.py: SERVICE_PYTHONS)
"$PYTHON" tests/support/wheelhouse.py 3.11 3.12 3.13 >/dev/null
