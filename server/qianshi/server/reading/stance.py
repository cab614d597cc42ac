"""Which way the slip leans on the question: go ahead, wait, only with care, or hold back.

The texts decide, in the order a temple interpreter weighs them: the judgment for the asked category
(允成, 訟當戒, 先凶後吉 …) first, because it speaks to the question; then the slip's rank (上上 … 下下),
which is the slip's overall tone; then, for a set without ranks (六十甲子籤), the verse. Where the rank
and the judgment pull apart the stance says so (``clash``), so the reading can tell the person rather
than quietly pick one. A rule the reading must never break: a slip ranked 下 leans favourable only when
its judgment does.

Judgments that are instructions (祭虎, 祈保, 守舊, 待時, 訟宜和 …) are not verdicts: they say what to do.
Their kind (``Instruction``) gives the lean where it implies one (守舊 hold, 待時 wait, 宜和 settle);
a rite (祭虎, 祈保) implies none, so the rank or verse gives the lean and the rite is its condition.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from qianshi.server.reading.answer import Answer
from qianshi.server.reading.lexicon import (
    Sense,
    Verdict,
    combine,
    rank_verdict,
    read_judgment,
)

G, W, M, B, N = Verdict.GOOD, Verdict.WAIT, Verdict.MIXED, Verdict.BAD, Verdict.NEUTRAL


class Lean(enum.Enum):
    GO = "go"
    """Favourable: yes, go ahead."""
    WAIT = "wait"
    """Favourable once the time comes: not yet."""
    CAREFUL = "careful"
    """Conditional or mixed: only with care; the slip does not decide outright."""
    HOLD = "hold"
    """Unfavourable: hold back, refrain."""


class Instruction(enum.Enum):
    SETTLE = "settle"
    """宜和, 和為貴, 求解和: make peace."""
    WAIT = "wait"
    """待時, 宜遲, 暫緩: wait for the time."""
    HOLD = "hold"
    """守舊, 莫動, 安分: keep to what is."""
    RITE = "rite"
    """祭虎, 祈保, 禳星, 作福: a rite or prayer."""
    CARE = "care"
    """謹慎, 防口舌, 莫貪: caution."""
    CHANGE = "change"
    """改, 宜改, 更醫: change course."""


_KINDS: tuple[tuple[Instruction, tuple[str, ...]], ...] = (
    (Instruction.SETTLE, ("和", "息")),
    (Instruction.WAIT, ("待", "遲", "緩", "候", "等", "慢")),
    (
        Instruction.HOLD,
        ("守", "舊", "莫動", "勿動", "莫作", "莫興", "莫求", "勿求", "按住", "安分", "止", "休"),
    ),
    (Instruction.RITE, ("祭", "祈", "禱", "禳", "設送", "拜", "願", "神", "佛", "福", "經", "陰功", "陰騭")),
    (Instruction.CHANGE, ("改", "更", "遷", "移", "換", "別配", "別議")),
    (Instruction.CARE, ("",)),
)

_COMMAS = re.compile(r"[，,；;、]")
_FROM_VERDICT = {G: Lean.GO, W: Lean.WAIT, M: Lean.CAREFUL, B: Lean.HOLD}
_FROM_INSTRUCTION = {
    Instruction.SETTLE: Lean.HOLD,
    Instruction.WAIT: Lean.WAIT,
    Instruction.HOLD: Lean.HOLD,
    Instruction.CARE: Lean.CAREFUL,
    Instruction.CHANGE: Lean.CAREFUL,
}


@dataclass(frozen=True, slots=True)
class Stance:
    """The slip's lean on the question, and what it rests on."""

    lean: Lean
    rank: Verdict
    """What the rank says (NEUTRAL for a set without ranks)."""
    judgment: Verdict
    """What the asked category's judgment says as a verdict; NEUTRAL when it gives none."""
    instruction: Instruction | None
    """When the judgment (or part of it) is something to do."""
    advice: str
    """The quoted judgment text that is an instruction ("" when none)."""
    basis: str
    """What decided the lean: "judgment", "instruction", "rank" or "verse"."""
    clash: str
    """"low" (a 下 slip whose judgment is favourable), "low_wait" (one whose judgment says "not yet" rather
    than "no"), "high" (an 上 slip whose judgment is unfavourable), or ""."""

    @property
    def favourable(self) -> bool:
        return self.lean in (Lean.GO, Lean.WAIT)


def instruction_kind(text: str) -> Instruction:
    """The kind of an instruction from its words (宜和 settle, 守舊 hold, 祭虎 rite …)."""
    for kind, cues in _KINDS:
        if any(cue in text for cue in cues):
            return kind
    return Instruction.CARE


def _parts(answer: Answer) -> list[tuple[str, Sense]]:
    """The answer's judgment in parts, each with its reading: a clause of a 聖意 as read with its topic
    word taken off (訟當戒), or each comma part of a board judgment (不佳 | 等待)."""
    if answer.mode == "clauses":
        return list(zip(answer.quotes, answer.readings, strict=False))
    parts: list[tuple[str, Sense]] = []
    for quote in answer.quotes:
        pieces = [p for p in _COMMAS.split(quote) if p.strip()]
        parts += (
            [(p, read_judgment(p)) for p in pieces] if len(pieces) > 1 else [(quote, read_judgment(quote))]
        )
    return parts


def decide(rank: str, answer: Answer | None, verse_tone: Verdict) -> Stance:
    """The stance the texts take: judgment first, then rank, then verse (see the module docstring)."""
    rv = rank_verdict(rank)
    rv = {W: G}.get(rv, rv)
    verdicts: list[Verdict] = []
    advice: list[str] = []
    if answer is not None and answer.mode != "general":
        for part, reading in _parts(answer):
            if reading.advice:
                advice.append(part)
            else:
                verdicts.append(reading.verdict)
    elif answer is not None and rv not in (G, B):
        # A general line (凡事, 聖意 …) speaks for a topic the slip has no line for; where the slip has
        # a clear rank, the rank outweighs a line that is not about the question.
        verdicts.append(answer.verdict)
    jv = combine(verdicts)
    kind = instruction_kind("".join(advice)) if advice else None
    if jv in _FROM_VERDICT:
        lean, basis = _FROM_VERDICT[jv], "judgment"
        if kind in _FROM_INSTRUCTION and lean in (Lean.CAREFUL, Lean.HOLD):
            lean = _FROM_INSTRUCTION[kind]  # 不佳，等待: not now, wait — the instruction says how
    elif kind in _FROM_INSTRUCTION:
        lean, basis = _FROM_INSTRUCTION[kind], "instruction"
    elif rv is not N:
        lean, basis = _FROM_VERDICT[rv], "rank"
    else:
        lean, basis = _FROM_VERDICT.get(verse_tone, Lean.CAREFUL), "verse"
    clash = ""
    if rv is B:
        if basis == "judgment" and lean in (Lean.GO, Lean.WAIT):
            clash = "low" if lean is Lean.GO else "low_wait"
        elif lean is not Lean.HOLD:
            lean = Lean.HOLD  # a 下 slip with a middling or instructing judgment: hold back
    elif rv is G and jv is B:
        clash = "high"
    return Stance(lean, rv, jv, kind, "、".join(advice), basis, clash)
