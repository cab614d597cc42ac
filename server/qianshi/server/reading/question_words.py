"""The words ``question`` reads a question's form and options by, in zh-Hant, zh-Hans and English.

Chinese markers are written in Traditional characters: a question typed in Simplified is folded first
with ``FOLD``, a character-for-character table (so positions in the folded text are positions in the
text as typed, and options are quoted as the person wrote them). It covers the characters of these
markers and of the option words below, not Chinese at large; the pipeline's category inference has
its own, wider table, which a backend may not import.
"""

from __future__ import annotations

_PAIRS = (
    "还還 会會 吗嗎 该該 么麼 时時 几幾 里裡 谁誰 应應 适適 没沒 离離 继繼 续續 换換 辞辭 结結 资資 买買 卖賣 这這 "
    "样樣 个個 为為 难難 问問 东東 门門 开開 关關 头頭 后後 过過 进進 处處 边邊 让讓 说說 请請 调調 诉訴 讼訟 赢贏 "
    "输輸 业業 职職 试試 财財 钱錢 怀懷 产產 医醫 术術 迁遷 婴嬰 孙孫 亲親 妈媽 爷爺 儿兒 读讀 书書 学學 场場 约約 "
    "国國 乡鄉 贷貸 债債 归歸 来來 欢歡 复復 决決 们們 级級 发發 达達 运運 势勢 缘緣 恋戀 爱愛 愿願 帮幫 贵貴 见見 "
    "觉覺 间間 啰囉 选選 择擇 签籤 号號 厂廠 弃棄 断斷 两兩 实實 现現 长長 扩擴 办辦 际際 从從 给給 车車 对對 错錯 "
    "动動 转轉 体體 检檢 疗療 闹鬧 婶嬸 丢丟 猫貓 机機 题題 状狀 况況 创創 边邊 点點 系係 揾搵"
)
FOLD = str.maketrans({pair[0]: pair[1] for pair in _PAIRS.split()} | {"？": "?", "，": ",", "　": " "})
"""Simplified → Traditional for the characters the markers use (one character for one)."""

EITHER_ZH = ("還是", "或是", "或者", "抑或", "抑是", "定係")
"""Between two options (官司要和解還是繼續打; Cantonese 定係, Hokkien 抑是)."""
NOT_AN_OPTION_ZH = ("會", "很", "不", "沒", "一樣", "一直", "無法", "那麼", "這麼", "有點", "老是")
"""還是 before these means "still" (工作還是不順), not "or"."""
LEAD_ZH = (
    "要不要", "該不該", "應不應該", "應該", "應", "該", "要", "想", "選擇", "選", "決定", "是否", "是",
    "到底", "究竟", "請問", "直接", "要唔要", "應唔應該", "愛毋愛", "欲毋欲", "係", "欲", "愛",
)  # fmt: skip
"""Words before an option that belong to the question, not the option (官司要|和解)."""
PRONOUNS_ZH = ("我們", "咱們", "我", "你", "他們", "他", "她", "今年", "現在", "這次")
TAIL_ZH = (
    "比較好",
    "較好",
    "好呢",
    "好嗎",
    "好啲",
    "好",
    "呢",
    "吧",
    "嗎",
    "啊",
    "呀",
    "了",
    "比較",
    "㗎",
    "喎",
    "啦",
    "咩",
    "矣",
)
"""Words after an option that ask, not name (搬到台北|好)."""

WHEN_ZH = (
    "什麼時候", "甚麼時候", "什麼時間", "何時", "幾時", "哪天", "哪一天", "多久", "多快", "幾月", "哪個月",
    "哪一年", "哪年", "何日", "何年", "何月", "時間點", "什麼日子", "啥物時陣", "啥時陣", "啥時", "幾耐",
)  # fmt: skip
WHERE_ZH = (
    "哪裡", "哪裏", "何處", "方向", "方位", "哪邊", "哪一邊", "什麼地方", "甚麼地方", "哪個地方", "哪個城市",
    "哪一區", "在哪", "去哪", "邊度", "邊到", "邊處", "喺邊", "去咗邊", "佗位", "佇佗", "佗落",
)  # fmt: skip
WHO_ZH = ("誰", "哪位", "什麼人", "甚麼人", "哪個人", "何人", "哪一位", "邊個", "邊位", "啥人", "啥物人")
SHOULD_ZH = (
    "該不該", "要不要", "應不應該", "應不應", "適不適合", "適合", "值不值得", "值得", "可不可以", "好不好",
    "需不需要", "宜不宜", "是不是該", "是否該", "是否應該", "該", "應該", "好嗎",
    "應唔應該", "應唔應", "要唔要", "使唔使", "啱唔啱", "值唔值得", "適唔適合", "可唔可以", "好唔好", "需唔需要",
    "愛毋愛", "欲毋欲", "敢好",
)  # fmt: skip
"""Advice sought about acting. 可以…嗎 and 需要…嗎 are matched apart (they need the 嗎)."""
NOT_SHOULD_ZH = ("會好嗎", "能好嗎", "應該會", "應該是", "應該能", "該怎麼", "該如何", "該做什麼", "該注意")
"""Forms of 應該 / 該 that ask what will happen or what to do, not whether to act."""
YES_NO_ZH = (
    "會不會", "能不能", "有沒有", "是不是", "可不可能", "成不成", "順不順", "好不好", "行不行",
    "會唔會", "能唔能", "係咪", "係唔係", "有冇", "得唔得", "成唔成", "敢會", "敢是", "敢有", "敢能",
)  # fmt: skip
"""Cantonese 會唔會 / 係咪 and Hokkien 敢會 (will it …?) among them."""
OPEN_ZH = (
    "如何", "怎麼樣", "怎麼", "怎樣", "為什麼", "為何", "什麼", "甚麼", "哪些", "多少",
    "點樣", "點算", "點解", "點做", "點辦", "乜嘢", "咩", "按怎", "啥物",
)  # fmt: skip

WHEN_EN = r"^(when|what time|how soon|how long|by when|what year|what month|which month|which year)\b|\b(when (will|should|can|do|does|is|would)|how soon|how long until|how long before)\b"
WHERE_EN = r"\b(where|which direction|which way|what direction|which place|which city|what place)\b"
WHO_EN = r"^(who|whom)\b|\bwho (will|can|should|is|would|could|might)\b|\bwhich person\b"
SHOULD_EN = (
    r"\b(should|shall) (i|we)\b|\bought (i|we) to\b|\bought to\b|\bis it (a good idea|wise|worth|time|"
    r"the right time|a good time|better|advisable|okay|ok|alright)\b|\bwould it be (wise|good|better|a good "
    r"idea|right)\b|\b(do|should) (i|we) need to\b|\bworth (it|waiting|trying)\b"
)
YES_NO_EN = r"^(will|would|can|could|is|are|am|do|does|did|has|have|was|were|may|might|shall|must)\b"
OPEN_HEAD_EN = r"^(what|how|why|tell|describe|explain|any|please|give)\b"
HEAD_EN = (
    r"^(?:(?:so|and|but|then|now),?\s+)?(?:should|shall|would|will|could|can|do|does|did|is|are|am|must|"
    r"may|might)\s+(?:(?:i|we|you|it|they|he|she|this|that|(?:the|my|our|his|her) [\w']+)\s+)?(?:be\s+)?"
    r"(?:(?:better|best|wiser)\s+(?:off\s+)?)?(?:(?:to|for me to|for us to)\s+)?"
)
"""The question's head before an English option (Should I | settle the lawsuit)."""

# Which way an option (or a should-question) goes with respect to the matter the slip judges: toward it
# (搬 for a move, 告 for a lawsuit, 結婚 for a match) or away from it / holding still (分手, 和解, 留).
AWAY_ZH = ("分手", "離婚", "分開", "放棄", "放手", "算了", "斷了", "和解", "調解", "撤告", "撤訴", "息訟", "退出", "不告")  # fmt: skip
HOLD_ZH = (
    "不搬", "不換", "不要", "不去", "不做", "不買", "不投", "先不", "別", "留", "守", "維持", "保持", "繼續待",
    "繼續上班", "繼續租", "續約", "再等", "暫緩", "等到", "等明年", "等一下", "現狀", "原地", "租房",
)  # fmt: skip
TOWARD_ZH = (
    "再等他", "再等她", "等他", "等她", "搬", "遷", "換", "辭", "買", "投資", "創業", "開店", "開業", "結婚", "嫁", "娶", "求婚",
    "在一起", "交往", "復合", "告", "打官司", "繼續打", "打", "上訴", "去", "出國", "接受", "考", "簽", "借",
    "回老家", "回去", "跳槽", "合夥", "生",
)  # fmt: skip
AWAY_EN = (
    "break up", "divorce", "leave him", "leave her", "split up", "give up", "let go", "settle", "drop the",
    "withdraw", "end it", "walk away", "call it off", "quit the relationship",
)  # fmt: skip
HOLD_EN = ("don't", "do not", "not to", "stay", "keep my", "keep the", "remain", "wait", "hold off", "rent")
TOWARD_EN = (
    "wait for him", "wait for her", "waiting for him", "waiting for her", "keep fighting", "move", "change", "switch", "quit", "buy", "invest",
    "start", "open", "marry", "married", "propose", "get back", "sue", "fight", "appeal", "go ", "take",
    "accept", "sign", "lend", "try", "apply", "study abroad", "leave for", "relocate",
)  # fmt: skip

ECHO: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("和解", "調解", "settle", "make peace"), ("宜和", "和為貴", "求解和", "和者", "必和", "和無事", "宜解", "速和", "訟解")),
    (("男", "boy", "son"), ("男",)),
    (("女", "girl", "daughter"), ("女",)),
    (("東", "east"), ("東",)),
    (("西", "west"), ("西",)),
    (("南", "south"), ("南",)),
    (("北", "north"), ("北",)),
    (("留", "守", "stay", "keep"), ("守舊", "照舊", "宜舊", "依舊", "莫動", "勿動", "在家好")),
    (("搬", "遷", "move", "relocate"), ("宜遷", "緊移", "遷移", "必遷")),
)  # fmt: skip
"""(words of an option, words of a judgment that name it): 訟宜和 names "settle", 生男 names "boy"."""
