"""What the vLLM stand-in says and how fast: timing profiles and deterministic, citing text.

A ``Profile`` is the timing and the faults of one response: time to first token (fixed or a uniform
range), token rate, length, a stall after N tokens, an error chunk after N tokens, an early clean end
(no finish, no ``[DONE]``), a dropped connection, or an HTTP error status. The server's profile comes
from its command line; a request overrides any of it with the model name ``standin:ttft=2,rate=50``
or the header ``x-standin-profile: ttft=2,rate=50``, so one stand-in serves every fault of a test.

The text is a function of the seed: plausible Chinese (or English, when the system prompt is) that
cites [1] and [2], split into token-sized pieces the way a tokenizer would stream them.
"""

from __future__ import annotations

import dataclasses
import random
import re
from dataclasses import dataclass

_ALIASES = {"fail_after": "error_after", "ttft_s": "ttft", "n": "tokens"}


@dataclass(frozen=True, slots=True)
class Profile:
    """Timing and faults of a response (token counts are 0-based: ``stall_after=5`` pauses before the
    sixth token; -1 disables a fault)."""

    ttft: tuple[float, float] = (0.05, 0.05)
    rate: float = 50.0
    tokens: int = 160
    stall_after: int = -1
    stall: float = 0.0
    error_after: int = -1
    close_after: int = -1
    drop_after: int = -1
    status: int = 0

    def overridden(self, spec: str) -> Profile:
        """This profile with ``key=value,key=value`` overrides (``ttft=1-3`` is a uniform range)."""
        changes: dict[str, object] = {}
        for item in filter(None, (part.strip() for part in spec.split(","))):
            key, _, value = item.partition("=")
            key = _ALIASES.get(key.strip(), key.strip())
            if key == "ttft":
                changes[key] = parse_range(value)
            elif key in ("rate", "stall"):
                changes[key] = float(value)
            elif key in {f.name for f in dataclasses.fields(self)}:
                changes[key] = int(value)
            else:
                raise ValueError(f"unknown stand-in profile key {key!r}")
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]

    def time_to_first_token(self, rng: random.Random) -> float:
        low, high = self.ttft
        return low if high <= low else rng.uniform(low, high)


def parse_range(value: str) -> tuple[float, float]:
    """``"1.5"`` → (1.5, 1.5); ``"1-3"`` → (1.0, 3.0)."""
    low, sep, high = value.strip().partition("-")
    return (float(low), float(high)) if sep else (float(low), float(low))


_ZH = (
    "此籤顯示時機正在轉好[1]",
    "所問之事先難後易",
    "宜守正道，不可急進[2]",
    "日出雲散，前途漸漸光明[2]",
    "貴人在身邊，多聽長輩的意見[1]",
    "耐心等待，自有好消息",
    "凡事三思而後行，勿貪近利",
    "家中和睦則百事順遂[1]",
    "若心存疑慮，不妨先求穩妥",
    "秋冬之際較有進展[1]",
)
_EN = (
    "The poem says the clouds are clearing and the way ahead is bright [2]",
    "What you ask about is hard at first and easier later",
    "Keep to the straight path and do not rush [1]",
    "Someone older can help you, so ask for advice [1]",
    "Wait patiently and good news will come",
    "Think twice before you act and do not chase quick gains",
    "Peace at home makes everything else go smoothly [2]",
    "Progress is likelier toward autumn and winter [1]",
)
_EN_TOKEN = re.compile(r"\s*\[\d+\]|\s*[^\s\[]+")


def is_english(system_prompt: str) -> bool:
    """Whether the prompt asks for English (mostly ASCII)."""
    if not system_prompt:
        return False
    ascii_chars = sum(1 for ch in system_prompt if ch < "\x80")
    return ascii_chars > 0.8 * len(system_prompt)


def tokens(rng: random.Random, english: bool, count: int) -> list[str]:
    """``count`` token-sized pieces of an interpretation (1–2 Chinese characters or one English word
    each; a citation like [1] is one piece)."""
    out: list[str] = []
    while len(out) < count:
        clause = rng.choice(_EN if english else _ZH)
        if english:
            words = [w.strip() for w in _EN_TOKEN.findall(clause)]
            pieces = [(" " if out or j else "") + w for j, w in enumerate(words)]
            pieces[-1] += "."
        else:
            pieces = _split_zh(rng, clause)
            pieces[-1] += "。" if rng.random() < 0.6 else "，"
        out.extend(pieces)
    return out[:count]


def _split_zh(rng: random.Random, clause: str) -> list[str]:
    pieces: list[str] = []
    i = 0
    while i < len(clause):
        if clause[i] == "[":
            end = clause.index("]", i) + 1
        else:
            end = min(i + rng.choice((1, 2)), len(clause))
            end = clause.find("[", i, end) if "[" in clause[i:end] else end
        pieces.append(clause[i:end])
        i = end
    return pieces
