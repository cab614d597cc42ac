"""The terminal rendering: a fake terminal replays what the command wrote to stdout and stderr, in
order, onto a grid, so the tests can look at the screen a person would see."""

from __future__ import annotations

import io
import re

import grpc
from fake_qianshi_server import TEXT_PIECES, VERSES, canned_events
from qianshi.client.errors import ErrorDetails, FieldViolation, InvalidArgument
from qianshi.client.render import Renderer, format_duration, format_error
from qianshi.client.screen import Screen, display_width, truncate
from qianshi.v1 import events_pb2

_CONTROL = re.compile(r"\x1b\[(\d*)([A-Za-z])|\r|\n|.", re.S)


class Terminal:
    """A tiny terminal: ``\\r``, ``\\n``, erase line, cursor up, auto-wrap, wide characters."""

    def __init__(self, columns: int) -> None:
        self.columns = columns
        self.rows: list[list[str]] = [[]]
        self.row = self.col = 0

    def feed(self, text: str) -> None:
        for match in _CONTROL.finditer(text):
            token = match.group(0)
            if token == "\r":
                self.col = 0
            elif token == "\n":
                self._down()
            elif match.group(2) == "K":
                self.rows[self.row] = []
            elif match.group(2) == "A":
                self.row -= int(match.group(1) or 1)
            elif match.group(2):
                continue  # colours
            else:
                width = display_width(token)
                if self.col + width > self.columns:
                    self._down()
                line = self.rows[self.row]
                line.extend([" "] * (self.col - len(line)))
                line[self.col : self.col + width] = [token] + [""] * (width - 1)
                self.col += width

    def _down(self) -> None:
        self.row, self.col = self.row + 1, 0
        while len(self.rows) <= self.row:
            self.rows.append([])

    def lines(self) -> list[str]:
        lines = ["".join(row).rstrip() for row in self.rows]
        while lines and not lines[-1]:
            lines.pop()
        return lines


class TTY(io.StringIO):
    """One stream of the fake terminal."""

    def __init__(self, terminal: Terminal) -> None:
        super().__init__()
        self.terminal = terminal

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.terminal.feed(text)
        return len(text)


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def plain_output(events: list[events_pb2.ProgressEvent]) -> str:
    out, err = io.StringIO(), io.StringIO()
    renderer = Renderer(Screen(out, err))
    for event in events:
        renderer.handle(event)
    renderer.close()
    return out.getvalue()


def test_on_a_terminal_the_screen_ends_with_what_a_pipe_gets() -> None:
    terminal = Terminal(columns=80)
    renderer = Renderer(Screen(TTY(terminal), TTY(terminal), columns=80), clock=Clock())
    events = canned_events()
    for event in events:
        renderer.handle(event)
    renderer.close()
    assert terminal.lines() == plain_output(events).rstrip("\n").splitlines()


def test_the_status_line_stays_at_the_bottom_below_the_growing_text() -> None:
    terminal = Terminal(columns=80)
    clock = Clock()
    renderer = Renderer(Screen(TTY(terminal), TTY(terminal)), clock=clock)
    events = canned_events()
    text_events = [e for e in events if e.HasField("text_delta")]
    for event in events[: events.index(text_events[1]) + 1]:
        renderer.handle(event)
    *content, partial, status = terminal.lines()
    assert VERSES[-1] in "\n".join(content)
    assert partial == TEXT_PIECES[0] + TEXT_PIECES[1]
    assert "%" in status
    assert "generation" in status
    assert "撰寫中" in status
    # Between events the clock moves on: elapsed grows, the ETA shrinks; percent does not move.
    before = renderer.status_line()
    clock.now += 1.5
    renderer.refresh()
    after = terminal.lines()[-1]
    assert after != before
    assert "ETA 0.50s" in after
    assert before.split("]")[1].split()[0] == after.split("]")[1].split()[0]  # the percent


def test_long_text_wraps_into_rows_and_the_region_stays_two_rows() -> None:
    terminal = Terminal(columns=20)
    renderer = Renderer(Screen(TTY(terminal), TTY(terminal), columns=20), clock=Clock())
    events = canned_events()
    renderer.handle(events[0])
    long_text = "甲乙丙丁戊己庚辛壬癸" * 5
    for i in range(0, len(long_text), 7):
        delta = events_pb2.ProgressEvent(task_id="t", seq=2, stage=events_pb2.STAGE_GENERATION, percent=50)
        delta.text_delta.text = long_text[i : i + 7]
        renderer.handle(delta)
        assert "%" in terminal.lines()[-1]
    renderer.close()
    lines = terminal.lines()
    text_lines = lines[lines.index("Interpretation") + 1 :]
    assert "".join(text_lines) == long_text
    assert all(display_width(line) < 20 for line in text_lines)


def test_without_a_terminal_no_status_line_is_drawn() -> None:
    out, err = io.StringIO(), io.StringIO()
    renderer = Renderer(Screen(out, err))
    for event in canned_events():
        renderer.handle(event)
    renderer.close()
    assert "\x1b" not in out.getvalue() + err.getvalue()
    assert len(err.getvalue().splitlines()) == 4  # accepted, retrieval, generation, done


def test_helpers() -> None:
    assert format_duration(0.4) == "0.40s"
    assert format_duration(12.34) == "12.3s"
    assert format_duration(125) == "2m05s"
    assert display_width("籤詩ab") == 6
    assert truncate("籤詩籤詩籤詩", 7) == "籤詩籤…"
    exc = InvalidArgument(
        grpc.StatusCode.INVALID_ARGUMENT,
        "bad",
        ErrorDetails(field_violations=(FieldViolation("number", "1 to 60"),), retry_after=2.0),
    )
    assert (
        format_error(exc) == "qianshi: error: INVALID_ARGUMENT: bad\n  number: 1 to 60\n  retry after 2.00s\n"
    )
