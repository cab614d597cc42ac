"""The human messages of a task's events, in zh-Hant (default) and English.

Every message says what is really happening, with the real numbers; none describes a sub-step that
did not happen. Templates live here, in one place, so both locales stay in step.
"""

from __future__ import annotations

from typing import Any

from qianshi.server.domain import CategoryChoice, CategorySource
from qianshi.server.reading.categories.infer import english_name

_T: dict[str, tuple[str, str]] = {
    # key: (zh-Hant, en)
    "accepted": (
        "已受理：{set_name}第 {number} 籤，問{category}",
        "accepted: {set_name} no. {number}, about {category}",
    ),
    "queued": ("等待生成資源（第 {position} 位）", "waiting for a generation slot (position {position})"),
    "waiting_turn": ("排隊等候處理（第 {position} 位）", "waiting for its turn (position {position})"),
    "retrieval_started": ("正在取出第 {number} 籤的籤詩", "fetching poem no. {number}"),
    "poem_found": (
        "已取得籤詩〈{title}〉，正在為{category}查找解籤",
        "found 〈{title}〉; searching the judgments for {category}",
    ),
    "searching": ("正在為{category}查找解籤", "searching the judgments for {category}"),
    "fetching": ("正在取出第 {number} 籤的籤詩", "fetching poem no. {number}"),
    "retrieval_slow": (
        "查找解籤比平常久（已 {elapsed:.1f} 秒，平常約 {usual:.1f} 秒）",
        "retrieval is taking longer than usual ({elapsed:.1f} s, usually {usual:.1f} s)",
    ),
    "passages_found": ("找到 {count} 段相關籤解", "found {count} relevant passages"),
    "retrieval_done": ("查找完成（{duration:.2f} 秒）", "retrieval done ({duration:.2f} s)"),
    "generation_started_grounded": ("正在依籤解撰寫解說", "composing the interpretation from the judgments"),
    "generation_started_llm": (
        "已送出給模型 {model}，等待第一個字",
        "sent to the model {model}; waiting for its first token",
    ),
    "waiting_first_token": (
        "模型排隊與讀入提示中，尚未產生文字（已 {elapsed:.1f} 秒）",
        "the model is queueing and reading the prompt; no text yet ({elapsed:.1f} s)",
    ),
    "waiting_first_token_slow": (
        "模型尚未產生文字，比平常久（已 {elapsed:.1f} 秒，平常約 {usual:.1f} 秒）",
        "no text from the model yet, longer than usual ({elapsed:.1f} s, usually {usual:.1f} s)",
    ),
    "writing": ("正在撰寫解說（已 {units} {unit}）", "writing the interpretation ({units} {unit} so far)"),
    "writing_stalled": (
        "解說撰寫中，模型已 {idle:.1f} 秒沒有新文字",
        "writing the interpretation; no new text from the model for {idle:.1f} s",
    ),
    "generation_done": ("解說完成（{duration:.1f} 秒）", "interpretation written ({duration:.1f} s)"),
    "fallback": (
        "模型無法使用（{reason}），改由籤解直接撰寫",
        "the model failed ({reason}); composing from the judgments instead",
    ),
    "done": ("解籤完成", "interpretation complete"),
    "failed": ("未能完成：{reason}", "failed: {reason}"),
    "cancelled": ("已取消", "cancelled"),
    "draining": ("伺服器正在關閉，請重新連線續看", "the server is shutting down; resume on another server"),
}

_UNITS = {"tokens": ("個詞元", "tokens"), "chars": ("字", "characters")}


def message(locale: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``locale`` ("zh-Hant" or "en"), filled with ``values``."""
    zh, en = _T[key]
    template = en if locale == "en" else zh
    if "unit" in values:
        values["unit"] = _UNITS[values["unit"]][1 if locale == "en" else 0]
    return template.format(**values)


def keys() -> tuple[str, ...]:
    return tuple(_T)


def category_label(choice: CategoryChoice, locale: str) -> str:
    """How the task's category is named in its messages (「功名」, 「疾病」（治病）, "health")."""
    if locale == "en":
        return (
            english_name(choice.common)
            if choice.source is not CategorySource.DEFAULT
            else "your question in general"
        )
    if choice.common and choice.common != choice.category:
        return f"「{choice.common}」（{choice.category}）"
    return f"「{choice.category}」"
