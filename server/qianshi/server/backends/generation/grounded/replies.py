"""The wording of the answer to the question's form: yes/no, should-I, either/or, when, where, who, open.

Kept apart from ``reply`` (which chooses among them) so a native reader can polish the text without
reading code. Each tuple holds interchangeable phrasings (the request's seed picks one); each carries
something of the question or the slip — the topic's outcome, the options, the quoted text — so no
sentence is the same across readings. Fields: ``{outcome}`` (outcomes.py), ``{a}`` ``{b}`` ``{pick}``
``{other}`` (the options as typed), ``{topic}``, ``{text}`` (a quoted judgment or line), ``{plain}`` (what
a clue means), ``{rank}``, ``{category}``.
"""

from __future__ import annotations

from qianshi.server.reading.stance import Lean

GO, WAIT, CARE, HOLD = Lean.GO, Lean.WAIT, Lean.CAREFUL, Lean.HOLD

YES_NO = {
    "zh-Hant": {
        GO: ("照籤意，答案是肯定的：{outcome}。", "籤給你的回答是「會」：{outcome}。",
             "以這支籤來看，答案偏向好的一面：{outcome}。"),
        WAIT: ("答案是會，但不是馬上：{outcome}。", "籤的回答是「會，只是要等」：{outcome}。",
               "好的結果會來，急不得：{outcome}。"),
        CARE: ("籤沒有給一個乾脆的「會」或「不會」：{outcome}。", "答案要看條件，不是一句話說得定：{outcome}。",
               "這件事籤上說得保留：{outcome}。"),
        HOLD: ("照籤意，這件事不樂觀：{outcome}。", "籤的回答偏向「不會」：{outcome}。",
               "老實說，籤上看這件事難：{outcome}。"),
    },
    "en": {
        GO: ("By the slip, the answer is yes: {outcome}.", "The slip's answer is a yes: {outcome}.",
             "Read this way, the answer leans to the good side: {outcome}."),
        WAIT: ("Yes, but not right away: {outcome}.", "The slip's answer is “yes, in time”: {outcome}.",
               "A good outcome is coming, but it cannot be hurried: {outcome}."),
        CARE: ("The slip gives no plain yes or no: {outcome}.", "The answer depends on conditions: {outcome}.",
               "The slip is guarded about this: {outcome}."),
        HOLD: ("By the slip, this does not look promising: {outcome}.", "The slip's answer leans to no: {outcome}.",
               "Frankly, the slip sees this as hard: {outcome}."),
    },
}  # fmt: skip
YES_NO_HEALTH = {
    "zh-Hant": {
        GO: ("照籤意，這是好的徵兆：{outcome}。", "籤給的回答是平安的：{outcome}。", "以籤來看可以寬心些：{outcome}。"),
        HOLD: ("籤上看這一關不容易：{outcome}。", "照籤意，要有心理準備：{outcome}。",
               "籤提醒你這件事要更慎重：{outcome}。"),
    },
    "en": {
        GO: ("By the slip, this is a good sign: {outcome}.", "The slip's answer is a reassuring one: {outcome}.",
             "Read by the slip, you can worry a little less: {outcome}."),
        HOLD: ("The slip sees this as a hard passage: {outcome}.", "By the slip, be prepared: {outcome}.",
               "The slip asks you to take this all the more seriously: {outcome}."),
    },
}  # fmt: skip

SHOULD = {
    "zh-Hant": {
        (GO, "toward"): ("籤意是可以去做：{outcome}。", "這件事籤上支持你往前走：{outcome}。", "可以做，籤意站在你這邊：{outcome}。"),
        (WAIT, "toward"): ("籤意是先等一等：{outcome}。", "不必急著現在做：{outcome}。", "可以做，但不是現在：{outcome}。"),
        (CARE, "toward"): ("籤意沒有說不行，但要謹慎：{outcome}。", "做之前先想清楚：{outcome}。",
                           "籤給的是黃燈，不是綠燈：{outcome}。"),
        (HOLD, "toward"): ("籤意是先不要：{outcome}。", "這件事籤上不支持：{outcome}。", "照籤意，暫時別做：{outcome}。"),
        (GO, "away"): ("籤意並不支持就此放手：{outcome}。", "先別急著斷：{outcome}。"),
        (WAIT, "away"): ("先別急著下決定：{outcome}。", "籤意是緩一緩，別急著抽身：{outcome}。"),
        (CARE, "away"): ("籤沒有替你決定，別在情緒上做決定：{outcome}。", "先冷靜想清楚再決定：{outcome}。"),
        (HOLD, "away"): ("放手並不違背籤意：{outcome}。", "籤意不反對你退一步：{outcome}。"),
        (GO, "stay"): ("籤意偏向往前走，不必只守著原地：{outcome}。", "不必困守原處：{outcome}。"),
        (WAIT, "stay"): ("先守著、等時機：{outcome}。", "暫時維持現狀，時候到了再動：{outcome}。"),
        (CARE, "stay"): ("守住現狀比較穩：{outcome}。", "不急著變動較好：{outcome}。"),
        (HOLD, "stay"): ("籤意是守住現狀：{outcome}。", "維持原狀是對的：{outcome}。"),
    },
    "en": {
        (GO, "toward"): ("The slip says go ahead: {outcome}.", "The slip backs you in moving forward: {outcome}.",
                         "Yes, the slip is on your side: {outcome}."),
        (WAIT, "toward"): ("The slip says wait a little: {outcome}.", "There is no need to do it right now: {outcome}.",
                           "Yes, but not yet: {outcome}."),
        (CARE, "toward"): ("The slip does not say no, but it asks for care: {outcome}.",
                           "Think it through before you act: {outcome}.",
                           "The slip shows an amber light, not a green one: {outcome}."),
        (HOLD, "toward"): ("The slip says not now: {outcome}.", "The slip does not support this: {outcome}.",
                           "By the slip, hold off for now: {outcome}."),
        (GO, "away"): ("The slip does not back letting go: {outcome}.", "Don't rush to end it: {outcome}."),
        (WAIT, "away"): ("Don't decide in a hurry: {outcome}.", "The slip says slow down before you step away: {outcome}."),
        (CARE, "away"): ("The slip does not decide for you; don't decide in the heat of the moment: {outcome}.",
                         "Calm down and think it through before deciding: {outcome}."),
        (HOLD, "away"): ("Letting go does not go against the slip: {outcome}.",
                         "The slip does not object to stepping back: {outcome}."),
        (GO, "stay"): ("The slip leans to moving on rather than staying put: {outcome}.",
                       "There is no need to cling to where you are: {outcome}."),
        (WAIT, "stay"): ("Hold your ground and wait for the moment: {outcome}.",
                         "Keep things as they are for now and move when the time comes: {outcome}."),
        (CARE, "stay"): ("Keeping things as they are is the steadier course: {outcome}.",
                         "Better not to rush a change: {outcome}."),
        (HOLD, "stay"): ("The slip says keep things as they are: {outcome}.", "Staying as you are is right: {outcome}."),
    },
}  # fmt: skip
SHOULD_HEALTH = {
    "zh-Hant": ("籤不能替你做醫療上的決定；它說的是：{outcome}。", "要不要這樣治療，請和醫師商量；籤的看法是：{outcome}。"),
    "en": ("A slip cannot make a medical decision for you; what it says is: {outcome}.",
           "Whether to take this treatment is for you and your doctor; the slip's view: {outcome}."),
}  # fmt: skip

EITHER = {
    "zh-Hant": {
        "echo": ("在「{a}」和「{b}」之間，籤解直接點到「{pick}」。", "「{a}」還是「{b}」？籤上的字眼指向「{pick}」。"),
        "both": ("「{a}」和「{b}」籤解都提到了，要照「{text}」來看。", "籤解同時說到「{a}」與「{b}」：「{text}」。"),
        GO: ("在「{a}」和「{b}」之間，籤意偏向「{pick}」：{outcome}。", "「{a}」與「{b}」兩條路裡，籤站在「{pick}」這一邊：{outcome}。"),
        HOLD: ("在「{a}」和「{b}」之間，籤意偏向「{pick}」，因為{outcome}。",
               "「{a}」和「{b}」之間，籤意是選「{pick}」：{outcome}，不宜硬來。"),
        WAIT: ("「{a}」和「{b}」之間，眼下偏向「{pick}」，「{other}」等時機成熟再說：{outcome}。",
               "先選「{pick}」，時候到了再考慮「{other}」：{outcome}。"),
        CARE: ("在「{a}」和「{b}」之間，籤意沒有明確偏向哪一邊：{outcome}。",
               "籤沒有替你在「{a}」和「{b}」之間做選擇：{outcome}。"),
        "same": ("籤沒有在「{a}」和「{b}」之間分高下，它說的是{topic}這件事本身：{outcome}。",
                 "「{a}」與「{b}」，籤上沒有替你挑；就{topic}整體來說，{outcome}。"),
        "health": ("「{a}」或「{b}」是醫療上的選擇，請依醫師的建議；籤說的是：{outcome}。",
                   "在「{a}」和「{b}」之間，請讓醫師幫你決定；籤的看法是：{outcome}。"),
    },
    "en": {
        "echo": ("Between “{a}” and “{b}”, the judgment itself points to “{pick}”.",
                 "“{a}” or “{b}”? The slip's own words point to “{pick}”."),
        "both": ("The judgment names both “{a}” and “{b}”: read it as {text}.",
                 "Both “{a}” and “{b}” are in the judgment: {text}."),
        GO: ("Between “{a}” and “{b}”, the slip leans to “{pick}”: {outcome}.",
             "Of the two paths, “{a}” and “{b}”, the slip sides with “{pick}”: {outcome}."),
        HOLD: ("Between “{a}” and “{b}”, the slip leans to “{pick}”, because {outcome}.",
               "Of “{a}” and “{b}”, the slip's choice is “{pick}”: {outcome}, and it should not be forced."),
        WAIT: ("For now it leans to “{pick}”; leave “{other}” until the time is ripe: {outcome}.",
               "Choose “{pick}” for now and consider “{other}” when the time comes: {outcome}."),
        CARE: ("Between “{a}” and “{b}”, the slip does not clearly lean either way: {outcome}.",
               "The slip does not choose between “{a}” and “{b}” for you: {outcome}."),
        "same": ("The slip does not rank “{a}” against “{b}”; it speaks to {topic} itself: {outcome}.",
                 "Between “{a}” and “{b}” the slip does not pick; for {topic} as a whole, {outcome}."),
        "health": ("“{a}” or “{b}” is a medical choice to make with your doctor; the slip says: {outcome}.",
                   "Let your doctor guide the choice between “{a}” and “{b}”; the slip's view: {outcome}."),
    },
}  # fmt: skip

CLUE = {
    "zh-Hant": {
        ("when", "judgment"): ("講到時間，{category}「{text}」點出了時機：{plain}。", "時間上，籤解「{text}」說的是{plain}。"),
        ("when", "verse"): ("籤解沒有寫時間，詩裡的「{text}」倒有提示：{plain}。", "時間的線索在詩句「{text}」：{plain}。"),
        ("when", "attribute"): ("籤解與詩句都沒有寫明時間；{plain}，可作參考。", "籤上沒有寫明日子，只有「{text}」：{plain}。"),
        ("when", "none"): ("籤上沒有寫明時間，不必勉強從籤裡找一個日子。", "這支籤沒有給時間點。"),
        ("where", "judgment"): ("方向上，籤解「{text}」指向{plain}。", "地點的線索在「{text}」：{plain}。"),
        ("where", "verse"): ("詩裡的「{text}」提到{plain}。", "詩句「{text}」點出方向：{plain}。"),
        ("where", "attribute"): ("籤解沒有指明方向；「{text}」：{plain}，可作參考。", "籤上沒有說在哪裡，只有「{text}」：{plain}。"),
        ("where", "none"): ("籤上沒有指出方向或地點。", "這支籤沒有說在哪裡。"),
        ("who", "judgment"): ("人的方面，籤解「{text}」提到{plain}。", "籤裡說到人：「{text}」，{plain}。"),
        ("who", "verse"): ("詩句「{text}」提到{plain}。", "人的線索在詩裡的「{text}」：{plain}。"),
        ("who", "none"): ("籤上沒有點名是誰，要靠你自己留意身邊的人。", "這支籤沒有指出特定的人。"),
    },
    "en": {
        ("when", "judgment"): ("As for timing, the judgment {text} names it: {plain}.",
                               "On the question of when, the line {text} says {plain}."),
        ("when", "verse"): ("The judgment gives no time, but the verse line “{text}” hints at one: {plain}.",
                            "The clue to timing is in the line “{text}”: {plain}."),
        ("when", "attribute"): ("Neither the judgment nor the verse names a time; the slip's attribute {text} says "
                                "{plain}, for what it is worth.",
                                "No date is written on the slip, only its attribute {text}: {plain}."),
        ("when", "none"): ("The slip names no time, and none should be read into it.", "This slip gives no date."),
        ("where", "judgment"): ("As for where, the judgment {text} points to {plain}.",
                                "The clue to the place is in {text}: {plain}."),
        ("where", "verse"): ("The verse line “{text}” names {plain}.", "The line “{text}” points a direction: {plain}."),
        ("where", "attribute"): ("The judgment names no direction; the slip's attribute {text} says {plain}.",
                                 "The slip says nothing of where, except its attribute {text}: {plain}."),
        ("where", "none"): ("The slip names no direction or place.", "This slip does not say where."),
        ("who", "judgment"): ("As for who, the judgment {text} speaks of {plain}.",
                              "The slip speaks of a person: {text}, {plain}."),
        ("who", "verse"): ("The verse line “{text}” speaks of {plain}.", "The clue to who is in the line “{text}”: {plain}."),
        ("who", "none"): ("The slip names no one; watch the people around you yourself.",
                          "This slip does not point to a particular person."),
    },
}  # fmt: skip

OPEN = {
    "zh-Hant": ("整體來說，{outcome}。", "總的來看，{outcome}。", "綜合起來，{outcome}。"),
    "en": ("All in all, {outcome}.", "Taken together, {outcome}.", "Overall, {outcome}."),
}

REASON = {
    "zh-Hant": {
        "judgment": ("這是從{category}「{text}」讀出來的。", "依據是{category}的「{text}」。"),
        "instruction": ("依據是籤上的指示「{text}」。", "這是從「{text}」這句指示讀出來的。"),
        "rank": ("籤上沒有直接回答這件事的斷語，這是依籤等{rank}來看的。", "這一項沒有明說吉凶，就以籤等{rank}為準。"),
        "verse": ("籤上沒有直接回答這件事的斷語，這是依詩句「{text}」來看的。", "這是依詩的結尾「{text}」來看的。"),
    },
    "en": {
        "judgment": ("This is read from {category}: {text}.", "It rests on the line {text} under {category}."),
        "instruction": ("It rests on the slip's instruction {text}.", "This is read from the instruction {text}."),
        "rank": ("The slip gives no verdict on this directly; this follows its rank, {rank}.",
                 "With no verdict on this matter, the rank {rank} decides."),
        "verse": ("The slip gives no verdict on this directly; this follows the verse line “{text}”.",
                  "This follows the verse's last line, “{text}”."),
    },
}  # fmt: skip

CONDITION = {
    "zh-Hant": ("前提是照籤上說的，先做到「{text}」。", "籤給的條件是：先「{text}」，再看結果。"),
    "en": ("The condition: first do as the slip says, {text}.", "The slip sets a condition first: {text}."),
}

NOT_YET = {
    "zh-Hant": ("不過籤上也說「{text}」：你問的是眼下，時候還沒到，耐心等一等。",
                "要留意籤文「{text}」這一句：事情會成，只是不在這個時候。"),
    "en": ("But the slip also says {text}: you ask about now, and the time has not yet come.",
           "Note the line {text}: it will come together, only not at this moment."),
}  # fmt: skip
"""A favourable line met by the slip's own "not yet" (年未值時) for a question about now."""
