"""How people type questions, rewritten into the words the keyword tables know.

Temple-goers write the way they speak: written Cantonese (佢係咪想同我結婚, 搵工, 走咗), Taiwanese
Hokkien in Han characters (阮翁, 厝, 按怎, 敢會), and casual English (bf, u, gonna, hasnt). Rather
than spell every keyword in three grammars (找不到 / 搵唔到 / 揣無), ``fold`` rewrites these words into
Mandarin or plain English first, so one keyword table (``zh.py``, ``en.py``) serves all of them, and
the question-word rewrites (唔 → 不, 係咪 → 是不是) give the A-not-A and yes/no patterns the same
shape as in Mandarin.

How the tables are read:

* ``CANTONESE`` and ``HOKKIEN``: ``written=mandarin`` pairs, Traditional characters (a question in
  Simplified is converted to Traditional first, so 揾工 and 钟意 arrive as 搵工 and 鍾意). The longest
  written form wins where several start at one place, so 搵工 → 找工作 before 搵 → 找.
* A single character is rewritten only where it is (nearly) never Mandarin: 佢, 唔, 咗, 冇, 厝, 袂.
  Characters that are also common Mandarin (係, 同, 某, 翁, 返, 食) are rewritten only inside the
  phrases listed (係咪, 阮某, 返工, 食藥).
* ``KEEP``: Mandarin words that hold a rewritten form and must stay as they are (人工受孕 holds 人工,
  which is Cantonese for a salary; 仲裁 holds 仲). They are matched like the rest and rewritten to
  themselves.
* ``CASUAL_EN``: one lower-case word → the words it stands for (hasnt → hasn t, the way ``en.py``
  writes a contraction once its apostrophe is gone).

Why tables rather than a library: what exists converts script (OpenCC, used for Simplified → Traditional;
its Hong Kong configurations change character forms, not words), segments (jieba, whose user
dictionaries could hold these words, but segmenting costs tens of µs and a second of start-up, and the
matcher's longest-match scan already does what the segmentation would be for; its dictionary is also
shared with the retrieval's analyzer, which must not change under it), or detects (cantonesedetect says
a text is Cantonese, which decides nothing here: the reply's language is the request's locale). None
maps 搵工 to 找工作 or 阮翁 to 我老公; a table a native reader can extend does, at one regular-expression
pass (a few µs).

What this cannot do: it reads words, not grammar, so a phrase the tables do not list (a new slang
word, a rare Hokkien spelling) reads as the characters it is made of. The accuracies measured on
questions written for this, before and after the tables were filled, are in the README.
"""

from __future__ import annotations

CANTONESE = """
佢哋=他們 佢=他 我哋=我們 你哋=你們 嘅=的 咗=了 唔係=不是 唔使=不用 唔好=不要 唔=不 冇=沒有
係咪=是不是 係唔係=是不是 系咪=是不是 系唔系=是不是 喺=在 嚟=來 啲=些 嗰=那 乜嘢=什麼 咩=什麼
呢個=這個 呢支=這支 呢次=這次 呢排=最近 呢份=這份 呢段=這段 呢間=這間 呢度=這裡
點樣=怎樣 點算=怎麼辦 點解=為什麼 點先=怎樣才 點做=怎麼做 點辦=怎麼辦 邊度=哪裡 邊到=哪裡 邊個=誰 邊間=哪間 去咗邊=去了哪裡
幾時=什麼時候 仲=還 俾=給 畀=給 攞=拿 搵=找 睇=看 諗=想 瞓=睡 成日=整天 成個=整個 而家=現在
舊年=去年 今個月=這個月 下個禮拜=下週 得唔得=可不可以 啱唔啱=適不適合 啱=適合
我個仔=我兒子 我個女=我女兒 佢個仔=他兒子 佢個女=他女兒 我隻=我的 我架=我的 我部=我的 我份=我的 我個=我的 我間=我的 佢隻=他的 佢個=他的 佢份=他的
返工=上班 放工=下班 搵工=找工作 轉工=換工作 辭工=辭職 份工=工作 返學=上學 老細=老闆 做嘢=工作
人工=薪水 加人工=加薪 俾人炒=被開除 畀人炒=被開除 被炒=被開除 搵錢=賺錢 搵食=謀生 蝕錢=虧錢
蝕本=虧本 蝕晒=虧光 蝕=虧 供樓=房貸 買樓=買房 租樓=租房 睇樓=看房 樓價=房價 業主=房東
屋企人=家人 屋企=家裡 搬屋=搬家 嗌交=吵架 嗌=吵 拍拖=交往 條仔=男朋友 條女=女朋友 男仔=男生
女仔=女生 鍾意=喜歡 鍾唔鍾意=喜不喜歡 溝女=追女生 甩拖=分手 散咗=分手了 出面=外面
擺酒=辦婚禮 有咗bb=懷孕 生bb=生小孩 生仔=生小孩 湊仔=帶小孩
細路=小孩 仔女=子女 個仔=兒子 個女=女兒 阿媽=媽媽 媽咪=媽媽 老豆=爸爸 老竇=爸爸 細佬=弟弟
家姐=姐姐 細妹=妹妹 睇醫生=看醫生 睇病=看病 入院=住院 唔舒服=不舒服 瞓唔著=睡不著
瞓唔着=睡不著 跌親=跌倒受傷 整親=受傷 病咗=病了 食藥=吃藥 食唔落=吃不下 入稟=提告 差佬=警察
唔見咗=不見了 唔見=不見 跌咗=掉了 銀包=錢包 鎖匙=鑰匙 走失咗=走失了 走咗=跑掉了 走佬=跑路
失咗聯絡=失去聯絡 返鄉下=回老家 返嚟=回來 返屋企=回家 返去=回去 返=回 開舖=開店 開鋪=開店
舖頭=店面 鋪頭=店面 入大學=上大學
"""
"""Written Cantonese → Mandarin."""

HOKKIEN = """
阮翁=我老公 阮尪=我老公 阮某=我老婆 阮兜=我家 阮厝=我家 阮囝=我兒子 阮=我 恁某=你老婆
伊某=他老婆 恁=你們 伊=他 翁仔某=夫妻 翁某=夫妻 翁婿=老公 嫁翁=嫁老公 尪=老公 娶某=娶老婆
某囝=老婆孩子 毋=不 袂使=不可以 會使=可以 袂=不會 敢會=會不會 敢是=是不是 敢有=有沒有
按怎=怎麼 啥物時陣=什麼時候 時陣=時候 啥物=什麼 啥人=誰 啥=什麼 佗位=哪裡 佇=在 這馬=現在
今仔日=今天 明仔載=明天 攏=都 閣=又 佮=跟 予=給 欲=要 矣=了 咧=在
頭路=工作 揣頭路=找工作 食頭路=上班 辭頭路=辭職 無頭路=沒有工作 頭家=老闆 趁錢=賺錢 了錢=虧錢
做生理=做生意 生理=生意 好額=有錢 散赤=沒錢 討袂轉來=討不回來 討無=討不到 無閒=忙
轉來厝=回家 轉厝=回家 轉來=回來 轉去=回去 起厝=蓋房子 買厝=買房子 賣厝=賣房子 搬厝=搬家
新厝=新家 厝內=家裡 厝邊=鄰居 厝=家 無平安=不平安 外口=外面 破病=生病 病院=醫院 食藥仔=吃藥
跋倒=跌倒 嗽=咳嗽 寒著=感冒 頭殼痛=頭痛 腹肚疼=肚子痛 腹肚痛=肚子痛 睏袂去=睡不著 有身=懷孕
大腹肚=懷孕 生囝=生小孩 囝仔=小孩 囡仔=小孩 查某囝=女兒 後生=兒子 囝=孩子 查埔=男生
查某=女人 做伙=在一起 鬥陣=在一起 抾骨=撿骨 稻仔=稻子 飼=養 狗仔=狗 貓仔=貓 冤家=吵架
拍毋見=弄丟 拍無去=弄丟 揣會著=找得到 揣會轉來=找得回來 揣無=找不到 揣=找 抑是=還是
"""
"""Taiwanese Hokkien in Han characters (the Ministry of Education's recommended characters, and the
common spellings beside them: 尪 for 翁, 囡仔 for 囝仔) → Mandarin."""

KEEP = """
人工受孕 人工生殖 人工智慧 人工智能 仲裁 仲介 伊朗 伊拉克 伊斯蘭 木乃伊 給予 予以 欲望 揣測 揣摩
生理期 生理痛 生理上 咳嗽 內閣 閣樓 閣下 富翁 老翁 某人 某天 某個 某些 某種 某位 暫厝 入厝 返鄉 返回 往返 返台 呢喃
"""
"""Mandarin words that hold a rewritten form and stay as they are."""

CASUAL_EN: dict[str, str] = {
    "u": "you", "ur": "your", "r": "are", "ya": "you", "gonna": "going to", "wanna": "want to",
    "gotta": "got to", "dunno": "do not know", "idk": "i do not know", "im": "i m", "ive": "i ve",
    "dont": "don t", "doesnt": "doesn t", "didnt": "didn t", "cant": "can t", "wont": "won t",
    "isnt": "isn t", "arent": "aren t", "wasnt": "wasn t", "hasnt": "hasn t", "havent": "haven t",
    "shouldnt": "shouldn t", "wouldnt": "wouldn t", "couldnt": "couldn t", "hes": "he s", "shes": "she s",
    "bf": "boyfriend", "gf": "girlfriend", "hubby": "husband", "wifey": "wife", "sis": "sister",
    "bro": "brother", "mum": "mom", "mommy": "mom", "doc": "doctor", "meds": "medication",
    "preggo": "pregnant", "preggers": "pregnant", "uni": "university", "biz": "business",
    "bday": "birthday", "rn": "right now", "tmrw": "tomorrow", "tmr": "tomorrow", "bc": "because",
    "cuz": "because", "coz": "because", "abt": "about", "yr": "year", "yrs": "years", "bb": "baby",
    "promo": "promotion", "ttc": "trying to conceive", "sacked": "fired", "ot": "overtime",
}  # fmt: skip
"""Casual English (and the English of chat: bf, u, hasnt) → the words ``en.py`` is written in."""
