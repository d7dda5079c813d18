"""A class report for instructors, drawn from graders.analytics' numbers: a self-contained HTML
page (its plots embedded as PNG) and a short text summary for the terminal.

Every status is shown by a letter and a hatch pattern as well as a colour, so the plots read in
black and white and for colour-blind readers. matplotlib is imported only when a plot is drawn,
and draws with its Agg renderer on figures of its own (pyplot's global state, and the backend
of a notebook this runs in, are left alone)."""
from __future__ import annotations

import base64
import datetime
import html
import io
from contextlib import contextmanager

from graders.analytics import STATUSES, CheckSummary, LabSummary, shorten

# status -> (letter, cell colour, hatch, hatch and edge colour)
STYLE = {
    "passed": ("P", "#d1f0d8", "", "#1a7f37"),
    "failed": ("F", "#ffcecb", "xx", "#cf222e"),
    "pending": ("?", "#fff1b3", "..", "#9a6700"),
    "blocked": ("B", "#e6e9ed", "//", "#6e7781"),
    "error": ("E", "#e8dcff", "\\\\", "#8250df"),
}
ABSENT = ("–", "#ffffff", "", "#aaaaaa")  # a report without this check
WHAT = {"passed": "passed", "failed": "failed", "pending": "pending (not settled yet)",
        "blocked": "blocked (waits for a failed check)", "error": "error (the grader could not judge)"}
REJECTED_HATCH = "//"
SHOWN_VALUE_CHARS = 100


class NeedsMatplotlib(Exception):
    def __init__(self):
        super().__init__("the HTML report draws its plots with matplotlib: "
                         "pip install 'k8s-pods-course[instructor]'")


def _points(value: float | None) -> str:
    return "-" if value is None else f"{value:g}"


def _percent(share: float) -> str:
    return f"{100 * share:.0f}%"


# --- plots -----------------------------------------------------------------------------------

@contextmanager
def _figure(width: float, height: float):
    """A matplotlib Figure drawn by Agg, without pyplot; yields it, then its PNG is in .png."""
    try:
        import matplotlib
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise NeedsMatplotlib() from None
    # Names and values are text, never TeX ("$" in a student's name).
    with matplotlib.rc_context({"text.parse_math": False, "hatch.linewidth": 0.6, "font.size": 9}):
        figure = Figure(figsize=(width, height), dpi=100)
        FigureCanvasAgg(figure)
        holder = _Png(figure)
        yield holder
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png", bbox_inches="tight", metadata={"Software": None})
        holder.png = buffer.getvalue()


class _Png:
    def __init__(self, figure):
        self.figure = figure
        self.png = b""


def _legend_handles(statuses=STATUSES):
    from matplotlib.patches import Patch

    return [Patch(facecolor=STYLE[s][1], edgecolor=STYLE[s][3], hatch=STYLE[s][2],
                  label=f"{STYLE[s][0]}  {WHAT[s]}") for s in statuses]


def histogram_png(summary: LabSummary) -> bytes:
    """Students per score: graded submissions plain, refused ones (scored 0) hatched on top."""
    from matplotlib.patches import Patch
    from matplotlib.ticker import MaxNLocator

    bins = summary.histogram()
    with _figure(max(4.5, 1.5 + 0.4 * len(bins)), 3.2) as drawn:
        axes = drawn.figure.add_subplot()
        positions = range(len(bins))
        graded = [b.graded for b in bins]
        rejected = [b.rejected for b in bins]
        axes.bar(positions, graded, color="#9ec5fe", edgecolor="#1f4e8c", linewidth=0.8)
        axes.bar(positions, rejected, bottom=graded, color="#ffffff", edgecolor="#1f4e8c",
                 hatch=REJECTED_HATCH, linewidth=0.8)
        for x, b in zip(positions, bins):
            if b.graded + b.rejected:
                axes.text(x, b.graded + b.rejected, str(b.graded + b.rejected), ha="center", va="bottom")
        axes.set_xticks(list(positions), [b.label for b in bins], rotation=0 if len(bins) <= 20 else 90)
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))
        axes.set_ylim(0, max([b.graded + b.rejected for b in bins] + [1]) * 1.18)
        axes.set_xlabel(f"score (points, of {_points(summary.max_score)})")
        axes.set_ylabel("students")
        axes.set_title(f"{summary.lab}: scores of {len(summary.scored)} students")
        axes.spines[["top", "right"]].set_visible(False)
        if any(rejected):
            axes.legend(handles=[Patch(facecolor="#9ec5fe", edgecolor="#1f4e8c", label="graded"),
                                 Patch(facecolor="#ffffff", edgecolor="#1f4e8c", hatch=REJECTED_HATCH,
                                       label="refused (scored 0)")],
                        loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    return drawn.png


def outcomes_png(summary: LabSummary) -> bytes:
    """For each check, the share of students per status: one bar of 100% per check."""
    checks = summary.checks
    with _figure(8, 1.2 + 0.42 * len(checks)) as drawn:
        axes = drawn.figure.add_subplot()
        rows = range(len(checks))
        left = [0.0] * len(checks)
        for status in STATUSES:
            letter, face, hatch, edge = STYLE[status]
            shares = [100 * c.share(status) for c in checks]
            axes.barh(list(rows), shares, left=left, color=face, edgecolor=edge, hatch=hatch, linewidth=0.5)
            for y, (start, share) in enumerate(zip(left, shares)):
                if share >= 8:
                    axes.text(start + share / 2, y, f"{letter} {share:.0f}%", ha="center", va="center",
                              fontweight="bold", bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                                                       "edgecolor": "none", "alpha": 0.85})
            left = [a + b for a, b in zip(left, shares)]
        axes.set_yticks(list(rows), [c.check for c in checks])
        axes.set_ylim(len(checks) - 0.5, -0.5)
        axes.set_xlim(0, 100)
        axes.set_xlabel(f"share of the {len(summary.detailed)} students with per-check results (%)")
        axes.set_title(f"{summary.lab}: outcome of each check")
        axes.spines[["top", "right"]].set_visible(False)
        axes.legend(handles=_legend_handles(), loc="upper center", bbox_to_anchor=(0.5, -0.5 / (1 + len(checks) * 0.3)),
                    ncol=3, frameon=False)
    return drawn.png


def heatmap_png(summary: LabSummary) -> bytes:
    """Students (rows, with their score) by checks (columns): each cell the check's status, as a
    letter on its colour and hatch."""
    from matplotlib.patches import Rectangle

    grid = summary.grid()
    checks = [c.check for c in summary.checks]
    labels = [f"{r.student}  " + (f"{_points(r.score)}/{_points(r.max_score)}" if r.score is not None
                                  else f"({r.status})") for r, _ in grid]
    label_inches = 0.07 * max((len(label) for label in labels), default=10)
    with _figure(1.0 + label_inches + 0.45 * len(checks), 1.9 + 0.26 * len(grid)) as drawn:
        axes = drawn.figure.add_subplot()
        for row, (_, statuses) in enumerate(grid):
            for column, status in enumerate(statuses):
                letter, face, hatch, edge = STYLE.get(status, ABSENT)
                axes.add_patch(Rectangle((column, row), 1, 1, facecolor=face, edgecolor=edge, hatch=hatch,
                                         linewidth=0))
                axes.text(column + 0.5, row + 0.5, letter, ha="center", va="center", fontweight="bold",
                          bbox={"boxstyle": "square,pad=0.1", "facecolor": "white", "edgecolor": "none",
                                "alpha": 0.8} if hatch else None)
        for x in range(len(checks) + 1):
            axes.axvline(x, color="white", linewidth=1.5)
        for y in range(len(grid) + 1):
            axes.axhline(y, color="white", linewidth=1.5)
        axes.set_xlim(0, len(checks))
        axes.set_ylim(len(grid), 0)
        axes.xaxis.tick_top()
        axes.set_xticks([x + 0.5 for x in range(len(checks))], checks, rotation=40, ha="left")
        axes.set_yticks([y + 0.5 for y in range(len(grid))], labels)
        axes.tick_params(length=0)
        for side in axes.spines.values():
            side.set_visible(False)
        axes.legend(handles=_legend_handles(), loc="upper left", bbox_to_anchor=(0, -0.02 - 0.3 / max(len(grid), 1)),
                    ncol=2, frameon=False)
    return drawn.png


# --- HTML ------------------------------------------------------------------------------------

CSS = """
body { font-family: system-ui, sans-serif; margin: 2em auto; max-width: 72em; padding: 0 1em; color: #1f2328; }
table { border-collapse: collapse; margin: 0.5em 0 1em; }
th, td { border: 1px solid #d0d7de; padding: 0.3em 0.6em; text-align: left; vertical-align: top; }
th { background: #f6f8fa; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
code { background: #f6f8fa; padding: 0 0.2em; white-space: pre-wrap; word-break: break-word; }
figure { margin: 1em 0; overflow-x: auto; }
figcaption { color: #57606a; font-size: 0.9em; }
img { max-width: none; }
section { border-top: 2px solid #d0d7de; margin-top: 2em; }
.note { color: #57606a; }
"""


def _image(png: bytes, kind: str, lab: str, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return (f'<img class="{kind}" id="{html.escape(lab)}-{kind}" alt="{html.escape(alt)}" '
            f'src="data:image/png;base64,{data}">')


def _value(text: str) -> str:
    return f"<code>{html.escape(shorten(text, SHOWN_VALUE_CHARS))}</code>"


def _check_row(check: CheckSummary) -> str:
    e = html.escape
    cells = [f"<td><code>{e(check.check)}</code><br>{e(check.title)}</td>",
             f'<td class="n">{check.students}</td>']
    for status in STATUSES:
        count = check.counts.get(status, 0)
        shown = f"{count}" + (f" ({_percent(check.share(status))})" if count and status != "passed" else "")
        cells.append(f'<td class="n">{shown}</td>')
    if check.top_actual:
        failed = check.counts.get("failed", 0)
        values = "<br>".join(f"{_value(value)} × {count}"
                             + (f" ({_percent(count / check.students)} of the class)" if check.students else "")
                             for value, count in check.top_actual)
        others = failed - sum(count for _, count in check.top_actual)
        if others:
            values += f"<br>{others} other value(s)"
        if check.expected:
            values += f"<br><i>expected</i> {_value(check.expected)}"
    else:
        values = ""
    cells.append(f"<td>{values}</td>")
    return "<tr>" + "".join(cells) + "</tr>"


def _counts_line(summary: LabSummary) -> str:
    parts = [f"{summary.count('graded')} graded"]
    for status, words in (("rejected", "refused"), ("error", "could not be graded"),
                          ("missing", "without a submission")):
        if summary.count(status):
            parts.append(f"{summary.count(status)} {words}")
    line = f"{len(summary.results)} students: {', '.join(parts)}."
    if summary.scored:
        line += (f" Median score {_points(summary.median)}/{_points(summary.max_score)}, "
                 f"mean {summary.mean:.1f} (of {len(summary.scored)} scored).")
    return line


def _students_table(summary: LabSummary) -> str:
    """The heat map in words: each student's score and the checks not passed, by status."""
    e = html.escape
    rows = []
    for result, statuses in summary.grid():
        missed = {}
        for check, status in zip(summary.checks, statuses):
            if status not in (None, "passed"):
                missed.setdefault(status, []).append(check.check)
        cells = "".join(f"<td>{' '.join(f'<code>{e(c)}</code>' for c in missed.get(s, []))}</td>"
                        for s in STATUSES[1:])
        rows.append(f"<tr><td>{e(result.student)}</td><td class=\"n\">{_points(result.score)}</td>{cells}</tr>")
    header = "".join(f"<th>{STYLE[s][0]} {s}</th>" for s in STATUSES[1:])
    return ("<details><summary>The same as text: each student's checks that did not pass</summary>"
            f"<table><thead><tr><th>student</th><th>score</th>{header}</tr></thead><tbody>"
            + "".join(rows) + "</tbody></table></details>")


def _lab_section(summary: LabSummary) -> str:
    e = html.escape
    lab = summary.lab
    out = [f'<section id="{e(lab)}"><h2>{e(lab)}: {e(summary.title)}</h2>',
           f"<p>{e(_counts_line(summary))}</p>",
           f"<p class=\"note\">From {e(', '.join(summary.sources))}.</p>"]
    if summary.scored:
        out.append("<h3>Scores</h3><figure>"
                   + _image(histogram_png(summary), "histogram", lab, f"histogram of the scores of {lab}")
                   + "<figcaption>Students per score. Refused submissions (scored 0) are hatched; "
                     "submissions that could not be graded have no score and are not counted."
                     "</figcaption></figure>")
    if summary.checks:
        detailed = len(summary.detailed)
        header = "".join(f"<th>{STYLE[s][0]} {s}</th>" for s in STATUSES)
        out.append(f"<h3>Checks</h3><p>Of the {detailed} students with per-check results (the "
                   "submissions that reached the cluster). A percentage is a share of them.</p>"
                   f"<table><thead><tr><th>check</th><th>students</th>{header}"
                   "<th>most common actual values of the failures</th></tr></thead><tbody>"
                   + "".join(_check_row(c) for c in summary.checks) + "</tbody></table>")
        out.append("<figure>" + _image(outcomes_png(summary), "outcomes", lab, f"outcome of each check of {lab}")
                   + "</figure>")
        out.append("<h3>Students × checks</h3><figure>"
                   + _image(heatmap_png(summary), "heatmap", lab, f"status of each check for each student of {lab}")
                   + "<figcaption>One row per student with per-check results (name, score), one column "
                     "per check: " + ", ".join(f"{STYLE[s][0]} {WHAT[s]}" for s in STATUSES)
                   + ".</figcaption></figure>")
        out.append(_students_table(summary))
    else:
        out.append('<p class="note">No per-check results: an nbgrader gradebook holds one score per '
                   "student and lab. <code>grade batch</code> on the submitted folder stores every "
                   "check of every report (<code>grade report grade-batch-LAB.sqlite</code>).</p>")
    if summary.not_graded:
        rows = "".join(f"<tr><td>{e(r.student)}</td><td>{e(r.status)}</td><td>{e(r.reason)}</td></tr>"
                       for r in summary.not_graded)
        out.append("<h3>Not graded</h3><p>Refused submissions (<code>rejected</code>, scored 0), "
                   "submissions the cluster failed us on (<code>error</code>, no score: "
                   "<code>grade batch --resume</code> retries them) and students without a submission "
                   "(<code>missing</code>).</p><table><thead><tr><th>student</th><th>status</th>"
                   f"<th>why</th></tr></thead><tbody>{rows}</tbody></table>")
    out.append("</section>")
    return "".join(out)


def render_html(summaries: list[LabSummary], sources: list[str], notes: list[str] = ()) -> str:
    e = html.escape
    labs = ", ".join(s.lab for s in summaries)
    made = datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z")
    contents = " · ".join(f'<a href="#{e(s.lab)}">{e(s.lab)}</a>' for s in summaries)
    legend = "; ".join(f"<b>{STYLE[s][0]}</b> {WHAT[s]}" for s in STATUSES)
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>Class report: {e(labs)}</title><style>{CSS}</style></head><body>"
            f"<h1>Class report: {e(labs)}</h1>"
            f"<p class=\"note\">Made {e(made)} from {e(', '.join(sources))}.</p>"
            + "".join(f'<p class="note">{e(note)}</p>' for note in notes)
            + f"<p>Check statuses: {legend}.</p><nav>{contents}</nav>"
            + "".join(_lab_section(s) for s in summaries) + "</body></html>\n")


# --- text ------------------------------------------------------------------------------------

def render_text(summaries: list[LabSummary], failures_shown: int = 5) -> str:
    """A few lines per lab: the counts, the checks failed by most students with their most
    common actual values, and who could not be graded."""
    lines = []
    for summary in summaries:
        lines.append(f"{summary.lab}: {summary.title}")
        lines.append(f"  {_counts_line(summary)}")
        failing = sorted((c for c in summary.checks if c.counts.get("failed")), key=lambda c: -c.share("failed"))
        if failing:
            lines.append(f"  failed most (of {len(summary.detailed)} students with per-check results):")
            width = max(len(c.check) for c in failing[:failures_shown])
            for check in failing[:failures_shown]:
                values = ", ".join(f"{shorten(value, 40)} ×{count}" for value, count in check.top_actual)
                expected = f" (expected {shorten(check.expected, 40)})" if check.expected else ""
                lines.append(f"    {check.check:{width}}  {_percent(check.share('failed')):>4} failed; "
                             f"actual: {values}{expected}")
        elif not summary.checks:
            lines.append("  scores only (a gradebook): per-check results need a batch store")
        for result in summary.not_graded:
            lines.append(f"  {result.status:8} {result.student}: {shorten(result.reason, 100)}")
    return "\n".join(lines)
