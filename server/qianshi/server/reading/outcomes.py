"""What each lean means for each topic, in words that fit the topic: a surgery is not a venture.

``OUTCOME[topic][lean]`` is a clause (no final stop) the answer builds on: "the illness turns for the
better" for health, "pressing on with the case does not favour you" for a lawsuit. Health and birth
never get the language of risk and investment; a lawsuit's caution points to settling.
"""

from __future__ import annotations

from qianshi.server.reading.stance import Lean

GO, WAIT, CARE, HOLD = Lean.GO, Lean.WAIT, Lean.CAREFUL, Lean.HOLD

OUTCOME: dict[str, dict[Lean, tuple[str, str]]] = {
    "health": {
        GO: ("病情會往好的方向走，這一關過得去", "the illness turns for the better; this will pass"),
        WAIT: ("會好起來，只是恢復要一段時間", "recovery comes, but it takes time"),
        CARE: (
            "吉凶還沒有定，要多留意病情的變化",
            "the outcome is not settled yet; watch closely for changes",
        ),
        HOLD: (
            "這一關不輕鬆，需要格外用心照顧",
            "this will not be easy; it needs especially careful looking after",
        ),
    },
    "lawsuit": {
        GO: ("官司有理，結果對你有利", "the case goes your way"),
        WAIT: ("官司會有好結果，但要拖上一段時間", "the case ends well, but it will drag on a while"),
        CARE: ("輸贏未定，能和則和", "the outcome is open; settle if you fairly can"),
        HOLD: ("官司再打下去對你不利", "pressing on with the case does not favour you"),
    },
    "children": {
        GO: ("求子與生產都順利", "children and childbirth go well"),
        WAIT: ("好消息會來，只是要耐心等", "the good news comes, with patience"),
        CARE: ("要多注意身體，小心照顧", "it calls for close care of your health"),
        HOLD: ("眼下不太順，要格外小心照顧身體", "it is not easy now; take especially good care"),
    },
    "marriage": {
        GO: ("這段緣分是好的，有結果", "the match is a good one and will come to something"),
        WAIT: ("緣分會成，但要給彼此時間", "the match will come together, given time"),
        CARE: (
            "感情還在磨合，好壞要看兩人怎麼經營",
            "the relationship is still finding its balance; it rests on you both",
        ),
        HOLD: ("這段緣分難有好結果", "this match is unlikely to end well"),
    },
    "career": {
        GO: ("工作與考試都會有進展", "work and exams move forward"),
        WAIT: ("會有進展，只是要等時機", "progress comes when the time is right"),
        CARE: ("有機會，但要穩紮穩打", "there is a chance, if you build on solid ground"),
        HOLD: ("眼下難有突破，宜守不宜攻", "no breakthrough for now: hold rather than push"),
    },
    "wealth": {
        GO: ("財運順，會有收穫", "money flows your way; there are gains to be had"),
        WAIT: ("有財，但要等一段時間", "gains come, but later"),
        CARE: ("有得有失，量力而為", "some gain, some loss: stay within your means"),
        HOLD: ("容易破財，不宜冒險", "money is easily lost now; take no risks"),
    },
    "travel": {
        GO: ("出行平安，音訊順利", "the journey is safe and news arrives"),
        WAIT: ("人與消息都會到，只是慢一些", "people and news arrive, only later"),
        CARE: ("路上多留意，行程要留彈性", "take care on the way and keep your plans flexible"),
        HOLD: ("出行多阻，能緩則緩", "the road is blocked; put the trip off if you can"),
    },
    "home": {
        GO: ("家宅平安和順", "the home is safe and harmonious"),
        WAIT: ("家裡的事會慢慢好轉", "things at home improve over time"),
        CARE: ("家中要多些體諒與小心", "the household needs care and understanding"),
        HOLD: ("家中不安，要多加留意", "the home is unsettled; pay attention to it"),
    },
    "move": {
        GO: ("搬遷是好的，新地方住得安穩", "the move is good; you will settle well in the new place"),
        WAIT: ("可以搬，但時機還沒到", "you can move, but not yet"),
        CARE: (
            "搬與不搬差別不大，要看實際條件",
            "moving or staying makes little difference; weigh the practical side",
        ),
        HOLD: ("不宜搬遷，守著原處較穩", "this is no time to move; staying put is steadier"),
    },
    "lost": {
        GO: ("要找的找得回來", "what you are looking for will be found"),
        WAIT: ("找得回來，但要花點時間", "it will be found, given time"),
        CARE: ("找不找得到還難說，要細心去找", "whether it turns up is uncertain; search carefully"),
        HOLD: ("不容易找回來", "it is unlikely to be found"),
    },
    "farming": {
        GO: ("收成好", "the harvest is good"),
        WAIT: ("收成會來，只是晚一些", "the harvest comes, later"),
        CARE: ("收成平平", "the harvest is ordinary"),
        HOLD: ("收成不佳", "the harvest is poor"),
    },
    "grave": {
        GO: ("地點吉利", "the site is auspicious"),
        WAIT: ("地點可用，但要擇時", "the site will do, at the right time"),
        CARE: ("地點平平，宜再斟酌", "the site is ordinary; consider it again"),
        HOLD: ("地點不吉", "the site is not auspicious"),
    },
    "general": {
        GO: ("運勢順，想做的事可以去做", "your luck runs well; what you have in mind can go ahead"),
        WAIT: ("好運在後頭，要耐心等", "good luck lies ahead; be patient"),
        CARE: ("運勢平平，凡事要謹慎", "your luck is middling; take care in all things"),
        HOLD: ("運勢低，宜守不宜進", "your luck is low; hold rather than push"),
    },
}


def outcome(topic_key: str, lean: Lean, en: bool) -> str:
    """The clause for ``topic_key`` (the general one for a topic without its own)."""
    row = OUTCOME.get(topic_key, OUTCOME["general"])
    return row[lean][1 if en else 0]


HEALTH_TOPICS = frozenset({"health", "children"})
"""Topics about the body: their answers defer to doctors and never speak of ventures or risk-taking."""
