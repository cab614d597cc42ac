"""A terminal screen for the command line: permanent content on stdout, one live status line on stderr.

Three modes, chosen from what the two streams are:

* **plain** (stderr is not a terminal): content is written as it comes; the status line is never
  drawn (the caller prints plain lines instead).
* **live, separate** (stderr is a terminal, stdout is not): content goes to its file untouched; the
  status line is redrawn in place on the terminal with ``\\r`` and erase-line.
* **live, shared** (both are the terminal): the bottom of the screen is a *live region*, the row of
  streamed text not yet ended by a newline followed by the status line. Every write erases the
  region, writes the finished rows for good, and draws the region again below them; so the text
  grows in place above a status line that stays at the bottom. The unfinished text is cut into rows
  that fit the terminal (by display width: CJK characters take two columns), and only the last of
  them stays in the region, so the region is always exactly two rows high and easy to erase.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from typing import TextIO

__all__ = ["Screen", "display_width", "truncate"]

_ERASE_LINE = "\r\x1b[2K"
_UP = "\x1b[1A"


def _char_width(char: str) -> int:
    if unicodedata.combining(char) or ord(char) < 32:
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def display_width(text: str) -> int:
    """Columns the text takes on a terminal (East Asian wide and full-width characters take two)."""
    return sum(_char_width(c) for c in text)


def truncate(text: str, width: int) -> str:
    """The longest prefix of ``text`` (one line) that fits in ``width`` columns, with "…" when cut."""
    text = text.replace("\n", " ")
    if display_width(text) <= width:
        return text
    out: list[str] = []
    used = 0
    for char in text:
        w = _char_width(char)
        if used + w > width - 1:
            break
        out.append(char)
        used += w
    return "".join(out) + "…"


def _rows(text: str, width: int) -> list[str]:
    """``text`` (no newlines) cut into rows narrower than ``width``; the last row may be empty."""
    rows: list[str] = []
    row: list[str] = []
    used = 0
    for char in text:
        w = _char_width(char)
        if used + w > width - 1:
            rows.append("".join(row))
            row, used = [], 0
        row.append(char)
        used += w
    rows.append("".join(row))
    return rows


class Screen:
    """Writes content to ``out`` and keeps one status line on ``err`` (see the module docstring)."""

    def __init__(
        self, out: TextIO, err: TextIO, *, live: bool | None = None, columns: int | None = None
    ) -> None:
        self.out = out
        self.err = err
        self._columns = columns
        self.live = _isatty(err) if live is None else live
        self.shared = self.live and _isatty(out)
        self._status = ""
        self._pending = ""  # shared mode: the unfinished row of text, drawn in the live region
        self._at_line_start = True
        self._shown = False

    def columns(self) -> int:
        """The terminal's width in columns (80 when it cannot be told)."""
        if self._columns is not None:
            return self._columns
        try:
            return os.get_terminal_size(self.err.fileno()).columns or 80
        except (OSError, ValueError, AttributeError):
            return shutil.get_terminal_size().columns

    def write_text(self, chunk: str) -> None:
        """Write streamed text, which may end in the middle of a line."""
        chunk = chunk.replace("\r", "").replace("\t", "    ")
        if not chunk:
            return
        if not self.shared:
            self._write_out(chunk)
            return
        self._hide()
        head, newline, tail = (self._pending + chunk).rpartition("\n")
        rows = _rows(tail, self.columns())
        self._pending = rows[-1]
        self._write_out(head + newline + "".join(row + "\n" for row in rows[:-1]))
        self._show()

    def write_block(self, text: str) -> None:
        """Write whole lines, starting on a fresh line (ending unfinished text first)."""
        self._hide()
        self._end_line()
        self._write_out(text if text.endswith("\n") else text + "\n")
        self._show()

    def end_text(self) -> None:
        """End unfinished text with a newline."""
        self._hide()
        self._end_line()
        self._show()

    def note(self, line: str) -> None:
        """Write one line to stderr, above the live region when there is one."""
        self._hide()
        self._write_err(line + "\n")
        self._show()

    def status(self, line: str) -> None:
        """Show ``line`` as the status line (live modes only), replacing the previous one."""
        if not self.live:
            return
        self._status = truncate(line, self.columns() - 1)
        if self._shown:
            self._write_err(_ERASE_LINE + self._status)
        else:
            self._show()

    def close(self) -> None:
        """Erase the status line and end unfinished text; the screen is left with content only."""
        self._hide()
        self._status = ""
        self._end_line()

    def _end_line(self) -> None:
        if self._pending:
            self._write_out(self._pending)
            self._pending = ""
        if not self._at_line_start:
            self._write_out("\n")

    def _hide(self) -> None:
        if self._shown:
            self._write_err(_ERASE_LINE + (_UP + _ERASE_LINE if self._pending else ""))
            self._shown = False

    def _show(self) -> None:
        if not self.live or self._shown or not (self._status or self._pending):
            return
        if self._pending:
            self._write_out(self._pending)
            self._write_err("\n")
            self._at_line_start = True  # what follows _pending is the region's own newline
        self._write_err(self._status)
        self._shown = True

    def _write_out(self, text: str) -> None:
        if text:
            self.out.write(text)
            self.out.flush()
            self._at_line_start = text.endswith("\n")

    def _write_err(self, text: str) -> None:
        self.err.write(text)
        self.err.flush()


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
