"""The metrics cache: what GitHub can no longer change is kept for good; a warm run asks only for what is new.

A completed run attempt never changes, nor does an artifact: the cache keeps every run listed once
completed (its jobs and steps once read), every artifact's test results (or why it was skipped), and,
per repository, the stretch of creation times whose runs have all been listed (``listed``) and the
stretch of artifacts read (``artifacts``). A warm run then lists only the runs created after that
stretch (from a few minutes before its end, and from the oldest run that was still in progress), and
the artifacts newer than the last read: on an unchanged repository, one request for the runs and one
for the artifacts. A run re-run later keeps its creation time; it is read again when a listing shows
it with a higher attempt, which is why the listing starts at the oldest run in progress.

Layout: ``<cache>/metrics/v1/<hash of API URL and token presence>/<owner>/<repo>/``, with
``state.json`` and ``segment-*.json`` files; each pass writes one new segment (one atomic write, not
one per run) and segments are merged into one past :data:`MAX_SEGMENTS`. A segment that cannot be
read (or holds values of the wrong types: a cache can be restored from elsewhere) is ignored, never
trusted in part, and the listing state with it: everything is listed again and the runs it held are
fetched again. Everything written is data read from the API: no token, no header.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from ci_tools.core.fsutil import atomic_write_bytes
from ci_tools.metrics.model import Run, TestReport

VERSION = "v1"
MAX_SEGMENTS = 12
MAX_EXPORTED = 50_000  # runs remembered per collector
OVERLAP = 300.0  # seconds re-listed before the end of the listed stretch: runs appear in the API late


class MetricsCache:
    def __init__(self, directory: Path, namespace: str) -> None:
        self.root = Path(directory) / "metrics" / VERSION / hashlib.sha256(namespace.encode()).hexdigest()[:16]

    def repo(self, name: str) -> RepoCache:
        owner, short = name.lower().split("/", 1)
        return RepoCache(self.root / _safe(owner) / _safe(short), name)


def _safe(part: str) -> str:
    """A repository name as one directory name (GitHub's names are [A-Za-z0-9._-], but never trust that)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "_" for ch in part)
    return cleaned if cleaned not in ("", ".", "..") else "_" + hashlib.sha256(part.encode()).hexdigest()[:8]


class RepoCache:
    """The cached runs, artifacts and listing state of one repository."""

    def __init__(self, path: Path | None, name: str) -> None:
        self.path = path  # None: kept in memory only (``--no-cache``)
        self.name = name
        self.runs: dict[int, Run] = {}  # completed runs (jobs read or not: ``jobs_read``)
        self.jobs_read: set[int] = set()
        self.artifacts: dict[int, dict] = {}  # id -> {"name", "run_id", "created", "expired", "skip"?, "report"?}
        self.state: dict = {}
        self.new_runs: dict[int, Run] = {}
        self.new_artifacts: dict[int, dict] = {}
        self.segments: list[Path] = []

    # ------------------------------------------------------------------ reading
    def load(self) -> RepoCache:
        if self.path is None:
            return self
        try:
            state = json.loads((self.path / "state.json").read_text("utf-8"))
            self.state = state if isinstance(state, dict) and state.get("version") == 1 else {}
        except (OSError, ValueError):
            self.state = {}
        try:
            self.segments = sorted(self.path.glob("segment-*.json"))
        except OSError:
            self.segments = []
        damaged = False
        for segment in self.segments:
            try:
                data = json.loads(segment.read_text("utf-8"))
                runs = {int(k): (Run.from_cache(self.name, v), bool(v.get("jobs_read"))) for k, v in data["runs"].items()}
                artifacts = {int(k): _check_artifact(v) for k, v in data["artifacts"].items()}
            except (OSError, ValueError, KeyError, TypeError, AttributeError):
                damaged = True  # unreadable: its runs are fetched again
                continue
            for run_id, (run, read) in runs.items():
                self.runs[run_id] = run
                if read:
                    self.jobs_read.add(run_id)
                else:
                    self.jobs_read.discard(run_id)
            self.artifacts.update(artifacts)
        if damaged:
            self.state = {}  # what was listed is no longer all here: list it again
        return self

    def interval(self, key: str) -> tuple[float, float] | None:
        """The stretch ``[from, to]`` of creation times fully listed for ``key`` (``listed``, ``artifacts``)."""
        value = self.state.get(key)
        if isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value):
            return float(value[0]), float(value[1])
        return None

    def report(self, artifact_id: int) -> TestReport | None:
        entry = self.artifacts.get(artifact_id) or {}
        return TestReport.from_cache(entry["report"]) if "report" in entry else None

    # ------------------------------------------------------------------ writing
    def put_run(self, run: Run, jobs_read: bool) -> None:
        self.runs[run.id] = run
        self.new_runs[run.id] = run
        if jobs_read:
            self.jobs_read.add(run.id)

    def put_artifact(self, artifact_id: int, entry: dict) -> None:
        self.artifacts[artifact_id] = entry
        self.new_artifacts[artifact_id] = entry

    def save(self, state: dict) -> None:
        """Write this pass's runs and artifacts as one segment, then the state; merge segments past the limit."""
        if self.path is None:
            self.new_runs, self.new_artifacts = {}, {}
            return
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            if self.new_runs or self.new_artifacts:
                name = f"segment-{time.time_ns():020d}-{os.getpid()}.json"
                atomic_write_bytes(self.path / name, self._segment(self.new_runs, self.new_artifacts))
                self.segments.append(self.path / name)
            if len(self.segments) > MAX_SEGMENTS:
                name = f"segment-{time.time_ns():020d}-{os.getpid()}-merged.json"
                atomic_write_bytes(self.path / name, self._segment(self.runs, self.artifacts))
                for old in self.segments:
                    try:
                        old.unlink()
                    except OSError:
                        pass
                self.segments = [self.path / name]
            atomic_write_bytes(self.path / "state.json", json.dumps({"version": 1, **state}).encode())
        except OSError:
            pass  # a read-only cache only costs requests
        self.new_runs, self.new_artifacts = {}, {}

    # ------------------------------------------------------------------ what went to which collector
    def exported(self, endpoint_key: str) -> dict[str, int]:
        """Run id -> attempt of the runs whose traces went to the endpoint (``endpoint_key``: its hash)."""
        if self.path is None:
            return {}
        try:
            data = json.loads((self.path / f"exported-{_safe(endpoint_key)}.json").read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {str(k): v for k, v in data.items() if isinstance(v, int) and not isinstance(v, bool)}

    def mark_exported(self, endpoint_key: str, done: dict[str, int]) -> None:
        if self.path is None:
            return
        merged = {**self.exported(endpoint_key), **done}
        newest = sorted(merged, key=lambda k: int(k) if k.isdigit() else 0)[-MAX_EXPORTED:]
        try:
            self.path.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(self.path / f"exported-{_safe(endpoint_key)}.json",
                               json.dumps({k: merged[k] for k in newest}, separators=(",", ":")).encode())
        except OSError:
            pass

    def _segment(self, runs: dict[int, Run], artifacts: dict[int, dict]) -> bytes:
        return json.dumps({"runs": {str(i): {**r.to_cache(), "jobs_read": i in self.jobs_read} for i, r in runs.items()},
                           "artifacts": {str(i): a for i, a in artifacts.items()}},
                          separators=(",", ":")).encode()


def _check_artifact(entry: object) -> dict:
    if not isinstance(entry, dict) or not isinstance(entry.get("run_id"), int) or not isinstance(entry.get("name"), str):
        raise ValueError("artifact entry")
    if "report" in entry:
        TestReport.from_cache(entry["report"])
    return entry
