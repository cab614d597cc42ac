"""The topics a question can be about, as a reading names them and advises on them.

The pipeline resolves the question to one of the set's own categories (``categories``); this table
turns that category back into a topic a writer can name in either locale and give advice for. Where the
category is a general one (關帝's 聖意 answers every topic in one line of clauses: 功名遂。病即痊。…), the
topic comes from the question, read by the same understanding the pipeline chose the category with
(``categories.understand``), so the right clause can be picked; where the question names no topic, the
reading is a general one and says so, rather than guessing one by a second, looser reading. A question
that names a second worry (two topics) gives the reading a ``secondary_topic`` it may mention.
"""

from __future__ import annotations

from dataclasses import dataclass

from qianshi.server.reading.categories.understand import understand


@dataclass(frozen=True, slots=True)
class Topic:
    key: str
    zh: str
    """How the zh-Hant text names the topic (就你問的{zh})."""
    en: str
    """How the English text names it (your question about {en})."""
    categories: tuple[str, ...]
    """Set category names (and common categories) that are about this topic."""
    tips_zh: tuple[str, ...]
    """Practical, topic-specific advice (zh-Hant), one picked per reading; none about anything else."""
    tips_en: tuple[str, ...]


def _t(key: str, zh: str, en: str, cats: str, tips: str) -> Topic:
    """``tips``: lines of ``zh-Hant tip | English tip``."""
    pairs = [line.split("|") for line in tips.strip().splitlines()]
    return Topic(
        key,
        zh,
        en,
        tuple(cats.split()),
        tuple(p[0].strip() for p in pairs),
        tuple(p[1].strip() for p in pairs),
    )


TOPICS: tuple[Topic, ...] = (
    _t("health", "健康", "health", "疾病 治病",
       """
身體的事請以醫師的診斷為準，按時就醫、好好休養，籤詩只能給你心安。 | For anything about your body, follow your doctor's advice first; the slip can only offer peace of mind.
治療的安排請聽醫師的，家人多陪伴、多鼓勵，心安也是一帖藥。 | Leave the treatment to the doctors; family company and encouragement are medicine too.
病情有疑問就多問醫師、必要時再聽一位醫師的意見，照顧好作息與飲食。 | When in doubt, ask the doctor, or get a second opinion, and look after rest and diet.
籤只求心安，醫療上的每一步請和醫師一起決定，也別忘了照顧自己。 | A slip gives peace of mind; take each medical step together with the doctor, and look after yourself too.
"""),
    _t("lawsuit", "官司", "the lawsuit", "官事 公訟",
       """
訴訟的事請找可信的律師把證據與程序準備好，能和解時不妨認真考慮。 | Get a trustworthy lawyer to prepare your evidence and options, and take a fair settlement seriously.
打官司耗時耗力，先和律師算清楚勝算與代價，再決定下一步。 | Lawsuits cost time and strength: weigh the odds and the cost with your lawyer before the next step.
把往來的紀錄與證據整理好，談判時保持冷靜，不逞一時之氣。 | Keep your records and evidence in order, and stay calm in negotiations rather than fighting for pride.
"""),
    _t("children", "求子與生產", "children and childbirth", "六甲 求兒",
       """
懷孕生產的事請定期產檢、聽從醫師安排。 | For pregnancy and birth, keep up regular check-ups and follow your doctor.
求子的路上夫妻互相扶持最要緊，身體的事請和醫師好好商量。 | On the way to a child, supporting each other matters most; talk the medical side over with your doctor.
放鬆心情、規律作息，醫療上的安排交給專業。 | Keep calm and regular habits, and leave the medical side to the professionals.
"""),
    _t("marriage", "婚姻感情", "love and marriage", "婚姻",
       """
感情的事貴在真誠溝通，多聽聽對方的想法，也問問自己的心。 | In matters of the heart, honest conversation counts most: listen to the other person, and to yourself.
兩個人的事，最好坐下來好好談一次，說出彼此真正在意的是什麼。 | Sit down together and talk it through, saying what each of you really cares about.
感情不必急著下定論，多看看兩人相處時的樣子，答案往往就在裡面。 | No need to rush a verdict on love; look at how you are together, and the answer is often there.
感情的事，先照顧好自己的心，才能好好對待對方。 | In love, look after your own heart first; then you can treat the other person well.
"""),
    _t("career", "功名事業", "your career", "功名",
       """
工作與考試靠的是準備，把該做的功課做足，機會來時才接得住。 | In work and exams, preparation is what lets you catch the chance when it comes.
職場上多累積實力與人脈，比一時的運氣更可靠。 | At work, building skill and connections is more reliable than a moment's luck.
先把眼前的事做好，再一步一步往想去的地方靠近。 | Do well at what is in front of you, then move step by step towards where you want to be.
換跑道之前，先把條件、待遇和退路都看清楚。 | Before changing course, look clearly at the terms, the pay and your way back.
"""),
    _t("wealth", "財運", "money", "求財 經商 交易",
       """
錢財的事量力而為，不要把全部身家押在一處，也別輕信高報酬。 | With money, act within your means, don't stake everything on one bet, and distrust promises of quick gains.
投資之前先算好最壞的情況，輸得起再出手。 | Before investing, work out the worst case, and only go in if you can afford to lose.
合夥或借貸請白紙黑字寫清楚，親兄弟也要明算帳。 | Put partnerships and loans in writing; even family should keep clear accounts.
開源之外也要節流，手上留一筆應急的錢最安心。 | Besides earning more, spend less, and keep an emergency fund to hand.
"""),
    _t("travel", "出行與音訊", "travel and news", "出外 行人 來人 遠信 行舟",
       """
出門在外注意安全，行程多留些彈性。 | Travel safely and leave some slack in your plans.
遠行前把證件、住處與聯絡方式準備妥當，家人也能安心。 | Before a long trip, sort out papers, lodging and contacts so your family can rest easy.
等消息的時候，主動聯繫一下，比空等更踏實。 | While waiting for news, reaching out yourself beats waiting in silence.
"""),
    _t("home", "家宅", "your home and family", "家宅 家事 家運 築室",
       """
家裡的事多些耐心與體諒，一家和睦比什麼都重要。 | At home, patience and understanding go furthest; harmony in the family matters most.
家人之間有話直說、有事商量，很多心結自然會解開。 | Speak plainly and decide together at home, and many knots will loosen by themselves.
房子的事看清產權、預算與屋況，再做決定。 | For a house, check the title, the budget and the state of the building before deciding.
"""),
    _t("move", "搬遷", "moving", "移居 移徙",
       """
搬遷前把地點、費用與時間都看清楚再決定。 | Before moving, look carefully at the place, the cost and the timing.
新的地方先去住幾天、走一走，看看生活與工作是否方便。 | Spend a few days in the new place first and see whether life and work there suit you.
搬或不搬，都把家人的意見和生活的實際需要放在前面。 | Moving or staying, put your family's views and your everyday needs first.
"""),
    _t("lost", "尋人尋物", "finding what was lost", "失物 尋人",
       """
找東西或找人，從最後出現的地方細細找起，必要時請人幫忙。 | When searching, start from where it was last seen, and ask for help if you need it.
能報案或登記遺失的，就早一點去，別只靠等待。 | If it can be reported or registered as lost, do it early rather than only waiting.
回想最後一次看到的時間和地點，按順序一處一處找。 | Recall when and where you last saw it, and search place by place in order.
"""),
    _t("farming", "農漁畜牧", "farming and livestock", "耕作 田蠶 六畜 討海 作塭 魚苗 求雨",
       """
農事看天，也看準備，順著時節安排最穩當。 | Farming depends on the weather and on preparation; working with the seasons is safest.
多留意天候與病蟲害，早做防範。 | Watch the weather and pests, and take precautions early.
養殖與耕作都不要一次押太多，分批進行較穩。 | In farming and fish-keeping, don't commit everything at once; stagger it.
"""),
    _t("grave", "墳地風水", "the burial site", "墳墓 山墳",
       """
祖墳與風水的事，請與家人商量並請教可信的師傅。 | For graves and feng shui, decide together with your family and a trusted adviser.
安葬的事以家人的心意為重，擇日擇地都可以慢慢商量。 | In burial matters the family's wishes come first; the day and the site can be discussed at leisure.
"""),
    _t("general", "整體運勢", "your fortune in general", "凡事 作事 自身 歲君 月令",
       """
凡事量力而為，把握當下能做的部分。 | Do what is within your reach now, one step at a time.
把心力放在自己能掌握的事上，運勢自然會跟著走。 | Put your effort into what you can control, and your luck will follow.
保持規律的生活與好的心情，是最實在的轉運方法。 | Regular habits and a good mood are the most practical way to turn your luck.
"""),
)  # fmt: skip

_BY_KEY = {t.key: t for t in TOPICS}
_BY_CATEGORY = {c: t for t in TOPICS for c in t.categories}


def topic(key: str) -> Topic:
    """The topic with this key; the general one for an unknown key."""
    return _BY_KEY.get(key, _BY_KEY["general"])


def topic_of_category(category: str) -> Topic | None:
    """The topic a set's own category is about, or None for a general one (聖意, 詩意, 解曰 …)."""
    return _BY_CATEGORY.get(category.strip())


def topic_of_question(question: str) -> Topic | None:
    """The topic the question asks about, or None when it names none clearly.

    The same understanding the pipeline resolved the category with (``categories.understand``,
    memoised, so the reading's look at the question costs a dictionary look-up): one reading of the
    question, not two that can disagree.
    """
    common = understand(question).topic
    return topic_of_category(common) if common else None


def secondary_topic(question: str, chosen: Topic) -> Topic | None:
    """Another topic the question names, which the reading may mention beside ``chosen``: the
    question's secondary topic, or its main one when the caller chose another; None when neither
    is a topic of its own (the general one, or ``chosen`` itself)."""
    found = understand(question)
    for common in (found.secondary, found.topic):
        other = topic_of_category(common) if common else None
        if other is not None and other.key not in ("general", chosen.key):
            return other
    return None
