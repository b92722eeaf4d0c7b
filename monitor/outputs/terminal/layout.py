"""Width-aware tables for the terminal report: compact number forms, and tables that drop optional columns instead of
wrapping or truncating cells.

A report is read in 80-column terminals and in files (``monitor report SNAPSHOT > report.txt``). Rich's default
tables wrap every cell over several lines or cut headers to "discove…" when they do not fit. Here a table is built from
:class:`Col` specs; columns marked ``drop`` are removed, least important first, until the table fits the console, and
the caller says where their content went (a line below the table, or ``--json``), so nothing disappears silently. Only
the label column may still wrap, and only when even the smallest table is too wide; no cell is ever cut with "…".
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TextIO

from rich import box
from rich.console import Console
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from monitor.analysis.stats import Interval

__all__ = [
    "DEFAULT_WIDTH",
    "Col",
    "Fitted",
    "report_width",
    "report_console",
    "fit_table",
    "print_table",
    "print_title",
    "print_pairs",
    "pct",
    "ci_pct",
    "num",
    "ci_num",
    "count_ci",
]

DEFAULT_WIDTH = 80  # piped output without COLUMNS: the width every terminal has


def report_width(stream: TextIO, environ: Mapping[str, str]) -> int | None:
    """The width to render at: COLUMNS when set, the terminal's own width (None: rich asks it), else 80.

    Rich alone would measure the terminal behind stdin or stderr when stdout is a file, so a report piped to a file
    from a wide terminal would come out as wide as that terminal; a file gets COLUMNS or 80.
    """
    columns = environ.get("COLUMNS", "").strip()
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    isatty = getattr(stream, "isatty", None)
    return None if isatty is not None and isatty() else DEFAULT_WIDTH


def report_console(stream: TextIO | None = None, environ: Mapping[str, str] | None = None) -> Console:
    """A console for the terminal report on ``stream`` (default: stdout), at :func:`report_width`."""
    out = sys.stdout if stream is None else stream
    return Console(file=stream, width=report_width(out, os.environ if environ is None else environ), highlight=False)


@dataclass(frozen=True, slots=True)
class Col:
    header: str
    cells: Sequence[str | Text]
    right: bool = False  # numbers are right-aligned
    drop: int = 0  # 0: always shown; otherwise dropped when the table is too wide, the highest first
    label: bool = False  # the column that may wrap when nothing else helps (free text: names, reasons)


@dataclass(frozen=True, slots=True)
class Fitted:
    table: Table
    dropped: tuple[Col, ...]  # the caller puts their content elsewhere, or says where to find it
    fits: bool  # every cell on one line (False: a label, or at a very narrow width any cell, wraps)

    def dropped_note(self, width: int) -> str:
        """The line that says which columns this width left out and where they are."""
        if not self.dropped:
            return ""
        names = ", ".join(c.header for c in self.dropped)
        return f"Not shown at {width} columns: {names} (in --json, or in a wider terminal)."


def _text(cell: str | Text) -> Text:
    return cell if isinstance(cell, Text) else Text(cell)  # Text, not markup: labels like "[ISP]" print literally


def _build(cols: Sequence[Col], rows: int, label_max: int | None = None, wrap_all: bool = False) -> Table:
    table = Table(box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False, collapse_padding=True, header_style="bold")
    for c in cols:
        # no_wrap keeps numbers on one line; "fold" (not "ellipsis") means a cell that must wrap is never cut with "…".
        table.add_column(
            _text(c.header),
            justify="right" if c.right else "left",
            overflow="fold",
            no_wrap=not (wrap_all or c.label),
            max_width=label_max if c.label else None,
        )
    for i in range(rows):
        table.add_row(*(_text(c.cells[i]) for c in cols))
    return table


def _natural_width(console: Console, table: Table) -> int:
    return Measurement.get(console, console.options.update_width(10_000), table).maximum


def _cells_width(col: Col) -> int:
    return max((_text(x).cell_len for x in (col.header, *col.cells)), default=0)


_MIN_LABEL = 12  # narrower than this a wrapped label is unreadable: let every column wrap instead


def fit_table(console: Console, cols: Sequence[Col]) -> Fitted:
    """A table of ``cols`` that fits ``console.width``: optional columns go, the highest ``drop`` first; if it is
    still too wide the label column wraps, and below that (a very narrow console) every column may wrap."""
    rows = min((len(c.cells) for c in cols), default=0)
    kept = list(cols)
    table = _build(kept, rows)
    while (excess := _natural_width(console, table) - console.width) > 0:
        candidates = [c for c in kept if c.drop > 0]
        if not candidates:
            break
        kept.remove(max(reversed(candidates), key=lambda c: c.drop))  # ties: the rightmost goes first
        table = _build(kept, rows)
    if excess > 0:
        labels = [c for c in kept if c.label]
        label_max = max((_cells_width(c) for c in labels), default=0) - excess
        table = _build(kept, rows, label_max) if labels and label_max >= _MIN_LABEL else _build(kept, rows, None, True)
    return Fitted(table, tuple(c for c in cols if c not in kept), fits=excess <= 0)


def print_title(console: Console, title: str) -> None:
    console.print()
    console.print(Text(title, style="bold"))


def print_table(console: Console, title: str, cols: Sequence[Col], note_dropped: bool = True) -> Fitted:
    """Title line and fitted table, then (unless the caller places them itself) a line naming the columns left out."""
    print_title(console, title)
    fitted = fit_table(console, cols)
    console.print(fitted.table)
    if note_dropped and fitted.dropped:
        console.print(Text(fitted.dropped_note(console.width), style="dim"))
    return fitted


def print_pairs(console: Console, pairs: Sequence[tuple[str, str]], indent: int = 0) -> None:
    """Term and meaning on one line each; a long meaning wraps under itself (hanging indent), never under the term."""
    grid = Table.grid(padding=(0, 2), pad_edge=False)
    grid.add_column(no_wrap=True, style="bold")
    grid.add_column(overflow="fold")
    for term, meaning in pairs:
        grid.add_row(Text(" " * indent + term), Text(meaning))
    console.print(grid)


# --- compact number forms: the legend says what the units are, so cells carry digits only ---------------------------


def pct(x: float | None) -> str:
    """A share in percent, one decimal, no sign ("25.3")."""
    return "—" if x is None else f"{100 * x:.1f}"


def ci_pct(ci: Interval | None, digits: int = 1) -> str:
    """A 95 % interval in percent as "low-high" ("19.0-32.8")."""
    return "—" if ci is None else f"{100 * ci.low:.{digits}f}-{100 * ci.high:.{digits}f}"


def num(x: float | None, digits: int = 3) -> str:
    return "—" if x is None else f"{x:.{digits}f}"


def ci_num(value: float | None, ci: Interval | None, digits: int = 3) -> str:
    """A value with its interval: "0.122 (0.101-0.158)", the value alone when there is no interval."""
    if ci is None:
        return num(value, digits)
    return f"{num(value, digits)} ({ci.low:.{digits}f}-{ci.high:.{digits}f})"


def count_ci(value: int | None, ci: Interval | None) -> str:
    """A count with its interval: "2 (2-3)"."""
    if value is None:
        return "—"
    return str(value) if ci is None else f"{value} ({ci.low:.0f}-{ci.high:.0f})"
