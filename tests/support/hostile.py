"""A pull request's checkout that tries to get its own Python run by the tools that inspect it.

Every file here, when Python imports or runs it, appends its name to a marker file (with ``os.write``
on a raw descriptor, which works even while Python is still starting, so that a shadowed
``encodings`` is seen too) and then does what would turn a gate green: ``ci_tools/__main__.py``
prints a version and exits 0, ``pip`` and ``venv`` "succeed" without doing anything.

:func:`plant` lays the files into a directory (usually the root of a checkout); :func:`hostile_env`
is the environment a caller (or an earlier step writing ``GITHUB_ENV``) could leave behind to bring
those files onto ``sys.path`` or into site processing. :func:`ran` reads which of them ran.
"""

from __future__ import annotations

from pathlib import Path

PYTHON_VERSIONS = [f"3.{minor}" for minor in range(8, 16)]


def _mark(marker: Path, name: str, then: str = "") -> str:
    return (f"import os as _os\n"
            f"_fd = _os.open({str(marker)!r}, _os.O_WRONLY | _os.O_CREAT | _os.O_APPEND, 0o644)\n"
            f"_os.write(_fd, {(name + chr(10)).encode()!r})\n"
            f"_os.close(_fd)\n{then}")


EXIT_0 = "import sys as _sys\nprint('ci-tools 0.0.0')\n_sys.exit(0)\n"


def plant(root: Path, marker: Path, *, encodings: bool = True) -> dict[str, str]:
    """Write the hostile files under ``root``; returns them (relative path -> text), for a commit.

    ``encodings=False`` leaves out the shadowed ``encodings`` package: with it on ``PYTHONPATH`` a
    Python that honours the variable dies at start-up, before it could reach the other files."""
    files = {
        # the gates' own package, first on sys.path when the checkout is the working directory of `-m`
        "ci_tools/__init__.py": _mark(marker, "ci_tools/__init__.py"),
        "ci_tools/__main__.py": _mark(marker, "ci_tools/__main__.py", EXIT_0),
        "ci_tools/cli.py": _mark(marker, "ci_tools/cli.py", "def entry():\n    raise SystemExit(0)\n"),
        # ci-tools' dependencies and the import probe
        "yaml.py": _mark(marker, "yaml.py"),
        "jsonschema_rs.py": _mark(marker, "jsonschema_rs.py"),
        "detect_secrets/__init__.py": _mark(marker, "detect_secrets/__init__.py"),
        # the standard library, imported lazily by the scripts
        "json.py": _mark(marker, "json.py"),
        "subprocess.py": _mark(marker, "subprocess.py"),
        "tomllib.py": _mark(marker, "tomllib.py"),
        # site processing
        "sitecustomize.py": _mark(marker, "sitecustomize.py"),
        "usercustomize.py": _mark(marker, "usercustomize.py"),
        "encodings/__init__.py": _mark(marker, "encodings/__init__.py"),
        # the install: venv (and ensurepip inside it), pip
        "venv/__init__.py": _mark(marker, "venv/__init__.py"),
        "venv/__main__.py": _mark(marker, "venv/__main__.py", EXIT_0),
        "ensurepip/__init__.py": _mark(marker, "ensurepip/__init__.py"),
        "ensurepip/__main__.py": _mark(marker, "ensurepip/__main__.py", EXIT_0),
        "pip/__init__.py": _mark(marker, "pip/__init__.py"),
        "pip/__main__.py": _mark(marker, "pip/__main__.py", EXIT_0),
        # a project pip would build if it were ever asked to install "."
        "setup.py": _mark(marker, "setup.py"),
        "backend.py": _mark(marker, "backend.py"),
        "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "backend"\nbackend-path = ["."]\n\n'
                          '[project]\nname = "hostile"\nversion = "0"\n',
        # pip's configuration files by their usual names: pip must read none of them from here
        "pip.conf": "[global]\nno-binary = :all:\nrequire-hashes = false\nindex-url = http://127.0.0.1:9/simple\n",
        "pip.ini": "[global]\nno-binary = :all:\nindex-url = http://127.0.0.1:9/simple\n",
    }
    if not encodings:
        del files["encodings/__init__.py"]
    # a .pth file in a user site directory runs its import lines at every start of Python
    for version in PYTHON_VERSIONS:
        files[f"userbase/lib/python{version}/site-packages/hostile.pth"] = (
            "import os; _fd = os.open(" + repr(str(marker)) + ", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644); "
            "os.write(_fd, b'hostile.pth\\n'); os.close(_fd)\n")
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return files


def hostile_env(root: Path) -> dict[str, str]:
    """Variables that bring ``root``'s files into any Python that honours the environment."""
    return {"PYTHONPATH": str(root), "PYTHONUSERBASE": str(root / "userbase")}


def ran(marker: Path) -> list[str]:
    """The hostile files that ran, in order (empty when none did)."""
    return marker.read_text(encoding="utf-8").splitlines() if marker.exists() else []
