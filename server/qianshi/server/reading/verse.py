"""What a poem's verse says, in plain words: its images (日出, 雲開, 風浪, 枯木逢春 …) and their tone.

The verses are classical seven-character lines that no lexicon can translate, but they are built from a
small stock of images whose meaning every temple reader knows: the sun breaking through clouds is things
clearing up, wind and waves are trouble, a withered tree meeting spring is recovery after hardship. This
module finds those images in each line, so the interpretation can quote the lines that carry the message
and say what they mean in either locale, and it weighs them into a tone for the whole verse.

Motifs are checked in order and the first ones found in a line explain it; put the specific ones (枯木逢春)
before the general ones (春).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from qianshi.server.reading.words import Verdict

G, W, M, B = Verdict.GOOD, Verdict.WAIT, Verdict.MIXED, Verdict.BAD


@dataclass(frozen=True, slots=True)
class Motif:
    """An image of the verse: the words that signal it, its tone, and what it means."""

    words: tuple[str, ...]
    verdict: Verdict
    zh: str
    en: str


def _m(words: str, verdict: Verdict, zh: str, en: str) -> Motif:
    return Motif(tuple(words.split()), verdict, zh, en)


MOTIFS: tuple[Motif, ...] = (
    _m("枯木逢春 枯木 再開花 重開 再生 復生", W, "枯木逢春，困境之後會有轉機",
       "a withered tree meeting spring: recovery after a hard time"),
    _m("雲開 雲散 風雲散 撥雲 雲收 霧散 見青天 見太陽 見日", G, "雲開見日，遮蔽的事情會明朗起來",
       "the clouds part and the sun shows: what was unclear will come to light"),
    _m("日出 紅日 旭日 太陽 日頭", G, "旭日東昇，局面由暗轉明",
       "the sun rises: the situation turns from dark to bright"),
    _m("月圓 明月 月明 月出 光明 光輝 出光 照 輝", G, "光明照耀，前景明亮",
       "light shines out: the outlook is bright"),
    _m("花開 開花 百花 花發 發芽 春色 逢春 春來 春風 春光", W, "春來花開，時機成熟就會有成果",
       "spring comes and flowers open: results come when the season is right"),
    _m("仙桂 折桂 攀桂 扳桂 丹桂 蟾宮 月宮", G, "蟾宮折桂，考試功名有望",
       "plucking the cassia in the moon palace: success in exams and career"),
    _m("福如東海 壽如山 壽比 福壽 長壽 福祿 壽長", G, "福壽綿長，福氣深厚", "blessings and long life"),
    _m("貴人", G, "有貴人相助", "a helper (貴人) will lend a hand"),
    _m("前途通 通達 大道 路通 亨通 亨 一路 順風 順水 揚帆", G, "前路暢通，可以放心向前",
       "the road ahead is open: you can move forward"),
    _m("青雲 直上 登科 第一 龍門 化龍 成龍 鳳 鶴 高升 步步高", G, "步步高升，名利有望",
       "rising step by step: advancement is within reach"),
    _m("富貴 榮華 福祿 黃金 金玉 珠 寶 財", G, "富貴榮華可期", "wealth and honour are within reach"),
    _m("團圓 和合 結成 會合 相逢 相會 成雙 姻緣 良緣 配", G, "團圓和合，人事相合",
       "union and meeting: people come together"),
    _m("平安 清吉 安然 太平 無事 無憂 安居 保安", G, "平安無事", "peace and safety"),
    _m("喜 笑 歡", G, "喜事臨門", "joy is on its way"),
    _m("佳音 好音 喜信 音信 捷報 佳信", G, "好消息會來", "good news is on its way"),
    _m("如意 稱心 遂意 得意 事成 有成 必成 成就", G, "事情可成，稱心如意", "things turn out as hoped"),
    _m("吉日 良時 良辰 吉時", G, "吉日良時，時機正好", "an auspicious day and hour: the timing is right"),
    _m("大吉 吉昌 吉祥 吉慶 吉利", G, "吉祥昌盛", "auspicious and prosperous"),
    _m("風波 風浪 波浪 浪 波濤 風雨 狂風 暴 雷", B, "風浪不平，會有一段波折",
       "wind and waves: expect a stretch of turbulence"),
    _m("崎嶇 坎坷 荊棘 險 危 阻 難行 重山 山高 路遙 路難", B, "前路艱難，多有阻礙",
       "the way is steep and blocked"),
    _m("枯 殘 落 凋 衰 敗 零落 冷", B, "花落葉枯，氣勢正在衰退", "withering and falling: a time of decline"),
    _m("虎 狼 蛇 鬼", B, "前路暗藏凶險", "danger lurks along the way"),
    _m("終得 終須 終有 終成 到頭", W, "終究會有結果", "in the end it comes through"),
    _m("雲遮 雲蔽 浮雲 霧 迷 黑暗 暗淡 夜深 昏", B, "雲霧遮蔽，一時看不清方向",
       "clouds and mist hide the way for now"),
    _m("水中月 鏡中花 一場空 空 虛 夢 枉 徒勞", B, "如夢似幻，努力恐怕落空",
       "like a dream: effort may come to nothing"),
    _m("是非 口舌 小人 爭 訟 閒言", B, "要提防是非口舌", "beware of quarrels and gossip"),
    _m("憂 愁 悲 苦 淚 嗟 煩惱", B, "心中有憂愁煩惱", "worry and sorrow weigh on the heart"),
    _m("病 災 禍 患 凶", B, "有災病禍患之象", "a sign of illness or misfortune"),
    _m("待時 守時 等 待 遲 未 且守 莫急 莫心急 看看 漸漸 慢", W, "時機未到，需要耐心等候",
       "the time is not yet ripe: be patient"),
    _m("秋 冬 來年 明年 後", W, "要等到合適的時節", "it waits for the right season"),
    _m("進退 反覆 變 浮沉 不定 疑", M, "進退不定，事情還在變化",
       "back and forth: things are still unsettled"),
    _m("勸君 須 莫 宜 修 善 作福 積善 守舊 依舊 寬心 忍 把定 安分 守", M, "勸人修身守分、寬心行善",
       "it counsels steadiness, patience and doing good"),
    _m("根荄 有源 有根 其原 其源 根源", M, "凡事有根有源，要從根本想起",
       "everything has its root and source: look to the cause"),
    _m("舟 船 江 河 海 水", M, "如舟行水上，順逆要看時勢",
       "like a boat on the water: it depends on the current"),
    _m("山 路 途", M, "人在路途上，要一步一步走", "a journey under way: take it step by step"),
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Line:
    """One verse line, its position, and the images found in it (first = the one that explains it)."""

    text: str
    index: int
    motifs: tuple[Motif, ...]
    words: tuple[str, ...] = ()
    """The word of the line each motif was found by (日出, 風雲散 …), in the same order."""

    @property
    def verdict(self) -> Verdict:
        return self.motifs[0].verdict if self.motifs else Verdict.NEUTRAL


KEPT_AWAY = _m("", G, "阻礙與災禍都會被排除", "obstacles and trouble are cleared away")
"""A bad image that the line denies (家中禍患不臨身): the reading is the opposite of the image."""
_DENIALS = ("不臨", "不侵", "不來", "不見", "不生", "無憂", "無災", "無禍", "免", "消", "除", "脫", "掃")


HELD_BACK = _m(
    "", W, "好事一時受阻，還未成形", "the good thing is held back for now and has not yet taken shape"
)
"""A good image that the line negates (只恐魚水不相逢): the hope is named, and denied."""
_NEGATIONS = frozenset("不未莫無沒没難")


ZODIAC = "鼠牛虎兔龍蛇馬羊猴雞狗豬"
BRANCHES = "子丑寅卯辰巳午未申酉戌亥"
_ZODIAC_TIME = re.compile(
    rf"(?:逢|遇|到|至|交|待|屆|過)[{ZODIAC}]{{1,2}}|[{ZODIAC}]{{2}}(?=[年月日時]|佳|好|喜|音|信|之)"
)
"""An animal of the zodiac as a time (若逢虎兔 — in a tiger or rabbit year or month), not an image."""


def zodiac_time(text: str) -> str:
    """The zodiac animals a line names as a time (虎兔 in 若逢虎兔佳音信), or ""."""
    found = _ZODIAC_TIME.search(text)
    return "".join(ch for ch in found.group(0) if ch in ZODIAC) if found else ""


@lru_cache(maxsize=8192)
def read_line(text: str, index: int) -> Line:
    """The images of one line; each text span is claimed by one motif only (花開 is not also 開).

    Cached (a ``Line`` is frozen): the verses are the corpus's, read again by every task on that poem.

    Zodiac animals named as a time (若逢虎兔: in the years or months of the tiger and rabbit) are a
    clue to when (``clues``), not an image: 虎 there is no tiger, and no danger.
    """
    found: list[Motif] = []
    words: list[str] = []
    first_at = -1
    rest = _ZODIAC_TIME.sub(lambda m: "　" * len(m.group(0)), text)
    for motif in MOTIFS:
        for word in motif.words:
            if word in rest:
                if not found:
                    first_at = rest.index(word)
                found.append(motif)
                words.append(word)
                rest = rest.replace(word, "　" * len(word))
                break
    denied = first_at > 0 and text[first_at - 1] in "無不免莫沒"  # 無殘謝: no withering
    if found and found[0].verdict is B and (denied or any(d in text for d in _DENIALS)):
        found[0] = KEPT_AWAY
    elif found and found[0].verdict is G and first_at > 0 and text[first_at - 1] in _NEGATIONS:
        found[0] = HELD_BACK
    return Line(text, index, tuple(found), tuple(words))


def read_verse(verse: tuple[str, ...]) -> list[Line]:
    """Every non-empty line of the verse with its images."""
    return [read_line(text.strip(), i) for i, text in enumerate(verse) if text and text.strip()]


_SCORE = {G: 1.0, W: 0.5, M: 0.0, B: -1.0, Verdict.NEUTRAL: 0.0}


def verse_verdict(lines: list[Line]) -> Verdict:
    """The tone of the whole verse. The last line is usually its conclusion, so it counts double."""
    if not lines:
        return Verdict.NEUTRAL
    score = 0.0
    waits = 0
    counted = 0
    for line in lines:
        weight = 2.0 if line.index == len(lines) - 1 else 1.0
        for motif in line.motifs[:2]:
            score += _SCORE[motif.verdict] * weight
            waits += motif.verdict is W
            counted += 1
    if counted == 0:
        return Verdict.NEUTRAL
    if score >= 1.5:
        return W if waits >= 2 and score < 3 else G
    if score <= -1.5:
        return B
    return W if waits else M


def key_lines(lines: list[Line], limit: int = 2) -> list[Line]:
    """The lines worth quoting: the most telling image early in the verse, and the concluding line.

    A line with a strong image (good or bad) beats one that only advises; the last line is kept
    because the verse's conclusion is what people remember.
    """
    if not lines:
        return []
    rank = {G: 0, B: 0, W: 1, M: 2, Verdict.NEUTRAL: 3}
    last = lines[-1]
    early = sorted(lines[:-1], key=lambda line: (rank[line.verdict], line.index))
    chosen = [line for line in early[: max(0, limit - 1)] if line.motifs]
    chosen.append(last)
    return sorted(chosen, key=lambda line: line.index)
