"""Inline SVG charts for the HTML report, drawn in Python: no JavaScript, no fonts or files from elsewhere.

One chart type covers every figure in the report: horizontal bars, optionally with an interval drawn as an error bar
and a vertical reference line (the claimed share). Every chart carries a ``<title>`` and ``<desc>`` referenced by
``aria-labelledby``, and every bar its own ``<title>`` (a tooltip and a label for screen readers). All text is escaped.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape
from typing import Literal

__all__ = ["Bar", "Marker", "Scale", "hbar_chart", "nice_max", "format_tick"]

Scale = Literal["share", "count"]

_LABEL_W = 250  # left column for category labels
_VALUE_W = 240  # right column for the value text
_ROW_H = 22
_BAR_H = 14
_TOP = 30  # room for the marker label
_BOTTOM = 26  # room for the tick labels
_MAX_LABEL = 34  # characters before a label is shortened (the full label stays in the bar's <title>)


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    low: float | None = None  # interval, drawn as an error bar when both ends are given
    high: float | None = None
    text: str = ""  # printed to the right of the bar
    tone: str = "bar"  # CSS class of the bar: bar, unknown, consistent, higher, lower, insufficient, muted


@dataclass(frozen=True, slots=True)
class Marker:
    value: float
    label: str


def _e(text: object) -> str:
    return escape(str(text), quote=True)


def nice_max(value: float, scale: Scale) -> float:
    """A round upper end for an axis that holds ``value``: 1, 2, 2.5 or 5 times a power of ten (shares cap at 1)."""
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 2.5, 5.0, 10.0):
        top = step * magnitude
        if top >= value * (1 - 1e-12):
            break
    if scale == "count":
        top = max(1.0, math.ceil(top))
    return min(top, 1.0) if scale == "share" else top


def format_tick(value: float, scale: Scale) -> str:
    if scale == "share":
        pct = 100 * value
        return f"{pct:.0f} %" if abs(pct - round(pct)) < 1e-9 else f"{pct:.1f} %"
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def _ticks(top: float, scale: Scale) -> list[float]:
    count = 5 if scale == "share" or top >= 5 else max(1, int(top))
    return [top * i / count for i in range(count + 1)]


def _short(label: str) -> str:
    return label if len(label) <= _MAX_LABEL else label[: _MAX_LABEL - 1] + "…"


class _Frame:
    """Maps values to x positions inside the plot area."""

    def __init__(self, width: int, top: float) -> None:
        self.x0 = _LABEL_W
        self.x1 = width - _VALUE_W
        self.top = top

    def x(self, value: float) -> float:
        clamped = min(max(value, 0.0), self.top)
        return round(self.x0 + (self.x1 - self.x0) * clamped / self.top, 1)


def _axis(frame: _Frame, scale: Scale, plot_bottom: int) -> list[str]:
    parts = []
    for tick in _ticks(frame.top, scale):
        x = frame.x(tick)
        parts.append(f'<line class="grid" x1="{x}" y1="{_TOP - 4}" x2="{x}" y2="{plot_bottom}"/>')
        label = _e(format_tick(tick, scale))
        parts.append(f'<text class="tick" x="{x}" y="{plot_bottom + 16}" text-anchor="middle">{label}</text>')
    return parts


def _bar(frame: _Frame, bar: Bar, row: int) -> str:
    y = _TOP + row * _ROW_H
    mid = y + _ROW_H / 2
    bar_y = mid - _BAR_H / 2
    x_end = frame.x(bar.value)
    tip = f"{bar.label}: {bar.text}" if bar.text else bar.label
    parts = [
        f"<g><title>{_e(tip)}</title>",
        f'<text class="label" x="{_LABEL_W - 8}" y="{mid + 4}" text-anchor="end">{_e(_short(bar.label))}</text>',
        f'<rect class="{_e(bar.tone)}" x="{frame.x0}" y="{bar_y}" width="{round(x_end - frame.x0, 1)}" '
        f'height="{_BAR_H}"/>',
    ]
    if bar.low is not None and bar.high is not None:
        lo, hi = frame.x(bar.low), frame.x(bar.high)
        parts.append(f'<path class="err" d="M{lo} {mid}H{hi}M{lo} {mid - 5}V{mid + 5}M{hi} {mid - 5}V{mid + 5}"/>')
    parts.append(f'<text class="value" x="{frame.x1 + 8}" y="{mid + 4}">{_e(bar.text)}</text></g>')
    return "".join(parts)


def _marker(frame: _Frame, marker: Marker, plot_bottom: int) -> str:
    x = frame.x(marker.value)
    return (
        f'<g class="marker"><title>{_e(marker.label)}</title>'
        f'<line x1="{x}" y1="{_TOP - 6}" x2="{x}" y2="{plot_bottom}"/>'
        f'<text x="{x}" y="{_TOP - 10}" text-anchor="middle">{_e(marker.label)}</text></g>'
    )


def hbar_chart(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    scale: Scale = "share",
    marker: Marker | None = None,
    width: int = 960,
) -> str:
    """One horizontal bar chart as an inline ``<svg>`` element (a string of markup, all text escaped).

    The axis runs from 0 to a round number above the largest bar, interval end or marker; ``chart_id`` must be unique
    in the page (it names the title and description elements).
    """
    ends = [b.value for b in bars] + [b.high for b in bars if b.high is not None]
    if marker is not None:
        ends.append(marker.value)
    frame = _Frame(width, nice_max(max(ends, default=0.0), scale))
    plot_bottom = _TOP + max(len(bars), 1) * _ROW_H
    height = plot_bottom + _BOTTOM
    parts = [
        f'<svg class="chart" xmlns="http://www.w3.org/2000/svg" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" aria-labelledby="{_e(chart_id)}-t {_e(chart_id)}-d">',
        f'<title id="{_e(chart_id)}-t">{_e(title)}</title><desc id="{_e(chart_id)}-d">{_e(description)}</desc>',
        *_axis(frame, scale, plot_bottom),
        *(_bar(frame, bar, i) for i, bar in enumerate(bars)),
    ]
    if not bars:
        parts.append(f'<text class="label" x="{frame.x0 + 8}" y="{_TOP + 15}">no data</text>')
    if marker is not None:
        parts.append(_marker(frame, marker, plot_bottom))
    parts.append("</svg>")
    return "\n".join(parts)
