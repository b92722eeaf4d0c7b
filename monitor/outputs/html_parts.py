"""Small building blocks of the HTML report: escaping, number formats, tables, sections, and the page's style sheet.

Everything that is not a :class:`Raw` fragment is escaped on the way into the page: AS names and other labels come from
the network and must never become markup.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

from monitor.analysis.stats import Interval

__all__ = ["Raw", "e", "cell", "pct", "ci_pct", "ci_short", "num", "table", "section", "figure", "CSS"]


class Raw(str):
    """Markup built by this package (already escaped); any plain ``str`` is treated as text."""

    __slots__ = ()


def e(text: object) -> str:
    """Escape text for element content and quoted attribute values."""
    return escape(str(text), quote=True)


def cell(value: object) -> str:
    return str(value) if isinstance(value, Raw) else e(value)


def pct(x: float | None) -> str:
    return "—" if x is None else f"{100 * x:.1f} %"


def ci_pct(ci: Interval | None) -> str:
    return "—" if ci is None else f"{100 * ci.low:.1f} to {100 * ci.high:.1f} %"


def ci_short(ci: Interval) -> str:
    """A compact interval for chart labels: "[21.9, 29.7]" (percent)."""
    return f"[{100 * ci.low:.1f}, {100 * ci.high:.1f}]"


def num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def table(
    caption: str,
    headers: Sequence[object],
    rows: Iterable[Sequence[object]],
    *,
    numeric: Iterable[int] = (),
    empty: str = "nothing to show",
    css: str = "",
) -> Raw:
    """A table with a caption, column headers (``scope="col"``) and the first cell of each row as a row header."""
    right = set(numeric)
    num_attr = ' class="num"'
    head = "".join(f'<th scope="col"{num_attr if i in right else ""}>{cell(h)}</th>' for i, h in enumerate(headers))
    body = []
    for row in rows:
        cells = [
            f'<th scope="row">{cell(v)}</th>' if i == 0 else f"<td{num_attr if i in right else ''}>{cell(v)}</td>"
            for i, v in enumerate(row)
        ]
        body.append("<tr>" + "".join(cells) + "</tr>")
    if not body:
        body.append(f'<tr><td colspan="{len(headers)}" class="empty">{e(empty)}</td></tr>')
    cls = f' class="{e(css)}"' if css else ""
    return Raw(
        f'<div class="scroll"><table{cls}><caption>{cell(caption)}</caption>'
        f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def section(anchor: str, heading: str, *parts: object) -> Raw:
    inner = "\n".join(cell(p) for p in parts)
    return Raw(f'<section id="{e(anchor)}"><h2>{e(heading)}</h2>\n{inner}\n</section>')


def figure(svg: str, caption: str) -> Raw:
    """A chart (trusted SVG markup from :mod:`monitor.outputs.svg`) with a visible caption."""
    return Raw(f"<figure>{svg}<figcaption>{e(caption)}</figcaption></figure>")


CSS = """
:root { --fg: #1d2430; --muted: #5b6472; --line: #d5dae1; --bar: #3b6fb6; --accent: #b42318; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 "DejaVu Sans", "Liberation Sans", Arial, sans-serif; color: var(--fg);
  background: #fff; }
main { max-width: 1180px; margin: 0 auto; padding: 16px 24px 48px; }
h1 { font-size: 26px; margin: 8px 0 4px; }
h2 { font-size: 20px; margin: 36px 0 8px; padding-top: 8px; border-top: 2px solid var(--line); }
h3 { font-size: 17px; margin: 24px 0 6px; }
p, li, dd { max-width: 90ch; }
.sub, figcaption, caption, .note { color: var(--muted); font-size: 13px; }
caption { text-align: left; padding: 4px 0; font-weight: bold; color: var(--fg); }
.scroll { overflow-x: auto; margin: 8px 0 16px; }
table { border-collapse: collapse; font-size: 13px; }
th, td { border: 1px solid var(--line); padding: 3px 8px; vertical-align: top; text-align: left; }
thead th { background: #eef1f5; }
tbody th { font-weight: normal; background: #f8f9fb; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.empty { color: var(--muted); font-style: italic; }
small { color: var(--muted); }
table.matrix { font-size: 12px; } table.matrix td, table.matrix th { padding: 2px 5px; }
table.matrix tbody th { max-width: 180px; overflow-wrap: break-word; }
figure { margin: 12px 0 20px; }
svg.chart { max-width: 100%; height: auto; display: block; }
svg.chart text { font: 12px "DejaVu Sans", "Liberation Sans", Arial, sans-serif; fill: var(--fg); }
svg.chart .tick { fill: var(--muted); font-size: 11px; }
svg.chart .grid { stroke: #e6e9ee; stroke-width: 1; }
svg.chart .err { stroke: #111; stroke-width: 1.5; fill: none; }
svg.chart .bar { fill: var(--bar); }
svg.chart .unknown, svg.chart .muted { fill: #a5adb8; }
svg.chart .consistent { fill: #2e7d32; }
svg.chart .higher { fill: #c25e00; }
svg.chart .lower { fill: #1565c0; }
svg.chart .insufficient { fill: #b7bec8; }
svg.chart .marker line { stroke: var(--accent); stroke-width: 2; stroke-dasharray: 6 3; }
svg.chart .marker text { fill: var(--accent); font-weight: bold; }
.banner { background: var(--accent); color: #fff; font-size: 28px; font-weight: bold; text-align: center;
  padding: 18px; letter-spacing: 0.04em; }
.banner small { display: block; color: #fff; font-size: 15px; font-weight: normal; letter-spacing: 0; }
.verdict { display: inline-block; padding: 0 8px; border-radius: 9px; color: #fff; font-weight: bold; }
.verdict.consistent { background: #2e7d32; } .verdict.higher { background: #c25e00; }
.verdict.lower { background: #1565c0; } .verdict.insufficient { background: #8a929c; }
.conclusion { border-left: 4px solid var(--bar); background: #f4f7fb; margin: 8px 0; padding: 8px 12px; }
.external { border: 2px dashed #8a929c; padding: 4px 14px 8px; margin: 20px 0; background: #fafafa; }
.external h3::before { content: "EXTERNAL · "; color: var(--accent); }
nav ol { columns: 3; font-size: 14px; padding-left: 20px; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 8px 0; }
dl.facts dt { font-weight: bold; } dl.facts dd { margin: 0; }
footer { color: var(--muted); font-size: 12px; margin-top: 40px; border-top: 1px solid var(--line); padding-top: 8px; }
"""
