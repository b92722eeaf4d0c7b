"""Width-aware tables: which columns go first, what wraps, what is never cut, and the width a report is printed at."""

from __future__ import annotations

import io

import pytest
from rich.console import Console

from monitor.outputs.terminal.layout import DEFAULT_WIDTH, Col, fit_table, report_console, report_width


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


def _console(width: int) -> Console:
    return Console(file=io.StringIO(), record=True, width=width, color_system=None)


def _cols() -> list[Col]:
    return [
        Col("name", ["alpha", "a rather longer name"], label=True),
        Col("n", ["1,234", "56"], right=True),
        Col("wide", ["x" * 20, "y" * 20], drop=1),
        Col("wider", ["z" * 30, "w" * 30], drop=2),
    ]


def _squeezed(text: str) -> str:
    return "".join(text.split())


@pytest.mark.parametrize(
    ("environ", "tty", "expected"),
    [
        ({"COLUMNS": "100"}, False, 100),
        ({"COLUMNS": "100"}, True, 100),
        ({}, False, DEFAULT_WIDTH),  # piped: 80, whatever terminal the shell sits in
        ({"COLUMNS": "abc"}, False, DEFAULT_WIDTH),
        ({"COLUMNS": "0"}, False, DEFAULT_WIDTH),
        ({}, True, None),  # a terminal: rich asks it
    ],
)
def test_report_width(environ: dict[str, str], tty: bool, expected: int | None) -> None:
    assert report_width(_Stream(tty), environ) == expected


def test_report_console_uses_that_width() -> None:
    assert report_console(_Stream(False), {"COLUMNS": "97"}).width == 97
    assert report_console(_Stream(False), {}).width == DEFAULT_WIDTH


def test_everything_fits_when_wide_enough() -> None:
    fitted = fit_table(_console(200), _cols())
    assert fitted.dropped == () and fitted.fits and fitted.dropped_note(200) == ""


def test_optional_columns_go_highest_drop_first_and_are_named() -> None:
    console = _console(60)
    fitted = fit_table(console, _cols())
    assert [c.header for c in fitted.dropped] == ["wider"] and fitted.fits
    assert fitted.dropped_note(60) == "Not shown at 60 columns: wider (in --json, or in a wider terminal)."
    fitted = fit_table(console := _console(30), _cols())
    assert [c.header for c in fitted.dropped] == ["wide", "wider"] and fitted.fits
    console.print(fitted.table)
    lines = console.export_text().splitlines()
    assert max(len(line) for line in lines) <= 30
    assert any(line.startswith("a rather longer name") and line.endswith("56") for line in lines)


def test_a_label_wraps_rather_than_being_cut_and_numbers_stay_whole() -> None:
    console = _console(30)
    label = "a rather longer name that cannot fit"
    cols = [Col("name", [label], label=True), Col("n", ["1,234,567"], right=True)]
    fitted = fit_table(console, cols)
    assert not fitted.fits
    console.print(fitted.table)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 30
    assert "…" not in text and "1,234,567" in text
    assert all(word in text for word in label.split()) and len(text.splitlines()) > 3


def test_at_a_tiny_width_every_cell_may_wrap_but_none_is_cut() -> None:
    console = _console(12)
    fitted = fit_table(console, [Col("first", ["abcdefghij"]), Col("second", ["0123456789"], right=True)])
    console.print(fitted.table)
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 12 and "…" not in text
    for cell in ("abcdefghij", "0123456789"):
        assert all(ch in _squeezed(text) for ch in cell)
    assert sorted(_squeezed(text).replace("─", "")) == sorted("firstsecondabcdefghij0123456789")


def test_cells_are_literal_text_not_markup() -> None:
    console = _console(80)
    console.print(fit_table(console, [Col("[b]x[/b]", ["[red]not markup[/red]"])]).table)
    text = console.export_text()
    assert "[b]x[/b]" in text and "[red]not markup[/red]" in text
