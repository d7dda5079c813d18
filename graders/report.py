"""Reports for people (terminal text, HTML in JupyterLab) and for programs (JSON)."""
from __future__ import annotations

import json

from graders.results import LabReport, Status

COLORS = {Status.PASSED: "32", Status.FAILED: "31", Status.PENDING: "33", Status.BLOCKED: "90",
          Status.ERROR: "35"}
HTML_COLORS = {Status.PASSED: "#1a7f37", Status.FAILED: "#cf222e", Status.PENDING: "#9a6700",
               Status.BLOCKED: "#6e7781", Status.ERROR: "#8250df"}


def _show(value) -> str:
    if isinstance(value, (list, dict)):
        return json.dumps(value)
    return str(value)


def _show_lines(value) -> list[str]:
    """A value as lines of text: a dict one key per line, a list under its key one item per
    line (a container's last log lines read as a log)."""
    if not isinstance(value, dict):
        return [_show(value)]
    lines = []
    for key, item in value.items():
        if isinstance(item, list):
            lines.append(f"{key}:")
            lines.extend(f"  | {entry}" for entry in item)
        else:
            lines.append(f"{key}: {_show(item)}")
    return lines


def _points(value: float) -> str:
    return f"{value:g}"


def header(report: LabReport) -> str:
    kind = "simulated cluster" if report.simulated else "cluster"
    if report.mode == "self-check":
        how = ("self-check: you could edit what the grader reads, so this is feedback, "
               "not a certified grade")
    else:
        how = "graded in an isolated namespace"
    return (f"{report.lab}: {report.title}\n"
            f"namespace {report.namespace} on {kind} (context {report.context}); {how}")


def render_text(report: LabReport, *, color: bool = False) -> str:
    def paint(status: Status, text: str) -> str:
        return f"\033[{COLORS[status]}m{text}\033[0m" if color else text

    lines = [header(report)]
    if report.simulated:
        lines.append("  The simulated cluster runs no containers: it shows the states a real "
                     "kubelet would reach.")
    lines.extend(f"  note: {note}" for note in report.notes)
    lines.append("")
    width = max((len(check.id) for check in report.checks), default=10)
    for check in report.checks:
        word = paint(check.status, f"{check.status.word:7}")
        score = f"{_points(check.points)}/{_points(check.max_points)}"
        summary = check.message if check.status is not Status.FAILED else check.where
        lines.append(f"{word} {check.id:{width}}  {score:5}  {check.title}")
        if check.status is Status.FAILED:
            if check.where:
                lines.append(f"        where:    {check.where}")
            if check.path:
                lines.append(f"        at:       {check.path}")
            if check.message:
                lines.append(f"        found:    {check.message}")
            if check.expected is not None:
                lines.append(f"        expected: {_show(check.expected)}")
            if check.actual is not None:
                first, *rest = _show_lines(check.actual)
                lines.append(f"        actual:   {first}")
                lines.extend(f"                  {line}" for line in rest)
            if check.hint:
                lines.append(f"        hint:     {check.hint}")
        elif (check.status is not Status.PASSED or check.from_manifest) and summary:
            lines.append(f"        {summary}")
    lines.append("")
    counts = ", ".join(f"{report.count(s)} {s.value}" for s in Status if report.count(s))
    lines.append(f"score {_points(report.score)}/{_points(report.max_score)}  ({counts})")
    if any(c.status is Status.PENDING for c in report.checks):
        lines.append(f"Some checks are still pending: run again in a moment, or wait for them: "
                     f"grade {report.lab} --wait 60")
    return "\n".join(lines)


def render_json(report: LabReport) -> str:
    return json.dumps(report.to_dict(), indent=2, default=str)


# JupyterLab right-aligns table cells; text reads better from the left, at the top.
LEFT = "text-align:left;vertical-align:top"


def render_html(report: LabReport) -> str:
    import html  # here: the command line prints text or JSON

    e = html.escape
    rows = []
    for check in report.checks:
        colour = HTML_COLORS[check.status]
        details = []
        if check.status is not Status.PASSED:
            for label, value in (("where", check.where), ("at", check.path), ("found", check.message),
                                 ("expected", check.expected), ("actual", check.actual),
                                 ("hint", check.hint)):
                if isinstance(value, dict):
                    details.append(f"<div><b>{label}:</b><pre>{e(chr(10).join(_show_lines(value)))}</pre></div>")
                elif value not in (None, ""):
                    details.append(f"<div><b>{label}:</b> <code>{e(_show(value))}</code></div>"
                                   if label in ("at", "expected", "actual") else
                                   f"<div><b>{label}:</b> {e(_show(value))}</div>")
        elif check.from_manifest:
            details.append(f"<div>{e(check.message)}</div>")
        rows.append(
            f'<tr><td style="{LEFT};color:{colour};font-weight:bold">{check.status.word}</td>'
            f'<td style="{LEFT}"><code>{e(check.id)}</code></td>'
            f'<td style="{LEFT}">{_points(check.points)}/{_points(check.max_points)}</td>'
            f'<td style="{LEFT}">{e(check.title)}{"".join(details)}</td></tr>')
    notes = "".join(f"<p>{e(note)}</p>" for note in report.notes)
    return (f'<div class="pods-course-report"><h4>{e(report.lab)}: {e(report.title)} — '
            f"score {_points(report.score)}/{_points(report.max_score)}</h4>"
            f"<p>{e(header(report).splitlines()[1])}</p>{notes}"
            "<table><thead><tr>" + "".join(f'<th style="{LEFT}">{name}</th>' for name in
                                           ("status", "check", "points", "details")) + "</tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>")
