"""The danger-now layer's data and logic (bot/danger.py)."""
import pytest

from bot import catalogue, content_checks, danger


@pytest.fixture(scope="module")
def patterns_only():
    data = danger.all_data()
    return danger.DangerModel(
        danger.compile_patterns(p for entry in data.values() for p in entry.patterns), None, 0.3
    )


def test_every_language_has_danger_data_and_valid_patterns():
    assert danger.problems() == []
    assert set(danger.all_data()) == set(catalogue.languages())


@pytest.mark.parametrize(
    "message",
    ["he locked the door and took my phone", "the man is here", "im hiding in the bathroom",
     "on zaper dver i zabral telefon", "hän lukitsi oven"],
)
def test_danger_without_the_word_danger_is_caught_by_the_patterns(patterns_only, message):
    assert patterns_only.pattern_hit(message)


@pytest.mark.parametrize("language", list(catalogue.languages()))
def test_ordinary_questions_do_not_raise_the_alarm_by_pattern(patterns_only, language):
    """A false alarm costs one line, but the core questions must not carry one."""
    examples = content_checks.training_examples(language)
    for intent in ("what_is_trafficking", "how_to_get_admitted", "thanks", "greet", "more_information"):
        hits = [t for t in examples[intent] if patterns_only.pattern_hit(t)]
        # a few what_is_trafficking examples describe being locked in now
        # ("they don't let me out, is this trafficking?": 4 of 54 in Bulgarian)
        assert len(hits) <= max(4, len(examples[intent]) // 20), (intent, hits)


def test_the_intent_emergency_is_a_signal_by_itself(patterns_only):
    assessed = patterns_only.assess("hmm", intent="emergency")
    assert assessed == {"now": True, "score": None, "source": "intent"}
    assert patterns_only.assess("what is trafficking")["now"] is False


def test_the_signal_carries_no_text():
    model = danger.DangerModel.train(
        ["he is at the door now", "locked me in"] * 3, ["what is trafficking", "thanks"] * 3, [], 0.5
    )
    assessed = model.assess("my secret name is Maria, he is at the door now")
    assert set(assessed) == {"now", "score", "source"}
    assert "Maria" not in str(assessed)
