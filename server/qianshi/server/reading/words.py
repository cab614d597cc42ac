"""The vocabulary of the sets' short judgments, with verdicts and English glosses.

Collected from the shipped corpus (mazu60 籤解, guanyin100 仙機, guandi100 聖意 clauses): the frequent
whole judgments, the head words they are built from, and the modifiers, times and subjects put in front
of them. ``lexicon`` is the grammar that combines them; ``tests/backends/generation/grounded/test_generator.py``
measures how much of the corpus it reads.

Glosses follow one convention so the grammar can combine them: a verb ("v") is in its base form
("come together": 難成 → "hard to come together"), an instruction ("i": 祈福 "pray for blessings") is
advice to the asker, an adjective ("a") stands after "very"/"not", a noun ("n") stands after "there will
be", and a statement ("s") takes no further modifier.
"""

from __future__ import annotations

import enum


class Verdict(enum.Enum):
    """What a judgment (or a verse, or a rank) says about the outcome."""

    GOOD = "good"
    """Favourable: go ahead."""
    WAIT = "wait"
    """Favourable once the time is right, or after a poor start: be patient."""
    MIXED = "mixed"
    """Middling, conditional, or good and bad together: proceed with care."""
    BAD = "bad"
    """Unfavourable: reconsider or protect yourself."""
    NEUTRAL = "neutral"
    """An answer without a verdict: a direction, a day, a boy or a girl."""


G, W, M, B, N = Verdict.GOOD, Verdict.WAIT, Verdict.MIXED, Verdict.BAD, Verdict.NEUTRAL


_VERDICTS = {v.value: v for v in Verdict}


def vocabulary(spec: str) -> dict[str, tuple[Verdict, str, str]]:
    """Parse a word list into word → (verdict, class, gloss).

    A line ``= good a: what follows`` starts a section (verdict, class, a note); the lines after it hold
    ``詞 gloss`` entries separated by ``|``. A later entry for the same word replaces an earlier one.
    """
    out: dict[str, tuple[Verdict, str, str]] = {}
    verdict, cls = Verdict.NEUTRAL, "s"
    for line in spec.splitlines():
        line = line.strip()
        if line.startswith("="):
            name, cls = line[1:].partition(":")[0].split()
            verdict = _VERDICTS[name]
            continue
        for item in line.split("|"):
            word, _, gloss = item.strip().partition(" ")
            if word:
                out[word] = (verdict, cls, gloss.strip())
    return out


WORDS = vocabulary(
    """
= good a: favourable states
吉 auspicious | 好 good | 佳 fine | 美 fine | 安 at peace | 平安 safe and well
清吉 clear and auspicious | 順 smooth | 順利 going smoothly | 順吉 smooth and auspicious
如意 as you wish | 遂意 as you wish | 稱意 as you wish | 順意 as you wish | 隨意 as you like
吉利 auspicious and profitable | 旺 thriving | 興旺 flourishing | 興 flourishing | 興盛 flourishing
茂盛 flourishing | 昌 prosperous | 吉昌 auspicious and prosperous | 安和 peaceful | 和合 harmonious
和諧 harmonious | 和好 on good terms | 平順 smooth | 平穩 steady | 穩 steady | 康泰 healthy and at ease
亨通 unobstructed | 得宜 just right | 適宜 suitable | 適當 suitable | 團圓 reunited | 圓滿 complete
美滿 happy and complete | 吉祥 auspicious | 祥 auspicious | 光明 bright | 可喜 a happy thing
安樂 at ease | 安然 safe | 安吉 safe and auspicious | 平好 fine | 正好 just right
好吉 good and auspicious | 吉慶 happy and auspicious | 中和 balanced | 平和 peaceful | 平正 fair
理斷分明 judged fairly | 清吉光明 clear, auspicious and bright | 無憂 free of worry | 太平 peaceful
大好 very good | 興隆 thriving | 利 favourable | 大利 very favourable | 吉利市 lucky in trade
大吉利市 very lucky in trade | 勝 the winner | 貴 noble | 富貴 rich and honoured | 有理 in the right
安康 safe and well | 康 healthy | 周全 well provided for | 綿綿齊美 fine through and through
綿綿齊輝 bright through and through | 兩全其美 good on both counts | 合和 harmonious | 得意 pleased
允好 good indeed | 可好 good | 平吉 fine and auspicious | 利安 profitable and safe
= good v: favourable events (verbs in base form)
成 come together | 成功 succeed | 就 come about | 遂 go as wished | 得 be obtained | 至 arrive
到 arrive | 回 come back | 歸 come home | 還 come back | 見 turn up | 在 be there | 合 be a good match
痊 heal | 痊癒 heal | 癒 heal | 愈 heal | 痊安 heal | 瘥 heal | 瘳 heal | 收 bring in a harvest
納 be accepted | 解 be resolved | 通 go through | 發 prosper | 進 make gains | 中 pass | 寧 calm down
效 take effect | 完局 be settled | 完明 be settled clearly | 獲利 make a profit | 聚 gather
和 be settled amicably | 養 be raised well | 熟 ripen | 見效 take effect | 成就 be achieved
有 be there | 來 come | 得回 be recovered | 脫 get free | 進益 gain | 得利 make a profit
得財 gain wealth | 得安 find peace | 遇 meet good fortune | 發財 grow rich | 利市 trade briskly
有成 succeed | 有收 bring in a harvest | 有望 have hope | 有利 bring profit | 團圓 be reunited
允 be granted | 允成 come together | 可 be possible | 偕老 grow old together | 得勝 win
得理 be found in the right | 定 be settled | 結 be tied | 聯 be joined | 盈 be plentiful | 濟 work out
亨 go well | 安居 live in peace | 光前裕後 bring honour to the family
顯祖榮宗 bring honour to the ancestors
= good n: favourable things (nouns)
財 wealth | 大財 great wealth | 利益 benefit | 收成 a harvest | 望 hope | 貴人 a helpful patron
喜 good news | 喜慶 celebrations | 福 blessings | 信 news | 音信 news | 佳音 good news | 好音 good news
益 benefit | 春風 good fortune | 瑞氣 auspicious signs | 祥瑞 good omens | 祥氣 auspicious signs
弄璋 the birth of a son | 弄璋之喜 the joy of a son | 弄璋之慶 the joy of a son | 貴氣 nobility
財利 wealth | 錢 money | 餘慶 blessings to spare | 吉地 an auspicious site
吉穴 an auspicious grave site | 良醫 a good doctor | 良方 a good remedy | 好運 good luck
有餘慶 blessings to spare | 神助 help from the gods | 福祿 blessings | 瓜瓞綿綿 many descendants
進 gains | 大進 great gains | 喜氣 joy | 有貴人 a helpful patron | 利 profit | 財源 sources of wealth
瑞氣盈庭 auspicious signs filling the house
= neutral n: neutral answers
男 a boy | 女 a girl | 生男 a boy | 生女 a girl | 生子 a son | 東 the east | 南 the south | 西 the west
北 the north | 東方 the east | 南方 the south | 西方 the west | 北方 the north | 東北 the north-east
東南 the south-east | 西北 the north-west | 西南 the south-west | 東西 east or west | 中央 the centre
居中 the middle | 先男後女 a boy first, then a girl | 先女後男 a girl first, then a boy
頭胎男 a boy first | 二胎女 a girl second | 動 on the move | 遠 far away | 近 near
上下弦 the quarter moons | 在東 the east | 生貴 a noble child | 貴子 a noble son
= mixed a: middling
平 even | 平平 so-so | 中平 middling | 平常 ordinary | 尋常 ordinary | 淡淡 meagre | 淡 meagre
浮沉 up and down | 起倒 up and down | 反覆 back and forth | 五分 half-and-half | 半吉 half auspicious
中中 middling | 淡淡平平 meagre | 輕 light | 微 slight | 參差 uneven | 虛驚 a false alarm
七分 seventy percent | 八分 eighty percent | 半熟 half ripe | 頗安 fairly settled | 若前 as before
= mixed i
守舊 keep to the old ways | 守 hold steady | 謹慎 be careful | 慎 be careful | 祈福 pray for blessings
祈保 pray for protection | 作福 do good works | 禳星 hold a rite to appease the stars
還願 fulfil your vows | 許願 make a vow | 許經 vow to recite scripture
設送 make offerings to see it off | 祭虎 make offerings to the White Tiger | 改 change course
宜改 change course | 勞力 toil | 勞心 worry | 著力 make an effort | 提防 stay on guard
謹防 stay on guard | 防 stay on guard | 守慎 hold steady and be careful | 守份 keep to your place
謹守 keep watch | 更新 start afresh | 宜修 make repairs | 求神 pray to the gods
求福 pray for blessings | 祈神 pray to the gods | 求神保佑 ask the gods for protection
求解和 seek a settlement | 宜和 seek a settlement | 拖尾 drag on | 忍耐 be patient | 要忍耐 be patient
小心為要 take care | 臨機應變 adapt to circumstances | 守己安分 keep to your place
安分 keep to your place | 照舊 keep things as they are | 按住 hold back | 要把定 hold firm
半收 bring in half a harvest | 只收半 bring in half a harvest | 早種 plant early | 宜早 act early
擇地 choose the site | 求平安 pray for safety | 祈平安 pray for safety | 求貴人 seek a patron
勤理 work at it | 和為貴 value harmony
= mixed n
驚 a scare | 有驚 a scare | 半 half | 得失 gain and loss | 起伏 ups and downs | 風平 calm after wind
= bad a: unfavourable
凶 inauspicious | 呆 bad | 危險 dangerous | 差 poor | 衰 declining | 惡 bad | 空 empty-handed | 虛 empty
困 hard-pressed | 亂 in disorder | 坎坷 rough going | 崎嶇 rough going | 重 serious | 危 in danger
不好 not good | 不吉 inauspicious | 不利 unfavourable | 不安 uneasy | 不遂 not as wished
不祥 ill-omened | 顛倒 upside down | 杳 without a trace | 無蹤 without a trace | 絕 cut off
不雅 unseemly | 大呆 very bad
= bad v
阻 be blocked | 損 suffer losses | 失 be lost | 敗 fail | 破 be broken | 散 fall apart | 退 fall back
虧 make a loss | 耗 drain away | 畏 be feared | 了錢 lose money | 了工 waste effort | 了財 lose money
了本 lose your capital | 蝕本 lose your capital | 虧本 lose your capital | 破財 lose money
失利 lose out | 枉費 labour in vain | 徒勞 labour in vain | 費工 waste effort | 阻隔 be cut off
阻滯 be held up | 退步 go backwards | 退敗 decline | 失運 lose your luck | 招非 invite trouble
傷 be hurt | 刑傷 be harmed | 犯官事 get into legal trouble | 被官欺 be wronged by officials
被人害 be harmed by others | 被人欺 be bullied | 破失 lose things | 破耗 lose money | 損失 suffer losses
退卻 retreat | 去 be gone | 缺 fall short
= bad n
災 misfortune | 口舌 quarrels | 是非 strife | 小人 petty people | 禍 calamity | 憂 worry
邪 evil influences | 鬼 a ghost | 祟 a haunting | 災星 an ill star | 凶星 an ill star | 刑 punishment
病 illness | 風波 trouble | 損 losses | 災耗 losses | 多災 many misfortunes | 瘟 pestilence
刑劫 punishment and robbery | 憂疑 worry and doubt | 陰邪 dark influences | 邪祟 evil influences
鬼作祟 a ghost causing trouble | 陰公作祟 ancestral spirits causing trouble
有陰公作祟 ancestral spirits causing trouble | 有鬼作祟 a ghost causing trouble
鬼作怪 a ghost making mischief | 子媳虛 no children or daughters-in-law | 子息虛 no children yet
風雨 storms | 變 a change for the worse | 無 nothing | 險 danger | 命運蹉跎 wasted years
運途不佳 a poor run of luck | 運不佳 a poor run of luck
= wait a: waiting
遲 late | 慢 slow | 緩 slow | 遲慢 slow | 遲緩 slow | 延 delayed | 遲延 delayed | 延緩 delayed
滯 stalled | 留連 lingering | 尚未 not yet | 未 not yet | 未有 not yet | 久 long in coming | 晚 late
延滯 stalled
= wait i
待時 wait for the right time | 待 wait | 守待 hold on and wait | 宜遲 take it slowly | 候 wait
等待 wait | 待時機 wait for the right time | 以待時來 wait for your time | 待後日 wait for a later day
守待時 hold on and wait | 安分待時 keep to your place and wait | 暫待 wait a while
暫緩 hold off a while | 且慢 hold off | 在家待時 wait at home | 待望 wait and hope
漸且候時 wait for the time | 候時過 let the time pass | 自守待運 wait for your luck | 遲到 arrive late
守運 wait for your luck
= bad s: whole judgments the grammar would read awkwardly, read as a board reader would
不可 not advisable | 難 difficult | 無利可得 no profit to be had | 不可納 not acceptable | 無望 no hope
難解難脫 hard to get out of | 臨產危險 danger at childbirth | 臨產險 danger at childbirth
遲者無 if late, nothing | 不和凶 not settling brings misfortune | 大命險 a grave danger to life
不就 will not come about
= good s
不畏 nothing to fear | 有利可得 there is profit to be had | 尋在 search and it will be found
成好 it will come out well | 不日到 will arrive within days | 可納 acceptable
成者大吉 if it does come together, very auspicious | 得其所哉 you will find your place
萬商雲集 customers will flock in | 財發萬金 great wealth will come | 地勢套當 the site fits well
克振家聲 the family name will rise | 利路亨通 the road to profit is open | 添得弄璋之喜 the joy of a son
得添弄璋 a son will be born | 和者吉 settling brings good fortune | 和無事 settle and all is well
在家好 better to stay at home | 安居春風 settled life and good fortune
光輝門庭 honour to the household | 門庭興旺 the household will flourish | 瓜瓞綿綿 many descendants
守舊大吉 keep to the old ways and all is very well
= neutral n
先男後女 a boy first, then a girl | 先女後男 a girl first, then a boy
= wait s
望後科 hope for a later exam | 後科 a later exam | 月光在 still there by the full moon
月光到 will arrive by the full moon | 月光好 good by the full moon
半月到 will arrive within half a month
= mixed i
設送 make offerings to see it off | 即設送 make offerings at once to see it off
= mixed s
拖尾 it drags on
"""
)
"""The core vocabulary: head words, frequent whole judgments, and readings that override the grammar."""

MODIFIERS: dict[str, tuple[dict[str, tuple[str, str]], str]] = {}
"""Modifier → (class → (template, resulting class), name of the verdict rule). Filled below."""


def _mods(rule: str, words: str, **templates: str) -> None:
    spec = {cls: (tmpl.split("→")[0].strip(), tmpl.split("→")[1].strip()) for cls, tmpl in templates.items()}
    for word in words.split():
        MODIFIERS[word] = (spec, rule)


_mods("FLIP", "不", v="will not {} → s", a="not {} → a", n="no {} → n")
_mods("FLIP", "無 沒有 全無 無有 免", n="no {} → n", a="no {} → n", v="will not {} → s")
_mods(
    "BAD",
    "難 難以 不能",
    v="hard to {} → s",
    a="hard to be {} → s",
    n="hard to find {} → s",
    i="hard to {} → s",
)
_mods("BAD", "不可 切要不可 不宜", v="should not {} → s", a="should not be {} → s", i="should not {} → s")
_mods("NOT_YET", "未 尚未 未能", v="will not {} yet → s", a="not yet {} → a", n="no {} yet → n")
_mods(
    "KEEP",
    "可 可以 能 可能 亦可",
    v="can {} → s",
    a="can be {} → s",
    n="{} is possible → s",
    i="you may {} → s",
)
_mods("KEEP", "必 必能 定必 必定 決意", v="will surely {} → s", a="surely {} → a", n="surely {} → n")
_mods(
    "KEEP",
    "即 立即 立 速 急 快 即刻 朝夕即 馬上 就 即便 將",
    v="will {} soon → s",
    a="soon {} → a",
    n="{} soon → s",
)
_mods("KEEP", "不日 近日", v="will {} within days → s", a="{} within days → s")
_mods(
    "KEEP", "漸 漸漸 漸且 漸得", v="will gradually {} → s", a="gradually {} → a", n="{} comes gradually → s"
)
_mods("LATER", "慢 遲 緩 緩緩 慢慢 遲緩", v="will {} slowly → s", a="{} in time → a", n="{} comes slowly → s")
_mods("LATER", "晚", v="will {} late → s", a="{} later on → a", n="{} later on → n")
_mods(
    "LATER",
    "終 終必 終有 終則 方 久方",
    v="will {} in the end → s",
    a="{} in the end → a",
    n="{} in the end → n",
)
_mods("LATER", "再 二次", v="will {} at the second try → s", a="{} the second time → a")
_mods("KEEP", "得 獲 得到 大獲 可得", v="will {} → s", a="become {} → v", n="gain {} → v")
_mods("KEEP", "允", v="will {} → s", a="truly {} → a")
_mods("KEEP", "有", n="there will be {} → s", a="{} at times → a")
_mods("KEEP", "大", a="very {} → a", n="great {} → n", v="{} greatly → v")
_mods("KEEP", "小 小有", a="fairly {} → a", n="small {} → n", v="{} a little → v")
_mods("SOFT", "微 輕 只求", a="slightly {} → a", n="slight {} → n")
_mods("SOFT", "少", n="little {} → n")
_mods("KEEP", "多 多逢", n="plenty of {} → n", a="very {} → a", v="{} a great deal → s")
_mods("KEEP", "甚 很 真 極 甚是", a="very {} → a", v="{} greatly → v")
_mods(
    "MIXED",
    "防 須防 謹防 恐防 恐 提防 緊防 須當先防 恐有 防止",
    n="beware of {} → s",
    v="beware: it may {} → s",
    a="beware: it may be {} → s",
)
_mods("BAD", "欠", a="not quite {} → a", n="short of {} → n")
_mods("MIXED", "宜", v="best to {} → s", a="best to stay {} → s", i="best to {} → s")
_mods("MIXED", "莫 勿 休 切莫 不可急", v="do not {} → s", i="do not {} → s")
_mods("KEEP", "自 自有", v="will {} of itself → s", a="{} of itself → a")
_mods("KEEP", "易", v="will easily {} → s")
_mods("KEEP", "遇 喜遇 快遇", n="meet {} → v")
_mods("MIXED", "求 祈 祈求 望 祝", n="seek {} → v", a="pray to be {} → v")
_mods("BAD", "犯 有犯", n="crossed by {} → s")
_mods("BAD", "被", n="wronged by {} → s")
_mods("BAD", "失 破 了 枉費 費", n="lose {} → v")
_mods("KEEP", "進 大進 圓滿進", n="take in {} → v")
_mods("KEEP", "尋 尋必 謹尋 急尋 緊尋 速尋 援尋 用心再尋", v="search and it will {} → s")
_mods("KEEP", "皆 俱", v="{} in everything → s", a="all {} → a", n="{} in everything → s")
_mods("KEEP", "且 暫且", v="for now, {} → s", a="for now, {} → a", i="for now, {} → s", n="and {} → s")
_mods("KEEP", "亦 也 仍 尚", v="still {} → s", a="still {} → a", n="still {} → n")
_mods("KEEP", "須 當 要", v="must {} → s", i="{} → s")
_mods("KEEP", "已", v="have already {} → s", a="already {} → a")
_mods("KEEP", "保", a="stay {} → s", n="kept {} → s")
_mods("MIXED", "禱", v="pray and it will {} → s", a="pray and you will be {} → s")
_mods("KEEP", "主", a="portends {} → s", n="portends {} → s")
_mods("KEEP", "用心即", v="take care and it will {} → s")
_mods("KEEP", "則", v="will {} → s", a="{} → a", n="{} → n")

TIMES: dict[str, str] = {
    "春": "in spring", "夏": "in summer", "秋": "in autumn", "冬": "in winter",
    "春夏": "in spring and summer", "秋冬": "in autumn and winter", "夏秋": "in summer and autumn",
    "春季": "in spring", "冬天": "in winter", "早冬": "early in winter", "下冬": "late in winter",
    "晚冬": "late in winter", "上半年": "in the first half of the year",
    "下半年": "in the second half of the year", "下年": "next year", "年頭": "early in the year",
    "年尾": "late in the year", "月半": "by mid-month", "月中": "by mid-month", "中旬": "by mid-month",
    "月尾": "by the month's end", "月底": "by the month's end", "月末": "by the month's end",
    "下旬": "late in the month", "月頭": "early in the month", "月初": "early in the month",
    "月光": "by the full moon", "月暗": "when the moon is dark", "月前": "before the month is out",
    "暗": "when the moon is dark", "後日": "later on", "近日": "in the coming days", "早": "early on",
    "晚": "later on", "先": "at first", "初": "at first", "後": "later", "後來": "later",
    "尾": "in the end", "終": "in the end", "今": "now", "過日": "in a few days", "三日": "in three days",
    "三日過": "after three days", "三日後": "after three days", "五日內": "within five days",
    "逢春": "when spring comes", "見春": "when spring comes", "開春": "when spring begins",
    "半年": "within half a year", "未年": "in a 未 year", "八月": "in the eighth month",
    "九月以後": "after the ninth month", "七八月": "in the seventh or eighth month",
    "三月": "in the third month", "四月": "in the fourth month", "十二月": "in the twelfth month",
    "月圓過": "after the full moon", "半月": "within half a month", "月光過": "after the full moon",
    "月半過": "after mid-month", "下年頭": "early next year", "春天": "when spring comes",
    "夏天": "in summer", "秋天": "in autumn", "二次": "the second time", "十日": "for ten days",
    "早晚": "sooner or later", "時到則": "when the time comes", "到秋來": "when autumn comes",
    "在新年": "in the new year", "待秋冬": "in autumn or winter", "暫": "for now",
}  # fmt: skip

SUBJECTS: dict[str, str] = {
    "老": "for the elderly", "少": "for the young", "男": "for a boy", "女": "for a girl",
    "在家": "at home", "出外": "away from home", "外": "away from home", "新業": "a new venture",
    "舊業": "the old business", "頭胎": "the first child", "二胎": "the second child", "次": "then",
    "人": "people", "家": "the family", "門庭": "the household", "家庭": "the family",
    "門戶": "the household", "地勢": "the site", "地運": "the site's luck", "地氣": "the site's energy",
    "地穴": "the grave site", "穴地": "the grave site", "穴場": "the grave site", "運": "your luck",
    "運途": "your luck", "命": "your life", "宅運": "the house's luck", "音信": "news", "音息": "news",
    "信": "news", "行人": "the traveller", "子孫": "descendants", "財源": "the sources of wealth",
    "科運": "exam luck", "宅舍": "the house", "財": "wealth", "財利": "wealth",
    "成者": "if it comes together", "和者": "if settled amicably", "納者": "if accepted",
    "少者": "for the young", "老者": "for the elderly", "晚者": "later on", "遲者": "if late",
    "居之": "living there", "病": "the illness", "事": "the matter", "舊": "the old way",
    "新": "the new way", "求財求事": "money and affairs", "作事": "undertakings", "子": "a son",
    "配偶": "the match", "財本": "capital", "經營": "the business",
    "祝天地者": "with prayers to heaven and earth", "兄弟和合者": "if the brothers stand together",
    "夥不和者": "if the partners quarrel", "月令": "this month", "貴人": "a patron",
    "邪": "evil influences", "路": "the road", "利": "profit", "名": "reputation", "時": "the time",
    "地": "the site", "向南方": "towards the south", "子媳": "children", "大命": "your life",
    "進行": "going ahead", "理": "the case", "百事": "everything", "門閭": "the family",
    "門第": "the family", "自己": "you yourself", "勤儉": "with thrift and hard work",
    "後科": "a later exam", "福": "blessings", "陰地": "the grave site", "身": "you", "心": "your heart",
}  # fmt: skip

DAY_SIGNS = "甲乙丙丁戊己庚辛壬癸子丑寅卯辰巳午未申酉戌亥牛虎"
"""Characters that name a day of the sixty-day cycle (辰未日 = on a 辰 or 未 day)."""

CUES: tuple[tuple[str, Verdict], ...] = tuple(
    (cue, verdict)
    for verdicts, verdict in (
        ("不成 不吉 不利 不安 不好 不遂 難成 難 凶 損 失 阻 虧 破 敗 險 災 禍", B),
        ("呆 害 死 傷 病 憂 困 邪 鬼 祟 空 虛 杳", B),
        ("待時 宜遲 遲 待 慢 緩 晚 後 未 候 春 秋", W),
        ("平平 中平 平 半 防 慎 守 祈 禱 求 莫 勿 宜", M),
        ("大吉 吉 利 成 得 安 遂 順 好 喜 福 財 合 旺 興 昌 通 勝 至 回 歸 到 痊 癒 愈", G),
    )
    for cue in verdicts.split()
)
"""Cue words for text the grammar cannot read; checked in this order, each cue consumed once."""

CLAUSE_TOPICS: tuple[tuple[str, tuple[str, ...]], ...] = tuple(
    (word, tuple(topics.split("+")))
    for line in (
        "名與利:career+wealth 名與財:career+wealth 名利訟:career+wealth+lawsuit 病與訟:health+lawsuit",
        "訟與病:health+lawsuit 婚與訟:marriage+lawsuit 訟病:health+lawsuit 名利:career+wealth",
        "利名:career+wealth 功名:career 財祿:wealth 財物:wealth 求財:wealth 福祿:general 詞訟:lawsuit",
        "公訟:lawsuit 病者:health 婚姻:marriage 行人:travel 遠行:travel 遠信:travel 信音:travel",
        "音信:travel 桑麻:farming 家道:home 子嗣:children 失物:lost 出入:travel 百事:general",
        "凡事:general 凡作事:general 作事:general 謀望:general 名:career 財:wealth 訟:lawsuit",
        "病:health 婚:marriage 孕:children 信:travel 行:travel 事:general",
    )
    for word, _, topics in (item.partition(":") for item in line.split())
)
"""Topic words inside per-topic clauses (關帝 聖意), longest first; one word may name several topics."""

CLAUSE_MARKERS: tuple[tuple[str, str], ...] = (
    ("醫", "health"),
    ("產", "children"),
    ("嗣", "children"),
    ("藥", "health"),
)
"""Characters that tie a clause to a topic without being taken off it (擇醫愈 stays whole)."""
