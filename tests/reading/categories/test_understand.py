"""Reading questions as people type them: the folding (script, Cantonese, Hokkien, casual English) and
the rules that pick the topic a question asks about and the second one it names."""

from __future__ import annotations

import pytest
from qianshi.server.reading.categories import fold
from qianshi.server.reading.categories.understand import understand


@pytest.mark.parametrize(
    ("typed", "folded"),
    [
        ("我想搵工", "我想找工作"),  # longest first: 搵工 before 搵
        ("佢係咪唔鍾意我", "他是不是不喜歡我"),
        ("佢系咪钟意我", "他是不是喜歡我"),  # Cantonese typed in Simplified
        ("阮翁無頭路", "我老公沒有工作"),
        ("阮兜厝內無平安", "我家家裡不平安"),
        ("我们想做人工受孕", "我們想做人工受孕"),  # 人工 is a Cantonese salary, 人工受孕 is kept whole
        ("勞資糾紛要仲裁嗎", "勞資糾紛要仲裁嗎"),  # 仲 is Cantonese 還, 仲裁 is kept
        ("ＯＫ，離開臺灣好嗎", "ok,離開台灣好嗎"),  # full-width ASCII, Taiwan's everyday 台
        ("回娘家過年", "回娘家過年"),  # Traditional text never goes through OpenCC (娘家 → 孃家)
        ("我妈的头发掉很多", "我媽的頭髮掉很多"),  # OpenCC converts by phrase: 头发 → 頭髮, not 頭發
    ],
)
def test_the_question_is_folded_into_the_words_the_keywords_use(typed: str, folded: str) -> None:
    assert fold.zh(typed) == folded


def test_casual_english_is_spelled_out() -> None:
    assert fold.en_words("u think my bf is gonna propose? hasnt said anything") == [
        "you", "think", "my", "boyfriend", "is", "going", "to", "propose", "hasn", "t", "said", "anything",
    ]  # fmt: skip
    assert fold.en_words("My wife's surgery") == ["my", "wife", "surgery"]


@pytest.mark.parametrize(
    ("question", "topic", "secondary"),
    [
        # a list of troubles, then "will it get better": the last trouble named
        ("老公失業在家，小孩又一直生病，這樣下去會好起來嗎？", "疾病", "功名"),
        ("小孩一直生病，老公又失業在家，這樣下去會好起來嗎？", "功名", "疾病"),
        ("My dad is in hospital and I might lose my job too. Will things get better?", "功名", "疾病"),
        # the asking part names the topic: its clear words count twice
        ("我媽住院開刀，醫藥費又不夠，錢的問題要怎麼解決？", "求財", "疾病"),
        ("工作壓力大到每天失眠要不要乾脆辭職", "功名", "疾病"),  # cut before 要不要, no comma needed
        (
            "My girlfriend wants to move to Taipei with me but I'd have to quit my job, should I quit?",
            "功名",
            "移居",
        ),
        # a passing word where it asks does not outweigh what the question is about
        ("被人告了，會不會賠很多錢", "公訟", None),
        ("怀孕五个月了，胎儿健康吗", "六甲", "疾病"),
        # one matter seen twice (a missing sister, her coming back) is no second worry
        ("我妹失联三天了，我妈急到住院，妹妹会平安回来吗", "行人", "疾病"),
        # a hint is no second worry
        ("我男朋友在 UK 读 master，异地恋能走下去吗", "婚姻", None),
    ],
)
def test_the_part_that_asks_decides_and_the_other_worry_is_kept(
    question: str, topic: str, secondary: str | None
) -> None:
    found = understand(question)
    assert (found.topic, found.secondary) == (topic, secondary), found


def test_what_a_topic_rests_on_can_be_shown() -> None:
    found = understand("我同男朋友拍拖三年，佢係咪想同我結婚？")
    assert found.topic == "婚姻"
    assert {("男朋友", "婚姻"), ("交往", "婚姻"), ("結婚", "婚姻")} <= {(w, c) for w, c, _ in found.keywords}
    assert found.asked == "他是不是想同我結婚"


@pytest.mark.parametrize(
    "question", ["", "？！", "呢支籤係咩意思？", "這支籤是咧講啥物？", "whats this one mean"]
)
def test_a_question_naming_no_topic_has_none(question: str) -> None:
    found = understand(question)
    assert (found.topic, found.secondary) == (None, None)


def test_long_input_is_read_to_the_request_limit_only() -> None:
    assert understand("我媽要開刀" + "啊" * 20_000).topic == "疾病"
    assert understand("啊" * 20_000 + "我媽要開刀").topic is None
