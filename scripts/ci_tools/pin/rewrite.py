"""Writing a plan: the fixes applied back to front on each file's text, every file or none, or a unified diff.

Rewrites keep the file: quotes, indentation, other comments, CRLF, BOM, the final newline and the
file mode (:mod:`ci_tools.core.fsutil` writes them).
"""

from __future__ import annotations

import sys
from pathlib import Path

from ci_tools.core.findings import Fix, apply_fixes
from ci_tools.gha.source import Document
from ci_tools.pin.plan import Plan


def new_bytes(doc: Document, fixes: list[Fix]) -> bytes:
    text = apply_fixes(doc.text, fixes)
    return (("\ufeff" if doc.bom else "") + text).encode("utf-8")


def write(docs: list[Document], plan: Plan, *, diff: bool = False, out=None) -> list[str]:
    """Apply the plan: every new text is computed first, then every file is written or none is
    (:func:`ci_tools.core.fsutil.write_all`; its :class:`~ci_tools.core.fsutil.WriteError` says what became of the
    tree). With ``diff`` a unified diff goes to ``out`` and nothing is written. Returns the changed paths.
    """
    from ci_tools.core.fsutil import write_all

    by_display = {d.display: d for d in docs}
    pending: list[tuple[Document, bytes]] = []
    for display, fixes in plan.fixes.items():
        doc = by_display[display]
        data = new_bytes(doc, _dedupe(fixes))
        original = (("\ufeff" if doc.bom else "") + doc.text).encode("utf-8")
        if data != original:
            pending.append((doc, data))
    out = out or sys.stdout
    if diff:
        for doc, data in pending:
            new = data.decode("utf-8").removeprefix("\ufeff")
            out.write(unified_diff(doc.text, new, f"a/{doc.display}", f"b/{doc.display}"))
    else:
        write_all([(Path(doc.path), data, doc.display) for doc, data in pending])
    return [doc.display for doc, _ in pending]


def unified_diff(old_text: str, new_text: str, old_name: str, new_name: str, context: int = 3) -> str:
    """A unified diff of two texts, in one pass over their lines.

    A pin rewrites spans inside lines and never adds or removes a line break, so the lines pair up one to
    one and the hunks are the runs of changed lines with ``context`` lines around them, merged when the
    lines between two runs are fewer than twice the context: what :func:`difflib.unified_diff` prints, at
    a cost linear in the file (difflib's matcher grows with the square of the lines that change, 118 s for
    18,000 of them). A last line without a line break is marked as ``git apply`` expects. Texts whose lines
    do not pair up fall back to difflib.
    """
    import difflib

    old = old_text.splitlines(keepends=True)
    new = new_text.splitlines(keepends=True)
    if len(old) != len(new):
        return "".join(difflib.unified_diff(old, new, old_name, new_name, n=context))
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    if not changed:
        return ""
    groups: list[list[int]] = [[changed[0]]]
    for i in changed[1:]:
        if i - groups[-1][-1] - 1 > 2 * context:
            groups.append([i])
        else:
            groups[-1].append(i)
    out = [f"--- {old_name}\n", f"+++ {new_name}\n"]
    last = len(old) - 1
    for group in groups:
        start, stop = max(0, group[0] - context), min(len(old), group[-1] + context + 1)
        span = _range(start, stop)
        out.append(f"@@ -{span} +{span} @@\n")
        runs: list[list[int]] = []  # consecutive changed lines: their old lines, then their new ones
        for j in group:
            if runs and j == runs[-1][-1] + 1:
                runs[-1].append(j)
            else:
                runs.append([j])
        i = start
        for run in runs:
            out.extend(" " + _eol(old[k], k == last) for k in range(i, run[0]))
            out.extend("-" + _eol(old[k], k == last) for k in run)
            out.extend("+" + _eol(new[k], k == last) for k in run)
            i = run[-1] + 1
        out.extend(" " + _eol(old[k], k == last) for k in range(i, stop))
    return "".join(out)


def _range(start: int, stop: int) -> str:
    length = stop - start
    return str(start + 1) if length == 1 else f"{start + 1 if length else start},{length}"


def _eol(line: str, last: bool) -> str:
    if last and not line.endswith(("\n", "\r")):
        return line + "\n\\ No newline at end of file\n"
    return line


def _dedupe(fixes: list[Fix]) -> list[Fix]:
    seen, out = set(), []
    for fix in fixes:
        if (fix.start, fix.end, fix.replacement) not in seen:
            seen.add((fix.start, fix.end, fix.replacement))
            out.append(fix)
    return out
