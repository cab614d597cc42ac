"""How the command line shows things to a person: the live progress of a task, poems, sets, errors.

``Renderer`` turns a task's events into output on a ``Screen``: the poem as soon as it arrives,
the sources, the interpretation as it streams, then a summary — all on stdout; the progress (bar,
percent, stage, elapsed, ETA, message) on stderr, redrawn in place on a terminal, or as one plain
line per stage change otherwise. Between events the elapsed time and the ETA move on with the local
clock (``refresh``), measured from the server's figures in the last event; ``percent`` is only ever
the server's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

from google.protobuf import duration_pb2
from qianshi.client.errors import QianshiClientError
from qianshi.client.events import is_terminal, payload_kind
from qianshi.client.screen import Screen, display_width, truncate
from qianshi.v1 import events_pb2, poems_pb2

__all__ = [
    "Renderer",
    "format_duration",
    "format_error",
    "format_passages",
    "format_poem",
    "format_sets",
    "format_summary",
    "stage_label",
]

_BAR_WIDTH = 20
_BAR_MIN_COLUMNS = 60  # narrower terminals get the figures without the bar


def _bold(text: str, on: bool) -> str:
    return f"\x1b[1m{text}\x1b[0m" if on else text


def _seconds(duration: duration_pb2.Duration) -> float:
    return float(duration.seconds) + duration.nanos / 1e9


def format_duration(seconds: float) -> str:
    """``0.42s``, ``12.3s``, ``2m05s``."""
    if seconds < 10:
        return f"{seconds:.2f}s"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def stage_label(stage: int) -> str:
    """``"retrieval"`` for STAGE_RETRIEVAL, and so on."""
    try:
        return events_pb2.Stage.Name(stage).removeprefix("STAGE_").lower()
    except ValueError:
        return str(stage)


def _pad(text: str, width: int) -> str:
    return text + " " * max(0, width - display_width(text))


def format_poem(poem: poems_pb2.Poem, *, judgments: bool = False, color: bool = False) -> str:
    """The poem: set, number and rank, title, the verse lines; with its judgments when asked."""
    head = f"{poem.set_name or poem.set_id} 第{poem.number}籤"
    if poem.rank:
        head += f" · {poem.rank}"
    lines = [_bold(head, color)]
    if poem.title:
        lines.append(f"《{poem.title}》")
    lines.extend(f"    {verse}" for verse in poem.verse_lines)
    if judgments:
        if poem.alt_titles:
            lines.append(f"  other titles: {'、'.join(poem.alt_titles)}")
        lines.extend(f"  {key}: {value}" for key, value in sorted(poem.attributes.items()))
        if poem.judgments:
            width = max(display_width(j.category) for j in poem.judgments)
            lines.append("")
            lines.extend(f"  {_pad(j.category, width)}  {j.text}" for j in poem.judgments)
        if poem.source:
            lines.extend(["", f"  source: {poem.source}"])
    return "\n".join(lines) + "\n"


def _passage_label(passage: poems_pb2.Passage) -> str:
    if passage.kind == poems_pb2.PASSAGE_KIND_JUDGMENT:
        return passage.category or "judgment"
    if passage.kind == poems_pb2.PASSAGE_KIND_VERSE:
        return "verse"
    if passage.kind == poems_pb2.PASSAGE_KIND_TITLE:
        return "title"
    return passage.category or "passage"


def format_passages(passages: events_pb2.Passages, *, color: bool = False) -> str:
    """The sources: citation number, kind or category, text."""
    title = "Sources" + (f" · {passages.category}" if passages.category else "")
    lines = [_bold(title, color)]
    for passage in passages.passages:
        text = " ".join(passage.text.split())
        lines.append(f"  [{passage.citation}] {_passage_label(passage)}  {text}")
    return "\n".join(lines) + "\n"


def format_summary(
    result: events_pb2.Result,
    *,
    task_id: str = "",
    accepted: events_pb2.Accepted | None = None,
    citations: dict[str, int] | None = None,
    color: bool = False,
) -> str:
    """The end of a task: who wrote the text, what it cites, how long each stage took, tokens used."""
    first = [f"generator {result.generator or '?'}"]
    if result.model:
        first.append(f"model {result.model}")
    if result.prompt_version:
        first.append(f"prompt {result.prompt_version}")
    category = result.category or (accepted.category if accepted else "")
    if category:
        source = ""
        if accepted is not None and accepted.category_source:
            source = events_pb2.CategorySource.Name(accepted.category_source)
            source = f" ({source.removeprefix('CATEGORY_SOURCE_').lower()})"
        first.append(f"category {category}{source}")
    if result.fallback_used:
        first.append("fallback generator used")
    lines = ["", _bold("Summary", color), "  " + " · ".join(first)]
    if result.cited_passage_ids:
        numbers = citations or {}
        cited = [f"[{numbers[pid]}] {pid}" if pid in numbers else pid for pid in result.cited_passage_ids]
        lines.append("  cited: " + ", ".join(cited))
    if result.unknown_citations:
        lines.append("  unknown citations: " + ", ".join(f"[{n}]" for n in result.unknown_citations))
    timings = [f"{stage_label(t.stage)} {format_duration(_seconds(t.duration))}" for t in result.timings]
    if result.HasField("time_to_first_token"):
        timings.append(f"first text after {format_duration(_seconds(result.time_to_first_token))}")
    if result.tokens_per_second:
        timings.append(f"{result.tokens_per_second:.1f} tokens/s")
    if timings:
        lines.append("  timings: " + " · ".join(timings))
    usage = result.usage
    if usage.prompt_tokens or usage.completion_tokens:
        lines.append(f"  usage: {usage.prompt_tokens} prompt + {usage.completion_tokens} completion tokens")
    if task_id:
        lines.append(f"  task: {task_id}")
    return "\n".join(lines) + "\n"


def format_sets(sets: Iterable[poems_pb2.PoemSet], *, width: int | None = None) -> str:
    """A table of the poem sets: id, name, count, categories (cut to ``width`` columns if given)."""
    rows = [("id", "name", "count", "categories")]
    for poem_set in sets:
        name = " ".join(n for n in (poem_set.name_zh, poem_set.name_en) if n)
        rows.append((poem_set.id, name, str(poem_set.count), " ".join(poem_set.categories)))
    widths = [max(display_width(row[i]) for row in rows) for i in range(3)]
    lines = []
    for row in rows:
        line = "  ".join(_pad(cell, widths[i]) for i, cell in enumerate(row[:3])) + "  " + row[3]
        lines.append(truncate(line, width) if width else line)
    return "\n".join(lines) + "\n"


def format_error(exc: QianshiClientError, *, prog: str = "qianshi") -> str:
    """The error for stderr: status code name and message, then the bad fields and the hints."""
    lines = [f"{prog}: error: {exc.code_name}: {exc.message}"]
    lines.extend(f"  {v.field}: {v.description}" for v in exc.field_violations)
    details = exc.details
    if details.localized_message and details.localized_message != exc.message:
        lines.append(f"  {details.localized_message}")
    if details.retry_after is not None:
        lines.append(f"  retry after {format_duration(details.retry_after)}")
    if details.reason:
        lines.append(f"  reason: {details.reason}")
    if details.request_id:
        lines.append(f"  request id: {details.request_id}")
    if exc.task_id:
        lines.append(f"  task: {exc.task_id}")
    return "\n".join(lines) + "\n"


class Renderer:
    """Shows a task's events on a ``Screen`` as they arrive (see the module docstring)."""

    def __init__(self, screen: Screen, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.screen = screen
        self.color = screen.shared
        self._clock = clock
        self._bar = "█░" if _can_encode(screen, "█░") else "#-"
        self._event: events_pb2.ProgressEvent | None = None
        self._received_at = 0.0
        self._last_stage = -1
        self._accepted: events_pb2.Accepted | None = None
        self._citations: dict[str, int] = {}
        self._text_started = False
        self.terminal: events_pb2.ProgressEvent | None = None

    def handle(self, event: events_pb2.ProgressEvent) -> None:
        """Show one event: its content on stdout, its progress on stderr."""
        self._event, self._received_at = event, self._clock()
        kind = payload_kind(event)
        if kind == "accepted":
            self._accepted = event.accepted
        elif kind == "poem":
            self.screen.write_block(format_poem(event.poem, color=self.color))
        elif kind == "passages":
            self._citations = {p.id: p.citation for p in event.passages.passages}
            self.screen.write_block("\n" + format_passages(event.passages, color=self.color))
        elif kind == "text_delta":
            self._start_text()
            self.screen.write_text(event.text_delta.text)
        elif kind == "result":
            if not self._text_started and event.result.text:
                self._start_text()  # watched from after the deltas: the result holds the text
                self.screen.write_text(event.result.text)
            self.screen.end_text()
            summary = format_summary(
                event.result,
                task_id=event.task_id,
                accepted=self._accepted,
                citations=self._citations,
                color=self.color,
            )
            self.screen.write_block(summary)
        elif kind == "error":
            self.screen.end_text()
        if is_terminal(event):
            self.terminal = event
        self._report(event)

    def _start_text(self) -> None:
        if not self._text_started:
            self._text_started = True
            self.screen.write_block("\n" + _bold("Interpretation", self.color))

    def _report(self, event: events_pb2.ProgressEvent) -> None:
        if self.screen.live:
            self.screen.status(self._live_line())
        elif event.stage != self._last_stage or is_terminal(event):
            self._last_stage = event.stage
            self.screen.note(self.status_line(bar=False))

    def refresh(self) -> None:
        """Redraw the status line with the elapsed time and ETA moved on by the local clock."""
        if self.screen.live and self._event is not None and self.terminal is None:
            self.screen.status(self._live_line())

    def _live_line(self) -> str:
        return self.status_line(bar=self.screen.columns() >= _BAR_MIN_COLUMNS)

    def status_line(self, *, bar: bool = True) -> str:
        """``[████░░░░] 42%  generation  3.10s  ETA 4.20s  <message>`` for the last event."""
        event = self._event
        if event is None:
            return ""
        since = 0.0 if self.terminal is not None else max(0.0, self._clock() - self._received_at)
        filled = round(max(0.0, min(100.0, event.percent)) / 100 * _BAR_WIDTH)
        parts = [f"{event.percent:3.0f}%", stage_label(event.stage)]
        if bar:
            parts[0] = f"[{self._bar[0] * filled}{self._bar[1] * (_BAR_WIDTH - filled)}] {parts[0]}"
        parts.append(format_duration(_seconds(event.elapsed) + since))
        if event.HasField("eta") and self.terminal is None:
            parts.append(f"ETA {format_duration(max(0.0, _seconds(event.eta) - since))}")
        if event.HasField("tick") and event.tick.queue_position:
            parts.append(f"queued #{event.tick.queue_position}")
        if event.message:
            parts.append(event.message)
        return "  ".join(parts)

    def close(self) -> None:
        """Erase the status line; leave the content."""
        self.screen.close()


def _can_encode(screen: Screen, chars: str) -> bool:
    try:
        chars.encode(getattr(screen.err, "encoding", None) or "utf-8")
    except (UnicodeEncodeError, LookupError):
        return False
    return True
