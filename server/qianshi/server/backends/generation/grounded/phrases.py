"""The wording of the grounded interpretation in each locale: openings, tone, advice and closings.

Kept apart from the composition so a native reader can polish the text without reading code. Every
tuple holds interchangeable phrasings; the request's seed picks one, so two people who draw the same
slip do not get word-for-word the same answer, while one request always gets the same text.
Placeholders are ``str.format`` fields; each phrasing of a tuple uses the same ones.
"""

from __future__ import annotations

from qianshi.server.reading.words import Verdict

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
    "zh-Hant": (
        "最後一句「{line}」{cite}，{meaning}。",
        "結尾說「{line}」{cite}，{meaning}。",
        "末句「{line}」{cite}，{meaning}。",
    ),
    "en": (
        "It ends with “{line}”{cite} — {meaning}.",
        "Its last line is “{line}”{cite} — {meaning}.",
        "The verse closes on “{line}”{cite} — {meaning}.",
    ),
}
VERSE_BARE = {
    "zh-Hant": (
        "結尾一句是「{line}」{cite}。",
        "詩的最後一句是「{line}」{cite}。",
        "詩收在「{line}」{cite}。",
        "末句寫「{line}」{cite}。",
    ),
    "en": (
        "It ends with “{line}”{cite}.",
        "Its last line is “{line}”{cite}.",
        "The verse closes on “{line}”{cite}.",
        "The final line reads “{line}”{cite}.",
    ),
}
ARC = {
    "zh-Hant": {
        "up": ("從「{w1}」到「{w2}」，是先難後易、苦盡甘來的走勢。", "詩由「{w1}」寫到「{w2}」，先有阻礙，後見轉機。"),
        "down": ("詩先有「{w1}」，後有「{w2}」，好景之後要防變數。", "從「{w1}」到「{w2}」，先順後逆，不能只看眼前。"),
        "good": ("從「{w1}」到「{w2}」，一路都是吉利的意象。", "「{w1}」「{w2}」，詩裡滿是好的景象。"),
        "bad": ("從「{w1}」到「{w2}」，阻礙一路都在。", "「{w1}」「{w2}」，詩裡的景象都在示警。"),
        "wait": ("「{w1}」「{w2}」，說的都是時候未到、要等。", "從「{w1}」到「{w2}」，重點在一個「等」字。"),
        "mixed": ("「{w1}」與「{w2}」並陳，吉中帶戒。", "詩裡「{w1}」「{w2}」兩種景象都有，好壞要看怎麼走。"),
        "rise": ("從「{w1}」到「{w2}」，漸入佳境。", "詩由「{w1}」走到「{w2}」，愈往後愈明朗。"),
        "warn": ("「{w1}」之後是「{w2}」，整首詩落在示警上。", "從「{w1}」到「{w2}」，詩的結論是要小心。"),
        "settle": ("從「{w1}」到「{w2}」，先有阻礙，後漸平穩。", "詩由「{w1}」寫到「{w2}」，風波過後歸於平常。"),
    },
    "en": {
        "up": ("From “{w1}” to “{w2}”, the verse moves from hardship to ease.",
               "The verse goes from “{w1}” to “{w2}”: obstacles first, then a turn for the better."),
        "down": ("The verse has “{w1}” first and “{w2}” after: after the good, beware of change.",
                 "From “{w1}” to “{w2}”, smooth at first and rough later: look past the moment."),
        "good": ("From “{w1}” to “{w2}”, every image is auspicious.", "“{w1}”, “{w2}”: the verse is full of good omens."),
        "bad": ("From “{w1}” to “{w2}”, the obstacles stay all the way.", "“{w1}”, “{w2}”: every image is a warning."),
        "wait": ("“{w1}” and “{w2}” both say the time has not yet come.", "From “{w1}” to “{w2}”, the key word is patience."),
        "mixed": ("“{w1}” beside “{w2}”: good fortune with a warning.",
                  "The verse holds both “{w1}” and “{w2}”: good or bad depends on how you go."),
        "rise": ("From “{w1}” to “{w2}”, things get better as they go.",
                 "The verse moves from “{w1}” to “{w2}”, growing clearer towards the end."),
        "warn": ("After “{w1}” comes “{w2}”: the verse ends on a warning.",
                 "From “{w1}” to “{w2}”, the verse's conclusion is: take care."),
        "settle": ("From “{w1}” to “{w2}”: trouble first, then things settle.",
                   "The verse goes from “{w1}” to “{w2}”: after the storm, back to ordinary days."),
    },
}  # fmt: skip
"""The verse's course in its own images: from the first key image ({w1}) to the last ({w2})."""
ARC_ONE = {
    "zh-Hant": {G: ("全詩的關鍵在「{w}」，是吉利的意象。", "「{w}」是全詩最亮的一筆，吉象分明。"),
                W: ("全詩的關鍵在「{w}」，要等時機。", "「{w}」一句點出：時候未到，先等一等。"),
                M: ("全詩的關鍵在「{w}」，吉中帶戒。", "「{w}」一句提醒：好壞參半，要看怎麼走。"),
                B: ("全詩的關鍵在「{w}」，是示警的意象。", "「{w}」是全詩的警句，要放在心上。")},
    "en": {G: ("The key image is “{w}”, an auspicious one.", "“{w}” is the verse's brightest touch: a clear good omen."),
           W: ("The key image is “{w}”: wait for the time.", "“{w}” says it plainly: the time has not come yet."),
           M: ("The key image is “{w}”: good fortune with a warning.", "“{w}” is a reminder: good and bad are mixed."),
           B: ("The key image is “{w}”, a warning.", "“{w}” is the verse's warning; keep it in mind.")},
}  # fmt: skip
TEMPER = {
    "zh-Hant": {
        "low": ("詩裡雖有「{w}」這樣的好景，但籤等是{rank}，這份好要打折扣。", "「{w}」看似吉利，但這是{rank}籤，不能照單全收。"),
        "high": ("詩裡雖有「{w}」，但籤等是{rank}，難處過得去。", "「{w}」是示警，但{rank}籤的大勢不差，小心就好。"),
        "low_mixed": ("詩裡有「{w1}」，也有「{w2}」，但籤等是{rank}，整體要往保守處看。",
                      "「{w1}」「{w2}」之間，{rank}籤的大勢不佳，宜往保守處想。"),
    },
    "en": {
        "low": ("The verse has “{w}”, but the slip is ranked {rank}: discount that good image.",
                "“{w}” looks auspicious, but on a {rank} slip it cannot be taken at face value."),
        "high": ("The verse has “{w}”, but the slip is ranked {rank}: the hardship can be overcome.",
                 "“{w}” is a warning, but on a {rank} slip the broad course is sound; just take care."),
        "low_mixed": ("The verse holds “{w1}” and “{w2}”, but the slip is ranked {rank}: read it cautiously.",
                      "Between “{w1}” and “{w2}”, a {rank} slip's broad course is poor; think conservatively."),
    },
}  # fmt: skip
"""When the verse's images and the rank pull apart, the rank sets the tone and the reading says so."""
GIST = {
    "zh-Hant": (
        "{name}說：「{text}」{cite}。",
        "再看{name}：「{text}」{cite}。",
        "{name}的解說是「{text}」{cite}。",
    ),
    "en": (
        "The commentary {name} adds: {text}{cite}{gloss}.",
        "The {name} commentary reads: {text}{cite}{gloss}.",
        "In the words of the {name}: {text}{cite}{gloss}.",
    ),
}
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
ANSWER_AT_LARGE = {
    "zh-Hant": "你沒有指明問哪一件事，這裡就以整支籤的大意來讀：「{category}」寫著「{text}」{cite}，{verdict}。",
    "en": "Your question names no particular matter, so this reads the slip as a whole: its {category} "
    "({category_en}) line reads {text}{cite}{gloss} — {verdict}.",
}
"""A question that names no topic (or none at all): the slip is read in general, and the text says so
rather than answer a topic nobody asked about."""
SECONDARY = {
    "zh-Hant": "你也提到{topic}：「{category}」一項寫著「{text}」{cite}，可以一併參考。",
    "en": "You also mention {topic}: the slip's line for {category} ({category_en}) reads {text}{cite}{gloss}.",
}
SECONDARY_NONE = {
    "zh-Hant": "你也提到{topic}；這支籤沒有專講它的一項，若放心不下，可以就這件事另外再求一支籤。",
    "en": "You also mention {topic}; this slip has no line of its own for it, so if it weighs on you, "
    "ask about it with a slip of its own.",
}
"""The second worry a question names (老公失業 beside 小孩生病): mentioned, never answered in its place."""
ANSWER_NONE = {
    "zh-Hant": "這支籤沒有專講{topic}的籤解，就以籤詩整體的意思為準。",
    "en": "This slip has no specific line for {topic}, so go by the verse as a whole.",
}
OVERALL = {
    "zh-Hant": (
        "整體來看，「{category}」一項是「{text}」{cite}。",
        "至於「{category}」，籤上寫的是「{text}」{cite}。",
        "再看總論的「{category}」：「{text}」{cite}。",
    ),
    "en": (
        "For {category_en} ({category}) the slip says {text}{cite}{gloss}.",
        "Its general line, {category} ({category_en}), reads {text}{cite}{gloss}.",
        "Under {category} ({category_en}) it says {text}{cite}{gloss}.",
    ),
}
VERDICT_TEXT = {
    "zh-Hant": {
        G: ("這是吉兆，結果會是好的", "意思是順利，結果可期", "是好的回答"),
        W: ("意思是結果會好，但要等時機", "好事會來，只是要耐心等", "時候到了自然會好"),
        M: ("好壞參半，要多留意", "不算壞，但要小心", "有好有壞，要謹慎"),
        B: ("這一項不太順利", "看來阻礙不少", "是提醒你此事難以強求"),
        N: ("這是具體的指示，本身沒有吉凶之分",),
    },
    "en": {
        G: ("a favourable sign", "a good answer", "a clear yes"),
        W: ("favourable, but it takes time", "good things come, but not yet", "favourable when the time is right"),
        M: ("a mixed answer", "neither good nor bad: tread carefully", "good and bad together"),
        B: ("an unfavourable answer", "a sign of obstacles", "a warning not to force it"),
        N: ("a specific pointer rather than a verdict",),
    },
}  # fmt: skip
VERDICT_ADVICE = {
    "zh-Hant": ("這不是吉凶的斷語，而是要你去做的事", "這是一句指示，不是吉凶的判斷", "這句說的是該怎麼做，不是好壞"),
    "en": ("an instruction rather than a verdict", "something to do, not a verdict on the outcome",
           "advice on what to do rather than a judgment of good or bad"),
}  # fmt: skip
"""For judgments that say what to do (祭虎, 守舊, 訟當戒): read as what to do, not as a verdict."""
AND_ADVICE = {"zh-Hant": "，籤要你{plain}", "en": "; the slip asks you to {plain}"}

RANK_AGREE = {
    "zh-Hant": ("就{topic}來說，這和籤等{rank}的意思一致。", "{topic}這一項，和籤等{rank}說的是同一件事。",
                "籤等{rank}，與{topic}這一項的說法相合。", "這一項與籤等{rank}相符，{topic}的走向很清楚。"),
    "en": ("For {topic}, this agrees with the slip's rank, {rank}.", "On {topic}, the line and the rank ({rank}) say the same.",
           "The rank, {rank}, bears out what the line says about {topic}.",
           "This matches the slip's rank of {rank}: the course for {topic} is clear."),
}  # fmt: skip
RANK_CLASH = {
    "zh-Hant": {
        "low": ("要說清楚：這支籤整體是{rank}，但就你問的{topic}，「{category}」的說法是好的，所以這件事可以往好處看，其他方面仍要小心。",
                "這支籤雖是{rank}，你問的{topic}，「{category}」卻說得偏吉；整支籤與這一句意思不同，這件事以它為準，但別大意。"),
        "low_wait": ("要說清楚：這支籤整體是{rank}；就你問的{topic}，「{category}」說的是要等，不是不成，所以這件事急不得，但也不必灰心。",
                     "這支籤雖是{rank}，「{category}」對{topic}說的卻是「等」而不是「不」：時候未到，別急，其他方面仍要小心。"),
        "high": ("這支籤整體雖是{rank}，你問的{topic}，「{category}」卻說得不理想，這件事要保守看待。",
                 "籤等{rank}是好籤，但「{category}」對{topic}說得不好，不能因為籤好就掉以輕心。"),
        "hold": ("籤等{rank}，「{category}」又沒有明說吉，兩相對照，{topic}宜守不宜進。",
                 "這是{rank}籤，「{category}」也沒有給出好的保證，所以{topic}宜守不宜進。"),
        "general": ("不過「{category}」這幾句並不是專講{topic}的，而這是{rank}籤，所以{topic}還是以籤等為準。",
                    "只是「{category}」說的不是{topic}本身，這支籤又是{rank}，{topic}就以籤等來看。"),
    },
    "en": {
        "low": ("To be clear: the slip as a whole is {rank}, but for your question about {topic} its {category} line is "
                "favourable, so you can look on the bright side here while staying careful elsewhere.",
                "The slip is ranked {rank}, yet its {category} line on {topic} leans good; where the two differ, go "
                "by that line for this matter, but don't be careless."),
        "low_wait": ("To be clear: the slip as a whole is {rank}; for {topic} its {category} line says wait, not no, so "
                     "don't rush it, and don't lose heart.",
                     "The slip is ranked {rank}, yet its {category} line on {topic} says “not yet” rather than “no”: "
                     "the time has not come, so don't hurry, and stay careful elsewhere."),
        "high": ("The slip as a whole is {rank}, but its {category} line on {topic} is not good, so be conservative here.",
                 "A {rank} slip is a good one, but its {category} line on {topic} is poor: the good rank is no reason "
                 "to relax."),
        "hold": ("The slip is ranked {rank} and its {category} line promises nothing good outright; taken together, "
                 "for {topic} hold rather than push.",
                 "This is a {rank} slip and the {category} line gives no assurance either, so for {topic} hold rather "
                 "than push."),
        "general": ("But those {category} lines are not about {topic} as such, and this is a {rank} slip, so for "
                    "{topic} the rank decides.",
                    "Those lines do not speak to {topic} itself, and the slip is ranked {rank}; for {topic}, go by "
                    "the rank."),
    },
}  # fmt: skip
CLOSING = {
    "zh-Hant": (
        "籤詩只是參考，真正的決定還在你自己，願你心安、事順。",
        "籤詩只是參考，給你一個思考的方向；最後怎麼走，還是要靠你自己的判斷。",
        "籤詩只是參考，心存善念、腳踏實地，路會愈走愈穩。",
        "抽籤是問心，不是算命；參考籤意，再做你自己的決定。",
        "籤意供你參考，路還是要自己走，祝你順心。",
        "求籤求的是一個方向，答案最後還在你心裡。",
        "把籤當作一面鏡子，看清自己的處境，再決定下一步。",
        "籤詩點到為止，其餘的就交給你的判斷與努力。",
        "聽過籤意，再聽聽自己和身邊的人，最後的答案由你來定。",
        "籤是古人的智慧，拿來參考就好，不必被它綁住。",
        "問過了籤，就放下一些擔心，把力氣用在能做的事上。",
        "籤意只是一盞燈，照亮眼前一段路；往哪走，由你決定。",
    ),
    "en": (
        "A fortune slip is a prompt for reflection, not a verdict; the decision is yours. May your heart be at peace.",
        "Treat the slip as a reference that points a direction; how you walk it is up to your own judgement.",
        "The slip is only a guide: keep a good heart and steady steps, and the road grows firmer.",
        "Drawing a slip is a way of asking your own heart; take its advice into account, then decide for yourself.",
        "Let the slip inform you, but the road is yours to walk, and good luck on it.",
        "A slip offers a direction; the answer, in the end, is in your own hands.",
        "Use the slip as a mirror to see where you stand, then choose your next step.",
        "An oracle answers in images; what you build from them is up to you.",
        "Take what rings true in the slip, and leave the rest.",
        "Whatever the slip says, go gently with yourself and decide with a clear head.",
        "The slip says only so much; the rest is your judgement and your effort.",
        "Having heard the slip, listen to yourself and the people close to you; the final answer is yours.",
        "A slip carries old wisdom: use it as a reference, without letting it bind you.",
        "Now that you have asked, set some worry down and put your strength into what you can do.",
        "The slip is a lamp for the next stretch of road; which way to go is your choice.",
    ),
}
CLOSING_IMAGE = {
    "zh-Hant": ("就把詩裡的「{image}」當作提醒，帶著它做你自己的決定。", "記住詩中的「{image}」，其餘的交給你自己的判斷。",
                "「{image}」是這支籤留給你的畫面；籤詩只是參考，決定在你。"),
}  # fmt: skip
"""zh-Hant closings that return to the verse's own image (English closings stay in plain English)."""
FALLBACK = {
    "zh-Hant": "這支籤的內容不完整，無法細解；籤詩只是參考，請依自己的判斷行事。",
    "en": "This slip's text is incomplete, so it cannot be read in detail; treat it only as a reference.",
}


def _cues(spec: str) -> tuple[tuple[str, str], ...]:
    """``cue:plain`` items separated by white space."""
    return tuple((item.partition(":")[0], item.partition(":")[2]) for item in spec.split())


INSTRUCTIONS_ZH = _cues(
    """
祭虎:祭拜白虎、化解沖犯 祈保:向神明祈求保佑 求平安:求個平安 祈平安:求個平安 祈福:祈福 求福:祈福
大作福:多做善事、廣積福德 作福:多行善事、積福 禳:做法事化解 設送:備供品把不順送走 拜送:備供品把不順送走
還願:還了先前許下的願 許願:向神明許願 許經:許願誦經 求神:求神明保佑 祈神:求神明保佑 禱:向神明禱告
守舊:守著原來的，不要變動 照舊:照原來的做 宜舊:守著原來的 依舊:照原來的做 待時:等待時機 守待:守著等待
等待:耐心等待 宜遲:放慢腳步 暫緩:暫時緩一緩 且慢:暫時緩一緩 和:以和為貴，能談和就談和
擇醫:慎選醫生 審醫:慎選醫生 更醫:必要時換個醫生 改醫:必要時換個醫生 改:改換方向 更新:重新開始
戒:有所戒慎，不要再往前硬推 謹:謹慎小心 慎:謹慎小心 防:多加提防 審:仔細斟酌 莫貪:不要貪心
躁:不要急躁 守:守住現狀 安分:安守本分 忍:忍耐 莫:照籤上說的避開 勿:照籤上說的避開
"""
)
"""Plain zh-Hant for instructions, by a word they contain (祭虎 → 祭拜白虎、化解沖犯); first match wins."""


def instruction_zh(text: str, topic_key: str) -> str:
    """What an instruction asks, in plain words ("" when the table has no entry for it)."""
    if topic_key == "lawsuit" and any(c in text for c in "戒息"):
        return "戒訟，不要再把官司打下去"
    return next((plain for cue, plain in INSTRUCTIONS_ZH if cue in text), "")


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
