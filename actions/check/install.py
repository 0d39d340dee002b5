"""Step "install" of actions/check: a Python that can run ci-tools, written as the step output ``python``.

ci-tools itself runs from this repository's ``scripts/`` at the action's own commit (the caller
pinned that commit, so that is the code that runs; nothing is built). Its run-time dependencies
come from ``requirements.txt`` beside this file, every one checked against its hash
(``pip install --require-hashes --only-binary :all:``), into a virtual environment at
``$RUNNER_TEMP/ci-tools-venv``. A second call in the same job reuses that environment when it was
built from the same ``requirements.txt`` (its SHA-256 is stored inside it) by the same Python.

``CI_TOOLS_PYTHON``, when set in the job's environment, names a Python that already has the
dependencies (a runner image that ships them, or the tests): nothing is installed then. Either way
the result is proven by running ``ci-tools --version`` before the step succeeds.

Nothing of the caller's checkout runs (the step's working directory is the checkout, a pull
request's files): every Python started here is isolated (``-I``: no ``PYTHON*`` variables, no user
site, no working directory on ``sys.path``) and starts in a fresh empty directory, venv and pip
included, and pip installs wheels only (``--only-binary :all:``), so no ``setup.py`` or build
backend ever runs.

Failure reasons: ``python-unavailable`` (Python older than 3.11), ``install-failed``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "_lib"))
import actionkit  # noqa: E402

REPOSITORY = HERE.parent.parent
LAUNCHER = HERE.parent / "_lib" / "run_ci_tools.py"
REQUIREMENTS = HERE / "requirements.txt"
KEY_FILE = "ci-tools-requirements.sha256"


def run() -> None:
    python = actionkit.env("CI_TOOLS_PYTHON")
    if python:
        print(f"Using CI_TOOLS_PYTHON={python}; nothing to install")
    else:
        python = str(_venv())
    version = _smoke(python)
    print(f"ci-tools {version} from {REPOSITORY / 'scripts'}")
    actionkit.set_output("python", python)
    actionkit.set_output("version", version)


def _key() -> str:
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    return f"{digest} python{sys.version_info[0]}.{sys.version_info[1]}\n"


def _venv() -> Path:
    if sys.version_info < (3, 11):  # noqa: UP036 - the runner's python3 may be older than ci-tools' floor
        raise actionkit.ActionFailure(
            "python-unavailable",
            f"ci-tools needs Python 3.11 or later, python3 on PATH is {sys.version.split()[0]}; "
            "add actions/setup-python before this action")
    temp = Path(os.environ.get("RUNNER_TEMP") or os.environ.get("TMPDIR") or "/tmp")
    venv = temp / "ci-tools-venv"
    python = venv / "bin" / "python"
    key = _key()
    stored = venv / KEY_FILE
    if python.exists() and stored.is_file() and stored.read_text(encoding="utf-8") == key:
        print(f"Reusing {venv} (built from the same requirements.txt)")
        return python
    if venv.is_symlink() or venv.is_file():
        venv.unlink()
    elif venv.exists():
        shutil.rmtree(venv)
    _run([sys.executable, "-I", "-m", "venv", str(venv)], "cannot create a virtual environment")
    _run([str(python), "-I", "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-input",
          "--require-hashes", "--only-binary", ":all:", "-r", str(REQUIREMENTS)],
         "pip could not install ci-tools' dependencies (hash-pinned in actions/check/requirements.txt)")
    stored.write_text(key, encoding="utf-8")
    return python


def _run(command: list[str], what: str) -> None:
    print("+ " + " ".join(command), flush=True)
    with tempfile.TemporaryDirectory(prefix="ci-tools-install-") as neutral:
        done = subprocess.run(command, cwd=neutral, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              errors="replace")
    sys.stdout.write(done.stdout)
    if done.returncode != 0:
        last = next((line.strip() for line in reversed(done.stdout.splitlines()) if line.strip()), "")
        raise actionkit.ActionFailure("install-failed", f"{what} (exit {done.returncode}): {last}"[:400])


def _smoke(python: str) -> str:
    try:
        with tempfile.TemporaryDirectory(prefix="ci-tools-install-") as neutral:
            done = subprocess.run([python, "-I", str(LAUNCHER), "--version"], cwd=neutral, capture_output=True,
                                  text=True, errors="replace", timeout=120)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise actionkit.ActionFailure("install-failed", f"cannot run ci-tools with {python}: {exc}") from None
    if done.returncode != 0:
        last = next((line.strip() for line in reversed(done.stderr.splitlines()) if line.strip()), "no output")
        raise actionkit.ActionFailure("install-failed", f"{python} cannot run ci-tools: {last}"[:400])
    return done.stdout.strip().removeprefix("ci-tools ").strip()


if __name__ == "__main__":
    actionkit.main(run)
