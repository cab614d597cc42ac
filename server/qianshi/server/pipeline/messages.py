"""The human messages of a task's events, in zh-Hant (default), zh-Hans and English.

Every message says what is really happening, with the real numbers; none describes a sub-step that
did not happen. Templates live here, in one place, so the locales stay in step: zh-Hans is the
zh-Hant text converted by OpenCC (``chinese``), once per template and process.
"""

from __future__ import annotations

import functools
from typing import Any

from qianshi.server.chinese import convert
from qianshi.server.domain import CategoryChoice, CategorySource
from qianshi.server.reading.categories.infer import english_name
from qianshi.server.writing import NOTICE_GUARD

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
    "fallback_guard": (
        "模型寫出的文字未通過檢查（{check}），改由籤解直接撰寫",
        "the model's text failed a check ({check}); composing from the judgments instead",
    ),
    "checking": (
        "模型正在撰寫，先檢查開頭的文字再送出（已 {elapsed:.1f} 秒）",
        "the model is writing; its first words are checked before they are shown ({elapsed:.1f} s)",
    ),
    "done": ("解籤完成", "interpretation complete"),
    "failed": ("未能完成：{reason}", "failed: {reason}"),
    "cancelled": ("已取消", "cancelled"),
    "draining": ("伺服器正在關閉，請重新連線續看", "the server is shutting down; resume on another server"),
}

_UNITS = {"tokens": ("個詞元", "tokens"), "chars": ("字", "characters")}


@functools.cache
def _hans(text: str) -> str:
    return convert(text, "zh-Hans")


def message(locale: str, key: str, **values: Any) -> str:
    """The message ``key`` in ``locale`` ("zh-Hant", "zh-Hans" or "en"), filled with ``values``."""
    zh, en = _T[key]
    if "unit" in values:
        values["unit"] = _UNITS[values["unit"]][1 if locale == "en" else 0]
    text = (en if locale == "en" else zh).format(**values)
    # zh-Hans: the whole message, names and titles from the data included (~3 µs per message)
    return convert(text, "zh-Hans") if locale == "zh-Hans" else text


def notice_message(notice: str, locale: str) -> str:
    """The message of a generator's notice: ``fallback:guard:<check>`` (the guard stopped the model),
    ``fallback:<reason>`` (the model failed)."""
    if notice.startswith(NOTICE_GUARD):
        return message(locale, "fallback_guard", check=notice.removeprefix(NOTICE_GUARD))
    return message(locale, "fallback", reason=notice.partition(":")[2] or notice)


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
        label = f"「{choice.common}」（{choice.category}）"
    else:
        label = f"「{choice.category}」"
    return _hans(label) if locale == "zh-Hans" else label
