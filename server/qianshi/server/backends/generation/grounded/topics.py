"""The topics a question can be about, as the grounded generator needs them.

The pipeline already resolves the question to one of the set's own categories (``request.category``);
this table turns that category back into a topic the text can name in either locale and give advice
for. Where the category is a general one (關帝's 聖意 answers every topic in one line of clauses: 功名遂。
病即痊。…), the topic comes from a light keyword scan of the question, so the right clause can be picked.
Backends do not import the pipeline, so this does not reuse ``pipeline.categories``; it only needs to
be right often enough to choose a clause, and falls back to the retrieval's own ranking when unsure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    zh: str
    """How the zh-Hant text names the topic (就你問的{zh})."""
    en: str
    """How the English text names it (your question about {en})."""
    categories: tuple[str, ...]
    """Set category names that are about this topic."""
    zh_words: tuple[str, ...]
    en_words: tuple[str, ...]
    tip_zh: str
    """A practical, topic-specific sentence of advice (zh-Hant)."""
    tip_en: str


def _t(
    key: str, zh: str, en: str, cats: str, zh_words: str, en_words: str, tip_zh: str, tip_en: str
) -> Topic:
    return Topic(
        key, zh, en, tuple(cats.split()), tuple(zh_words.split()), tuple(en_words.split()), tip_zh, tip_en
    )


TOPICS: tuple[Topic, ...] = (
    _t("health", "健康", "health", "疾病 治病",
       "病 健康 身體 醫 手術 開刀 治療 痊 康復 癌 住院 檢查 疼 痛",
       "health sick ill illness disease surgery doctor recover hospital cancer pain treatment healing",
       "身體的事請以醫師的診斷為準，按時就醫、好好休養，籤詩只能給你心安。",
       "For anything about your body, follow your doctor's advice first; "
       "the slip can only offer peace of mind."),
    _t("lawsuit", "官司", "the lawsuit", "官事 公訟",
       "官司 訴訟 訟 法院 糾紛 告 律師 判決 仲裁",
       "lawsuit court legal dispute litigation sue lawyer trial judge",
       "訴訟的事請找可信的律師把證據與程序準備好，能和解時不妨認真考慮。",
       "Get a trustworthy lawyer to prepare your evidence and options, "
       "and take a fair settlement seriously."),
    _t("children", "求子與生產", "children and childbirth", "六甲 求兒",
       "懷孕 生子 孩子 寶寶 生產 六甲 胎 孕 求子 小孩 不孕",
       "pregnant pregnancy baby child children birth conceive fertility",
       "懷孕生產的事請定期產檢、聽從醫師安排。",
       "For pregnancy and birth, keep up regular check-ups and follow your doctor."),
    _t("marriage", "婚姻感情", "love and marriage", "婚姻",
       "婚 姻 嫁 娶 戀 感情 對象 男友 女友 另一半 緣 交往 相親 桃花 復合 分手",
       "marry marriage married wedding love relationship partner boyfriend girlfriend spouse romance dating",
       "感情的事貴在真誠溝通，多聽聽對方的想法，也問問自己的心。",
       "In matters of the heart, honest conversation counts most: "
       "listen to the other person, and to yourself."),
    _t("career", "功名事業", "your career", "功名",
       "工作 事業 升 考 職 功名 面試 換工作 轉職 老闆 升遷 考試 學業 名",
       "job career work promotion exam interview position employ employment study school test",
       "工作與考試靠的是準備，把該做的功課做足，機會來時才接得住。",
       "In work and exams, preparation is what lets you catch the chance when it comes."),
    _t("wealth", "財運", "money", "求財 經商 交易",
       "財 錢 投資 賺 收入 生意 股 買賣 薪 創業 開店 合夥 交易 經商 貸款 債",
       "money wealth invest investment income profit finance salary stock business trade deal loan debt",
       "錢財的事量力而為，不要把全部身家押在一處，也別輕信高報酬。",
       "With money, act within your means, don't stake everything on one bet, "
       "and distrust promises of quick gains."),
    _t("travel", "出行與音訊", "travel and news", "出外 行人 來人 遠信 行舟",
       "出國 旅行 出門 遠行 出差 回來 歸 消息 音訊 行人",
       "travel trip journey abroad return come back news visit",
       "出門在外注意安全，行程多留些彈性。",
       "Travel safely and leave some slack in your plans."),
    _t("home", "家宅", "your home and family", "家宅 家事 家運 築室",
       "家 房子 住宅 家人 家運 買房 裝修",
       "home house family household",
       "家裡的事多些耐心與體諒，一家和睦比什麼都重要。",
       "At home, patience and understanding go furthest; harmony in the family matters most."),
    _t("move", "搬遷", "moving", "移居 移徙",
       "搬家 搬 移居 遷 移民 換房",
       "move moving relocate relocation emigrate",
       "搬遷前把地點、費用與時間都看清楚再決定。",
       "Before moving, look carefully at the place, the cost and the timing."),
    _t("lost", "尋人尋物", "finding what was lost", "失物 尋人",
       "遺失 丟 失物 找 不見 尋人 走失 失蹤",
       "lost find missing lose",
       "找東西或找人，從最後出現的地方細細找起，必要時請人幫忙。",
       "When searching, start from where it was last seen, and ask for help if you need it."),
    _t("farming", "農漁畜牧", "farming and livestock", "耕作 田蠶 六畜 討海 作塭 魚苗 求雨",
       "耕 田 種 農 魚 養 畜 收成",
       "farm farming crop harvest fish livestock",
       "農事看天，也看準備，順著時節安排最穩當。",
       "Farming depends on the weather and on preparation; working with the seasons is safest."),
    _t("grave", "墳地風水", "the burial site", "墳墓 山墳",
       "墳 墓 風水 安葬 祖先",
       "grave burial tomb ancestor",
       "祖墳與風水的事，請與家人商量並請教可信的師傅。",
       "For graves and feng shui, decide together with your family and a trusted adviser."),
    _t("general", "整體運勢", "your fortune in general", "凡事 作事 自身 歲君 月令",
       "運勢 今年 流年 運氣 整體 未來 人生",
       "luck fortune year future life general",
       "凡事量力而為，把握當下能做的部分。",
       "Do what is within your reach now, one step at a time."),
)  # fmt: skip

_BY_KEY = {t.key: t for t in TOPICS}
_BY_CATEGORY = {c: t for t in TOPICS for c in t.categories}
_EN_WORD = re.compile(r"[a-z]+")


def topic(key: str) -> Topic:
    """The topic with this key; the general one for an unknown key."""
    return _BY_KEY.get(key, _BY_KEY["general"])


def topic_of_category(category: str) -> Topic | None:
    """The topic a set's own category is about, or None for a general one (聖意, 詩意, 解曰 …)."""
    return _BY_CATEGORY.get(category.strip())


def topic_of_question(question: str) -> Topic | None:
    """The topic the question most likely asks about, or None when nothing points anywhere.

    Counts keyword hits per topic (longer Chinese keywords weigh more); ties go to the earlier topic
    in ``TOPICS``, which lists events (an illness, a lawsuit) before the domains they happen in.
    """
    text = question[:500].lower()
    words = {w for word in _EN_WORD.findall(text) for w in (word, word.removesuffix("s"))}
    best: Topic | None = None
    best_score = 0
    for t in TOPICS:
        score = sum(len(w) for w in t.zh_words if w in text)
        score += sum(
            2 for w in t.en_words if w in words or (len(w) > 4 and any(x.startswith(w) for x in words))
        )
        if score > best_score:
            best, best_score = t, score
    return best
