"""The passages a poem is indexed as: its verse, its title, and its judgments, long ones cut into clauses.

A judgment of several sentences (關帝 聖意 / 東坡解 / 解曰, 觀音 詩意 / 解曰) is cut into clauses so that the
clause answering a question can be found on its own (``guandi100/7/judgment/聖意/2``); a short verdict
(婚姻: 允成) stays whole and is indexed together with the name of its category. index.py stores
these passages; search.py cuts a poem the same way to fill in the passages a search must return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from qianshi.server.backends.retrieval import analyzer
from qianshi.server.domain import PassageKind, Poem

MAX_CLAUSE_CHARS = 24
"""A sentence longer than this is cut further at its commas."""
MIN_SPLIT_CHARS = 12
"""A judgment shorter than this is never cut."""


@dataclass(frozen=True, slots=True)
class PassageDoc:
    """One indexed passage: what the payload says, plus the text its vectors are computed from. Its point
    id in the index is ``stable_point_id(id)`` (index.py)."""

    id: str
    set_id: str
    number: int
    kind: PassageKind
    category: str
    text: str
    source: str
    clause: int
    """1, 2, 3 … for a clause of a cut judgment; 0 for a whole passage."""
    about: str = ""
    """The category a whole short verdict is about (婚姻 for 允成), indexed with it as a name: its words
    and bigrams, not its characters, so that 事 in a question does not reach every 家事 and 官事."""

    def terms(self) -> list[str]:
        """The sparse terms of the passage (see text.py)."""
        return analyzer.name_terms(self.about) + analyzer.document_terms(self.text)

    def embedding_text(self) -> str:
        return f"{self.about}：{self.text}" if self.about else self.text

    def payload(self) -> dict[str, Any]:
        return {
            "passage_id": self.id,
            "set_id": self.set_id,
            "number": self.number,
            "kind": self.kind.value,
            "category": self.category,
            "text": self.text,
            "source": self.source,
            "clause": self.clause,
        }


def split_clauses(judgment: str) -> list[str]:
    """The clauses of a judgment: its sentences (。；！？), long ones cut again at commas.

    Returns ``[judgment]`` when there is nothing worth cutting (one sentence, or a short text).
    """
    clauses: list[str] = []
    for sentence in re.split(r"[。；！？]+", judgment):
        sentence = sentence.strip(" ，、：")
        if len(sentence) <= MAX_CLAUSE_CHARS:
            clauses.extend([sentence] if sentence else [])
            continue
        chunk = ""
        for part in filter(None, (p.strip() for p in re.split(r"[，、：]", sentence))):
            if chunk and len(chunk) + 1 + len(part) > MAX_CLAUSE_CHARS:
                clauses.append(chunk)
                chunk = part
            else:
                chunk = f"{chunk}，{part}" if chunk else part
        clauses.extend([chunk] if chunk else [])
    return clauses if len(clauses) > 1 and len(judgment) >= MIN_SPLIT_CHARS else [judgment]


def passages_of(poem: Poem) -> list[PassageDoc]:
    """Every passage indexed for a poem, in a stable order: verse, title, judgments in file order."""
    base = f"{poem.set_id}/{poem.number}"

    def doc(
        pid: str, kind: PassageKind, category: str, body: str, clause: int, about: str = ""
    ) -> PassageDoc:
        return PassageDoc(pid, poem.set_id, poem.number, kind, category, body, poem.source, clause, about)

    docs = [
        doc(f"{base}/verse", PassageKind.VERSE, "", "，".join(poem.verse), 0),
        doc(f"{base}/title", PassageKind.TITLE, "", poem.title, 0),
    ]
    for j in poem.judgments:
        pid = f"{base}/judgment/{j.category}"
        clauses = split_clauses(j.text)
        if len(clauses) == 1:
            # A short verdict (婚姻: 允成) is about its category, so the name is searchable with it.
            docs.append(doc(pid, PassageKind.JUDGMENT, j.category, j.text, 0, about=j.category))
        else:
            for k, clause in enumerate(clauses, start=1):
                docs.append(doc(f"{pid}/{k}", PassageKind.JUDGMENT, j.category, clause, k))
    return docs
