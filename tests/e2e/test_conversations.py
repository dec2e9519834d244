"""The real action server and Rasa server, talked to as a person would."""
import json
import urllib.request

import pytest

from bot import catalogue, content_checks
from tests.conftest import LANGUAGES, contacts_in
from tests.e2e.conftest import API_TOKEN

pytestmark = pytest.mark.e2e

CORE = {
    "fi": ["hei", "mitä on ihmiskauppa", "kehen otan yhteyttä", "miten pääsen auttamisjärjestelmään"],
    "sv": ["hej", "vad är människohandel", "vem ska jag kontakta", "hur blir jag upptagen i hjälpsystemet"],
    "en": ["hi", "what is human trafficking", "who do i contact", "how do i get admitted to the assistance system"],
}
EXPECTED = ["greet", "what_is_trafficking", "who_to_contact", "how_to_get_admitted"]


def only_text(reply):
    assert reply, "the bot answered nothing"
    return "\n\n".join(m.get("text", "") for m in reply)


@pytest.mark.parametrize("language", ["fi", "sv", "en"])
def test_the_three_core_questions_in_each_language(chat, language):
    person = chat()
    for message, key in zip(CORE[language], EXPECTED):
        text = only_text(person.say(message))
        assert text == catalogue.reply(key, language), (message, text[:80])
        assert contacts_in(text, language)


@pytest.mark.parametrize(
    "language, message",
    [("fi", "apua olen vaarassa nyt"), ("sv", "hjälp jag är i fara"), ("en", "i am in danger right now")],
)
def test_an_emergency_is_answered_with_112_first(chat, language, message):
    text = only_text(chat().say(message))
    facts = catalogue.fact_values(language)
    assert text.startswith(catalogue.text("danger_first", language))
    assert text.index(facts["emergency"]) < text.index(facts["phone"])


def paragraphs(text):
    return text.split("\n\n")


def test_trapped_without_saying_danger_then_what_now(chat):
    """The issue's example: a situation, then "what now?"."""
    person = chat()
    first = only_text(person.say("he locked the door and took my phone"))
    assert paragraphs(first)[0] == catalogue.text("danger_first", "en")
    second = only_text(person.say("what now?"))
    assert paragraphs(second)[0] == catalogue.text("danger_first", "en")
    assert second != first  # the conversation moves on
    for wrong in ("goodbye", "out_of_scope", "no_help_against_will", "nlu_fallback"):
        assert catalogue.text(wrong, "en") not in first + second
    assert contacts_in(second, "en")


@pytest.mark.parametrize(
    "message, right, wrong",
    [
        ("I'm 16 and alone here, a man makes me work", "minor_victim", "children"),
        ("will I be deported?", "not_in_source", "help_without_residence_permit"),
        ("I can't leave the house", "danger_first", "no_help_against_will"),
        ("the man is here", "danger_first", "out_of_scope"),
    ],
)
def test_the_reviewed_misanswers(chat, message, right, wrong):
    text = only_text(chat().say(message))
    # after the 112 opener, an answer does not repeat its own 112 sentence
    after_opener = text.startswith(catalogue.text("danger_first", "en")) and right != "danger_first"
    expected = catalogue.text_without_emergency(right, "en") if after_opener else catalogue.text(right, "en")
    assert expected in text
    assert catalogue.text(wrong, "en") not in text


def test_short_follow_ups_keep_the_language_and_a_request_switches_it(chat):
    person = chat()
    assert only_text(person.say("mitä on ihmiskauppa")).startswith(catalogue.text("what_is_trafficking", "fi"))
    for follow_up in ("ok", "👍", "112?"):
        text = only_text(person.say(follow_up))
        assert contacts_in(text, "fi")
        assert catalogue.text("contact_block", "fi") in text, follow_up
    text = only_text(person.say("in English please"))
    # "112?" may mean danger: from then on every reply opens with 112 (recall first)
    assert text.endswith(catalogue.reply("change_language", "en"))
    assert catalogue.text("contact_block", "en") in only_text(person.say("ok"))


def test_after_a_shared_greeting_the_persons_own_language_is_answered(chat):
    """'salaam aleikum' is a guess among Arabic, Persian, Somali and Turkish;
    the Arabizi that follows is answered in Arabic, not kept in the guess."""
    person = chat()
    person.say("salaam aleikum")
    text = only_text(person.say("ana m7boosa fel bait, el kafeel a5ad el basbor"))
    assert catalogue.text("contact_block", "ar") in text
    assert paragraphs(text)[0] == catalogue.text("danger_first", "ar")


def test_an_unsure_first_message_offers_the_language_picker(chat):
    reply = chat().say("ok")
    payloads = [b["payload"] for m in reply for b in m.get("buttons", [])]
    assert sum("change_language" in p for p in payloads) == len(LANGUAGES)
    assert contacts_in(only_text(reply))


def test_the_picker_changes_the_language_for_the_rest_of_the_conversation(chat):
    person = chat()
    person.say("ok")
    assert only_text(person.say('/change_language{"language": "ar"}')) == catalogue.reply("change_language", "ar")
    assert catalogue.text("contact_block", "ar") in only_text(person.say("👍"))


def test_an_unsupported_language_gets_english_the_picker_and_the_contacts(chat):
    reply = chat().say("Was ist Menschenhandel und wer kann mir helfen")
    assert only_text(reply) == catalogue.reply("unsupported_language", "en")
    assert any("change_language" in b["payload"] for m in reply for b in m.get("buttons", []))


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_is_answered_in_itself_with_the_contacts(chat, language):
    first = content_checks.training_examples(language)["what_is_trafficking"][0]
    text = only_text(chat().say(first))
    assert text == catalogue.reply("what_is_trafficking", language), text[:80]


@pytest.mark.parametrize(
    "message", ["", "   ", "<script>alert(1)</script>", "👍👍👍", "ä" * 1000, "\u202e\u200b"],
    ids=["empty", "spaces", "script", "emoji", "1000-chars", "direction-marks"],
)
def test_odd_messages_still_get_the_contacts(chat, message):
    assert contacts_in(only_text(chat().say(message)))


def test_staff_see_the_language_slot_and_latest_intent_in_the_tracker(stack, chat):
    person = chat()
    person.say("vad är människohandel")
    url = f"{stack.settings.rasa_url}/conversations/{person.sender}/tracker?token={API_TOKEN}"
    with urllib.request.urlopen(url, timeout=10) as response:
        tracker = json.load(response)
    assert tracker["slots"]["language"] == "sv"
    assert tracker["latest_message"]["intent"]["name"] == "what_is_trafficking"


def test_the_tracker_api_needs_the_token(stack):
    url = f"{stack.settings.rasa_url}/conversations/anyone/tracker"
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(url, timeout=10)
    refused.value.close()
    assert refused.value.code == 401


def test_the_gateway_answers_through_rasa(stack):
    from tests.e2e.conftest import post_json

    url = f"http://127.0.0.1:{stack.settings.gateway_port}/api/chat"
    body = post_json(url, {"sender": "gateway-e2e-1", "message": "ما هو الاتجار بالبشر"})
    assert body["language"] == "ar" and body["rtl"] is True
    assert contacts_in("\n".join(m["text"] for m in body["messages"]), "ar")
