"""Which files a command reads: the repository's defaults, or explicit paths, minus exclusions."""

from __future__ import annotations

import fnmatch
import os
from pathlib import Path

from ci_tools.gha.source import KIND_OTHER, classify

SKIP_DIRS = {".git", ".venv", "venv", "node_modules", "__pycache__", ".tox", ".mypy_cache", ".pytest_cache"}
YAML_SUFFIXES = (".yml", ".yaml")


class DiscoveryError(Exception):
    pass


def default_files(root: Path) -> list[Path]:
    """The files ``ci-tools check`` reads with no arguments."""
    files: list[Path] = []
    workflows = root / ".github" / "workflows"
    if workflows.is_dir():
        files += sorted(p for p in workflows.iterdir() if p.suffix in YAML_SUFFIXES and p.is_file())
    for name in ("dependabot.yml", "dependabot.yaml"):
        if (root / ".github" / name).is_file():
            files.append(root / ".github" / name)
    templates = root / "workflow-templates"
    if templates.is_dir():
        files += sorted(p for p in templates.iterdir()
                        if p.is_file() and (p.suffix in YAML_SUFFIXES or p.name.endswith(".properties.json")))
    files += _action_files(root)
    return _unique(files)


def _action_files(root: Path) -> list[Path]:
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for name in ("action.yml", "action.yaml"):
            if name in filenames:
                found.append(Path(dirpath) / name)
    return found


def check_path(path: Path) -> None:
    """Raise DiscoveryError for a path named on the command line that cannot be read: missing, or a
    symbolic link loop (which ``Path.resolve`` would turn into a RuntimeError)."""
    import errno

    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise DiscoveryError(f"{path}: symbolic link loop") from None
        if exc.errno == errno.ENOENT:
            raise DiscoveryError(f"{path}: no such file or directory") from None
        raise DiscoveryError(f"{path}: {exc.strerror or exc}") from None


def nothing_to_check(paths: list[Path], root: Path, excluded_some: bool) -> str:
    """The message for a command that found no file to read: what it looked for, and where."""
    where = ", ".join(f'"{p}"' for p in paths) if paths else str(root)
    tail = " (every file found is excluded by --exclude or the configured exclude)" if excluded_some else ""
    return (f"nothing to check: no workflow, composite action, starter workflow or Dependabot file in {where}"
            f"{tail}; run it from the repository or name the files")


def expand(paths: list[Path], root: Path) -> list[Path]:
    """Explicit file and directory arguments: directories are walked for YAML and properties files."""
    files: list[Path] = []
    for path in paths:
        check_path(path)
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
                for name in sorted(filenames):
                    if name.endswith(YAML_SUFFIXES) or name.endswith(".properties.json"):
                        found = Path(dirpath) / name
                        if classify(found) != KIND_OTHER:  # other YAML in a directory is not ours to check
                            files.append(found)
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            raise DiscoveryError(f"{path}: no such file or directory")
    return _unique(files)


def excluded(path: Path, root: Path, patterns: list[str]) -> bool:
    if not patterns:
        return False
    try:
        rel = Path(os.path.realpath(path)).relative_to(os.path.realpath(root)).as_posix() if path.is_absolute() \
            else path.as_posix()
    except ValueError:
        rel = path.as_posix()
    rel = rel.removeprefix("./")
    return any(fnmatch.fnmatch(rel, pat) or fnmatch.fnmatch(rel, pat.rstrip("/") + "/*")
               or fnmatch.fnmatch(path.name, pat) for pat in patterns)


def _unique(files: list[Path]) -> list[Path]:
    seen: set[str] = set()
    out = []
    for f in files:
        key = os.path.normpath(str(f))
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out


def find_root(start: Path) -> Path:
    """The repository root: the nearest directory with ``.git``, else ``start``."""
    start = start.resolve()
    for candidate in (start, *start.parents):
        if (candidate / ".git").exists():
            return candidate
    return start
