"""The wording of the grounded interpretation in each locale: openings, tone, advice and closings.

Kept apart from the composition so a native reader can polish the text without reading code. Every
tuple holds interchangeable phrasings; the request's seed picks one, so two people who draw the same
slip do not get word-for-word the same answer, while one request always gets the same text.
Placeholders are ``str.format`` fields; each phrasing of a tuple uses the same ones.
"""

from __future__ import annotations

from qianshi.server.backends.generation.grounded.words import Verdict

G, W, M, B, N = Verdict.GOOD, Verdict.WAIT, Verdict.MIXED, Verdict.BAD, Verdict.NEUTRAL

SET_NAMES_EN = {
    "mazu60": "Mazu Sixty Jiazi Oracle",
    "guanyin100": "Guanyin Oracle",
    "guandi100": "Guandi Oracle",
}

CATEGORY_EN = {
    "凡事": "all matters", "作事": "undertakings", "家事": "family matters", "家運": "the family's fortune",
    "婚姻": "marriage", "求兒": "hoping for children", "六甲": "pregnancy", "求財": "seeking wealth",
    "功名": "career and exams", "歲君": "the year's luck", "治病": "illness", "出外": "going away",
    "經商": "business", "來人": "an awaited visitor", "行舟": "sailing", "移居": "moving house",
    "失物": "lost property", "求雨": "praying for rain", "官事": "legal matters", "六畜": "livestock",
    "耕作": "farming", "築室": "building a house", "墳墓": "graves", "討海": "fishing at sea",
    "作塭": "fish ponds", "魚苗": "fish fry", "月令": "this month's luck", "尋人": "finding someone",
    "遠信": "news from afar", "家宅": "home", "自身": "yourself", "交易": "trade", "行人": "travellers",
    "田蠶": "fields and silkworms", "公訟": "lawsuits", "移徙": "relocation", "疾病": "illness",
    "山墳": "graves", "詩意": "the meaning of the poem", "解曰": "the explanation",
    "聖意": "the god's intent", "東坡解": "Dongpo's reading", "碧仙註": "Bixian's note",
}  # fmt: skip

OPENING = {
    "zh-Hant": (
        "你抽到的是{set}第{num}籤{title}{cite}{rank}。",
        "這次求得{set}第{num}籤{title}{cite}{rank}。",
        "{set}第{num}籤{title}{cite}{rank}，是這次回應你的籤。",
    ),
    "en": (
        "You drew slip no. {num} of the {set}{title}{cite}{rank}.",
        "Your slip is no. {num} of the {set}{title}{cite}{rank}.",
        "The slip that answered you is no. {num} of the {set}{title}{cite}{rank}.",
    ),
}
TITLE = {"zh-Hant": "，〈{title}〉", "en": ", titled {title}"}
RANK = {"zh-Hant": "，籤等為{rank}", "en": ", ranked {rank} ({tone})"}
RANK_TONE_EN = {G: "a favourable slip", W: "a slip that asks for patience", M: "a middling slip",
                B: "a cautionary slip", N: "an unranked slip"}  # fmt: skip
QUESTION = {"zh-Hant": "你問的是：「{q}」。", "en": "You asked: “{q}”."}

VERSE_FIRST = {
    "zh-Hant": ("籤詩說「{line}」{cite}，{meaning}。", "詩裡寫「{line}」{cite}，意思是{meaning}。"),
    "en": ("The verse says “{line}”{cite} — {meaning}.", "One line reads “{line}”{cite} — {meaning}."),
}
VERSE_LAST = {
    "zh-Hant": ("最後一句「{line}」{cite}，{meaning}。", "結尾說「{line}」{cite}，{meaning}。"),
    "en": ("It ends with “{line}”{cite} — {meaning}.", "Its last line is “{line}”{cite} — {meaning}."),
}
VERSE_PLAIN = {
    "zh-Hant": "整首詩的重點落在這一句上",
    "en": "the conclusion the verse comes to",
}
VERSE_TONE = {
    "zh-Hant": {
        G: "整首詩偏向吉利，事情會往好的方向走。",
        W: "整首詩的意思是好事要等時機，時候到了才會順。",
        M: "整首詩吉中帶戒，好壞參半，要看自己怎麼走。",
        B: "整首詩是在提醒你，眼前有阻礙，要格外小心。",
    },
    "en": {
        G: "Taken as a whole, the verse leans favourable: things are moving in a good direction.",
        W: "Taken as a whole, the verse says the good outcome needs time: wait for the right moment.",
        M: "Taken as a whole, the verse is mixed, good with a warning: much depends on how you go about it.",
        B: "Taken as a whole, the verse is a warning: there are obstacles ahead, so take care.",
    },
}
GIST = {"zh-Hant": "{name}說：「{text}」{cite}。", "en": "The commentary {name} adds: {text}{cite}{gloss}."}
GIST_TONE_EN = {G: ", which reads as favourable", W: ", which counsels patience", M: ", a mixed note",
                B: ", a note of caution", N: ""}  # fmt: skip

ANSWER = {
    "zh-Hant": (
        "就你問的{topic}，「{category}」一項寫著「{text}」{cite}，{verdict}。",
        "回到你問的{topic}：「{category}」這一項是「{text}」{cite}，{verdict}。",
    ),
    "en": (
        "On your question about {topic}, the slip's answer under {category} ({category_en}) is {text}{cite}"
        "{gloss} — {verdict}.",
        "As for {topic}, the line for {category} ({category_en}) reads {text}{cite}{gloss} — {verdict}.",
    ),
}
ANSWER_CLAUSES = {
    "zh-Hant": ("就你問的{topic}，{category}說「{text}」{cite}，{verdict}。",),
    "en": (
        "On your question about {topic}, the slip's {category} ({category_en}) says "
        "{text}{cite}{gloss} — {verdict}.",
    ),
}
ANSWER_GENERAL = {
    "zh-Hant": "這支籤沒有專講{topic}的籤解，就以「{category}」來看：「{text}」{cite}，{verdict}。",
    "en": "This slip has no line of its own for {topic}, so read it through {category} ({category_en}): "
    "{text}{cite}{gloss} — {verdict}.",
}
ANSWER_NONE = {
    "zh-Hant": "這支籤沒有專講{topic}的籤解，就以籤詩整體的意思為準。",
    "en": "This slip has no specific line for {topic}, so go by the verse as a whole.",
}
OVERALL = {
    "zh-Hant": "整體來看，「{category}」一項是「{text}」{cite}。",
    "en": "For {category_en} ({category}) the slip says {text}{cite}{gloss}.",
}
VERDICT_TEXT = {
    "zh-Hant": {
        G: ("這是吉兆，結果會是好的", "意思是順利，結果可期", "是好的回答"),
        W: ("意思是結果會好，但要等時機", "好事會來，只是要耐心等", "時候到了自然會好"),
        M: ("好壞參半，要多留意", "不算壞，但要小心經營", "有得有失，要謹慎"),
        B: ("這一項不太順利", "看來阻礙不少", "是提醒你此事難以強求"),
        N: ("這是具體的指示，本身沒有吉凶之分",),
    },
    "en": {
        G: ("a favourable sign", "a good answer", "a clear yes"),
        W: (
            "favourable, but it takes time",
            "good things come, but not yet",
            "favourable when the time is right",
        ),
        M: ("a mixed answer", "neither good nor bad: tread carefully", "some gain, some loss"),
        B: ("an unfavourable answer", "a sign of obstacles", "a warning not to force it"),
        N: ("a specific pointer rather than a verdict",),
    },
}
ADVICE = {
    "zh-Hant": {
        G: ("可以放心去做，把握這個順勢。", "時機不錯，想做的事不妨積極推進。",
            "可以往前走，但好運也要靠自己的努力接住。"),
        W: ("不必急在一時，先把準備做好，等時機成熟再行動。",
            "現在宜守不宜攻，耐心等候，情況會慢慢好轉。",
            "先穩住腳步，過一段時間再看，會比現在更順。"),
        M: ("可以做，但要步步為營，把風險想清楚。",
            "好壞參半，先做小規模的嘗試，再決定要不要全力投入。",
            "謹慎行事，多聽旁人意見，不要一意孤行。"),
        B: ("眼下不宜強求，不妨重新考慮，或換個方式、換個時間。",
            "先停一停，把計畫重新檢視一遍，避開明顯的風險。",
            "這時候守比攻好，保住現有的，比冒險更重要。"),
    },
    "en": {
        G: ("You can go ahead with confidence and make the most of the tailwind.",
            "The timing is good: move forward with what you have in mind.",
            "Go ahead, but remember that good luck still needs your effort to land."),
        W: ("There is no need to rush: prepare well now and act when the time is ripe.",
            "For now, hold rather than push; be patient and things will ease.",
            "Steady yourself and look again in a while; it will go more smoothly than now."),
        M: ("You can proceed, but step by step, with the risks thought through.",
            "With good and bad mixed, try a small step first before committing fully.",
            "Act carefully, listen to others' advice, and don't force things."),
        B: ("This is not the moment to force it: reconsider, or try another way or another time.",
            "Pause and review the plan, steering clear of the obvious risks.",
            "Holding on to what you have matters more than taking chances right now."),
    },
}  # fmt: skip
CLOSING = {
    "zh-Hant": (
        "籤詩只是參考，真正的決定還在你自己，願你心安、事順。",
        "籤詩只是參考，給你一個思考的方向；最後怎麼走，還是要靠你自己的判斷。",
        "籤詩只是參考，心存善念、腳踏實地，自然會有好的結果。",
    ),
    "en": (
        "A fortune slip is a prompt for reflection, not a verdict; the decision is yours. "
        "May your heart be at peace.",
        "Treat the slip as a reference that points a direction; how you walk it is up to your own judgement.",
        "The slip is only a guide: keep a good heart and steady steps, and good things tend to follow.",
    ),
}
FALLBACK = {
    "zh-Hant": "這支籤的內容不完整，無法細解；籤詩只是參考，請依自己的判斷行事。",
    "en": "This slip's text is incomplete, so it cannot be read in detail; treat it only as a reference.",
}

NUMERALS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """1..100 in Chinese numerals as slips are numbered (二十三, 一百); other numbers in digits."""
    if n == 100:
        return "一百"
    if not 0 < n < 100:
        return str(n)
    tens, units = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else NUMERALS[tens] + "十")
    return head + (NUMERALS[units] if units else "")
