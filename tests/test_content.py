"""Each language's NLU data, held-out messages and test stories are complete."""
import pytest

from bot import content_checks
from tests.conftest import LANGUAGES


@pytest.mark.parametrize("language", LANGUAGES)
def test_language_content_is_complete(language):
    assert content_checks.all_problems([language]) == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_enough_held_out_messages(language):
    minimum = 100 if language in ("fi", "sv", "en") else 15
    assert len(content_checks.heldout(language)) >= minimum


def test_a_held_out_copy_of_training_data_is_caught(monkeypatch):
    example = content_checks.training_examples("en")["greet"][0]
    monkeypatch.setattr(content_checks, "heldout", lambda code: [{"text": example.upper() + "!", "intent": "greet"}])
    assert any("is in the training data" in p for p in content_checks.heldout_problems("en"))
