"""The one prompt every LLM generator sends: a system prompt and a user message, versioned.

The prompt lives here and nowhere else, so a change to it is a change to ``PROMPT_VERSION``, which
every result reports (a result can always be traced to the words that produced it).

The user message carries the drawn poem (set, number, title, rank, verse), the retrieved passages
numbered as the pipeline numbered them (``Passage.citation``: [1], [2] …, best first) so the model can
cite them, the category and the question. The pipeline parses the citations out of the finished text
(``pipeline/interpret.py``), maps them back to passage ids and flags numbers that name no passage.

When the prompt does not fit the model's context, the lowest-ranked passages are dropped first; the
question and the poem's verse are never trimmed — an interpretation without them is not an
interpretation of this poem for this person. Passage numbers stay stable when passages are dropped,
so a citation still names the same passage.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from qianshi.server.domain import Passage, PassageKind
from qianshi.server.writing import GenerationRequest

PROMPT_VERSION = "qianshi-interpret-v1"
"""Bump on any change to the wording or the layout below."""

MESSAGE_OVERHEAD_TOKENS = 8
"""Tokens a chat template adds around each message (role markers, separators); a safe upper bound."""

_SYSTEM = {
    "zh-Hant": (
        "你是一位熟悉台灣廟宇籤詩的解籤師。信眾抽到一支籤，並提出一個問題。"
        "請根據籤詩本身與下面列出、已編號的傳統籤解，針對他的問題寫一段個人化、具體的解釋。\n"
        "規則：\n"
        "1. 只根據所附的籤詩與籤解推論；不要編造典故或不存在的籤文。\n"
        "2. 用到某段籤解時，在該句句末標註它的編號，例如 [1]、[2]；只能引用列出的編號。\n"
        "3. 先點出籤意，再回答他的問題，最後給一兩句實際可行的建議。\n"
        "4. 語氣溫和務實，不作絕對的保證；涉及健康、法律或財務時，提醒他諮詢專業人士。\n"
        "5. 全文使用繁體中文，約一百五十至三百字。"
    ),
    "en": (
        "You are an experienced interpreter of Taiwanese temple fortune poems (籤詩). A person has drawn "
        "a poem and asks a question. Using the poem itself and the numbered traditional judgments "
        "listed below, write a personal, concrete interpretation that answers their question.\n"
        "Rules:\n"
        "1. Reason only from the poem and the judgments given; do not invent stories or verses.\n"
        "2. When you use a judgment, cite its number at the end of the sentence, for example [1] or "
        "[2]; cite only the numbers listed.\n"
        "3. First say what the poem means, then answer the question, then give one or two practical "
        "suggestions.\n"
        "4. Be warm and realistic and promise nothing; for health, legal or money matters, suggest "
        "consulting a professional.\n"
        "5. Write in English, about 120 to 250 words; you may quote the Chinese verse."
    ),
}

_LABELS = {
    "zh-Hant": {
        "poem": "籤詩：{set_name} 第{number}籤{rank}",
        "rank": "（{rank}）",
        "title": "籤題：{title}",
        "verse": "詩曰：",
        "passages": "籤解（依相關程度排序）：",
        "none": "（沒有找到相關籤解，請只根據籤詩解釋。）",
        "category": "所問之事：{category}",
        "question": "信眾的問題：{question}",
    },
    "en": {
        "poem": "Poem: {set_name}, number {number}{rank}",
        "rank": " ({rank})",
        "title": "Title: {title}",
        "verse": "Verse:",
        "passages": "Traditional judgments (most relevant first):",
        "none": "(No judgments were found; interpret from the poem alone.)",
        "category": "Topic asked about: {category}",
        "question": "The person's question: {question}",
    },
}
_KINDS = {
    "zh-Hant": {PassageKind.VERSE: "詩句", PassageKind.TITLE: "籤題", PassageKind.JUDGMENT: "籤解"},
    "en": {PassageKind.VERSE: "verse", PassageKind.TITLE: "title", PassageKind.JUDGMENT: "judgment"},
}


def estimate_tokens(text: str) -> int:
    """A conservative token count for when no tokenizer is at hand (the OpenAI-compatible server).

    Tokenizers spend roughly one token per 4 ASCII characters and 0.6–1.5 per CJK character; this
    counts 1 per 3 ASCII characters and 1.5 per other character, so the estimate errs on the long side
    and a trimmed prompt fits.
    """
    ascii_chars = sum(1 for ch in text if ch < "\x80")
    return (ascii_chars + 2) // 3 + (3 * (len(text) - ascii_chars) + 1) // 2


def build_messages(
    request: GenerationRequest,
    *,
    max_prompt_tokens: int,
    count_tokens: Callable[[str], int] = estimate_tokens,
) -> list[dict[str, str]]:
    """The chat messages (system, user) for ``request``, trimmed to ``max_prompt_tokens``.

    Passages are dropped from the lowest-ranked up until the messages fit by ``count_tokens`` (plus
    ``MESSAGE_OVERHEAD_TOKENS`` per message). The question and the verse are kept even when the
    prompt still does not fit without any passage; the engine then reports the overflow.
    """
    locale = request.locale if request.locale in _SYSTEM else "zh-Hant"
    system = _SYSTEM[locale]
    budget = max_prompt_tokens - count_tokens(system) - 2 * MESSAGE_OVERHEAD_TOKENS
    kept = list(request.passages)
    user = _user_message(request, locale, kept)
    while kept and count_tokens(user) > budget:
        kept.pop()
        user = _user_message(request, locale, kept)
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def cited_numbers(passages: Sequence[Passage]) -> tuple[int, ...]:
    """The citation numbers the prompt shows for ``passages`` (1, 2, 3 … when the retriever left them 0)."""
    return tuple(p.citation or i for i, p in enumerate(passages, start=1))


def _user_message(request: GenerationRequest, locale: str, passages: Sequence[Passage]) -> str:
    labels = _LABELS[locale]
    poem = request.poem
    rank = labels["rank"].format(rank=poem.rank) if poem.rank else ""
    lines = [labels["poem"].format(set_name=poem.set_name, number=poem.number, rank=rank)]
    if poem.title:
        lines.append(labels["title"].format(title=poem.title))
    lines.append(labels["verse"])
    lines.extend(poem.verse)
    lines.append("")
    lines.append(labels["passages"])
    if not passages:
        lines.append(labels["none"])
    for number, passage in zip(cited_numbers(passages), passages, strict=True):
        what = passage.category or _KINDS[locale][passage.kind]
        lines.append(
            f"[{number}]（{what}）{passage.text}"
            if locale == "zh-Hant"
            else f"[{number}] ({what}) {passage.text}"
        )
    lines.append("")
    if request.category:
        lines.append(labels["category"].format(category=request.category))
    lines.append(labels["question"].format(question=request.question))
    return "\n".join(lines)
