"""What the texts say about when, where and who: 月半到, 秋冬大利, 月出光輝得運時, 在東, 宜其西方, 貴人.

A "when" question is answered with the time the slip names, or plainly with none. The board judgments
name times in a closed vocabulary (月半, 月光, 秋冬, 年尾, 未日 …); verses name seasons and the moon
(秋來, 月出); 六十甲子籤 slips also carry their element's season and direction (屬金利秋 宜其西方). The
judgment for the asked category is searched first, then the verse, then those attributes; the first
clue found is the answer, quoted with where it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Clue:
    """A time, place or person a text names, and what it means."""

    text: str
    """The text it is found in, as quoted (a judgment, a verse line, an attribute)."""
    word: str
    zh: str
    en: str
    source: str
    """"judgment", "verse" or "attribute"."""
    category: str = ""
    """The judgment's category, when the source is a judgment."""


def _table(spec: str) -> tuple[tuple[tuple[str, ...], str, str, bool], ...]:
    """Lines ``詞 詞 … | zh | en | verse?`` → (words, zh, en, also found in verses)."""
    out = []
    for line in spec.strip().splitlines():
        words, zh, en, verse = (part.strip() for part in line.split("|"))
        out.append((tuple(words.split()), zh, en, verse == "v"))
    return tuple(out)


TIMES = _table(
    """
月出 | 月亮升起之時，也就是事情明朗、時機來到的時候 | when the moon rises: once things come clear | v
月光 月圓 | 月圓前後（農曆十五左右） | around the full moon (the 15th of the lunar month) | v
月半 月中 中旬 | 月中（農曆十五前後） | by mid-month (around the 15th of the lunar month) | -
月底 月尾 月末 下旬 | 月底 | towards the end of the month | -
月初 月頭 | 月初 | early in the month | -
秋冬 | 秋冬之際 | in autumn or winter | v
春夏 | 春夏之際 | in spring or summer | v
秋來 到秋 秋天 秋 | 秋天 | in autumn | v
春來 逢春 開春 春天 見春 | 春天 | in spring | v
夏天 夏 | 夏天 | in summer | v
冬天 早冬 晚冬 下冬 冬 | 冬天 | in winter | v
新年 來年 明年 下年 過年 年頭 | 過了年以後 | after the new year | v
年尾 年底 歲末 歲暮 | 年底 | late in the year | v
上半年 | 上半年 | in the first half of the year | -
下半年 | 下半年 | in the second half of the year | -
半月 | 半個月內 | within half a month | -
三日 五日 不日 近日 即 速 立 快 | 很快，幾天之內就有動靜 | soon, within days | -
待時 守待 宜遲 候時 | 要等時機，不是現在 | when the time is right, not now | v
遲 慢 緩 晚 延 後 終 | 會晚一些，不是馬上 | later rather than soon | -
"""
)
"""Time words, the specific before the general; "v" marks words also read in verses."""
_NOT_TIME = ("春風", "春光", "青春", "千秋", "春色", "後人", "後生", "身後", "前後")
_MONTH = re.compile(r"([一二三四五六七八九十]{1,3})月")
_DAY = re.compile(r"([甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥]{1,4})日")
_NUMBERS = {"一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10}

PLACES = _table(
    """
東南 | 東南方 | the south-east | v
東北 | 東北方 | the north-east | v
西南 | 西南方 | the south-west | v
西北 | 西北方 | the north-west | v
東方 | 東方 | the east | v
西方 | 西方 | the west | v
南方 | 南方 | the south | v
北方 | 北方 | the north | v
在東 向東 東 | 東方 | the east | -
在西 向西 西 | 西方 | the west | -
在南 向南 南 | 南方 | the south | -
在北 向北 北 | 北方 | the north | -
中央 居中 | 中央，不偏不倚的位置 | the centre | -
莫外求 勿他圖 在家 | 家裡或近處，不必往外求 | close to home: no need to look far | -
出外 | 外地，往外發展 | away from home | -
"""
)

PEOPLE = _table(
    """
貴人 | 貴人：會有人伸手相助 | a patron (貴人): someone will lend a hand | v
良醫 醫 | 良醫：找對的醫生 | a good doctor | -
媒 | 媒人：經人介紹 | a go-between | v
知己 故人 | 老朋友、知己 | an old friend | v
小人 | 小人：要提防身邊搬弄是非的人 | petty people (小人): beware of those who stir up trouble | v
"""
)


def _months(n: int) -> str:
    return f"in the {n}{'st' if n == 1 else 'nd' if n == 2 else 'rd' if n == 3 else 'th'} lunar month"


def _in(
    table: tuple[tuple[tuple[str, ...], str, str, bool], ...],
    text: str,
    source: str,
    category: str,
    skip: tuple[str, ...] = (),
) -> Clue | None:
    probe = text
    for word in skip:
        probe = probe.replace(word, "　" * len(word))
    for words, zh, en, in_verse in table:
        if source == "verse" and not in_verse:
            continue
        for word in words:
            at = probe.find(word)
            if at >= 0:
                return Clue(_clause(text, at), word, zh, en, source, category)
    return None


def _clause(text: str, at: int) -> str:
    """The clause of ``text`` around position ``at`` (a 聖意 is quoted one clause at a time)."""
    start = max(text.rfind(mark, 0, at) for mark in "。；，") + 1
    ends = [e for e in (text.find(mark, at) for mark in "。；，") if e >= 0]
    return text[start : min(ends) if ends else len(text)]


def _calendar(text: str, category: str) -> Clue | None:
    month = _MONTH.search(text)
    if month and all(c in _NUMBERS for c in month.group(1)):
        digits = month.group(1)
        n = _NUMBERS[digits[-1]] + (10 if len(digits) > 1 else 0)
        return Clue(
            _clause(text, month.start()), month.group(0), f"農曆{digits}月", _months(n), "judgment", category
        )
    day = _DAY.search(text)
    if day:
        return Clue(_clause(text, day.start()), day.group(0), f"逢{day.group(1)}日（依農民曆）", f"on a {day.group(1)} day of the almanac",
                    "judgment", category)  # fmt: skip
    return None


def _attribute(attributes: Mapping[str, str], which: str) -> Clue | None:
    """The season (which="time") or direction (which="place") of a 六十甲子籤 slip: 屬金利秋 宜其西方."""
    m = re.match(r"屬(.)利(.)\s*宜其(\S+)", attributes.get("wuxing_direction", ""))
    if not m:
        return None
    element, season, place = m.groups()
    text = m.group(0)
    if which == "time":
        if season == "年":
            return Clue(text, season, f"這支籤屬{element}，四季皆利", "its element favours every season",
                        "attribute")  # fmt: skip
        found = _in(TIMES, season, "attribute", "")
        return Clue(text, season, f"這支籤屬{element}，利在{found.zh}", f"its element ({element}) favours {found.en[3:]}",
                    "attribute") if found else None  # fmt: skip
    found = _in(PLACES, place, "attribute", "")
    return Clue(text, place, f"這支籤宜其{place}", f"it favours {found.en if found else place}", "attribute")


def timing(
    judgments: Iterable[tuple[str, str]], verse: Iterable[str], attributes: Mapping[str, str]
) -> Clue | None:
    """The time the texts give: from the judgments (category, text) in order, the verse, the attributes."""
    for category, text in judgments:
        found = _calendar(text, category) or _in(TIMES, text, "judgment", category, _NOT_TIME)
        if found:
            return found
    for line in verse:
        found = _in(TIMES, line, "verse", "", _NOT_TIME)
        if found:
            return found
    return _attribute(attributes, "time")


def place(
    judgments: Iterable[tuple[str, str]], verse: Iterable[str], attributes: Mapping[str, str]
) -> Clue | None:
    """The direction or place the texts give (在東, 西方, 宜其西方), or None."""
    for category, text in judgments:
        found = _in(PLACES, text, "judgment", category, ("東西",))
        if found:
            return found
    for line in verse:
        found = _in(PLACES, line, "verse", "")
        if found:
            return found
    return _attribute(attributes, "place")


def people(judgments: Iterable[tuple[str, str]], verse: Iterable[str]) -> Clue | None:
    """The person the texts name (貴人, 良醫, 小人), or None."""
    for category, text in judgments:
        found = _in(PEOPLE, text, "judgment", category)
        if found:
            return found
    for line in verse:
        found = _in(PEOPLE, line, "verse", "")
        if found:
            return found
    return None
