"""The check of one LLM stream: what may be released to the reader now, and what tripped.

The text is cut at clause breaks (punctuation, line ends; a clause that runs past ``HOLD`` characters
without one is cut before its last ``TAIL``) and each clause is checked before anyone sees it:

1. citations — markers normalised, those naming no passage removed (``citations``);
2. script — converted into the locale's script as it streams (``chinese.StreamConverter``: s2tw for
   zh-Hant, tw2s for zh-Hans, the slip's own texts left as they are), so a zh-Hant reader never sees a
   Simplified character; the converted characters are counted, never a trip;
3. language — letters in a script the reader does not read, or a text that has become mostly the
   other locale's (``scripts``);
4. loops — the clause repeating what came before (``loops``).

``mode="fallback"`` holds the first ``window`` characters (a CJK character weighs two) until they pass:
a trip before any text has gone out stops the stream so that the grounded reading can stand in instead,
and the reader never sees the model's attempt. After that, a trip never retracts text: a loop or a
foreign clause is dropped and the stream is cut there (the engine request is then aborted); a
language trip in ``mode="flag"`` is released and reported, a loop is still cut (a loop is never worth
reading). ``finish`` reads the finished text's answer against the plan's (``answer``); a disagreement
is reported, never acted on.
"""

from __future__ import annotations

import re

from qianshi.server.backends.generation.guard.answer import answer_of
from qianshi.server.backends.generation.guard.citations import filter_markers, unfinished
from qianshi.server.backends.generation.guard.loops import Loops
from qianshi.server.backends.generation.guard.scripts import HAN, Script
from qianshi.server.chinese import StreamConverter, script_locale
from qianshi.server.reading.plan import Reading
from qianshi.server.writing import Quality, Trip

MODES = ("off", "flag", "fallback")
WINDOW = 80
"""Characters (a CJK character weighs two) held back and checked before the first text goes out."""
HOLD = 48
TAIL = 16
_BREAK = re.compile(r"[，。、；：！？」』）,.;:!?)\n]")


def weight(text: str) -> int:
    """Display width: a CJK character counts two."""
    return len(text) + sum(len(run) for run in HAN.findall(text))


class TextGuard:
    """The guard of one stream (see the module docstring)."""

    def __init__(
        self,
        locale: str,
        reading: Reading,
        quotes: tuple[str, ...],
        mode: str = "fallback",
        window: int = WINDOW,
    ) -> None:
        if mode not in ("flag", "fallback"):
            raise ValueError(f"guard mode must be flag or fallback, got {mode!r}")
        self.locale = locale
        self.reading = reading
        self.mode = mode
        self.window = window if mode == "fallback" else 0
        self._allowed = frozenset(reading.citations)
        self._script = Script(locale, quotes)
        self._loops = Loops()
        self._converter = StreamConverter(locale, quotes) if script_locale(locale) else None
        self._raw = ""
        self._ready: list[str] = []
        self._ready_weight = 0
        self.released: list[str] = []
        self.trips: list[Trip] = []
        self.removed: list[int] = []
        self.stopped = ""
        """"fallback" (nothing went out: the grounded reading stands in) or "cut" (the stream ends here)."""
        self.fallback = ""
        """The check that stopped the stream with "fallback"."""

    @property
    def released_text(self) -> str:
        return "".join(self.released)

    @property
    def released_chars(self) -> int:
        return sum(len(p) for p in self.released)

    def feed(self, piece: str) -> str:
        """Take the next piece of the model's text; the text that may go to the reader now."""
        if self.stopped or not piece:
            return ""
        self._raw += piece
        open_at = unfinished(self._raw)
        cut = -1
        for m in _BREAK.finditer(self._raw, 0, open_at):
            cut = m.end()
        if cut < 0:
            if open_at <= HOLD:
                return ""
            cut = unfinished(self._raw[: open_at - TAIL])  # never through a marker ("[1" | "5]")
        segment, self._raw = self._raw[:cut], self._raw[cut:]
        return self._take(segment, last=False)

    def finish(self) -> str:
        """The model finished: check and release what is left."""
        if self.stopped:
            return ""
        segment, self._raw = self._raw, ""
        return self._take(segment, last=True)

    def engine_loop(self) -> None:
        """The engine ended the request for repeating itself (vLLM's repetition detection)."""
        self.trips.append(Trip("loop", "cut", "the engine's repetition detection", self.released_chars))

    def report(self, expected: str = "") -> Quality:
        """What the guard found; ``expected`` is the plan's answer (the stance check runs on the
        released text when it is the model's own)."""
        found = ""
        trips = list(self.trips)
        if not self.fallback and self.released:
            found = answer_of(self.released_text, self.reading, self.locale)
            if found and expected and found != expected:
                trips.append(
                    Trip(
                        "stance",
                        "flagged",
                        f"the text answers {found}, the slip {expected}",
                        self.released_chars,
                    )
                )
        return Quality(
            mode=self.mode,
            trips=tuple(trips),
            converted_chars=self._converter.changed if self._converter else 0,
            removed_citations=tuple(self.removed),
            expected_answer=expected,
            found_answer=found,
            fallback=self.fallback,
        )

    # internals -------------------------------------------------------------------------------------

    def _take(self, segment: str, last: bool) -> str:
        text, removed = filter_markers(segment, self._allowed)
        for number in removed:
            self.removed.append(number)
            self.trips.append(
                Trip("citation", "removed", f"[{number}] names no passage", self.released_chars)
            )
        if self._converter is not None:
            text = self._converter.feed(text) + (self._converter.flush() if last else "")
        if text:
            letters = self._script.letters(text)
            if self._script.foreign_clause(letters):
                detail = f"{letters.foreign} of {letters.total} letters in a script a {self.locale} reader does not read"
                if self._trip("language", detail):
                    return ""
            elif self._script.wrong_language() and self._trip(
                "language", f"the text is mostly not in {self.locale}"
            ):
                return ""
            loop = self._loops.clause(text)
            if loop and self._trip("loop", loop):
                return ""
            self._ready.append(text)
            self._ready_weight += weight(text)
        return self._release(last)

    def _trip(self, check: str, detail: str) -> bool:
        """Record a trip; True when the clause must not go out (the stream stops or it is dropped)."""
        at = self.released_chars
        if self.mode == "fallback" and not self.released:
            self.trips.append(Trip(check, "fallback", detail, at))
            self.stopped, self.fallback = "fallback", check
            self._ready.clear()
            return True
        if check == "loop" or self.mode == "fallback":
            self.trips.append(Trip(check, "cut", detail, at))
            self.stopped = "cut"
            return True
        self.trips.append(Trip(check, "flagged", detail, at))
        return False

    def _release(self, last: bool) -> str:
        if self.stopped == "fallback" or not self._ready:
            return ""
        if not self.released and not last and self._ready_weight < self.window:
            return ""  # still in the window the guard checks before anything goes out
        out = "".join(self._ready)
        self._ready.clear()
        self._ready_weight = 0
        self.released.append(out)
        return out
