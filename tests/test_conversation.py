"""A conversation, not an FAQ: danger first, follow-ups from context, situations.

The answering action runs turn after turn on a tracker whose slots carry what
the action set before, as Rasa does. What is asserted is what the person
reads: which answer text comes, whether 112 opens it, the contacts at the end.
"""
import pytest

from actions import conversation
from actions.answer import ActionAnswer
from bot import catalogue
from tests.conftest import LANGUAGES, build_tracker, contacts_in


def sure(code):
    return {"code": code, "confident": True, "unsupported": False, "requested": None}


class Chat:
    """One person's conversation with the action, slots carried between turns."""

    def __init__(self, language="en"):
        self.language = language
        self.slots = {"language": language}

    async def say(self, intent, danger=False, text="...", ranking=None, requested=None, danger_by=(None, 0.0)):
        from rasa_sdk.executor import CollectingDispatcher

        detection = dict(sure(self.language), requested=requested)
        tracker = build_tracker(text, intent, detection, slots=self.slots)
        source, score = danger_by
        tracker.latest_message["danger"] = {"now": danger, "score": score, "source": source}
        if ranking:
            tracker.latest_message["intent_ranking"] = [
                {"name": name, "confidence": score} for name, score in ranking.items()]
        dispatcher = CollectingDispatcher()
        events = await ActionAnswer().run(dispatcher, tracker, {})
        for event in events:
            self.slots[event["name"]] = event["value"]
        assert len(dispatcher.messages) == 1
        return dispatcher.messages[0]["text"]


def body(key, language="en"):
    return catalogue.text(key, language)


def first_paragraph(text):
    return text.split("\n\n", 1)[0]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_danger_opens_with_112_then_answers_the_situation(language):
    text = await Chat(language).say("situation_self", danger=True)
    facts = catalogue.fact_values(language)
    assert facts["emergency"] in first_paragraph(text)
    assert first_paragraph(text) == body("danger_first", language)
    assert body("situation_self", language) in text
    assert contacts_in(text, language)


@pytest.mark.parametrize("intent", ["greet", "goodbye", "thanks", "out_of_scope", "nlu_fallback", "no_help_against_will"])
async def test_someone_in_danger_never_gets_small_talk_or_against_their_will(intent):
    text = await Chat().say(intent, danger=True)
    assert first_paragraph(text) == body("danger_first")
    for wrong in ("greet", "goodbye", "thanks", "out_of_scope", "no_help_against_will"):
        assert body(wrong) not in text
    assert body("danger_contact") in text


async def test_thanks_after_danger_is_welcomed_after_112_not_told_the_contact_step_again():
    chat = Chat("ru")
    await chat.say("emergency", danger=True)
    text = await chat.say("thanks", text="спасибо, позвоню ночью когда они уснут")
    assert first_paragraph(text) == body("danger_first", "ru")
    assert body("thanks", "ru") in text and body("danger_contact", "ru") not in text
    assert contacts_in(text, "ru")


@pytest.mark.parametrize("intent", ["children", "bot_challenge", "privacy"])
async def test_in_danger_a_question_is_still_answered_after_112(intent):
    text = await Chat().say(intent, danger=True)
    assert first_paragraph(text) == body("danger_first")
    assert body(intent) in text


@pytest.mark.parametrize("intent", sorted(conversation.CONTEXT_BEATS))
async def test_mid_conversation_a_short_message_is_a_follow_up_not_off_topic(intent):
    chat = Chat()
    await chat.say("situation_self")
    text = await chat.say(intent, text="what should i do")
    assert text.startswith(body("next_step_contact"))
    # a long off-topic message is still off-topic
    if intent == "out_of_scope":
        long_text = "can you tell me a good recipe for pizza with a lot of cheese and ham please"
        assert (await chat.say(intent, text=long_text)).startswith(body("out_of_scope"))


async def test_emergency_intent_is_danger_even_without_the_danger_layer():
    chat = Chat()
    text = await chat.say("emergency", danger=False)
    assert first_paragraph(text) == body("danger_first")
    # and a follow-up still opens with 112: the conversation remembers
    later = await chat.say("follow_up")
    assert first_paragraph(later) == body("danger_first")


async def test_danger_said_once_keeps_112_first_for_the_rest_of_the_conversation():
    chat = Chat("fi")
    await chat.say("situation_self", danger=True)
    for intent in ("follow_up", "not_in_source", "services_offered"):
        text = await chat.say(intent)
        assert first_paragraph(text) == body("danger_first", "fi"), intent


async def test_no_danger_no_opener():
    text = await Chat().say("services_offered")
    assert body("danger_first") not in text
    assert text.startswith(body("services_offered"))


async def test_follow_ups_walk_the_next_steps():
    chat = Chat()
    assert (await chat.say("what_is_trafficking")).startswith(body("what_is_trafficking"))
    assert (await chat.say("follow_up", text="what now?")).startswith(body("who_to_contact"))
    assert (await chat.say("follow_up", text="and then?")).startswith(body("how_to_get_admitted"))
    assert (await chat.say("follow_up", text="ok")).startswith(body("services_offered"))
    assert (await chat.say("follow_up", text="yes")).startswith(body("next_step_contact"))


async def test_after_a_described_situation_what_now_is_to_contact_them_then_how_to_get_in():
    chat = Chat("sv")
    assert (await chat.say("situation_self")).startswith(body("situation_self", "sv"))
    text = await chat.say("follow_up", text="vad nu?")
    assert text.startswith(body("next_step_contact", "sv"))
    assert body("goodbye", "sv") not in text and body("no_help_against_will", "sv") not in text
    text = await chat.say("follow_up", text="ok")
    assert text.startswith(body("how_to_get_admitted", "sv"))


async def test_thanks_in_between_does_not_lose_the_thread():
    chat = Chat()
    await chat.say("who_to_contact")
    await chat.say("thanks")
    assert (await chat.say("follow_up", text="ok")).startswith(body("how_to_get_admitted"))


async def test_a_helper_gets_the_helpers_path():
    chat = Chat()
    assert (await chat.say("situation_other")).startswith(body("situation_other"))
    assert (await chat.say("follow_up", text="what now")).startswith(body("helper_next_step"))
    assert chat.slots["about"] == "other"


async def test_what_now_as_a_first_message_gives_the_contact_step():
    assert (await Chat().say("follow_up", text="what now")).startswith(body("next_step_contact"))


async def test_i_dont_understand_gets_the_plain_summary():
    chat = Chat("ar")
    await chat.say("who_arranges_help")
    assert (await chat.say("dont_understand")).startswith(body("plain_summary", "ar"))


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_minor_who_is_the_victim_gets_112_and_contacts_not_the_children_answer(language):
    text = await Chat(language).say("minor_victim")
    assert catalogue.fact_values(language)["emergency"] in first_paragraph(text)
    assert body("children", language) not in text
    assert contacts_in(text, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("intent, danger", [("minor_victim", False), ("situation_self", True)])
async def test_a_child_who_describes_exploitation_hears_112_then_that_it_may_be_trafficking(
    language, intent, danger
):
    """JUDGING.md: a described situation is answered well only when the reply
    says it may be human trafficking and that they can contact them themselves."""
    chat = Chat(language)
    await chat.say("greet", text="hi")
    text = await chat.say(intent, danger=danger, text="i'm 15 and my stepfather makes me steal")
    paragraphs = text.split("\n\n")
    assert paragraphs[0] == body("danger_first", language)
    assert paragraphs[1] == body("may_be_trafficking", language)
    assert paragraphs[2] == catalogue.text_without_emergency("minor_victim", language)
    assert contacts_in(text, language)
    # a question after it is answered, without the sentence again
    later = await chat.say("who_to_contact", text="can i call myself")
    assert body("may_be_trafficking", language) not in later


@pytest.mark.parametrize("language", LANGUAGES)
async def test_someone_in_danger_who_may_be_the_victim_or_a_witness_hears_what_it_may_be(language):
    text = await Chat(language).say(
        "situation_other", danger=True, text="they locked her in", ranking={"situation_other": 0.6, "situation_self": 0.3}
    )
    paragraphs = text.split("\n\n")
    assert paragraphs[:3] == [
        body("danger_first", language), body("may_be_trafficking", language), body("danger_contact", language)
    ]


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_situation_that_only_sounds_urgent_gets_whom_to_contact_for_victim_and_witness_alike(language):
    """Only the danger classifier, weakly: as often a witness's account as a
    victim's; after 112, whom to contact (you yourself; the police or the
    Assistance System for someone else), not "contact them yourself" alone."""
    ranking = {"situation_other": 0.6, "situation_self": 0.3}
    weak = await Chat(language).say(
        "situation_other", danger=True, text="the foreman has their passports", ranking=ranking,
        danger_by=("model", 0.4),
    )
    assert weak.split("\n\n")[:3] == [
        body("danger_first", language), body("may_be_trafficking", language),
        catalogue.text_without_emergency("who_to_contact", language),
    ]
    strong = await Chat(language).say(
        "situation_other", danger=True, text="they locked her in", ranking=ranking, danger_by=("model", 0.9)
    )
    assert body("danger_contact", language) in strong and body("who_to_contact", language) not in strong
    assert contacts_in(weak, language) and contacts_in(strong, language)


async def test_a_victim_whose_situation_read_as_someone_elses_in_danger_is_not_then_spoken_to_as_a_helper():
    chat = Chat()
    await chat.say("situation_other", danger=True, text="he is driving me somewhere, not letting me out",
                   ranking={"situation_other": 0.6, "situation_self": 0.3})
    reply = await chat.say("who_to_contact", danger=True, text="i can't call, he's next to me")
    assert body("helper_next_step") not in reply
    assert chat.slots.get("about") != "other"


@pytest.mark.parametrize("language", LANGUAGES)
async def test_a_question_the_source_does_not_answer_is_an_honest_ask_them(language):
    text = await Chat(language).say("not_in_source")
    assert text.startswith(body("not_in_source", language))
    assert body("help_without_residence_permit", language) not in text
    assert body("out_of_scope", language) not in text


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ["nlu_fallback", "out_of_scope", "unsupported_language"])
def test_not_understood_and_off_topic_also_say_112(language, key):
    assert catalogue.fact_values(language)["emergency"] in body(key, language)


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ["who_to_contact", "how_to_get_admitted", "situation_self"])
def test_the_person_is_told_they_can_call_or_write_themselves(language, key):
    facts = catalogue.fact_values(language)
    text = body(key, language)
    assert facts["phone"] in text and facts["email"] in text


def test_every_answer_has_a_next_step_for_follow_ups():
    answers = [k for k in catalogue.raw_texts("en") if conversation.main_key(k, None, None, None) == k]
    # lines added to an answer, never an answer themselves
    small_talk = conversation.NOT_REMEMBERED | {
        "danger_first", "may_be_trafficking", "contact_block", "unsupported_language", "ask_language"}
    missing = [
        k for k in answers
        if k not in small_talk and not k.startswith(("ui_", "button_")) and k not in conversation.NEXT_STEP
    ]
    assert missing == []
    for step in conversation.NEXT_STEP.values():
        assert step in catalogue.raw_texts("en")


async def test_question_marks_alone_get_the_plain_summary():
    chat = Chat()
    await chat.say("how_to_get_admitted")
    assert (await chat.say("follow_up", text="??")).startswith(body("plain_summary"))


async def test_in_danger_a_clear_witness_gets_112_then_the_helpers_steps_never_against_their_will():
    text = await Chat().say("situation_other", danger=True,
                            ranking={"situation_other": 0.9, "situation_self": 0.01})
    assert first_paragraph(text) == body("danger_first")
    assert body("helper_next_step") in text
    assert body("situation_other") not in text and body("no_help_against_will") not in text


async def test_in_danger_a_situation_perhaps_the_writers_own_gets_the_contact_step():
    """ "he locked us in" read as someone else's: 112, then contact them yourself."""
    text = await Chat().say("situation_other", danger=True,
                            ranking={"situation_other": 0.6, "situation_self": 0.3})
    assert first_paragraph(text) == body("danger_first")
    assert body("danger_contact") in text
    assert body("situation_other") not in text and body("helper_next_step") not in text


async def test_in_danger_a_helper_known_from_earlier_turns_gets_the_helpers_steps():
    chat = Chat()
    await chat.say("situation_other")
    text = await chat.say("situation_other", danger=True,
                          ranking={"situation_other": 0.6, "situation_self": 0.3})
    assert body("helper_next_step") in text


@pytest.mark.parametrize("intent", ["no_help_against_will", "out_of_scope", "goodbye"])
async def test_a_helper_whose_friend_is_in_danger_gets_the_helpers_steps_not_the_victims(intent):
    """ "he won't hear of the police" from someone helping a colleague who was
    described in danger: 112, then what a helper can do, never "contact them
    yourself when you can" (which speaks to the victim)."""
    chat = Chat()
    await chat.say("situation_other", danger=True, ranking={"situation_other": 0.9, "situation_self": 0.01})
    text = await chat.say(intent, text="he won't hear of the police, he's scared")
    assert first_paragraph(text) == body("danger_first")
    assert body("helper_next_step") in text
    assert body("danger_contact") not in text and body(intent) not in text


async def test_in_danger_now_whom_to_contact_is_112_then_the_assistance_system_when_they_can():
    """ "I can't call, he is next to me, can I write?": 112 first, then the
    Assistance System by phone or e-mail when they can, not the bystander's
    lines of the general answer."""
    text = await Chat("ro").say("who_to_contact", danger=True, text="nu pot vorbi, e langa mine")
    assert first_paragraph(text) == body("danger_first", "ro")
    assert body("danger_contact", "ro") in text and body("who_to_contact", "ro") not in text
    assert contacts_in(text, "ro")
    # without danger now, whom to contact is the general answer
    calm = await Chat("ro").say("who_to_contact", text="pe cine sun?")
    assert calm.startswith(body("who_to_contact", "ro"))


async def test_a_barely_unanswerable_question_gets_the_classifiers_next_reading_not_ask_them():
    """ "I hid in the toilet, what do I do??" read as not_in_source at 0.25:
    "the information here does not cover this" would leave a person without
    the step the source does give; a clear one still gets the honest answer."""
    chat = Chat()
    await chat.say("situation_self")
    unsure = await chat.say("not_in_source", text="what do i do??",
                            ranking={"not_in_source": 0.25, "follow_up": 0.2, "what_is_trafficking": 0.1})
    assert body("not_in_source") not in unsure
    assert unsure.startswith(body("next_step_contact"))
    clear = await Chat().say("not_in_source", text="will they deport me?",
                             ranking={"not_in_source": 0.8, "follow_up": 0.1})
    assert clear.startswith(body("not_in_source"))


async def test_in_danger_the_contact_step_twice_in_a_row_becomes_write_instead(language="th"):
    """ "I can't call, he would hear" after 112 and the contact step: not the
    same reply again word for word, but 112 and the e-mail address."""
    chat = Chat(language)
    first = await chat.say("emergency", danger=True)
    assert body("danger_contact", language) in first
    again = await chat.say("emergency", danger=True, text="โทรไม่ได้ เขาจะได้ยิน")
    assert first_paragraph(again) == body("danger_first", language)
    assert body("write_instead", language) in again and body("danger_contact", language) not in again
    assert catalogue.fact_values(language)["email"] in body("write_instead", language)
    assert contacts_in(again, language)


def answer_part(text):
    """The reply without its closing contact block."""
    return text.rsplit("\n\n", 1)[0]


async def test_a_child_seen_in_danger_opens_with_the_bystanders_112_line_and_says_it_once():
    text = await Chat().say("minor_victim", danger=True)
    assert first_paragraph(text) == body("danger_first")
    assert catalogue.text_without_emergency("minor_victim", "en") in text
    assert answer_part(text).count(catalogue.fact_values("en")["emergency"]) == 1


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("intent", ["follow_up", "dont_understand", "who_to_contact"])
async def test_after_112_first_the_reply_does_not_say_112_again(language, intent):
    chat = Chat(language)
    await chat.say("situation_self", danger=True)
    text = await chat.say(intent, text="?")
    assert first_paragraph(text) == body("danger_first", language)
    emergency = catalogue.fact_values(language)["emergency"]
    assert answer_part(text).count(emergency) == 1, answer_part(text)
    assert catalogue.fact_values(language)["phone"] in answer_part(text)
    assert contacts_in(text, language)


async def test_a_helper_who_goes_on_describing_is_not_told_the_same_steps_word_for_word():
    chat = Chat()
    await chat.say("situation_other", text="my colleague sleeps in the storeroom and the owner has his passport")
    first = await chat.say("who_to_contact", text="how can i help him")
    assert first.startswith(body("helper_next_step"))
    again = await chat.say("no_help_against_will", text="he doesn't want to go to the police, he is too scared of the owner")
    assert body("helper_next_step") not in again
    assert body("no_help_against_will") not in again
    assert again.startswith(body("services_offered"))


@pytest.mark.parametrize("first, step", [("situation_other", "helper_next_step"), ("situation_self", "next_step_contact")])
async def test_after_a_described_situation_an_unclear_message_gets_the_step_not_i_did_not_understand(first, step):
    chat = Chat("vi")
    await chat.say(first, text="the owner keeps the passport and pays nothing")
    text = await chat.say("nlu_fallback", text="should i go to the restaurant and talk straight to that uncle myself")
    assert body("nlu_fallback", "vi") not in text
    assert text.startswith(body(step, "vi"))
    assert contacts_in(text, "vi")




@pytest.mark.parametrize("language, text", [
    ("en", "i'm 15 and a man makes me sell drugs, who do i go to"),
    ("fi", "olen 16 ja pomo ei maksa mitään"),
    ("ru", "мне 15 лет, меня заставляют работать"),
    ("ar", "عمري ١٦ سنة وصاحب العمل يأخذ راتبي"),
])
async def test_a_minor_who_is_the_victim_gets_the_minors_answer_never_your_children(language, text):
    chat = Chat(language)
    emergency = catalogue.fact_values(language)["emergency"]
    for intent in ("situation_self", "children", "who_to_contact"):
        reply = await Chat(language).say(intent, text=text)
        assert emergency in first_paragraph(reply), intent
        assert catalogue.text_without_emergency("minor_victim", language) in reply, intent
        assert body("children", language) not in reply
    # remembered: a later question on what to do is the minor's path (the
    # minor's answer again, or the next step after it), never the adults'
    await chat.say("situation_self", text=text)
    later = await chat.say("children", text="what about me")
    assert body("minor_victim", language) in later or body("next_step_contact", language) in later
    assert body("children", language) not in later


async def test_someone_elses_age_is_not_a_minor_victim():
    reply = await Chat().say("situation_other", text="my sister is 15 and works in a restaurant all night")
    assert reply.startswith(body("situation_other"))


async def test_a_situation_with_a_question_the_source_does_not_answer_gets_both():
    text = "i clean hotels for 2 euros an hour and he keeps my passport. will they deport me if i call?"
    reply = await Chat().say("situation_self", text=text,
                             ranking={"situation_self": 0.55, "not_in_source": 0.35})
    assert reply.startswith(body("situation_self"))
    assert body("not_in_source") in reply
    # no question mark, or the classifier sees no such question: the situation alone
    plain = await Chat().say("situation_self", text=text.replace("?", "."),
                             ranking={"situation_self": 0.55, "not_in_source": 0.35})
    assert body("not_in_source") not in plain
    sure_reply = await Chat().say("situation_self", text=text,
                                  ranking={"situation_self": 0.95, "not_in_source": 0.01})
    assert body("not_in_source") not in sure_reply


async def test_do_they_speak_my_language_in_my_language_is_about_help_not_a_switch():
    reply = await Chat("et").say("change_language", text="kas seal räägitakse ka eesti keelt?",
                                 requested="et")
    assert reply.startswith(body("language_help", "et"))
    # naming another language still offers the picker
    other = await Chat("et").say("change_language", text="...", requested=None)
    assert body("language_help", "et") not in other


@pytest.mark.parametrize("intent, first_text, again_text, next_key", [
    # a short question asked again
    ("who_to_contact", "who do i contact", "but who do i contact", "how_to_get_admitted"),
    # a person who goes on describing, however long the message
    ("situation_self", "the boss keeps my passport and i work every day without pay",
     "and he says i owe him 5000 euros for the flight and the room, he shouts at me", "next_step_contact"),
])
async def test_the_same_answer_is_not_given_twice_in_a_row(intent, first_text, again_text, next_key):
    chat = Chat()
    first = await chat.say(intent, text=first_text)
    again = await chat.say(intent, text=again_text)
    assert first.startswith(body(intent))
    assert again.startswith(body(next_key))


@pytest.mark.parametrize("about_intent, expected", [
    ("situation_other", "helper_next_step"), ("situation_self", "next_step_contact")])
async def test_after_a_described_situation_against_their_will_is_never_the_answer(about_intent, expected):
    chat = Chat()
    await chat.say(about_intent)
    text = await chat.say("no_help_against_will", text="and can i contact them myself about her, or only she can do it?")
    assert text.startswith(body(expected))
    assert body("no_help_against_will") not in text


async def test_against_their_will_is_still_answered_when_nothing_was_described():
    text = await Chat().say("no_help_against_will", text="can someone be helped against their will?")
    assert text.startswith(body("no_help_against_will"))


async def test_i_need_help_read_as_refusing_help_gets_whom_to_contact_not_against_their_will():
    reply = await Chat("vi").say(
        "no_help_against_will", text="tôi cần giúp đỡ", ranking={"no_help_against_will": 0.5, "who_to_contact": 0.3})
    assert reply.startswith(body("who_to_contact", "vi").split(".")[0])
    assert body("no_help_against_will", "vi") not in reply
    reply = await Chat("en").say(
        "no_help_against_will", text="can i say no to the help?", ranking={"no_help_against_will": 0.9, "thanks": 0.05})
    assert reply.startswith(body("no_help_against_will"))


async def test_a_greeting_that_asks_for_help_gets_whom_to_contact_a_bare_greeting_a_greeting():
    chat = Chat("en")
    reply = await chat.say("greet", text="hi i need help", ranking={"greet": 0.6, "emergency": 0.25})
    assert reply.startswith(body("who_to_contact").split(".")[0])
    assert not reply.startswith(body("greet").split(".")[0])
    reply = await Chat("en").say("greet", text="hello", ranking={"greet": 0.97, "goodbye": 0.02})
    assert reply.startswith(body("greet").split(".")[0])


@pytest.mark.parametrize("language, text", [
    ("en", "hello, can you help me"),
    ("et", "tere, vajan abi"),
    ("bg", "здравей, трябва ми помощ"),
    ("bg", "zdravei, triabva mi pomosht"),
    ("ar", "salam, ana mehtaj mosa3da"),
    ("vi", "xin chào, tôi cần giúp đỡ"),
    ("th", "สวัสดีค่ะ ช่วยด้วยค่ะ"),
    ("zh", "你好，帮帮我"),
    ("ne", "नमस्ते, मलाई मद्दत चाहियो"),
])
async def test_a_greeting_with_a_word_for_help_gets_whom_to_contact_however_sure_the_greeting(language, text):
    """Read as a greeting at 0.99: a greeting to someone asking for help is harmful (JUDGING.md)."""
    reply = await Chat(language).say("greet", text=text, ranking={"greet": 0.99, "goodbye": 0.01})
    assert reply.startswith(body("who_to_contact", language))


async def test_hello_are_you_there_after_a_described_situation_goes_on_with_the_next_step():
    chat = Chat()
    await chat.say("situation_self", text="they keep my passport and i work for nothing")
    reply = await chat.say("greet", text="?? hello are you there", ranking={"greet": 0.9, "follow_up": 0.05})
    assert reply.startswith(body("next_step_contact"))


async def test_hello_after_a_question_answered_is_a_fresh_start_with_the_greeting():
    chat = Chat("fi")
    await chat.say("what_is_trafficking", text="mitä on ihmiskauppa")
    assert (await chat.say("greet", text="moi", ranking={"greet": 0.97})).startswith(body("greet", "fi"))


async def test_a_message_barely_read_as_a_greeting_mid_conversation_is_answered_from_context():
    """"onks se ilmasta" ("is it free") read as a greeting at 0.23 after a
    question: never the greeting and its menu; the conversation goes on."""
    chat = Chat("fi")
    await chat.say("services_offered", text="mitä apua sieltä saa")
    text = await chat.say("greet", text="onks se ilmasta", ranking={"greet": 0.23, "bot_challenge": 0.11})
    assert not text.startswith(body("greet", "fi"))
    assert text.startswith(body("next_step_contact", "fi"))
    assert contacts_in(text, "fi")


@pytest.mark.parametrize("language, text", [("et", "tere, aitäh"), ("en", "hello there"), ("fi", "moi moi")])
async def test_a_greeting_without_a_word_for_help_is_a_greeting(language, text):
    reply = await Chat(language).say("greet", text=text, ranking={"greet": 0.99, "goodbye": 0.01})
    assert reply.startswith(body("greet", language))


async def test_a_described_situation_asking_is_this_trafficking_gets_the_situations_answer():
    text = "I work 14 hours a day on a farm, the owner has our passports and says we owe him 3000, is this trafficking?"
    reply = await Chat("en").say(
        "what_is_trafficking", text=text,
        ranking={"what_is_trafficking": 0.5, "situation_self": 0.3, "situation_other": 0.1})
    assert reply.startswith(body("situation_self").split(".")[0])
    reply = await Chat("en").say("what_is_trafficking", text="what is human trafficking exactly?",
                                 ranking={"what_is_trafficking": 0.95})
    assert reply.startswith(body("what_is_trafficking").split(".")[0])


async def test_thank_you_goodbye_after_an_answer_is_a_goodbye_a_bare_alright_the_next_step():
    """"thank you very much, goodbye" (read as goodbye, with some thanks) gets
    the goodbye; "alright" read as goodbye alone is a follow-up mid-conversation."""
    chat = Chat("fa")
    await chat.say("situation_self")
    leaving = await chat.say("goodbye", text="تشکر بسیار، خدا حافظ",
                             ranking={"goodbye": 0.72, "thanks": 0.23, "emergency": 0.01})
    assert leaving.startswith(body("goodbye", "fa")) and contacts_in(leaving, "fa")
    chat = Chat("ro")
    await chat.say("situation_self")
    going_on = await chat.say("goodbye", text="bine", ranking={"goodbye": 0.87, "follow_up": 0.1})
    assert going_on.startswith(body("next_step_contact", "ro"))


async def test_in_danger_the_contact_step_says_to_write_if_calling_is_impossible():
    """Someone locked in who cannot speak aloud reads at once that an e-mail is fine."""
    for language in LANGUAGES:
        text = await Chat(language).say("emergency", danger=True, text="...")
        answer = text.split("\n\n")[1]
        assert answer == body("danger_contact", language)
        facts = catalogue.fact_values(language)
        assert answer.index(facts["phone"]) < answer.index(facts["email"]), language
