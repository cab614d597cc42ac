"""The vocabulary behind ``categories.py``: the common categories, the set names each maps to, and the
weighted keywords that point a question at one of them.

Kept apart from the logic because it is data an operator or a reviewer edits (a keyword that misfires, a
temple set whose boards say 財運 where ours say 求財) without touching the matching code.

How to read a ``Spec``:

* ``head``: the zh-Hant name, the English name, and more English aliases.
* ``names``: the category names temple sets use for exactly this topic, most usual first; the first one a
  set has is where the topic goes in that set. They double as Chinese aliases a caller may request.
* ``fallback``: other common categories whose ``names`` are tried next, for sets that lack the topic
  (guanyin100 has no 功名 column, so 功名 falls back to 作事 and then 自身). After those, the set's general
  category (see ``GENERAL``) takes every topic, which is how guandi100's 聖意 answers all of them.
* ``terms``: short words the traditional judgments of the topic use (病, 痊 …), to widen retrieval.
* ``zh`` / ``en``: weight → keywords. Chinese keywords are Traditional (Simplified input is folded to
  Traditional before matching, see ``S2T``), separated by spaces. English keywords are lower-case words or
  phrases separated by commas; a trailing ``*`` on a single word matches any ending (``pregnan*``).
  Weights: 4 a phrase that settles the topic, 3 a clear topic word, 2 a likely one, 1 a hint.

When keywords overlap, only the longest match counts (告白 hides 告, lost touch hides lost), and
``MASK_ZH`` / ``MASK_EN`` list phrases that count for nothing but hide what they contain (毛病, feel lost).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Spec:
    head: str
    """name | English name | more English aliases, comma-separated"""
    names: str
    fallback: str = ""
    terms: str = ""
    zh: Mapping[float, str] = field(default_factory=dict)
    en: Mapping[float, str] = field(default_factory=dict)


TIE_ORDER = (
    "公訟 疾病 六甲 求兒 尋人 失物 行人 遠信 移居 築室 出外 墳墓 六畜 耕作 行舟 討海 作塭 求雨 "
    "經商 求財 功名 婚姻 家宅 自身 作事"
)
"""Who wins a tie: a question naming an event (a lawsuit, an illness, a birth, a loss) together with the
domain it happens in (a business partner, a husband, the family) is about the event."""

MIN_SCORE = 1.5
"""Below this a question has only faint hints (今年, "message"), which is no topic at all."""

GENERAL = "凡事"
"""The common category of a question that names no topic; every set's default."""

SPECS: tuple[Spec, ...] = (
    Spec(
        "婚姻 | marriage | love, relationship, romance, dating, wedding",
        names="婚姻 姻緣 感情 婚配 愛情 戀愛",
        terms="婚 姻 合 緣 媒 配",
        zh={
            4: "男朋友 女朋友 前男友 前女友 喜歡的人 對的人 真命天子 真命天女 外面有人 走到最後 "
            "定下來 催婚 等他 等她 還愛我 嫁給 娶她 喜歡上 愛上 變心 第三者 未婚夫 未婚妻 "
            "結婚對象 拜月老 感情路 異地戀",
            3: "結婚 婚姻 婚事 姻緣 離婚 求婚 訂婚 婚禮 相親 男友 女友 前任 復合 複合 挽回 "
            "分手 交往 告白 戀愛 桃花 正緣 外遇 小三 劈腿 出軌 感情 對象 另一半 曖昧 "
            "暗戀 網戀 心上人 有緣人 情人 單身 脫單 在一起 喜歡我 愛我 喜不喜歡 嫁 娶 婚 "
            "和好 冷戰 分居 伴侶 追求 追我 表白 前夫 前妻 提親 聘金 月老 紅線 婚後 婚前 "
            "在乎我 愛不愛 他還愛 她還愛",
            2: "夫妻 約會 網友 對方 男人 冷淡 我跟他 我和他 我跟她 我和她",
            1.5: "還有可能",
            1: "老公 老婆 太太 丈夫 妻子 跟他 跟她 吵架",
        },
        en={
            4.5: "move in with",
            4: "get married, getting married, back together, the one, feelings for, love life, "
            "online dating, settle down, true love, long distance, i m seeing, seeing someone, "
            "commit to me, marry me, love me, loves me, in a relationship, dating app, "
            "our relationship, my relationship, meet someone, find love, mr right, ask her out, "
            "ask him out, marriage counseling, someone new, love interest, find a husband, find a wife, "
            "find a boyfriend, find a girlfriend, find a partner",
            3: "my ex, marry, married, marriage, wedding, engaged, engagement, propose, proposal, "
            "boyfriend, girlfriend, fiance*, divorce, dating, relationship, romance, romantic, "
            "soulmate, soul mate, crush, cheating, cheat, affair, breakup, break up, broke up, in love, "
            "love, commit, commitment, reconcile, tinder, valentine, flirt*, ghosted, heartbreak, "
            "heartbroken, separated, separation, the guy, this guy, this girl, this man, this woman, "
            "my partner, grown apart, grow apart",
            2: "ex, date, anniversary, single, couple",
            1: "husband, wife, spouse, him, her, fighting, together",
        },
    ),
    Spec(
        "求財 | wealth | money, finance, investment, income",
        names="求財 財運 財利 錢財 財富 謀財",
        fallback="經商",
        terms="財 利 祿 富",
        zh={
            4: "第一桶金 虛擬貨幣 加密貨幣 經濟狀況 手頭很緊 要得回來 借給 意外之財 信用卡 卡費 "
            "被倒債 錢不夠 繳不出 收不回 賺外快 年終獎金",
            3: "財運 求財 發財 賺錢 股票 股市 炒股 基金 投資 理財 樂透 彩券 中獎 刮刮樂 "
            "獎金 年終 收入 要回來 討回 存款 存錢 借錢 欠錢 卡債 還債 負債 債務 貸款 "
            "房貸 車貸 虧錢 賠錢 破財 偏財 正財 財務 比特幣 外匯 期貨 跟會 倒會 標會 "
            "薪水 加薪 抵押 周轉 週轉 資金 現金 利息 利率 匯率 黃金 金價 存股 配息 股息 "
            "紅利 薪資 減薪 財庫 財神 退稅 外快 積蓄 保單 還錢 倒債 討債 欠債 金錢 手頭 "
            "缺錢 沒錢 獲利 回本 套牢 房價 退休金 勞保 年金 保費 存退休金",
            2: "財 錢 賺 債 股 經濟 報酬 保險 帳單 房租",
        },
        en={
            4: "make a fortune, pay back, paid back, get out of debt, index fund, credit card, pay off, "
            "passive income, side income, real estate, interest rate, cash flow",
            3: "money, wealth, rich, financial, finance*, invest*, stock*, crypto*, bitcoin, lottery, "
            "jackpot, lotto, debt*, loan*, owes, owed, owe, savings, income, salary, bonus, windfall, "
            "mortgage, gambling, gamble, gold, silver, cash, budget, expenses, pension, 401k, tax, "
            "taxes, refund, paycheck, wage, wages, financially, dividend*, portfolio, etf, forex, "
            "bills, inheritance, retirement savings, retirement fund, refinanc*",
            2: "earn*, raise, afford, fund, profit, pay, insurance, payout, poor, property",
            1: "broke, rent",
        },
    ),
    Spec(
        "經商 | business | trade, deal, deals, commerce, transaction",
        names="經商 交易 生意 買賣 商業 營商",
        fallback="求財",
        terms="利 財 交易 商 貨 市",
        zh={
            4: "做生意 談生意 開公司 頂下 頂讓 連鎖 開一家 客人變少 投資人 找投資 生意夥伴 "
            "結束營業 展店 擴點",
            3: "生意 經商 開店 店面 創業 合夥 擺攤 攤位 訂單 客戶 業績 營收 營業額 交易 "
            "買賣 簽約 進貨 批貨 出貨 貨款 廠商 供應商 加盟 網拍 電商 副業 商機 投標 "
            "標案 談判 成交 虧本 分店 股東 營運 合約 合同 餐廳 早餐店 小吃店 飲料店 "
            "咖啡廳 工作室 客源 開業 開幕 營業 收攤 倒閉 進口 出口 貿易 代工 品牌 產品 "
            "上架 接案 案源 報價 議價 招標 得標 商品 批發 零售 門市 集資 募資 入股 股份 "
            "轉讓 店租 合作案 經營 經銷",
            2.5: "店",
            2: "貨 商 老闆娘 工廠 合作 賣",
            1: "拖款",
        },
        en={
            4: "business partner, start my own, own company, own business, my shop, my store, "
            "my restaurant, small business, my business, our business, online store, online shop, "
            "food truck, business proposal, funding round, raise funding",
            3: "business, shop, store, restaurant, cafe, startup, start-up, supplier*, client*, customer*, "
            "deal, deals, negotiat*, sales, revenue, franchise, trade, trading, merchant, commerce, "
            "bakery, salon, boutique, stall, e-commerce, ecommerce, brand, product, products, launch, "
            "partnership, inventory, wholesale, retail, import, export, shipment, tender, pitch, "
            "investors, shareholders, merger, acquisition, buyout, vendor, clients, customers",
            2: "contract, company, venture, expand, order, orders, investor*, selling, buyer, buyers, sale",
            1: "sign, sell",
        },
    ),
    Spec(
        "功名 | career | job, work, exam, promotion, study, school",
        names="功名 事業 求名 仕途 工作 學業 考試 求職",
        fallback="作事 自身",
        terms="名 功名 官 第 貴 榜 仕",
        zh={
            4: "換工作 找工作 新工作 被裁員 不被重用 申請學校 工作不保 找不到工作 出國念書 "
            "考高中 考大學 考研究所 社會新鮮人 投履歷 換部門 換跑道 考律師 考會計師 考公職 "
            "考證照 考教師 考執照 律師考試",
            3: "面試 升遷 升官 升職 考試 考上 考取 錄取 上榜 金榜 國考 高考 普考 公務員 "
            "公職 學測 指考 會考 統測 大考 聯考 研究所 推甄 甄試 留學 證照 執照 職位 "
            "職缺 老闆 主管 上司 離職 辭職 跳槽 裁員 資遣 失業 求職 事業 前途 功名 學業 "
            "讀書 念書 唸書 成績 考運 論文 口試 畢業 博士 碩士 升學 轉職 轉調 外派 調職 "
            "上班 職場 應徵 重用 考核 大學 老板 高中 國中 基測 分數 補習 轉學 休學 考研 "
            "讀研 證書 職涯 職業 飯碗 面談 錄用 轉正 試用期 升等 考績 年資 被開除 炒魷魚 "
            "開除 請辭 留職停薪 調動 轉行 求學 進修 學位 實習 正職 全職 待業 履歷 新主管 "
            "排擠 職場霸凌 工程師 業務 當老師 工作環境",
            2: "工作 考 同事 學校 兼職 打工 加班",
            1.5: "公司",
        },
        en={
            4: "job offer, lost my job, new job, new work, find work, laid off, bar exam, driving test, "
            "grad school, graduate school, master degree, switch careers, medical school, law school, "
            "nursing school, med school, performance review, career change, job hunt, job search, "
            "job hunting, office politics, entrance exam, acceptance letter, final exam, "
            "licensing exam, study abroad, exchange program",
            3: "job, jobs, career*, interview*, exam*, promot*, boss, quit, resign*, fired, hired, hiring, "
            "university, college, school, degree, phd, admission*, study, studying, studies, "
            "scholarship, thesis, unemployed, employer, employment, coworker*, colleague*, manager, "
            "supervisor, department, layoff, layoffs, redundancy, resume, cv, recruiter, internship, "
            "intern, residency, tenure, certification, gpa, grades, midterm*, finals, sat, gre, gmat, "
            "ielts, toefl, admitted, coworkers, workplace, unemployment",
            2: "work, test, offer, position, student, grade*, master, application, pass, transfer, "
            "apply for, applying, applied, license, get into, major",
            1: "working, office, team, accepted, retirement",
        },
    ),
    Spec(
        "疾病 | health | illness, sickness, disease, medical",
        names="疾病 治病 病症 健康 病情 身體",
        fallback="自身",
        terms="病 痊 安 醫 藥 癒 愈 瘥 康 禱",
        zh={
            4: "健康檢查 加護病房 檢查報告 開完刀 治得好 睡不著 高血壓 膽固醇",
            3: "病 生病 疾病 治病 病情 看病 手術 開刀 住院 出院 醫院 醫生 醫師 治療 健康 "
            "身體 癌 腫瘤 化療 放療 中風 復健 發燒 感冒 咳嗽 失眠 憂鬱 焦慮 急診 健檢 "
            "血壓 糖尿 心臟 洗腎 換腎 移植 吃藥 康復 痊癒 受傷 骨折 過敏 開刀房 病房 "
            "重症 失智 良性 惡性 憂郁 肝 肺 腎 胃 頭暈 暈 血糖 肺炎 感染 發炎 病毒 "
            "新冠 確診 長照 照護 看護 安寧 病危 加護 插管 昏迷 傷口 癌細胞 腫塊 結節 "
            "息肉 切片 醫療 中藥 西藥 針灸 復原 療程 治好 過世 身心 恐慌 精神 關節 膝蓋 "
            "脊椎 視力 白內障 皮膚 中醫 西醫 掛號 門診 回診 吃不下 復發 乳癌 肺癌 大腸癌 "
            "肝癌 導管 心導管 咳 嘔吐 頭痛 胸悶",
            2: "痛 藥 檢查 指數 疼 撐過 撐得過 疫苗 腸 眼睛 牙 退化 老化",
            1: "壓力大 體重 減肥 腰 背",
        },
        en={
            4: "test results, mental health, back pain, blood pressure, heart attack, intensive care, "
            "pull through, get well, blood test, lab results, ct scan, emergency room, broken leg, "
            "broken arm",
            3: "health, sick, sickness, illness, disease, surgery, hospital*, doctor*, treatment, cancer, "
            "tumor, tumour, chemo*, stroke, fever, diagnos*, medical, medication, medicine, symptom*, "
            "depress*, anxiety, insomnia, diabetes, therapy, covid, flu, injur*, biopsy, pneumonia, "
            "infection, kidney, liver, lung*, dementia, alzheimer*, parkinson*, asthma, arthritis, icu, "
            "recovery, recovering, hospice, terminal, prognosis, mri, x-ray, knee, migraine, headache*, "
            "dizzy, dizziness, fatigue, surgeon, nurse, clinic, ambulance, vaccine, vaccinat*, "
            "therapist, psychiatrist, pills, chronic, fracture, wound, remission, relapse, transplant, "
            "cough*, vomit*, bleed*, faint*, screening, symptoms",
            2: "healthy, ill, pain, recover*, heal*, cure*, operation, checkup, check-up, cough, virus, "
            "scan, hip, mental, condition, weight, hurt*, ache*, aching",
            1: "tired, exhausted, diet",
        },
    ),
    Spec(
        "公訟 | lawsuit | legal, legal dispute, litigation, court",
        names="公訟 官事 官司 訴訟 詞訟 官非",
        terms="訟 官 理 口舌 是非 刑",
        zh={
            5: "官司 提告 告我 被人告 打官司 上法院",
            4: "監護權 妨害名譽 存證信函 吃上官司 勞資糾紛 被起訴 監護 撫養權 申訴 勞工局 小額訴訟 解僱 解雇",
            3: "訴訟 法院 法官 律師 上訴 判決 判刑 勝訴 敗訴 和解 調解 糾紛 官非 訟 檢察官 "
            "起訴 仲裁 傳票 坐牢 罰單 誹謗 毀謗 勞資 資遣費 告人 告他 告對方 開庭 出庭 "
            "法律 違法 犯法 刑責 罰款 罰金 交保 羈押 警局 筆錄 爭產 贍養費 賠償",
            2: "告 求償 警察 車禍 檢舉 遺囑 詐騙",
        },
        en={
            5: "lawsuit, sue, suing, sued, court, small claims",
            4: "take to court, traffic ticket, custody case, judge, lawyer*, attorney*, legal action, "
            "restraining order, contract dispute, file a complaint",
            3: "legal, custody, trial, verdict, litigation, dispute, defamation, slander, arrested, jail, "
            "prison, probation, mediation, arbitration, testimony, testify, subpoena, summons, accused, "
            "accusation, charged, guilty, prosecutor, at fault, liable, liability",
            2: "settle, settlement, appeal, police, arrest*, charges, contest, case, fraud, compensation, "
            "hearing, witness, evidence, complaint, insurance claim",
            1: "ticket, scam, innocent, claim",
        },
    ),
    Spec(
        "六甲 | pregnancy | childbirth, birth",
        names="六甲 懷孕 生產 胎孕 孕產",
        fallback="求兒",
        terms="孕 生 產 男 女 胎",
        zh={
            4: "生男生女 男生還是女生 男孩還是女孩 是男是女 預產期 要生了 快生了 要生產 這一胎",
            3: "懷孕 六甲 胎 胎兒 待產 產檢 順產 剖腹 臨盆 坐月子 難產 流產 安胎 孕婦 生產 "
            "分娩 產房 產後 月子 胎位 胎動 羊水 妊娠 孕期 懷胎 男寶 女寶 產婦 接生 早產",
            2: "孕 寶寶 母子 男孩 女孩",
        },
        en={
            4: "boy or a girl, boy or girl, due date, i m due, expecting a baby, son or daughter, "
            "gender reveal, born healthy",
            3: "pregnant, pregnancy, childbirth, give birth, giving birth, miscarriage, c-section, "
            "newborn, unborn, prenatal, trimester, delivery, labor, labour, ultrasound, premature, "
            "preterm, be born",
            2: "baby, expecting, due, my baby, the birth",
            1.5: "boy",
            1: "girl",
        },
    ),
    Spec(
        "求兒 | children | having a child, fertility, offspring",
        names="求兒 求子 子嗣 子息 求嗣",
        fallback="六甲",
        terms="子 嗣 兒 孕 男",
        zh={
            4: "求子 求兒 不孕 試管 人工受孕 備孕 懷上 懷得上 想要小孩 再生一個 沒有小孩 "
            "沒有孩子 生小孩 生孩子 要小孩 要孩子 能懷孕 會懷孕 能不能懷孕 會不會懷孕 "
            "可以懷孕 註生娘娘 傳宗接代 抱孫 添丁 子嗣 生二胎 注生娘娘 第二個孩子 第二胎 "
            "二寶 生老二 懷不上 生不出 子女緣 人工生殖 受孕 凍卵 沒懷孕 沒有懷孕 還沒懷孕 "
            "當媽媽 當爸爸 當爸媽 當媽 當爸 努力做人",
            3: "再生 排卵 無子",
            2: "做人",
        },
        en={
            4: "have a baby, having a baby, have a child, have children, have kids, start a family, "
            "second child, another child, another baby, get pregnant, getting pregnant, trying for, "
            "have another, trying for a baby, egg freezing, become parents, become a mother, "
            "become a father, become a mom, become a dad, baby soon",
            3: "conceive, conceiving, ivf, fertility, infertil*, adopt, adoption, surrogate*",
        },
    ),
    Spec(
        "失物 | lost item | lost property, lost",
        names="失物 尋物 遺失",
        terms="失 物 尋 在",
        zh={
            4: "忘了帶 放在哪 放哪 忘記拿 弄不見 被拿走 被偷走 找東西",
            3: "遺失 掉了 弄丟 丟了 不見了 找不到 失物 被偷 失竊 遺落 忘在 掉在 搞丟 尋物",
            2: "找得回來 找回 不見 錢包 皮夾 丟 遺忘 落在",
            1: "找得到 手機 鑰匙 戒指 項鍊 證件 手錶 文件 包包 東西 掉 狗鍊 筆電 耳機 眼鏡 雨傘 手表",
        },
        en={
            4: "lost my, where did i leave, left on the, left my, can t find, cannot find, get it back, "
            "left it, in a taxi, in the taxi, in an uber, be returned, turn up",
            3: "stolen, theft, misplace*, wallet, keys, purse",
            2: "lost, lose, find it, where is my, laptop, glasses, earrings, necklace, bracelet, jewelry, "
            "jewellery, umbrella, suitcase, backpack, documents, id card",
            1: "phone, ring, watch, key, bag, passport, luggage",
        },
    ),
    Spec(
        "尋人 | missing person | finding someone",
        names="尋人 找人 失蹤",
        fallback="行人",
        terms="尋 見 人 歸",
        zh={
            4: "離家出走 下落不明 人在哪 聯絡不上 找不到人 失蹤 走失 失聯 聯絡不到 聯繫不上 "
            "找不到他 找不到她 不知去向 音訊全無 失去聯絡 搜救 山難 聯系不上",
            3: "下落 找人 尋人 協尋 生母 生父 親生",
            2: "沒回家",
        },
        en={
            4: "ran away, run away, lost touch, birth mother, birth father, birth parents, where is he, "
            "where is she, went missing, go missing, search party, has not come home, hasn t come home, "
            "didn t come home, can t reach, cannot reach, can t contact, long lost, reunite, "
            "wandered off, wander off",
            3: "missing, runaway, whereabouts, estranged, search for, find her, find him, "
            "stopped answering, not answering, not picking up, can t get hold of",
            2: "biological, reunion, no contact, disappeared, find them, is she ok, is he ok, is she safe, "
            "is he safe",
        },
    ),
    Spec(
        "出外 | travel | trip, journey, going abroad",
        names="出外 出行 出門 旅行 遠行 行程",
        fallback="行人",
        terms="行 出 出入 程 路 遠",
        zh={
            4: "自助旅行 打工度假 出去玩 畢業旅行 出遠門 機車環島",
            3: "旅行 旅遊 出國 出差 出遊 出門 出外 度假 遊學 機票 搭機 航班 行程 長途 遠行 "
            "環島 出境 郵輪 一路平安 外出 露營 自駕 轉機 班機 訂房 民宿",
            2: "開車 路上 回老家 飛機 簽證 泰國 韓國 大陸 香港 澳門 越南 新加坡 澳洲 紐西蘭 "
            "爬山 登山 飯店 蜜月 火車 高鐵 日本 歐洲 美國",
            1.5: "國外 騎車 搭車",
            1: "外地 玩 行李",
        },
        en={
            4: "business trip, road trip, going abroad, travel abroad, my trip, upcoming trip, drive to, "
            "gap year",
            3: "travel*, trip, journey, vacation, backpacking, flight, tour, cruise, camping, hiking, "
            "hike, hotel, airbnb, tourist, sightseeing, solo trip",
            2: "abroad, holiday, fly, visa, thailand, korea, china, vietnam, taiwan, hong kong, australia, "
            "japan, europe, america, honeymoon",
            1: "overseas, drive, driving, train",
        },
    ),
    Spec(
        "移居 | moving | relocation, move, moving house, relocate",
        names="移居 移徙 遷居 遷移 搬遷 搬家",
        fallback="家宅",
        terms="居 移 遷 徙 宅",
        zh={
            4: "搬過去 新租的 搬新家 換城市 遷戶口 到外縣市 去國外生活 出國定居 移居國外",
            3: "搬家 搬到 搬去 搬回 搬出去 移民 移居 遷居 入厝 定居 租屋 租房 搬離 搬出 "
            "搬進 新居 搬來 住到 換屋 換房 換個環境 國外生活 離開台灣",
            2: "搬 新家 公寓 租新 找房子 落腳 回鄉 新屋 看房",
            1: "遷 房東",
        },
        en={
            4: "move to, move into, moving to, moving into, new apartment, new city, moving house, "
            "relocat*, emigrat*, immigrat*, move closer, move back, move out, moving out, move in, "
            "moving in, new home, change cities",
            3: "moving, new house, neighborhood, neighbourhood, settle in",
            2: "move, apartment, lease, new place, rent a, renting, housing",
            1: "landlord, live in",
        },
    ),
    Spec(
        "家宅 | home | family, household, house",
        names="家宅 家運 家事 家庭 宅運",
        terms="家 宅 家道 門 安",
        zh={
            4: "買這間房子 家裡的運 家運 一家人 全家人 家和萬事興 分家產",
            3: "家宅 家庭 家事 全家 房子 買房 陽宅 分家 婆媳 家道 風水 住在一起 同住 相處 "
            "婆家 娘家 兄弟姊妹 手足 房屋 住家 神明廳 家裡 家中 家人",
            2: "公婆 卡到 和睦 出事 祖先牌位",
            1: "父母 爸媽 兄弟 姊妹 遺產 孝順 長輩 姐妹",
        },
        en={
            4: "buy this house, buy a house, bad energy, feng shui, our home, family members, family home, "
            "mother-in-law, father-in-law, at home",
            3: "household, harmony, in-laws, my parents",
            2: "family, home, house, parents, haunted, relatives, grandparents, siblings",
            1: "arguing, sister, brother, peaceful, kids",
        },
    ),
    Spec(
        "築室 | building | construction, renovation, house building",
        names="築室 修造 建屋 造屋 動土 修屋",
        fallback="家宅",
        terms="室 宅 造 修 屋",
        zh={
            4: "蓋房子 建房子",
            3: "蓋房 建屋 翻修 裝修 裝潢 動工 動土 修繕 改建 整修 築室",
        },
        en={
            4: "build a house, building a house",
            3: "renovat*, remodel*, construction, contractor",
        },
    ),
    Spec(
        "行人 | return | awaited return, visitor, traveller's return",
        names="行人 來人 歸人",
        fallback="遠信",
        terms="行人 歸 還 回 至",
        zh={
            4: "會回來 平安回來 會回家",
            3: "回來嗎 回來 回國 歸來 返鄉 回台 來訪 客人 會來 來找我",
            2: "回家",
        },
        en={
            4: "come back, coming back, come home, coming home, back from, return safely",
            3: "visitor, return, returning, visit",
            2: "guest, deployment, arrive",
        },
    ),
    Spec(
        "遠信 | news | news from afar, letter, message",
        names="遠信 音信 信息 書信",
        fallback="行人",
        terms="信 音 書 遠信",
        zh={
            3: "消息 音訊 回音 音信 回信 來信 書信 信件 遠信",
            2: "郵件 通知",
        },
        en={
            4: "hear from, heard from, hear back, word from",
            3: "letter, news, reply",
            2: "email, mail",
            1: "message",
        },
    ),
    Spec(
        "自身 | self | personal, luck, personal fortune",
        names="自身 本身 歲君 流年 運勢",
        terms="身 福 運 時",
        zh={
            4: "流年不利 犯小人 命運 順不順",
            3: "運勢 運氣 流年 太歲 犯太歲 安太歲 本命年 整體運 倒楣 改運 本命 人生",
            2: "不順 衰 整年 整體 貴人 小人 煞",
            1: "下半年 上半年 這一年 運 命 未來 生活",
            0.5: "今年 明年",
        },
        en={
            4: "bad luck, my luck, rest of this year, what lies ahead, in store, my future, my life, "
            "life path",
            3: "luck, unlucky, horoscope, zodiac, next few months, coming months, coming year",
            2: "lucky, fortune, destiny, fate, karma, blessing, the future, bring me",
            1: "overall, in general, ahead",
            0.5: "this year, next year",
        },
    ),
    Spec(
        "作事 | undertaking | plan, project, venture",
        names="作事 謀事 謀望 辦事",
        terms="事 謀 謀望 作事",
        zh={
            3: "計畫 計劃 專案 案子",
            2: "這件事 事情 做下去",
            1.5: "這事 想做的事 決定",
        },
        en={
            3: "project, plan, plans",
            2: "this matter, succeed",
        },
    ),
    Spec(
        "六畜 | livestock | animals, pets",
        names="六畜 牲畜 畜牧 寵物",
        terms="畜 牛 羊 馬",
        zh={
            4: "養豬 養牛 養雞 養鴨 養羊 養的豬 養的雞 養的牛 狗狗 貓咪 毛小孩 我的狗 我的貓",
            3: "六畜 牲畜 家畜 寵物 豬隻",
            1: "豬 牛 羊 雞 鴨 狗 貓",
        },
        en={
            4: "raise pigs, farm animals",
            3: "livestock, pig, pigs, cattle, cow, cows, sheep, goat*, horse*, dog, dogs, cat, cats, pet, "
            "pets, puppy, kitten, poultry",
        },
    ),
    Spec(
        "耕作 | farming | crops, harvest, agriculture",
        names="耕作 田蠶 農作 農事 種植 收成",
        terms="田 蠶 桑 麻 禾 收 耕",
        zh={
            3: "收成 種田 種菜 農作 耕作 果園 稻子 稻米 種植 作物 豐收 菜園 蠶 農夫",
            2: "收穫 收獲 田 農 種的",
        },
        en={
            3: "crop*, harvest, farming, orchard, agriculture",
            2: "farm, garden, plant*, seeds",
        },
    ),
    Spec(
        "墳墓 | graves | grave, tomb, burial",
        names="墳墓 山墳 陰宅 墓地 陰地",
        terms="墳 墓 地 陰地 山",
        zh={
            3: "墳 墓 墳墓 祖墳 撿骨 遷葬 下葬 安葬 塔位 靈骨塔 納骨 墓地 陰宅 葬",
        },
        en={
            3: "grave, graves, tomb, burial, cemetery, bury, buried, columbarium, funeral, ashes",
        },
    ),
    Spec(
        "行舟 | sailing | boat, voyage, shipping",
        names="行舟 航海 舟船",
        fallback="出外 行人",
        terms="舟 船 風 水 行",
        zh={
            3: "開船 行船 跑船 坐船 搭船 航行 出航 行舟",
            2: "船 海況",
        },
        en={
            3: "boat, sail*, voyage, yacht",
            2: "ship, ferry",
        },
    ),
    Spec(
        "討海 | fishing | sea fishing",
        names="討海 漁業 捕魚 出海",
        terms="海 魚 漁 水",
        zh={
            3: "捕魚 出海 漁船 漁獲 漁穫 討海",
            2: "釣魚 漁",
        },
        en={
            4: "go fishing, fishing trip",
            3: "fishing, fisherman",
            2: "fish, catch",
        },
    ),
    Spec(
        "作塭 | fish farming | aquaculture, fish pond",
        names="作塭 魚苗 養殖 魚塭",
        terms="魚 塭 水 苗",
        zh={
            4: "魚塭 養蝦 養魚 養殖 魚苗 蝦苗 作塭 虱目魚",
        },
        en={
            4: "fish farm, fish farming, fish pond, aquaculture, shrimp farm",
            3: "shrimp",
        },
    ),
    Spec(
        "求雨 | rain | weather",
        names="求雨 天氣 雨水",
        terms="雨 天 旱",
        zh={
            3: "下雨 求雨 降雨 乾旱 干旱 缺水 雨",
            2: "天氣 颱風 台風",
        },
        en={
            3: "rain, raining, weather, drought",
            2: "typhoon, storm",
        },
    ),
    Spec(
        "凡事 | general | general, overall, everything, all matters",
        names="凡事 詩意 聖意 解曰 綜合 總論",
        terms="凡事 百事 諸事",
    ),
)

MASK_ZH = (
    "考慮 思考 參考 考驗 考量 好消息 做人處事 網路 毛病 報告 廣告 告訴 告知 公告 警告 預告 忠告 禱告 "
    "宣告 痛苦 心痛 雞排 雞湯 牛排 牛肉 豬肉 羊肉 雞肉 雨天 風雨 生意見 出問題"
)
MASK_EN = (
    "this fortune, the fortune, my fortune poem, feel lost, i m lost, so lost, lost weight, move on, "
    "moving on, move forward, moving forward, work out, works out, working out, at work, pass away, "
    "passed away"
)
"""Phrases that hide the keywords inside them and score nothing themselves."""

S2T = """
侣侶 伞傘 价價 内內 冻凍 劳勞 参參 呕嘔 嘱囑 块塊 够夠 实實 导導 帐帳 带帶 库庫 厅廳 闷悶 爱愛
战戰 挂掛 撑撐 抚撫 挤擠 扩擴 晕暈 历歷 毁毀 减減 湾灣 无無 争爭 异異 当當 愈癒 确確 祸禍 税稅 积積
笔筆 节節 红紅 纽紐 细細 线線 县縣 缴繳 羁羈 习習 脚腳 肠腸 肤膚 胆膽 兴興 举舉 万萬 兰蘭 号號 补補
视視 记記 诈詐 诽誹 谤謗 议議 誉譽 变變 责責 贵貴 费費 贸貿 赡贍 辈輩 违違 针針 销銷 镜鏡 铁鐵 闭閉
关關 陆陸 韩韓 饭飯 饮飲 驾駕 骑騎 骗騙 验驗 鱿魷 鲜鮮 黄黃 点點
丢丟 来來 个個 备備 传傳 债債 伤傷 偿償 儿兒 创創 划劃 动動 务務 胜勝 势勢 汇匯 协協
员員 问問 单單 吗嗎 国國 园園 执執 报報 场場 坟墳 压壓 伙夥 夹夾 妇婦 妈媽 孙孫 学學 宠寵 宝寶
专專 寻尋 对對 岛島 师師 币幣 厂廠 广廣 后後 复復 恶惡 虑慮 忧憂 应應 怀懷 恋戀 户戶 换換 捡撿
拟擬 摆擺 摊攤 败敗 数數 暧曖 书書 会會 东東 业業 乐樂 标標 机機 检檢 权權 欧歐 欢歡 岁歲 归歸
气氣 决決 没沒 况況 测測 汤湯 渔漁 济濟 烧燒 营營 状狀 奖獎 获獲 环環 产產 毕畢 画畫 疗療 发發
监監 硕碩 礼禮 祷禱 种種 窃竊 筑築 签簽 纠糾 约約 纳納 纷紛 终終 结結 络絡 统統 经經 综綜 网網
紧緊 缘緣 总總 绩績 缮繕 罚罰 圣聖 联聯 职職 脱脫 肾腎 肿腫 脏臟 临臨 盖蓋 药藥 虚虛 亏虧 虾蝦
蚕蠶 术術 装裝 里裡 见見 亲親 订訂 计計 讯訊 讨討 讼訟 访訪 诉訴 诊診 词詞 试試 诗詩 调調 谈談
请請 论論 谋謀 证證 护護 读讀 让讓 丰豐 猪豬 猫貓 负負 财財 货貨 买買 贷貸 资資 赔賠 卖賣 赚賺
踪蹤 车車 轨軌 轮輪 转轉 办辦 辞辭 农農 这這 连連 进進 游遊 运運 过過 远遠 迁遷 遗遺 还還 邮郵
乡鄉 医醫 钓釣 录錄 钱錢 链鍊 锁鎖 钥鑰 长長 门門 开開 间間 阴陰 阳陽 鸡雞 离離 难難 电電 灵靈
顶頂 项項 顺順 预預 头頭 题題 额額 风風 飞飛 养養 体體 鱼魚 鸭鴨 么麼 们們 时時 说說 样樣
现現 险險 处處 觉覺 认認 识識 适適 继繼 续續 两兩 几幾 边邊 爷爺 婴嬰 热熱 宁寧 闹鬧 给給
"""
"""Simplified → Traditional for the characters keywords use (pairs, Simplified first), so 结婚 and 结婚
match 結婚 without a conversion library. No keyword contains a character on the left (a test holds this),
so folding a Traditional question never changes what it matches. Where the Simplified character also
stands for other Traditional ones (干 乾/幹, 注 註, 板 闆, 郁 鬱, 台 颱) it is not folded; the keywords carry
the Simplified spelling too (干旱, 注生娘娘, 老板, 憂郁, 台風)."""
