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
