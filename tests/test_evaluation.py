"""The bars of `make evaluate`: the suite fails when any language falls below them."""
import asyncio

import pytest

from bot import evaluate

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def scores(trained_model):
    return asyncio.run(evaluate.evaluate(trained_model))


def test_every_language_meets_the_accuracy_bars(scores):
    assert evaluate.failures(scores) == [], evaluate.report(scores)


def test_our_detector_beats_raw_langdetect(scores):
    ours = sum(s.language_hits for s in scores)
    raw = sum(s.raw_langdetect_hits for s in scores)
    assert ours > raw


def test_failures_name_the_language_below_a_bar():
    weak = evaluate.LanguageScore("xx", total=10, language_hits=10, raw_langdetect_hits=5, intent_hits=8)
    strong = evaluate.LanguageScore("yy", total=100, language_hits=100, raw_langdetect_hits=50, intent_hits=100)
    assert evaluate.failures([weak, strong]) == ["xx: intent accuracy 80.0% < 90%"]



def test_the_foundation_languages_are_held_to_their_own_bar():
    # 94 % is enough for issue 3's 90 % per-language bar, not for issue 2's 95 %.
    scores = [
        evaluate.LanguageScore(code, total=100, language_hits=100, raw_langdetect_hits=50, intent_hits=94)
        for code in ("sv", "ro")
    ]
    scores.append(evaluate.LanguageScore("en", total=100, language_hits=97, raw_langdetect_hits=50, intent_hits=100))
    assert evaluate.failures(scores) == [
        "sv: intent accuracy 94.0% < 95%",
        "en: language accuracy 97.0% < 98%",
    ]


@pytest.fixture(scope="module")
def situation_scores(trained_model):
    from bot import situations

    async def run():
        return await situations.evaluate(await evaluate.load(trained_model))

    return asyncio.run(run())


def test_situations_and_conversations_do_not_get_worse(situation_scores):
    """The frozen test split of tests/situations: no more harmful replies and
    danger misses, no fewer good ones, no more replies outside the person's
    language than measured (issue 12's own bars are reported by make evaluate)."""
    from bot import situations

    assert situations.below_floor(situation_scores) == [], situations.report(situation_scores, "test")


@pytest.fixture(scope="module")
def romanised_scores(trained_model):
    from bot import situations

    async def run():
        agent = await evaluate.load(trained_model)
        return await situations.evaluate(agent, None, "test", situations.ROMANISED_DIR)

    return [s for s in asyncio.run(run()) if s.turns]


def test_romanised_and_mixed_writing_do_not_get_worse(romanised_scores):
    """tests/romanised (issue 17), frozen test split: never a third language,
    danger first, and no worse than measured (docs/decisions.md §13)."""
    from bot import situations

    assert situations.romanised_below_floor(romanised_scores) == [], situations.report(
        romanised_scores, "test", "Romanised and mixed writing"
    )


def test_general_text_is_no_worse_than_measured(trained_model):
    """Words, word pairs and sentences of public treebanks (tests/general_text,
    frozen test files): issue 15's figures as measured, not to slip."""
    from bot import general_text

    scores = general_text.evaluate(general_text.identifier_from_model(trained_model))
    assert general_text.below_floor(scores) == [], general_text.report(scores)


def test_a_reply_is_graded_as_a_reader_would():
    from bot import catalogue, situations

    danger_turn = {"danger": True, "good": ["situation_self"], "harmful": ["greet"]}
    plain = catalogue.reply("situation_self", "fi")
    first = catalogue.reply(["danger_first", "situation_self"], "fi")
    assert situations.grade(danger_turn, "fi", "situation_self", "fi", plain)[0] == "harmful"
    assert situations.grade(danger_turn, "fi", "situation_self", "fi", first)[0] == "good"
    calm = {"danger": False, "good": ["situation_self"], "harmful": ["greet"]}
    assert situations.grade(calm, "fi", "situation_self", "sv", catalogue.reply("situation_self", "sv"))[0] == "harmful"
    assert situations.grade(calm, "fi", "greet", "fi", catalogue.reply("greet", "fi"))[0] == "harmful"
    assert situations.grade(calm, "fi", "thanks", "fi", catalogue.reply("thanks", "fi"))[0] == "unhelpful"


def test_the_split_is_frozen_by_case_id():
    from bot import situations

    assert situations.split_of("fi-01") == situations.split_of("fi-01")
    assert situations.case_split({"id": "fi-01", "split": "test"}) == "test"
    shares = [situations.split_of(f"xx-{i}") for i in range(1000)]
    assert 0.5 < shares.count("test") / 1000 < 0.7


# What people type first, by language (ambiguous ones like "salut", used in
# French and Romanian, are left out).
GREETINGS = {
    "fi": ["moi", "hei", "terve", "moikka"], "sv": ["hej", "hejsan", "tjena"], "en": ["hi", "hello"],
    "ru": ["привет", "здравствуйте"], "uk": ["привіт", "вітаю"], "et": ["tere", "tervist"],
    "ar": ["مرحبا", "السلام عليكم"], "so": ["salaan", "iska warran"], "fa": ["سلام", "درود"],
    "fr": ["bonjour", "bonsoir"], "es": ["hola", "buenas"], "tr": ["merhaba", "selam"],
    "th": ["สวัสดี", "สวัสดีครับ"], "vi": ["xin chào", "chào bạn"], "zh": ["你好", "您好"],
    "pl": ["cześć", "dzień dobry"], "ro": ["bună", "bună ziua"], "bg": ["здравей", "здрасти"],
    "tl": ["kamusta", "kumusta"], "ne": ["नमस्ते", "namaste"],
}


def test_common_greetings_get_the_right_best_guess(trained_model):
    async def run():
        agent = await evaluate.load(trained_model)
        wrong = []
        for code, greetings in GREETINGS.items():
            for text in greetings:
                detected = ((await agent.parse_message(text)).get("language") or {}).get("code")
                if detected != code:
                    wrong.append((text, code, detected))
        return wrong

    assert asyncio.run(run()) == []
