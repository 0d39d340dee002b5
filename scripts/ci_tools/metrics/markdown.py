"""The Markdown report: tables and Mermaid charts (``xychart-beta``, ``pie``) that GitHub renders in a job
summary, an issue or a file.

Every name in it comes from the repository's users (workflow, job, step and test names, branch names,
pull request titles): a pull request can make any of them Markdown, HTML, a Mermaid directive, an
@-mention or a control character. So every such value passes through :func:`text` (cells and prose:
HTML escaped, ASCII punctuation backslash-escaped, mentions and issue references broken with a
zero-width space, control, format and bidirectional characters replaced, long values cut) or
:func:`label` (inside a Mermaid block: letters, digits and ``-_./:()+,`` only); links are written only
for ``https://`` URLs made of safe characters (:func:`link`). Nothing user-supplied is placed in a
code span or fence.
"""

from __future__ import annotations

import math
import re
import unicodedata

from ci_tools.metrics.timeutil import api_time, short_day

ROWS = 15  # rows of each long table; the JSON has them all
_SAFE_URL = re.compile(r"https://[A-Za-z0-9.-]+(?::\d+)?(?:/[A-Za-z0-9._~!$&'*+,;=:@%/-]*)?"
                       r"(?:\?[A-Za-z0-9._~!$&'*+,;=:@%/?-]*)?\Z")
# what can start Markdown inline syntax mid-line (emphasis, code, links, images, tables, strikethrough, math,
# autolinks); line-start syntax (lists, headings) cannot occur: values never start a line
_PUNCTUATION = set("\\`*_[]|~!$:")


def text(value: object, limit: int = 120) -> str:
    raw = "" if value is None else str(value)
    raw = raw.replace("\r\n", " ").replace("\n", " ").replace("\r", " ").replace("\t", " ")
    if len(raw) > limit:
        raw = raw[: limit - 1] + "…"
    out = []
    for ch in raw:
        if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"):
            out.append("\ufffd")
        elif ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append("&gt;")
        elif ch == "@":
            out.append("@&#8203;")  # no @-mention
        elif ch == "#":
            out.append("#&#8203;")  # no issue reference
        elif ch in _PUNCTUATION:
            out.append("\\" + ch)
        else:
            out.append(ch)
    return "".join(out)


def plain(value: object) -> str:
    """One line for a terminal or a log: control and format characters (escape sequences, new lines that
    would start a workflow command) replaced."""
    return "".join(ch if ch.isprintable() else "?" for ch in str(value))


def label(value: object, limit: int = 32) -> str:
    """A value for inside a Mermaid block (always within double quotes there)."""
    cleaned = "".join(ch if (ch.isalnum() and ch.isprintable()) or ch in " -_./:()+," else " " for ch in str(value))
    cleaned = " ".join(cleaned.split())
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1].rstrip() + "…"
    return cleaned or "?"


def link(caption: str, url: object) -> str:
    """``[caption](url)`` for a safe https URL; the caption alone otherwise. ``caption`` is already escaped."""
    if isinstance(url, str) and _SAFE_URL.match(url) and "(" not in url and ")" not in url:
        return f"[{caption}]({url})"
    return caption


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "–"
    if seconds < 10 and seconds != int(seconds):
        return f"{seconds:.1f}s" if seconds >= 0.1 else f"{seconds * 1000:.0f} ms"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m {seconds % 60:02d}s"
    return f"{seconds // 3600}h {(seconds % 3600) // 60:02d}m"


def percent(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def when(stamp: str | None) -> str:
    """``2026-03-02T12:00:00Z`` -> ``2026-03-02 12:00``."""
    return (stamp or "").replace("T", " ")[:16]


def trend_cell(t: dict | None) -> str:
    if not t:
        return "–"
    arrow = {"slower": "▲", "faster": "▼"}.get(t["direction"], "≈")
    return f"{arrow} {t['change_percent']:+.0f}% {t['direction']}"


def _dist(d: dict | None, key: str) -> str:
    return duration(d[key]) if d else "–"


class _Table:
    def __init__(self, out: list[str], head: list[str], align: str) -> None:
        out.append("| " + " | ".join(head) + " |")
        out.append("|" + "|".join("---:" if a == "r" else "---" for a in align) + "|")
        self.out = out

    def row(self, cells: list[str]) -> None:
        self.out.append("| " + " | ".join(cells) + " |")


def _more(out: list[str], shown: int, total: int, what: str) -> None:
    if total > shown:
        out.append(f"\n… and {total - shown} more {what} (all of them are in the JSON report).")


def render(report: dict) -> str:
    out: list[str] = []
    repos = report["repositories"]
    many = len(repos) > 1
    window = report["window"]
    totals = report["totals"]
    names = ", ".join(f"**{text(r['name'])}**" for r in repos[:10]) + (f" and {len(repos) - 10} more" if len(repos) > 10
                                                                        else "")
    out.append("# Pipeline metrics\n")
    out.append(f"{names or 'No repository'} · {when(window['since'])} → {when(window['until'])} "
               f"UTC ({window['days']:g} days) · {totals['runs']} runs · generated {when(report['generated_at'])} UTC")
    filters = report["filters"]
    if filters["workflows"] or filters["branches"]:
        parts = []
        if filters["workflows"]:
            parts.append("workflows " + ", ".join(text(w) for w in filters["workflows"]))
        if filters["branches"]:
            parts.append("branches " + ", ".join(text(b) for b in filters["branches"]))
        out.append("\nOnly " + "; ".join(parts) + ".")
    _red(out, report, many)
    _summary(out, report)
    _failures(out, report, many)
    _workflows(out, report, many)
    _jobs(out, report, many)
    _steps(out, report, many)
    _feedback(out, report)
    _runners(out, report)
    _tests(out, report, many)
    _skipped(out, report)
    api = report["api"]
    out.append("\n---\n")
    out.append(f"Made by `ci-tools metrics` from GitHub's REST API: {api['requests']} requests, "
               f"{api['runs_read']} runs read, {api['runs_from_cache']} from the cache. Durations are wall time; "
               "percentiles interpolate; weeks end at the window's end. Costs are estimates at the rates above.")
    return "\n".join(out) + "\n"


def _red(out: list[str], report: dict, many: bool) -> None:
    for red in report["red"]:
        kind = "CAUTION" if red["alert"] else "WARNING"
        where = f"{text(red['repository'])}, " if many else ""
        threshold = report.get("alert_threshold_hours")
        over = f" (the alert threshold is {threshold:g} h)" if red["alert"] and threshold is not None else ""
        out.append(f"\n> [!{kind}]\n> **{text(red['branch'])} has been red for {red['hours']:g} h**{over}: "
                   f"{where}workflow {text(red['workflow'])}, since {when(red['since'])}, "
                   f"{red['failing_runs']} failing run{'s' if red['failing_runs'] != 1 else ''} in a row; "
                   + link("first failing run", red["first_failing_run"]) + ", "
                   + link("latest", red["latest_failing_run"]) + ".")


def _summary(out: list[str], report: dict) -> None:
    totals = report["totals"]
    out.append("\n## Summary\n")
    table = _Table(out, ["Runs", "In progress", "Success rate", "Duration p50", "p90", "Runner minutes",
                         "Estimated cost"], "rrrrrrr")
    table.row([str(totals["completed"]), str(totals["in_progress"]), percent(totals["success_rate"]),
               _dist(totals["duration"], "p50"), _dist(totals["duration"], "p90"), f"{totals['runner_minutes']:,}",
               f"${totals['estimated_cost_usd']:,.2f}"])
    feedback = report["feedback"]
    flaky = report["tests"]["flaky"]
    bits = []
    if feedback["first_feedback"]:
        bits.append(f"first feedback on a pull request commit in {duration(feedback['first_feedback']['p50'])} "
                    f"(p50; p90 {duration(feedback['first_feedback']['p90'])})")
    if flaky:
        bits.append(f"{len(flaky)} flaky test{'s' if len(flaky) != 1 else ''}")
    slower = [s for s in report["steps"] if (s["trend"] or {}).get("direction") == "slower"]
    if slower:
        bits.append(f"{len(slower)} step{'s' if len(slower) != 1 else ''} getting slower")
    if bits:
        sentence = "; ".join(bits)
        out.append("\n" + sentence[0].upper() + sentence[1:] + ".")


def _failures(out: list[str], report: dict, many: bool) -> None:
    failures = report["failures"]
    out.append("\n## Failures\n")
    if not failures:
        out.append("No failed run in the window.")
        return
    for title, group in (("On the default branch", [f for f in failures if f["default_branch"]]),
                         ("On other branches and pull requests", [f for f in failures if not f["default_branch"]])):
        out.append(f"\n### {title} ({len(group)})\n")
        if not group:
            out.append("None.")
            continue
        head = (["Repository"] if many else []) + ["When", "Workflow", "Branch", "Commit", "Failed job (step)", "Run"]
        table = _Table(out, head, "l" * len(head))
        for f in group[:ROWS]:
            jobs = "; ".join(text(j["job"]) + (f" ({text(j['step'])})" if j["step"] else "") for j in f["failed_jobs"][:3])
            cells = ([text(f["repository"])] if many else []) + [
                when(f["created_at"]), text(f["workflow"]), text(f["branch"], 60),
                text(f["sha"][:7]) + (" " + text(f["title"], 60) if f["title"] else ""), jobs or "–",
                link(f"#&#8203;{f['run_number']}" + (f" (attempt {f['attempt']})" if f["attempt"] > 1 else ""), f["url"])]
            table.row(cells)
        _more(out, min(ROWS, len(group)), len(group), "failed runs")


def _workflows(out: list[str], report: dict, many: bool) -> None:
    workflows = report["workflows"]
    out.append("\n## Workflows\n")
    if not workflows:
        out.append("No completed run in the window.")
        return
    head = (["Repository"] if many else []) + ["Workflow", "Runs", "Success", "p50", "p90", "Max", "Queue p50",
                                               "Re-runs", "Last week"]
    table = _Table(out, head, ("l" if many else "") + "lrrrrrrrl")
    for w in workflows[:ROWS]:
        table.row(([text(w["repository"])] if many else []) + [
            text(w["workflow"]), str(w["runs"]), percent(w["success_rate"]), _dist(w["duration"], "p50"),
            _dist(w["duration"], "p90"), _dist(w["duration"], "max"), _dist(w["queue"], "p50"),
            str(w["reruns"]), trend_cell(w["trend"])])
    _more(out, min(ROWS, len(workflows)), len(workflows), "workflows")
    weeks = list(reversed(report["window"]["weeks"]))
    labels = ", ".join(f'"{short_day(api_time(w) or 0)}"' for w in weeks)
    for w in workflows[:3]:
        series = list(reversed(w["weeks"]))
        if sum(1 for s in series if s["duration"]) < 2:
            continue
        p50 = [round(s["duration"]["p50"] / 60, 1) if s["duration"] else 0 for s in series]
        p90 = [round(s["duration"]["p90"] / 60, 1) if s["duration"] else 0 for s in series]
        top = max(p90 + [1.0])
        name = label(w["workflow"]) + (f" ({label(w['repository'])})" if many else "")
        out.append(f"\n**{text(w['workflow'])}**" + (f" ({text(w['repository'])})" if many else "")
                   + ": duration by week in minutes, p90 bars and p50 line.\n")
        out.append("```mermaid\nxychart-beta\n"
                   f'    title "{name}: duration by week (minutes)"\n'
                   f"    x-axis [{labels}]\n"
                   f'    y-axis "minutes" 0 --> {max(1, math.ceil(top * 1.15))}\n'
                   f"    bar [{', '.join(f'{v:g}' for v in p90)}]\n"
                   f"    line [{', '.join(f'{v:g}' for v in p50)}]\n```")


def _jobs(out: list[str], report: dict, many: bool) -> None:
    jobs = report["jobs"]
    out.append("\n## Jobs\n")
    if not jobs:
        out.append("No job in the window.")
        return
    out.append("Failure rate over every attempt (a job that failed and then passed on a re-run counts both).\n")
    head = (["Repository"] if many else []) + ["Workflow", "Job", "Runs", "Failure rate", "p50", "p90", "Queue p50",
                                               "Runner", "Last week"]
    table = _Table(out, head, ("l" if many else "") + "llrrrrrll")
    for j in jobs[:ROWS]:
        table.row(([text(j["repository"])] if many else []) + [
            text(j["workflow"]), text(j["job"]), str(j["executions"]), percent(j["failure_rate"]),
            _dist(j["duration"], "p50"), _dist(j["duration"], "p90"), _dist(j["queue"], "p50"), text(j["runner"], 40),
            trend_cell(j["trend"])])
    _more(out, min(ROWS, len(jobs)), len(jobs), "jobs")
    failing = [j for j in jobs if j["failures"]]
    if failing:
        failing.sort(key=lambda j: -j["failures"])
        slices = [(label(j["job"]) + (f" ({label(j['workflow'], 16)})" if len({x['workflow'] for x in failing}) > 1
                                      else ""), j["failures"]) for j in failing[:7]]
        rest = sum(j["failures"] for j in failing[7:])
        if rest:
            slices.append(("other jobs", rest))
        out.append("\nFailures by job:\n")
        out.append("```mermaid\npie title Failures by job\n"
                   + "\n".join(f'    "{name}" : {count}' for name, count in slices) + "\n```")
    flaky = report["flaky_jobs"]
    if flaky:
        out.append("\n**Passed on a re-run** (failed on one attempt, then passed):\n")
        table = _Table(out, (["Repository"] if many else []) + ["Workflow", "Job", "Runs"], ("l" if many else "") + "llr")
        for f in flaky[:ROWS]:
            table.row(([text(f["repository"])] if many else []) + [text(f["workflow"]), text(f["job"]),
                                                                   str(f["passed_on_rerun"])])


def _steps(out: list[str], report: dict, many: bool) -> None:
    steps = report["steps"]
    out.append("\n## Steps\n")
    if not steps:
        out.append("No step in the window.")
        return
    slower = sorted((s for s in steps if (s["trend"] or {}).get("direction") == "slower"
                     and s["trend"]["delta_seconds"] >= 5), key=lambda s: -s["trend"]["delta_seconds"])
    if slower:
        out.append("### Getting slower\n")
        out.append("The newest week's median against the weeks before.\n")
        table = _Table(out, (["Repository"] if many else []) + ["Workflow", "Job", "Step", "Before", "Last week",
                                                                "Change"], ("l" if many else "") + "lllrrr")
        for s in slower[:ROWS]:
            t = s["trend"]
            table.row(([text(s["repository"])] if many else []) + [
                text(s["workflow"]), text(s["job"]), text(s["step"], 60), duration(t["before_p50"]),
                duration(t["last_week_p50"]), f"▲ {t['change_percent']:+.0f}% ({duration(t['delta_seconds'])})"])
        out.append("")
    out.append("### Slowest steps\n")
    table = _Table(out, (["Repository"] if many else []) + ["Workflow", "Job", "Step", "Runs", "Failures", "p50",
                                                            "p90", "Max", "Last week"],
                   ("l" if many else "") + "lllrrrrrl")
    for s in steps[:ROWS]:
        table.row(([text(s["repository"])] if many else []) + [
            text(s["workflow"]), text(s["job"]), text(s["step"], 60), str(s["executions"]), str(s["failures"]),
            _dist(s["duration"], "p50"), _dist(s["duration"], "p90"), _dist(s["duration"], "max"),
            trend_cell(s["trend"])])


def _feedback(out: list[str], report: dict) -> None:
    f = report["feedback"]
    out.append("\n## Time to first feedback (pull requests)\n")
    if not f["commits"]:
        out.append("No completed pull request commit in the window.")
        return
    out.append("From a commit's first run to its first failing job, or to its last job when nothing failed "
               "(first attempts).\n")
    table = _Table(out, ["Commits", "First feedback p50", "p90", "Full result p50", "p90", "First feedback was a failure"],
                   "rrrrrr")
    table.row([str(f["commits"]), _dist(f["first_feedback"], "p50"), _dist(f["first_feedback"], "p90"),
               _dist(f["full_result"], "p50"), _dist(f["full_result"], "p90"), percent(f["failed_share"])])


def _runners(out: list[str], report: dict) -> None:
    runners = report["runners"]
    out.append("\n## Runner minutes and estimated cost\n")
    if not runners:
        out.append("No job ran in the window.")
        return
    out.append("Each job's minutes rounded up, as GitHub bills them; self-hosted minutes cost GitHub nothing.\n")
    table = _Table(out, ["Runner", "Jobs", "Minutes", "Hours", "USD per minute", "Estimated cost"], "lrrrrr")
    for r in runners[:ROWS]:
        table.row([text(r["runner"], 60), str(r["jobs"]), f"{r['minutes']:,}", f"{r['hours']:g}",
                   f"{r['rate_usd_per_minute']:g}", f"${r['estimated_cost_usd']:,.2f}"])
    slices = [(label(r["runner"]), r["minutes"]) for r in sorted(runners, key=lambda r: -r["minutes"])[:7]
              if r["minutes"]]
    if len(slices) > 1:
        out.append("\n```mermaid\npie title Runner minutes\n"
                   + "\n".join(f'    "{name}" : {count}' for name, count in slices) + "\n```")


def _tests(out: list[str], report: dict, many: bool) -> None:
    tests = report["tests"]
    out.append("\n## Tests\n")
    if not tests["reports"]:
        out.append("No JUnit report was read (none uploaded as an artifact, or all expired).")
        return
    out.append(f"{tests['tests']} tests, {tests['executions']:,} results from {tests['reports']} JUnit reports.\n")
    repo = (lambda t: [text(t["repository"])]) if many else (lambda t: [])
    rhead = ["Repository"] if many else []
    ralign = "l" if many else ""
    out.append("### Flaky\n")
    if tests["flaky"]:
        out.append("Failed and passed on the same commit (re-runs, attempts or other workflows), or retried by "
                   "the test runner.\n")
        table = _Table(out, rhead + ["Test", "Commits with both", "Failures", "Results", "Last failure"],
                       ralign + "lrrrl")
        for t in tests["flaky"][:ROWS]:
            table.row(repo(t) + [text(t["test"], 100), str(t["commits_with_both"]), str(t["failures"]),
                                 str(t["executions"]),
                                 link(when(t["last_failure"]) or "–", t["example_run"]) if t["last_failure"] else "–"])
        _more(out, min(ROWS, len(tests["flaky"])), len(tests["flaky"]), "flaky tests")
    else:
        out.append("None seen.")
    out.append("\n### Newly failing on the default branch\n")
    if tests["newly_failing"]:
        table = _Table(out, rhead + ["Test", "Failing since", "Failures in a row", "Commit"], ralign + "llrl")
        for t in tests["newly_failing"][:ROWS]:
            table.row(repo(t) + [text(t["test"], 100), link(when(t["since"]), t["first_failing_run"]),
                                 str(t["failures_in_a_row"]), text(t["sha"][:7])])
        _more(out, min(ROWS, len(tests["newly_failing"])), len(tests["newly_failing"]), "tests")
    else:
        out.append("None.")
    out.append("\n### Slowest tests\n")
    table = _Table(out, rhead + ["Test", "Results", "p50", "p90", "Max"], ralign + "lrrrr")
    for t in tests["slowest"][:10]:
        d = t["duration"]
        table.row(repo(t) + [text(t["test"], 100), str(d["count"]), duration(d["p50"]), duration(d["p90"]),
                             duration(d["max"])])


def _skipped(out: list[str], report: dict) -> None:
    skipped = report["skipped"]
    if not skipped["counts"]:
        return
    out.append("\n## Skipped inputs\n")
    for reason, count in skipped["counts"].items():
        out.append(f"- `{reason}`: {count} ({skipped['reasons'][reason]})")
    items = skipped["items"]
    if items:
        out.append("")
        table = _Table(out, ["Repository", "Run", "Input", "Reason", "Detail"], "lrlll")
        for s in items[:ROWS]:
            table.row([text(s["repository"]), str(s["run_id"] or "–"), text(s["input"], 60), f"`{s['reason']}`",
                       text(s["detail"], 160)])
        _more(out, min(ROWS, len(items)), len(items), "skipped inputs")
