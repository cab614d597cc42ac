"""The long tail of the judgment vocabulary: rarer heads and whole idioms, met once or twice each.

Split from ``words`` (the core vocabulary and the grammar's modifiers) because it is a flat
list that grows whenever a board reading turns up unread; the same gloss conventions apply. The
classical three-character clauses of 關帝 聖意 are listed as they read once their topic word is taken
off (病即痊 → 即痊, 訟宜和 → 宜和).
"""

from __future__ import annotations

from qianshi.server.reading.words import vocabulary

IDIOMS = vocabulary(
    """
= good a: their topic word is taken off: 病即痊 → 即痊)
全 complete | 泰 at ease | 實 solid | 豐 plentiful | 饒 abundant | 昌盛 flourishing | 十足 full
和氣 harmonious | 及時 timely | 宜 favourable | 無虞 safe | 安全 safe | 和平 at peace | 平夷 smooth
團欒 together | 安且樂 safe and happy | 稱情 as you wish | 如常 as usual | 安穩 secure
= good v
尋 be found | 求 be pursued | 圖 be attained | 判 be decided | 決 be decided | 息 come to rest
明 be cleared up | 生 be born | 亨 go well | 超 rise | 消 clear up | 療 be treated | 聘 be betrothed
謀 be arranged | 休 be dropped | 止 stop | 保 be kept | 老 grow old together | 遷 move
有遇 meet good fortune | 決勝 win outright | 勝昔 do better than before | 返本 recover your outlay
奏凱歌 sing songs of triumph | 早生 be born early | 遇貴者 meet a noble helper
必至頭 surely reach the top | 高中 pass with honours | 可問 be worth asking
必遇主 surely find a fair judge | 改向吉 change direction and prosper
= good n
神佑 divine protection | 福佑 blessings and protection | 喜訊 happy news | 餘 plenty
神相 the gods' favour | 雙配 a pair | 有約 a betrothal | 子息 an heir | 頗有 something
富與貴 riches and honour | 貴子生 a noble son | 生驥 a fine son | 神力持 divine help
心地好 a good heart | 地亦美 a fine site too | 福儘得 blessings in full
= good s
夢飛熊 a dream of a flying bear: a great helper is coming | 士領薦 scholars are recommended
百無憂 no worries at all | 顯宦遇 you will meet a high official | 天福善 heaven blesses the good
勿藥 no medicine needed | 免悶愁 free of gloom | 利不難 profit is not hard
心必稱 it will be as you wish | 有神相 the gods are with you | 禍變消 calamities fade away
福力重 strong blessings | 三日應 answered within three days | 連而亨 prospering together
福來應 blessings answer | 由積善 it comes from good deeds | 不須禱 no need for prayers
終無咎 no blame in the end | 災撲滅 misfortune is put out | 象無凶 nothing ill in the sign
危處安 safety amid danger | 損中益 gain within loss | 佳音速報 good news comes fast
速報佳音 good news comes fast | 速報好音 good news comes fast | 將近就至 will arrive soon
貴人扶 a patron helps | 有利入手 profit comes to hand | 東西向吉 east or west is good
可保平安 safety can be kept | 正勝 right will win | 貴遇趙 a patron will come | 得子息 an heir will come
勤苦有 hard work brings it | 有且待 it will come; wait for it | 利雖有 there is profit, but
= mixed i
禱 pray | 禱神 pray to the gods | 禳 hold a rite to ward it off | 審 think it over | 宜審 think it over
擇醫 choose the doctor carefully | 更醫 change doctors | 改醫 change doctors
審醫 choose the doctor carefully | 醫宜審 choose the doctor carefully | 向善 turn to good
隨時 go with the times | 安分宜 keep to your place | 謹修為 mind your conduct | 修善 do good
能修善 do good | 改圖 change plans | 換規模 change your approach | 守規模 keep to your ways
別配 find another match | 別議 look at another match | 隨分定 let it settle as it will
隨緣 let it take its course | 且隨緣 let it take its course | 積陰功 do hidden good deeds
作福力 do good works | 禱神助 pray for the gods' help | 禱神扶 pray for the gods' help
禱神明 pray to the gods | 求神解 ask the gods to resolve it | 求嗣 pray for an heir
擇友 choose carefully | 揣己 know your own measure | 審理 think it through | 蚤禳 perform a rite early
早禳 perform a rite early | 謹 be careful | 戒 be wary | 勞 toil | 勤 work hard
拜送 make offerings to see it off | 還舊願 fulfil old vows | 宜舊 keep to the old way
早斷 settle it early | 急斷 settle it quickly | 急尋 search quickly | 速尋 search quickly
慎出 go out with care | 大作福力 do many good works | 循理 follow what is right
踐修 keep up your practice | 靜處 stay quiet | 守己 keep to yourself | 存心 keep a good heart
= mixed s
莫動 stay put | 勿動 stay put | 莫興 do not start it | 莫貪 do not be greedy | 莫貪求 do not be greedy
莫貪取 do not be greedy | 莫求 do not pursue it | 勿求 do not pursue it | 莫爭 do not contend
莫作 do not start it | 休嗟嘆 do not lament | 徒咨嗟 lamenting in vain | 莫躁為 do not act in haste
遲莫躁 slow: do not be impatient | 慎勿躁 be careful and not hasty | 莫輕躁 do not be hasty
莫妄說 do not speak rashly | 莫妄作 do not act rashly | 勿妄動 do not act rashly
莫妄謀 do not scheme rashly | 莫輕為 do not act lightly | 勿強圖 do not force it
莫強求 do not force it | 莫外求 do not look elsewhere | 勿他圖 do not look elsewhere
莫與較 do not quarrel | 莫再戰 do not fight on | 毋再問 ask no more | 休問 ask no more
且休問 ask no more for now | 莫問 do not ask | 莫許 do not agree to it | 莫議 do not discuss it yet
莫信讒 do not believe slander | 莫妄攀 do not aim too high | 莫害人 do not harm others
人即己 treat others as yourself | 莫欺 do not deceive | 依本分 keep to your duty
止則宜 stopping is wise | 聽天推 leave it to heaven | 過必改 correct your faults | 能改過 mend your ways
能自悔 mend your ways | 忌遠謀 avoid far-reaching schemes | 謹行藏 be careful what you do
當知止 know when to stop | 依理求 seek it by right means | 慮且休 set worries aside
自主張 decide for yourself | 宜擇友 choose carefully | 欲求安 if you seek peace
欲獲吉 if you seek good fortune | 若求吉 if you seek good fortune | 若禱神 if you pray
審往復 weigh it carefully | 須勞 it takes effort | 謹交遊 choose your company carefully
當揣己 know your own measure | 當靜處 stay quiet | 宜遠 look further afield | 慎求 pursue it carefully
審辦 handle it with care | 宜停 best to pause | 誼謹守 keep faith carefully | 但存心 keep a good heart
休闕 do not pursue it | 今雖損 losses for now | 雖漸困 though hard-pressed for a while
雖有險 though there is danger | 險而平 risky, but it evens out | 始雖易 easy at the start
行正直 act uprightly | 行方便 be obliging to others | 藉陰騭 rely on hidden merit
禱神康 pray and be well | 逢寅字 look for the sign 寅 | 二六九 on the 2nd, 6th or 9th | 遣 sets out
少 little | 帶 bring it along | 早種 plant early | 宜早種 plant early
此是滿籤 the last slip of the set | 籤至百 the hundredth slip | 數已終 the count is complete
我所知 as I know | 大作福 do many good works | 欲保 needs care to keep | 患多 many troubles
須防 stay on guard | 恐 there is a risk | 謹慎無害 be careful and no harm comes
= bad a
不長 short-lived | 虛花 empty blossoms | 似虛花 like empty blossoms | 鈍 slow | 迍邅 hard going
命迍邅 hard going | 是非叢 full of strife | 益加 getting worse | 煞旺 under strong malign forces
刑剋 under clashing influences | 旡 nothing | 隔 cut off | 諸事不利 nothing goes well | 冒險 risky
= bad n
冤 a wrong done | 害 harm | 凶災 misfortune | 多怪夢 strange dreams | 有事 trouble | 多錯 many mistakes
多阻 many obstacles | 多阻滯 many delays | 主重喪 a death in the family | 恐遭刑 a risk of punishment
非知己 false friends | 難信媒 an untrustworthy matchmaker | 能害己 self-harm | 若欲貪 greed
若妄為 rash action | 身莫保 danger to yourself | 犯陰 offended spirits | 犯羅網 a net closing in
終則難 trouble in the end | 阻行程 delays on the road | 阻程 delays on the road | 費了工 wasted effort
= wait s
自有時 its time will come | 姑少待 wait a little | 若遇時 when the time comes
時未同 the time is not yet right | 時未亨 the time is not yet right | 遇卯日 on a 卯 day
遇卯運 when a 卯 period comes | 歸有日 will return one day | 歸有期 a return date is set
歸未矣 not home yet | 未有日 no date yet | 有此月 within this month | 終年後 after the year's end
候三伏 wait for the dog days | 緩則宜 slowly is best | 難遽致 cannot be had quickly
在秋冬 in autumn or winter | 待秋冬 in autumn or winter | 在新年 in the new year
若遇貴 if a patron appears | 擱 on hold | 延纏 drags on | 賒 far off | 未許 not yet promised
終則有 it comes in the end | 在晚成 late success
= good a: the long tail of the mazu 籤解 boards
可慶 worth celebrating | 團美 whole and fine | 高貴 noble | 易 easy | 完美 perfect | 滿載 fully laden
永昌 lastingly prosperous | 萬和 in full harmony | 志氣遠大 high-minded | 左右平安 safe all round
= good v
解釋 be resolved | 連中 pass one exam after another | 連登 pass one exam after another | 成局 be settled
住 live there | 居 live there | 葬 be buried there | 出運 see your luck turn | 俊發 flourish
結局 be settled | 向前 go forward | 出 go out | 作 go ahead | 急進 push ahead quickly
= good n
福祉 blessings | 厚利 rich profit | 佳氣 good fortune | 有貴人提攜 a patron to lift you up
貴人提攜 a patron's help | 庇祐 protection | 庇佑 protection | 運 luck | 時運 timely luck | 資本 capital
財帛 money and goods | 收獲 a harvest | 萬貫 great wealth | 黃金萬貫 great wealth
神佛 the gods and buddhas | 喜 good news
= good s
永偕伉儷 a lifelong match | 如泉湧 flowing like a spring | 餘興且喜 joy to spare
永裕後崑 lasting good for descendants | 顯裕後昆 lasting good for descendants
滿路異香 sweet scent all along the way | 可也 it will do | 可以 it will do | 可行 you may go ahead
光耀門閭 honour to the family | 得其地 the right site is found
福人必得福地 the blessed find a blessed site | 獲利三倍 threefold profit | 利市三倍 threefold profit
作福出麟兒 good works bring a gifted child | 舊墳重興 the old grave brings new fortune
貴人扶持 a patron's support | 門庭可恭可賀 the household has much to celebrate
納之可喜 accepting it brings joy | 有餘裕哉 more than enough | 顯榮祖宗 honour to the ancestors
財源廣進 wealth flows in | 朱衣點頭 the examiner nods | 真龍正穴 a true dragon site
源源而來 coming in a steady stream | 世世興旺 prosperity for generations | 好結尾 a good ending
好到尾 good to the end | 差人來報喜 a messenger brings good news | 大發資財 great wealth
適其所哉 just where it should be | 幸喜得遇其穴 the right site is found
吉星拱照 lucky stars shine on you | 福雙全 double blessings
神指示得大財 the gods point the way to wealth | 峻發日新 rising day by day
永獲吉慶 lasting good fortune | 五世其昌 prosperity for five generations | 指日高陞 promotion soon
壽命長 a long life | 勝局 a winning outcome | 抽此吉 this draw is auspicious | 運光彩 luck shines
一路順風 a smooth journey | 晚成大器 great success late in life | 代代簪纓 honours for generations
福祉其昌 blessings abound | 安居樂業 a settled, happy life | 得其所居 a good place to live
得其吉地 an auspicious site | 瑞氣滿門 the house fills with good omens
寶樹開花 the precious tree blossoms | 到處有貴人 patrons everywhere | 添之弄璋 a son is added
揚名在即 fame is near | 積善大利 good deeds bring great profit | 萬利可得 great profit to be had
滿載而歸 come home laden | 不日即到 will arrive within days | 神仙扶持 the immortals support you
祥氣盈庭 auspicious signs fill the house | 團圓且喜 reunion and joy
= mixed a
不多 not much | 恭順 respectful | 依舊 as before | 小許 a little | 有小無大 small gains, not large
= mixed i
援尋 get help searching | 用心再尋 search again, carefully | 宜息 best to let it rest
宜解 best to settle | 須當先防 be on guard first | 守機而作 wait for the moment, then act
謝良愿 give thanks for your vows | 緊移 move at once | 照舊種 plant as before | 遷移 move
以禮待人 treat people with courtesy | 祈求 pray | 勤勞徐進 work hard and advance slowly
寬守即好 hold steady calmly and all is well | 心意把定 make up your mind | 須靠自己 rely on yourself
勿與人合夥 do not take partners | 勿躁 do not be hasty | 不可急 do not rush
免介意 do not take it to heart | 不用財 spend nothing on it | 由天註定 leave it to heaven
= bad a
暗 dark | 死 fatal | 多勞辛苦 toilsome | 空孕 a false pregnancy | 生產難 a difficult birth
= bad v
相爭 quarrel | 起風波 stir up trouble | 失時 miss the moment
= bad n
風水 bad feng shui | 短壽 a short life | 邪作祟 evil influences | 邪作病 illness from evil influences
活鬼 a restless ghost | 陰鬼 restless spirits | 刑事 criminal trouble | 相剋 clashing fates
殃 misfortune | 微殃 slight misfortune | 陰作祟 dark influences | 難產 a difficult birth
殺 malign forces | 小產 a miscarriage | 呆人 bad people | 惡運 bad luck | 邪氣 evil influences
人作怪 people making trouble | 了錢工 lost money and effort | 內有不足 something lacking within
切要不可 must not | 不取 do not take it | 無有際會 no opportunity | 音息魚沉 no news | 魚沉消息 no news
雁杳魚沉 no news at all | 音信沉沒 no news | 恐遇風波之災 a risk of trouble
多口舌之災 trouble from quarrels
= wait s
月光過 after the full moon | 月半過 after mid-month | 近日 in the coming days
待機可以 wait for the moment and it will do | 慢日可行 go later | 慢一步 a step later
待日期 wait for the date | 漸待開春 wait for spring | 遠行待時回 will return in time
失在前利在後 loss first, profit later | 午年尾 late in a 午 year | 未遇時 the time has not come
緩日即好 good in a few days | 等後科 wait for a later exam | 音信耐候 wait patiently for news
未該得 not due yet
"""
)
