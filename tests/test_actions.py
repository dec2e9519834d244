"""The answering action, in every language, with trackers built in code."""
import pytest
from rasa_sdk.events import SlotSet

from actions.answer import ActionAnswer, ActionDefaultFallback
from bot import catalogue
from tests.conftest import LANGUAGES, contacts_in

INTENTS_ANSWERED = [
    "greet", "goodbye", "thanks", "bot_challenge", "privacy", "what_is_trafficking",
    "who_to_contact", "how_to_get_admitted", "services_offered",
    "help_without_residence_permit", "children", "who_arranges_help",
    "no_help_against_will", "more_information", "statistics_reports", "out_of_scope",
    "nlu_fallback", "situation_self", "situation_other", "minor_victim", "not_in_source",
    "language_help",
]
# emergency opens with the danger line (tests/test_conversation.py); follow-ups
# are answered from the conversation.


def language_events(events):
    """The language slot changes (the conversation slots are tested elsewhere)."""
    return [e for e in events if e["name"] == "language"]


def sure(code):
    return {"code": code, "confident": True, "unsupported": False, "requested": None}


def unsure(code):
    return {"code": code, "confident": False, "unsupported": False, "requested": None}


async def run(action, dispatcher, tracker, domain):
    events = await action.run(dispatcher, tracker, domain)
    assert len(dispatcher.messages) == 1
    return dispatcher.messages[0], events


def test_every_domain_intent_is_answered_by_a_catalogue_key_or_the_conversation(domain):
    from actions.answer import CONTEXT_INTENTS

    for intent in domain["intents"]:
        assert intent in catalogue.raw_texts("en") or intent in CONTEXT_INTENTS, intent


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("intent", INTENTS_ANSWERED)
async def test_every_answer_in_every_language_carries_the_contacts(
    language, intent, dispatcher, tracker_for, domain
):
    tracker = tracker_for("...", intent, sure(language), slots={"language": language})
    message, _ = await run(ActionAnswer(), dispatcher, tracker, domain)
    # a child describing exploitation: 112, "this may be human trafficking", then the answer
    keys = ["danger_first", "may_be_trafficking", intent] if intent == "minor_victim" else intent
    assert message["text"] == catalogue.reply(keys, language)
    assert contacts_in(message["text"], language)
    assert message["language"] == language


@pytest.mark.parametrize("language", LANGUAGES)
async def test_emergency_answer_starts_with_112(language, dispatcher, tracker_for, domain):
    tracker = tracker_for("!!", "emergency", sure(language))
    message, _ = await run(ActionAnswer(), dispatcher, tracker, domain)
    facts = catalogue.fact_values(language)
    assert message["text"].index(facts["emergency"]) < message["text"].index(facts["phone"])


async def test_a_confident_detection_sets_the_conversation_language(dispatcher, tracker_for, domain):
    tracker = tracker_for("mitä on ihmiskauppa", "what_is_trafficking", sure("fi"))
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert language_events(events) == [SlotSet("language", "fi")]
    assert message["text"] == catalogue.reply("what_is_trafficking", "fi")
    assert message["buttons"] == []


async def test_a_short_follow_up_keeps_the_language(dispatcher, tracker_for, domain):
    tracker = tracker_for("ok", "thanks", unsure("en"), slots={"language": "sv"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert language_events(events) == []
    assert message["text"] == catalogue.reply("thanks", "sv")


async def test_an_unsure_first_message_gets_the_best_guess_and_the_picker(dispatcher, tracker_for, domain):
    tracker = tracker_for("سلام", "greet", unsure("fa"))
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    # the guess is kept, so that a second unsure message does not flip it
    assert language_events(events) == [SlotSet("language", "fa")]
    assert message["text"] == catalogue.reply("greet", "fa")
    payloads = [b["payload"] for b in message["buttons"]]
    assert '/change_language{"language": "ar"}' in payloads
    assert '/change_language{"language": "fa"}' in payloads


async def test_a_second_unsure_message_keeps_the_first_guess(dispatcher, tracker_for, domain):
    """Romanised Arabic read first as Arabic, then unsure between Somali and
    Arabic: still Arabic, never a third language (issue 17)."""
    tracker = tracker_for("3idhum tarjama?", "language_help", unsure("so"), slots={"language": "ar"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert language_events(events) == []
    assert message["language"] == "ar"


async def test_a_conversation_keeps_its_language_when_it_is_still_a_fair_reading(
    dispatcher, tracker_for, domain
):
    """A confident other reading does not switch a conversation whose own
    language the detector still gives a fair probability, nor one below 95 %;
    a clear one does."""
    ambiguous = {**sure("tl"), "probability": 0.97, "alternatives": {"tl": 0.97, "fa": 0.06}}
    tracker = tracker_for("farsi baladan?", "language_help", ambiguous, slots={"language": "fa"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([], "fa")
    dispatcher.messages.clear()
    unsure_switch = {**sure("tl"), "probability": 0.87, "alternatives": {"tl": 0.87}}
    tracker = tracker_for("farsi baladan?", "language_help", unsure_switch, slots={"language": "fa"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([], "fa")
    dispatcher.messages.clear()
    clear = {**sure("tl"), "probability": 0.99, "alternatives": {"tl": 0.99}}
    tracker = tracker_for("ano ang human trafficking?", "what_is_trafficking", clear, slots={"language": "fa"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([SlotSet("language", "tl")], "tl")


async def test_romanised_writing_does_not_switch_to_another_romanised_language(
    dispatcher, tracker_for, domain
):
    """'ma fhmt shi, shu ya3ni?' in a romanised Arabic conversation reads as
    pinyin to the letters; the person still writes Arabic."""
    pinyin = {**sure("zh"), "source": "romanised", "probability": 1.0, "alternatives": {"zh": 1.0}}
    tracker = tracker_for("ma fhmt shi, shu ya3ni?", "dont_understand", pinyin, slots={"language": "ar"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([], "ar")


async def test_romanised_writing_close_to_a_neighbour_is_answered_and_the_neighbour_asked(
    dispatcher, tracker_for, domain
):
    """Romanised Russian that may be Ukrainian: the answer in Russian, then
    "do you write in Ukrainian?" in Ukrainian, and both offered to choose."""
    russian_or_ukrainian = {
        **sure("ru"), "source": "romanised", "probability": 0.62,
        "alternatives": {"ru": 0.62, "uk": 0.33, "bg": 0.05}, "neighbours": ["uk"],
    }
    tracker = tracker_for("pryvet, hozyain zabral pasport", "situation_self", russian_or_ukrainian)
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["language"] == "ru"
    assert message["text"].startswith(catalogue.text("situation_self", "ru"))
    assert catalogue.text("ask_language", "uk") in message["text"]
    assert catalogue.text("ask_language", "bg") not in message["text"]
    assert [b["title"] for b in message["buttons"]] == ["Русский", "Українська"]
    assert contacts_in(message["text"], "ru")
    assert message["text"].endswith(catalogue.text("contact_block", "ru"))
    # once the conversation has its language, the question is not asked again
    tracker = tracker_for("i chto delat?", "follow_up", russian_or_ukrainian, slots={"language": "ru"})
    message, _ = await run(ActionAnswer(), dispatcher.__class__(), tracker, domain)
    assert catalogue.text("ask_language", "uk") not in message["text"]


async def test_romanised_writing_sure_of_its_language_asks_nothing(dispatcher, tracker_for, domain):
    arabizi = {**sure("ar"), "source": "romanised", "probability": 0.97, "alternatives": {"ar": 0.97, "fa": 0.03}}
    tracker = tracker_for("ana m7boosa fel bait", "situation_self", arabizi)
    message, _ = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["language"] == "ar" and catalogue.text("ask_language", "fa") not in message["text"]
    assert not any("change_language" in b["payload"] for b in message["buttons"])


async def test_one_or_two_latin_words_never_move_a_conversation_to_a_third_language(
    dispatcher, tracker_for, domain
):
    """"ok ka" after romanised Thai reads as Somali (0.96 sure): answered in
    Thai, the person's language; a longer message may still switch."""
    somali = {**sure("so"), "probability": 0.96, "alternatives": {"so": 0.96, "tl": 0.04}}
    for text in ("ok ka", "ok"):
        tracker = tracker_for(text, "follow_up", somali, slots={"language": "th"})
        message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
        assert (language_events(events), message["language"]) == ([], "th")
        assert contacts_in(message["text"], "th")
        dispatcher.messages.clear()
    tracker = tracker_for("haddii aan wacayo ma i caawin karaan", "who_to_contact", somali, slots={"language": "th"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["language"] == "so"


async def test_borrowed_latin_words_beside_the_persons_own_script_keep_the_language(
    dispatcher, tracker_for, domain
):
    """"thank you นะคะ" in a Thai conversation: answered in Thai, not English;
    a Russian conversation can still move to Ukrainian (same script)."""
    english = {**sure("en"), "probability": 0.99, "alternatives": {"en": 0.99}}
    tracker = tracker_for("thank you นะคะ", "thanks", english, slots={"language": "th"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([], "th")
    dispatcher.messages.clear()
    tracker = tracker_for("ok thank you so much for this", "thanks", english, slots={"language": "th"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([SlotSet("language", "en")], "en")
    dispatcher.messages.clear()
    ukrainian = {**sure("uk"), "probability": 0.99, "alternatives": {"uk": 0.99}}
    tracker = tracker_for("що таке торгівля людьми", "what_is_trafficking", ukrainian, slots={"language": "ru"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([SlotSet("language", "uk")], "uk")


async def test_an_unsupported_language_gets_english_the_picker_and_the_contacts(dispatcher, tracker_for, domain):
    detection = {"code": "sv", "confident": False, "unsupported": True, "requested": None}
    tracker = tracker_for("Was ist Menschenhandel", "what_is_trafficking", detection)
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["text"] == catalogue.reply("unsupported_language", "en")
    assert len([b for b in message["buttons"] if "change_language" in b["payload"]]) == len(LANGUAGES)
    assert language_events(events) == []


async def test_mid_conversation_a_message_read_as_unsupported_keeps_the_conversations_language(
    dispatcher, tracker_for, domain
):
    """Romanised Persian that langdetect takes for Indonesian, in a Persian
    conversation: answered in Persian (with the picker), not in English."""
    detection = {"code": "fa", "confident": False, "unsupported": True, "requested": None}
    tracker = tracker_for("be police begam ya be shoma?", "who_to_contact", detection, slots={"language": "fa"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["language"] == "fa"
    assert message["text"] == catalogue.reply("who_to_contact", "fa")
    assert len([b for b in message["buttons"] if "change_language" in b["payload"]]) == len(LANGUAGES)
    assert language_events(events) == []


async def test_a_shared_greeting_is_answered_in_a_guess_that_does_not_hold_the_conversation(
    dispatcher, tracker_for, domain
):
    detection = {"code": "so", "confident": False, "unsupported": False, "requested": None, "source": "shared"}
    tracker = tracker_for("salaam aleikum", "greet", detection)
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["language"] == "so"
    assert len([b for b in message["buttons"] if "change_language" in b["payload"]]) == len(LANGUAGES)
    assert language_events(events) == []  # the next message decides freely


async def test_the_picker_payload_switches_the_language(dispatcher, tracker_for, domain):
    tracker = tracker_for(
        '/change_language{"language": "ar"}', "change_language", None,
        slots={"language": "en"}, entities=[{"entity": "language", "value": "ar"}],
    )
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert language_events(events) == [SlotSet("language", "ar")]
    assert message["text"] == catalogue.reply("change_language", "ar")
    assert message["rtl"] is True


async def test_a_typed_request_switches_the_language(dispatcher, tracker_for, domain):
    detection = {**sure("fi"), "requested": "en"}
    tracker = tracker_for("englanniksi kiitos", "change_language", detection, slots={"language": "fi"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert language_events(events) == [SlotSet("language", "en")]
    assert message["text"] == catalogue.reply("change_language", "en")


async def test_asking_for_another_language_without_naming_one_shows_the_picker(dispatcher, tracker_for, domain):
    tracker = tracker_for("other language?", "change_language", unsure("en"), slots={"language": "en"})
    message, _ = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["text"] == catalogue.reply("ui_choose_language", "en")
    assert any("change_language" in b["payload"] for b in message["buttons"])


async def test_core_fallback_answers_with_the_contacts(dispatcher, tracker_for, domain):
    tracker = tracker_for("hmm", "greet", unsure("en"), slots={"language": "tr"})
    message, _ = await run(ActionDefaultFallback(), dispatcher, tracker, domain)
    assert message["text"] == catalogue.reply("nlu_fallback", "tr")
    assert contacts_in(message["text"], "tr")


async def test_an_unknown_intent_falls_back_rather_than_failing(dispatcher, tracker_for, domain):
    tracker = tracker_for("x", "ui_send", sure("en"))
    message, _ = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["text"] == catalogue.reply("nlu_fallback", "en")


async def test_an_unsure_first_message_follows_the_page_language_hint(dispatcher, tracker_for, domain):
    detection = {**unsure("en"), "hint": "fi"}
    tracker = tracker_for("ok", "thanks", detection)
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert message["text"] == catalogue.reply("thanks", "fi")
    assert language_events(events) == [SlotSet("language", "fi")]
    assert any("change_language" in b["payload"] for b in message["buttons"])


async def test_a_conversation_does_not_switch_unasked_to_a_close_neighbour(dispatcher, tracker_for, domain):
    """Colloquial Finnish that the detector reads as Estonian stays Finnish; an
    Estonian message with õ (a letter Finnish lacks) switches; Finnish to
    Swedish (not a close neighbour) switches as before."""
    estonian = {**sure("et"), "probability": 0.99, "alternatives": {"et": 0.99}}
    colloquial = "mut jos mä lähen sieltä nii menetänks mä oleskeluluvan? se on sidottu tähä työpaikkaa"
    tracker = tracker_for(colloquial, "not_in_source", estonian, slots={"language": "fi"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([], "fi")
    assert message["text"].startswith(catalogue.text("not_in_source", "fi"))
    dispatcher.messages.clear()
    tracker = tracker_for("kas ma võin ise helistada? ma ei räägi soome keelt", "language_help", estonian,
                          slots={"language": "fi"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([SlotSet("language", "et")], "et")
    dispatcher.messages.clear()
    swedish = {**sure("sv"), "probability": 0.99, "alternatives": {"sv": 0.99}}
    tracker = tracker_for("vad är människohandel", "what_is_trafficking", swedish, slots={"language": "fi"})
    message, events = await run(ActionAnswer(), dispatcher, tracker, domain)
    assert (language_events(events), message["language"]) == ([SlotSet("language", "sv")], "sv")
