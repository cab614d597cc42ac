"""The vocabulary behind ``categories.py``: the common categories, the set names each maps to, and the
weighted keywords that point a question at one of them.

Kept apart from the logic because it is data an operator or a reviewer edits (a keyword that misfires, a
temple set whose boards say 財運 where ours say 求財) without touching the matching code.

How to read a ``Spec``:

* ``head``: the zh-Hant name, the English name, and more English aliases.
* ``names``: the category names temple sets use for exactly this topic, most usual first; the first one a
  set has is where the topic goes in that set. They double as Chinese aliases a caller may request.
* ``fallback``: other common categories whose ``names`` are tried next, for sets that lack the topic
  (guanyin100 has no 功名 column, so 功名 falls back to 作事 and then 自身). After those, the set's general
  category (see ``GENERAL``) takes every topic, which is how guandi100's 聖意 answers all of them.
* ``terms``: short words the traditional judgments of the topic use (病, 痊 …), to widen retrieval.
* ``zh`` / ``en``: weight → keywords, from the tables in ``zh.py`` (Traditional Chinese, Mandarin;
  ``fold.py`` brings Simplified, Cantonese and Hokkien questions to it) and ``en.py``, which say how keywords are
  written. Weights: 4 a phrase that settles the topic, 3 a clear topic word, 2 a likely one, 1 a hint.

When keywords overlap, only the longest match counts (告白 hides 告, lost touch hides lost), and
``MASK_ZH`` / ``MASK_EN`` list phrases that count for nothing but hide what they contain (毛病, feel lost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from qianshi.server.reading.categories.en import KEYWORDS_EN
from qianshi.server.reading.categories.zh import KEYWORDS_ZH


@dataclass(frozen=True, slots=True)
class Spec:
    head: str
    """name | English name | more English aliases, comma-separated"""
    names: str
    fallback: str = ""
    terms: str = ""
    zh: Mapping[float, str] = field(default_factory=dict)
    en: Mapping[float, str] = field(default_factory=dict)


TIE_ORDER = (
    "公訟 疾病 六甲 求兒 尋人 失物 行人 遠信 移居 築室 出外 墳墓 六畜 耕作 行舟 討海 作塭 求雨 "
    "經商 求財 功名 婚姻 家宅 自身 作事"
)
"""Who wins a tie: a question naming an event (a lawsuit, an illness, a birth, a loss) together with the
domain it happens in (a business partner, a husband, the family) is about the event."""

MIN_SCORE = 1.5
"""Below this a question has only faint hints (今年, "message"), which is no topic at all."""

GENERAL = "凡事"
"""The common category of a question that names no topic; every set's default."""

SPECS: tuple[Spec, ...] = (
    Spec(
        "婚姻 | marriage | love, relationship, romance, dating, wedding",
        names="婚姻 姻緣 感情 婚配 愛情 戀愛",
        terms="婚 姻 合 緣 媒 配",
        zh=KEYWORDS_ZH["婚姻"],
        en=KEYWORDS_EN["婚姻"],
    ),
    Spec(
        "求財 | wealth | money, finance, investment, income",
        names="求財 財運 財利 錢財 財富 謀財",
        fallback="經商",
        terms="財 利 祿 富",
        zh=KEYWORDS_ZH["求財"],
        en=KEYWORDS_EN["求財"],
    ),
    Spec(
        "經商 | business | trade, deal, deals, commerce, transaction",
        names="經商 交易 生意 買賣 商業 營商",
        fallback="求財",
        terms="利 財 交易 商 貨 市",
        zh=KEYWORDS_ZH["經商"],
        en=KEYWORDS_EN["經商"],
    ),
    Spec(
        "功名 | career | job, work, exam, promotion, study, school",
        names="功名 事業 求名 仕途 工作 學業 考試 求職",
        fallback="作事 自身",
        terms="名 功名 官 第 貴 榜 仕",
        zh=KEYWORDS_ZH["功名"],
        en=KEYWORDS_EN["功名"],
    ),
    Spec(
        "疾病 | health | illness, sickness, disease, medical",
        names="疾病 治病 病症 健康 病情 身體",
        fallback="自身",
        terms="病 痊 安 醫 藥 癒 愈 瘥 康 禱",
        zh=KEYWORDS_ZH["疾病"],
        en=KEYWORDS_EN["疾病"],
    ),
    Spec(
        "公訟 | lawsuit | legal, legal dispute, litigation, court",
        names="公訟 官事 官司 訴訟 詞訟 官非",
        terms="訟 官 理 口舌 是非 刑",
        zh=KEYWORDS_ZH["公訟"],
        en=KEYWORDS_EN["公訟"],
    ),
    Spec(
        "六甲 | pregnancy | childbirth, birth",
        names="六甲 懷孕 生產 胎孕 孕產",
        fallback="求兒",
        terms="孕 生 產 男 女 胎",
        zh=KEYWORDS_ZH["六甲"],
        en=KEYWORDS_EN["六甲"],
    ),
    Spec(
        "求兒 | children | having a child, fertility, offspring",
        names="求兒 求子 子嗣 子息 求嗣",
        fallback="六甲",
        terms="子 嗣 兒 孕 男",
        zh=KEYWORDS_ZH["求兒"],
        en=KEYWORDS_EN["求兒"],
    ),
    Spec(
        "失物 | lost item | lost property, lost",
        names="失物 尋物 遺失",
        terms="失 物 尋 在",
        zh=KEYWORDS_ZH["失物"],
        en=KEYWORDS_EN["失物"],
    ),
    Spec(
        "尋人 | missing person | finding someone",
        names="尋人 找人 失蹤",
        fallback="行人",
        terms="尋 見 人 歸",
        zh=KEYWORDS_ZH["尋人"],
        en=KEYWORDS_EN["尋人"],
    ),
    Spec(
        "出外 | travel | trip, journey, going abroad",
        names="出外 出行 出門 旅行 遠行 行程",
        fallback="行人",
        terms="行 出 出入 程 路 遠",
        zh=KEYWORDS_ZH["出外"],
        en=KEYWORDS_EN["出外"],
    ),
    Spec(
        "移居 | moving | relocation, move, moving house, relocate",
        names="移居 移徙 遷居 遷移 搬遷 搬家",
        fallback="家宅",
        terms="居 移 遷 徙 宅",
        zh=KEYWORDS_ZH["移居"],
        en=KEYWORDS_EN["移居"],
    ),
    Spec(
        "家宅 | home | family, household, house",
        names="家宅 家運 家事 家庭 宅運",
        terms="家 宅 家道 門 安",
        zh=KEYWORDS_ZH["家宅"],
        en=KEYWORDS_EN["家宅"],
    ),
    Spec(
        "築室 | building | construction, renovation, house building",
        names="築室 修造 建屋 造屋 動土 修屋",
        fallback="家宅",
        terms="室 宅 造 修 屋",
        zh=KEYWORDS_ZH["築室"],
        en=KEYWORDS_EN["築室"],
    ),
    Spec(
        "行人 | return | awaited return, visitor, traveller's return",
        names="行人 來人 歸人",
        fallback="遠信",
        terms="行人 歸 還 回 至",
        zh=KEYWORDS_ZH["行人"],
        en=KEYWORDS_EN["行人"],
    ),
    Spec(
        "遠信 | news | news from afar, letter, message",
        names="遠信 音信 信息 書信",
        fallback="行人",
        terms="信 音 書 遠信",
        zh=KEYWORDS_ZH["遠信"],
        en=KEYWORDS_EN["遠信"],
    ),
    Spec(
        "自身 | self | personal, luck, personal fortune",
        names="自身 本身 歲君 流年 運勢",
        terms="身 福 運 時",
        zh=KEYWORDS_ZH["自身"],
        en=KEYWORDS_EN["自身"],
    ),
    Spec(
        "作事 | undertaking | plan, project, venture",
        names="作事 謀事 謀望 辦事",
        terms="事 謀 謀望 作事",
        zh=KEYWORDS_ZH["作事"],
        en=KEYWORDS_EN["作事"],
    ),
    Spec(
        "六畜 | livestock | animals, pets",
        names="六畜 牲畜 畜牧 寵物",
        terms="畜 牛 羊 馬",
        zh=KEYWORDS_ZH["六畜"],
        en=KEYWORDS_EN["六畜"],
    ),
    Spec(
        "耕作 | farming | crops, harvest, agriculture",
        names="耕作 田蠶 農作 農事 種植 收成",
        terms="田 蠶 桑 麻 禾 收 耕",
        zh=KEYWORDS_ZH["耕作"],
        en=KEYWORDS_EN["耕作"],
    ),
    Spec(
        "墳墓 | graves | grave, tomb, burial",
        names="墳墓 山墳 陰宅 墓地 陰地",
        terms="墳 墓 地 陰地 山",
        zh=KEYWORDS_ZH["墳墓"],
        en=KEYWORDS_EN["墳墓"],
    ),
    Spec(
        "行舟 | sailing | boat, voyage, shipping",
        names="行舟 航海 舟船",
        fallback="出外 行人",
        terms="舟 船 風 水 行",
        zh=KEYWORDS_ZH["行舟"],
        en=KEYWORDS_EN["行舟"],
    ),
    Spec(
        "討海 | fishing | sea fishing",
        names="討海 漁業 捕魚 出海",
        terms="海 魚 漁 水",
        zh=KEYWORDS_ZH["討海"],
        en=KEYWORDS_EN["討海"],
    ),
    Spec(
        "作塭 | fish farming | aquaculture, fish pond",
        names="作塭 魚苗 養殖 魚塭",
        terms="魚 塭 水 苗",
        zh=KEYWORDS_ZH["作塭"],
        en=KEYWORDS_EN["作塭"],
    ),
    Spec(
        "求雨 | rain | weather",
        names="求雨 天氣 雨水",
        terms="雨 天 旱",
        zh=KEYWORDS_ZH["求雨"],
        en=KEYWORDS_EN["求雨"],
    ),
    Spec(
        "凡事 | general | general, overall, everything, all matters",
        names="凡事 詩意 聖意 解曰 綜合 總論",
        terms="凡事 百事 諸事",
    ),
)
