"""The English keywords that point a question at each common category (``data.py`` says how
keywords are weighed and matched).

Keywords are lower-case words or phrases separated by commas; a trailing ``*`` on a single word matches
any ending (``pregnan*``). ``MASK_EN`` lists phrases that count for nothing but hide the keywords inside
them (feel lost hides lost).
"""

from __future__ import annotations

from collections.abc import Mapping

KEYWORDS_EN: Mapping[str, Mapping[float, str]] = {
    "婚姻": {  # marriage
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
    "求財": {  # wealth
        4: "house prices, housing prices, property prices, home prices, make a fortune, pay back, paid back, get out of debt, index fund, credit card, pay off, "
        "passive income, side income, real estate, interest rate, cash flow",
        3: "money, wealth, rich, financial, finance*, invest*, stock*, crypto*, bitcoin, lottery, "
        "jackpot, lotto, debt*, loan*, owes, owed, owe, savings, income, salary, bonus, windfall, "
        "mortgage, gambling, gamble, gold, silver, cash, budget, expenses, pension, 401k, tax, "
        "taxes, refund, paycheck, wage, wages, financially, dividend*, portfolio, etf, forex, "
        "bills, inheritance, retirement savings, retirement fund, refinanc*",
        2: "earn*, raise, afford, fund, profit, pay, insurance, payout, poor, property",
        1: "broke, rent",
    },
    "經商": {  # business
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
    "功名": {  # career
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
    "疾病": {  # health
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
    "公訟": {  # lawsuit
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
    "六甲": {  # pregnancy
        4: "boy or a girl, boy or girl, due date, i m due, expecting a baby, son or daughter, "
        "gender reveal, born healthy",
        3: "pregnant, pregnancy, childbirth, give birth, giving birth, miscarriage, c-section, "
        "newborn, unborn, prenatal, trimester, delivery, labor, labour, ultrasound, premature, "
        "preterm, be born",
        2: "baby, expecting, due, my baby, the birth",
        1.5: "boy",
        1: "girl",
    },
    "求兒": {  # children
        4: "try for baby, try for a baby, trying for baby, trying to conceive, have a baby, having a baby, have a child, have children, have kids, start a family, "
        "second child, another child, another baby, get pregnant, getting pregnant, trying for, "
        "have another, trying for a baby, egg freezing, become parents, become a mother, "
        "become a father, become a mom, become a dad, baby soon",
        3: "conceive, conceiving, ivf, fertility, infertil*, adopt, adoption, surrogate*",
    },
    "失物": {  # lost item
        4: "lost my, where did i leave, left on the, left my, can t find, cannot find, get it back, "
        "left it, in a taxi, in the taxi, in an uber, be returned, turn up",
        3: "stolen, theft, misplace*, wallet, keys, purse",
        2: "lost, lose, find it, where is my, laptop, glasses, earrings, necklace, bracelet, jewelry, "
        "jewellery, umbrella, suitcase, backpack, documents, id card",
        1: "phone, ring, watch, key, bag, passport, luggage",
    },
    "尋人": {  # missing person
        4: "ran away, run away, lost touch, birth mother, birth father, birth parents, where is he, "
        "where is she, went missing, go missing, search party, has not come home, hasn t come home, "
        "didn t come home, can t reach, cannot reach, can t contact, long lost, reunite, "
        "wandered off, wander off",
        3: "haven t talked, haven t spoken, missing, runaway, whereabouts, estranged, search for, find her, find him, "
        "stopped answering, not answering, not picking up, can t get hold of",
        2: "biological, reunion, no contact, disappeared, find them, is she ok, is he ok, is she safe, "
        "is he safe",
    },
    "出外": {  # travel
        4: "business trip, road trip, going abroad, travel abroad, my trip, upcoming trip, drive to, "
        "gap year",
        3: "travel*, trip, journey, vacation, backpacking, flight, tour, cruise, camping, hiking, "
        "hike, hotel, airbnb, tourist, sightseeing, solo trip",
        2: "abroad, holiday, fly, visa, thailand, korea, china, vietnam, taiwan, hong kong, australia, "
        "japan, europe, america, honeymoon",
        1: "overseas, drive, driving, train",
    },
    "移居": {  # moving
        4: "move to, move into, moving to, moving into, new apartment, new city, moving house, "
        "relocat*, emigrat*, immigrat*, move closer, move back, move out, moving out, move in, "
        "moving in, new home, change cities",
        3: "moving, new house, neighborhood, neighbourhood, settle in",
        2: "move, apartment, lease, new place, rent a, renting, housing",
        1: "landlord, live in",
    },
    "家宅": {  # home
        4: "my first place, first home, buy a home, buying a home, buying a house, buy a place, buying a place, buy an apartment, buying an apartment, buy this house, buy a house, bad energy, feng shui, our home, family members, family home, "
        "mother-in-law, father-in-law, at home",
        3: "household, harmony, in-laws, my parents",
        2: "family, home, house, parents, haunted, relatives, grandparents, siblings",
        1: "arguing, sister, brother, peaceful, kids",
    },
    "築室": {  # building
        4: "build a house, building a house",
        3: "renovat*, remodel*, construction, contractor",
    },
    "行人": {  # return
        4: "come back, coming back, come home, coming home, back from, return safely",
        3: "visitor, return, returning, visit",
        2: "guest, deployment, arrive",
    },
    "遠信": {  # news
        4: "hear from, heard from, hear back, word from",
        3: "letter, news, reply",
        2: "email, mail",
        1: "message",
    },
    "自身": {  # self
        4: "bad luck, my luck, rest of this year, what lies ahead, in store, my future, my life, life path",
        3: "luck, unlucky, horoscope, zodiac, next few months, coming months, coming year",
        2: "lucky, fortune, destiny, fate, karma, blessing, the future, bring me",
        1: "overall, in general, ahead",
        0.5: "this year, next year",
    },
    "作事": {  # undertaking
        3: "project, plan, plans",
        2: "this matter, succeed",
    },
    "六畜": {  # livestock
        4: "raise pigs, farm animals",
        3: "livestock, pig, pigs, cattle, cow, cows, sheep, goat*, horse*, dog, dogs, cat, cats, pet, "
        "pets, puppy, kitten, poultry",
    },
    "耕作": {  # farming
        3: "crop*, harvest, farming, orchard, agriculture",
        2: "farm, garden, plant*, seeds",
    },
    "墳墓": {  # graves
        3: "grave, graves, tomb, burial, cemetery, bury, buried, columbarium, funeral, ashes",
    },
    "行舟": {  # sailing
        3: "boat, sail*, voyage, yacht",
        2: "ship, ferry",
    },
    "討海": {  # fishing
        4: "go fishing, fishing trip",
        3: "fishing, fisherman",
        2: "fish, catch",
    },
    "作塭": {  # fish farming
        4: "fish farm, fish farming, fish pond, aquaculture, shrimp farm",
        3: "shrimp",
    },
    "求雨": {  # rain
        3: "rain, raining, weather, drought",
        2: "typhoon, storm",
    },
}
"""Common category (by its zh-Hant name) → weight → keywords."""

MASK_EN = (
    "this fortune, the fortune, my fortune poem, feel lost, i m lost, so lost, lost weight, move on, "
    "moving on, move forward, moving forward, work out, works out, working out, at work, pass away, "
    "passed away"
)
"""Phrases that hide the keywords inside them and score nothing themselves."""
