"""The HTML service report: a few matplotlib plots and the figures table, in one file.

Plots are PNGs embedded as data URIs so the report is a single file people can mail.
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from router.reports.ivr import GROUPS as IVR_GROUPS
from router.reports.ivr import IvrReport, ivr_table
from router.reports.report import Report, ReportRow, format_value, report_table

PERCENT_COLUMNS = {"abandonment_rate", "service_level", "fcr", "occupancy", "csat"}


def _png(figure: Figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, bbox_inches="tight")
    plt.close(figure)
    return base64.b64encode(buffer.getvalue()).decode()


def _short(label: str) -> str:
    """An interval label '2026-11-20T09:30:00+01:00' as '20 09:30'."""
    return f"{label[8:10]} {label[11:16]}" if len(label) >= 16 and label[10] == "T" else label


def volume_plot(by_interval: Sequence[ReportRow]) -> str:
    labels = [_short(row.key["interval"]) for row in by_interval]
    answered = [row.answered for row in by_interval]
    abandoned = [row.abandoned for row in by_interval]
    other = [row.volume - row.answered - row.abandoned for row in by_interval]
    figure, axes = plt.subplots(figsize=(10, 3.2))
    axes.bar(labels, answered, label="answered", color="#3a7d44")
    axes.bar(labels, abandoned, bottom=answered, label="abandoned", color="#d1495b")
    bottoms = [a + b for a, b in zip(answered, abandoned, strict=True)]
    axes.bar(labels, other, bottom=bottoms, label="failed / short abandons", color="#999999")
    axes.set_ylabel("contacts")
    axes.set_title("Contacts per interval")
    axes.legend(loc="upper right")
    _thin_ticks(axes, labels)
    return _png(figure)


def service_level_plot(by_interval: Sequence[ReportRow], target: float | None) -> str:
    labels = [_short(row.key["interval"]) for row in by_interval]
    levels = [
        row.service_level * 100 if row.service_level is not None else None for row in by_interval
    ]
    figure, axes = plt.subplots(figsize=(10, 3.2))
    axes.plot(
        [label for label, level in zip(labels, levels, strict=True) if level is not None],
        [level for level in levels if level is not None],
        marker="o",
        color="#00798c",
        label="service level",
    )
    if target is not None:
        axes.axhline(target * 100, color="#d1495b", linestyle="--", label=f"target {target:.0%}")
    axes.set_ylim(0, 105)
    axes.set_ylabel("% answered in time")
    axes.set_title("Service level per interval")
    axes.legend(loc="lower right")
    _thin_ticks(axes, labels)
    return _png(figure)


def times_plot(by_interval: Sequence[ReportRow]) -> str:
    labels = [_short(row.key["interval"]) for row in by_interval]
    figure, axes = plt.subplots(figsize=(10, 3.2))
    for name, color in (("asa_s", "#edae49"), ("aht_s", "#30638e")):
        points = [
            (label, getattr(row, name)) for label, row in zip(labels, by_interval, strict=True)
        ]
        shown = [(label, value) for label, value in points if value is not None]
        if shown:
            axes.plot(*zip(*shown, strict=True), marker="o", color=color, label=name[:3].upper())
    axes.set_ylabel("seconds")
    axes.set_title("Average speed of answer and handle time")
    axes.legend(loc="upper right")
    _thin_ticks(axes, labels)
    return _png(figure)


def groups_plot(report: Report) -> str | None:
    """Service level, FCR and CSAT side by side for each group of the report."""
    rows = [row for row in report.rows if row.volume]
    if not rows or not report.options.by or report.options.by == ("interval",):
        return None
    labels = [" / ".join(row.key.values()) for row in rows][:30]
    rows = rows[:30]
    figure, axes = plt.subplots(figsize=(10, 0.4 * len(rows) + 1.5))
    metrics = [
        (name, color)
        for name, color in (("service_level", "#00798c"), ("fcr", "#3a7d44"), ("csat", "#edae49"))
        if any(getattr(row, name) is not None for row in rows)  # no bars for a missing figure
    ]
    if not metrics:
        plt.close(figure)
        return None
    height = 0.8 / len(metrics)
    for offset, (name, color) in enumerate(metrics):
        values = [(getattr(row, name) or 0) * 100 for row in rows]
        positions = [i + (offset - (len(metrics) - 1) / 2) * height for i in range(len(rows))]
        axes.barh(positions, values, height=height, color=color, label=name.replace("_", " "))
    axes.set_yticks(range(len(rows)), labels)
    axes.invert_yaxis()
    axes.set_xlim(0, 100)
    axes.set_xlabel("%")
    names = {"service_level": "service level", "fcr": "first-contact resolution", "csat": "CSAT"}
    shown = [names[name] for name, _ in metrics]
    axes.set_title(f"{', '.join(shown).capitalize()} by {', '.join(report.options.by)}")
    axes.legend(loc="lower right")
    return _png(figure)


def _thin_ticks(axes: plt.Axes, labels: Sequence[str]) -> None:
    step = max(1, len(labels) // 16)
    axes.set_xticks(range(0, len(labels), step), [labels[i] for i in range(0, len(labels), step)])
    axes.tick_params(axis="x", labelrotation=45)


def _cell(column: str, text: str) -> str:
    if column in PERCENT_COLUMNS and text:
        return f"{float(text):.1%}"
    return text


def _tiles(headline: Sequence[tuple[str, str]]) -> str:
    return "".join(
        f'<div class="tile"><div class="value">{html.escape(value or "–")}</div>'
        f'<div class="label">{html.escape(label)}</div></div>'
        for label, value in headline
    )


def _table(table: Sequence[Sequence[str]]) -> str:
    """A figures table: the header line, then one row per line (the last is the total)."""
    header = "".join(f"<th>{html.escape(name)}</th>" for name in table[0])
    body = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(_cell(name, text))}</td>"
            for name, text in zip(table[0], line, strict=True)
        )
        + "</tr>"
        for line in table[1:]
    )
    return f"<table><thead><tr>{header}</tr></thead><tbody>\n{body}\n</tbody></table>"


def ivr_section(ivr: IvrReport, by: Sequence[str]) -> str:
    """The IVR's calls of the same period (`report --ivr`'s figures): tiles of the total,
    failures by reason, the table by the report's region and interval. The IVR groups by
    nothing else: a call it did not route has no queue, channel or agent, and its figures
    are not split by language."""
    total = ivr.total.figures(ivr.stages)
    tiles = _tiles(
        [
            ("Answered by the IVR", str(total["answered"])),
            ("Routed", str(total["routed"])),
            ("Hung up in the IVR", str(total["hung_up"])),
            ("Closed", str(total["closed"])),
            ("Failed", str(total["failed"])),
        ]
    )
    reasons = ", ".join(f"{reason} {count}" for reason, count in total["failed_by_reason"].items())
    failed = f"<p>Failed by reason: {html.escape(reasons)}</p>" if reasons else ""
    others = [name for name in by if name not in IVR_GROUPS]
    why = []
    if set(others) - {"language"}:
        why.append("a call the IVR did not route has no queue, channel or agent")
    if "language" in others:
        why.append("the IVR's figures (report --ivr) are not split by language")
    narrowed = (
        "<p>The IVR's calls are grouped by region and interval only, not by "
        f"{html.escape(', '.join(others))}: {html.escape('; '.join(why))}.</p>"
        if others
        else ""
    )
    return (
        f'<section id="ivr"><h2>IVR</h2><div class="tiles">{tiles}</div>{failed}{narrowed}'
        f"{_table(ivr_table(ivr))}</section>"
    )


def render_html(
    report: Report,
    by_interval: Report,
    title: str,
    target: float | None = None,
    ivr: IvrReport | None = None,
) -> str:
    """The whole report: headline figures, plots, the table, the IVR's calls (when
    given), and the notes."""
    total = report.total
    headline = [
        ("Contacts", format_value(total.volume)),
        ("Service level", "" if total.service_level is None else f"{total.service_level:.1%}"),
        ("Abandoned", "" if total.abandonment_rate is None else f"{total.abandonment_rate:.1%}"),
        ("ASA", "" if total.asa_s is None else f"{total.asa_s:.0f} s"),
        ("AHT", "" if total.aht_s is None else f"{total.aht_s:.0f} s"),
        ("FCR", "" if total.fcr is None else f"{total.fcr:.1%}"),
        ("CSAT", "" if total.csat is None else f"{total.csat:.1%}"),
    ]
    images = []
    intervals = [row for row in by_interval.rows]
    if intervals:
        images += [
            volume_plot(intervals),
            service_level_plot(intervals, target),
            times_plot(intervals),
        ]
    grouped = groups_plot(report)
    if grouped:
        images.append(grouped)
    figures = _table(report_table(report))
    tiles = _tiles(headline)
    ivr_html = "" if ivr is None else ivr_section(ivr, report.options.by)
    plots = "".join(f'<img alt="plot" src="data:image/png;base64,{png}">' for png in images)
    notes = "".join(f"<li>{html.escape(note)}</li>" for note in report.notes)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; color: #222; }}
.tiles {{ display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }}
.tile {{ background: #f3f5f7; border-radius: 6px; padding: .8rem 1.2rem; min-width: 7rem; }}
.value {{ font-size: 1.8rem; font-weight: 600; }}
.label {{ color: #555; }}
img {{ max-width: 100%; display: block; margin: 1rem 0; }}
table {{ border-collapse: collapse; font-size: .85rem; }}
th, td {{ border: 1px solid #ccc; padding: .25rem .5rem; text-align: right; }}
tr:last-child td {{ font-weight: 600; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<div class="tiles">{tiles}</div>
{plots}
<h2>Figures</h2>
{figures}
{ivr_html}
<h2>Notes</h2><ul>{notes}</ul>
</body></html>
"""
