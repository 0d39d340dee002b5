"""What ``ci-tools secrets`` reports of a scan (:func:`ci_tools.hygiene.secrets.scan_range`): its
findings, the notes on the policy the pull request changes, and the line that says what was scanned.

The value of a secret never appears: a finding names the file, the line and the secret's type.
"""

from __future__ import annotations

from pathlib import Path

from ci_tools.core.config import Config, key_line
from ci_tools.core.findings import Finding, Location, Severity
from ci_tools.hygiene.secrets import Scanned, ScanResult

CHECK_ID = "secret"
POLICY_ID = "policy-change"


def policy(config: Config) -> tuple:
    """What of a configuration decides the scan: ``[tool.ci-tools.secrets]`` and ``checks.secret``."""
    return (config.raw.get("secrets") or {}, config.raw.get("checks", {}).get(CHECK_ID) or {})


def config_note(root: Path, base: Config, head: Config, base_sha: str) -> Finding | None:
    """A note when the pull request changes the scan's configuration (the base's applies)."""
    if policy(base) == policy(head):
        return None
    source = head.source or base.source
    path = source.relative_to(root).as_posix() if source else "pyproject.toml"
    line = (key_line(source, ["secrets"]) or key_line(source, ["checks", CHECK_ID]) or 1) if source else 1
    return Finding(POLICY_ID, Severity.NOTE,
                   'the pull request changes the secret scan\'s configuration ("[tool.ci-tools.secrets]" '
                   'or "[tool.ci-tools.checks.secret]"); this scan used the base\'s '
                   f"({base_sha[:12]}), the change applies once it is merged",
                   Location(path, line, 1, line, 2))


def findings(result: ScanResult) -> list[Finding]:
    """An error per secret on an added line, a note per secret the pull request adds to the baseline."""
    baseline = result.baseline
    where = f'add it to {baseline}' if baseline else "record it in a .secrets.baseline"
    out = [
        Finding(CHECK_ID, Severity.ERROR,
                f'the added line holds a possible secret ({hit.type}); remove it and rotate the credential '
                f'if it is real; if it is not a secret, end the line with a "pragma: allowlist secret" comment '
                f"or {where} (detect-secrets scan --baseline)",
                Location(hit.path, hit.line, hit.col, hit.line, hit.end_col))
        for hit in result.hits
    ]
    out += [
        Finding(CHECK_ID, Severity.NOTE,
                f'the pull request adds a secret ({a.type}) in "{a.filename}" to the baseline; a reviewer should '
                "confirm it is not a real one before approving",
                Location(a.baseline, a.line, a.col, a.line, a.end_col))
        for a in result.additions
    ]
    return out


def settings_note(result: ScanResult, explicit_baseline: bool) -> Finding | None:
    """A note when the pull request adds the baseline or changes its plugins or filters (the base's apply)."""
    baseline = result.baseline
    if not (result.settings_changed and baseline):
        return None
    what = (f"adds {baseline}" if result.settings.data is None and not explicit_baseline
            else f"changes the plugins or filters of {baseline}")
    return Finding(POLICY_ID, Severity.NOTE,
                   f"the pull request {what}; this scan used {result.settings.source}, its plugins and "
                   "filters apply once it is merged",
                   Location(baseline, 1, 1, 1, 2))


def scanned_text(scanned: Scanned, baseline: str | None) -> str:
    """``N added lines in M files scanned (baseline B); not scanned: ...``, for people."""
    lines, files = scanned.lines, scanned.files
    done = (f"{lines} added line{'s' if lines != 1 else ''} in {files} file{'s' if files != 1 else ''} scanned"
            + (f" (baseline {baseline})" if baseline else ""))
    skipped = [f"{len(names)} {what}{'s' if len(names) != 1 else ''} ({_names(names)})"
               for names, what in ((scanned.binary, "binary file"),
                                   (scanned.filtered, "file excluded by detect-secrets' file-name filters"))
               if names]
    if skipped:
        done += "; not scanned: " + ", ".join(skipped)
    return done


def _names(paths: list[str], shown: int = 5) -> str:
    names = ", ".join(f'"{p}"' for p in paths[:shown])
    return names + (f" and {len(paths) - shown} more" if len(paths) > shown else "")
