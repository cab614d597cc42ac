"""English glosses of quoted judgments, as they follow the quote (, “the illness will heal soon”)."""

from __future__ import annotations

from qianshi.server.reading.answer import Answer

_SUBJECT_EN = {
    "health": "the illness",
    "lawsuit": "the lawsuit",
    "marriage": "the match",
    "travel": "the traveller",
    "wealth": "the money",
    "career": "success",
    "children": "the child",
}
_LABEL_EN = {
    "health": "illness",
    "lawsuit": "lawsuit",
    "marriage": "marriage",
    "travel": "travel",
    "wealth": "wealth",
    "career": "career",
    "children": "children",
    "home": "home",
    "general": "affairs",
    "farming": "crops",
    "lost": "lost things",
}


def gloss(answer: Answer, asked: str) -> str:
    """The English glosses of the quoted judgments.

    A clause about the asked topic takes its subject (病即痊 → "the illness will heal soon") or its
    label (占病險 → "illness: danger"); a clause about another topic is labelled with that one
    (功名無 → "career: nothing").
    """
    parts = []
    for i, r in enumerate(answer.readings):
        if not r.gloss:
            continue
        topics = answer.topics[i] if i < len(answer.topics) else frozenset()
        if topics and asked not in topics:
            label = "/".join(_LABEL_EN.get(t, t) for t in sorted(topics))
            parts.append(f"{label}: {r.gloss}")
        elif r.gloss.startswith("will "):
            subject = _SUBJECT_EN.get(asked, "it") if topics else "it"
            parts.append(f"{subject} {r.gloss}")
        elif topics:
            parts.append(f"{_LABEL_EN.get(asked, asked)}: {r.gloss}")
        else:
            parts.append(r.gloss)
    return ", “" + "; ".join(parts) + "”" if parts else ""
