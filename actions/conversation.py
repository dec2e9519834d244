"""How a reply is composed from the message AND the conversation so far.

Pure functions (no Rasa objects), so every path is unit-tested. The state is
three slots that ``action_answer`` keeps (domain.yml):

- ``last_answer``: the last substantive answer; a follow-up ("what now?",
  "ok", "??") gets the next step after it (``NEXT_STEP``);
- ``about``: ``self``, ``other`` (a helper asking for someone else) or
  ``minor`` (the person said they are 10 to 17, ``bot/minor.py``: every
  answer about what to do is then the minor's answer);
- ``danger``: the person signalled danger now earlier in this session.

Danger first: when this message signals danger now (``bot/danger.py``), or the
person did so earlier in the session, the reply opens with ``danger_first``
(112), then answers what was asked, never with a greeting, thanks, goodbye or
"I can only answer ...".

To add a follow-up path: add the key to ``NEXT_STEP`` (what comes after it).
To add a situation: a new intent + catalogue key of the same name in every
language (docs/intents.md), a rule in data/rules.yml, and, if it is about
someone else, an entry in ``ABOUT``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict, List, Optional

# The next step after each answer, for a follow-up: what it is -> whom to
# contact -> how to be admitted -> what help there is -> contact them now.
NEXT_STEP = {
    "what_is_trafficking": "who_to_contact",
    "situation_self": "next_step_contact",
    "who_to_contact": "how_to_get_admitted",
    "how_to_get_admitted": "services_offered",
    "services_offered": "next_step_contact",
    "help_without_residence_permit": "how_to_get_admitted",
    "children": "how_to_get_admitted",
    "who_arranges_help": "next_step_contact",
    "no_help_against_will": "next_step_contact",
    "more_information": "next_step_contact",
    "statistics_reports": "next_step_contact",
    "not_in_source": "next_step_contact",
    "language_help": "next_step_contact",
    "minor_victim": "next_step_contact",
    "emergency": "danger_contact",
    "danger_contact": "how_to_get_admitted",
    "write_instead": "how_to_get_admitted",
    "next_step_contact": "how_to_get_admitted",
    "plain_summary": "next_step_contact",
    # someone helping another person
    "situation_other": "helper_next_step",
    "helper_next_step": "services_offered",
}
# With no earlier answer (a first message "what now?"), or after small talk.
NO_CONTEXT_STEP = "next_step_contact"
# For a helper, whom to contact is the helper's path.
HELPER_STEP = {"who_to_contact": "helper_next_step", "how_to_get_admitted": "helper_next_step"}

# Answers a short message must not get twice in a row (it moves on instead);
# a new question the source does not answer, or a situation that gets worse,
# gets its answer again.
REPEAT_MOVES_ON = frozenset({"situation_other", "who_to_contact", "how_to_get_admitted", "services_offered"})
# ... and answers no message gets twice in a row, however long: a person who
# goes on describing ("he won't go to the police, he's scared"; "and they
# take half my pay too") gets the next step, not the same text word for word
# (not in danger: then the contact steps stay, after 112).
REPEAT_ALWAYS_MOVES_ON = frozenset({"situation_self", "situation_other", "helper_next_step"})

FOLLOW_UP_INTENTS = frozenset({"follow_up"})
PLAIN_INTENTS = frozenset({"dont_understand"})

# Answers that already open with 112: no second opener.
OPENS_WITH_112 = frozenset({"emergency", "minor_victim"})
# Answers that must never be the main reply to someone in danger now.
NOT_FOR_DANGER = frozenset(
    {
        "greet", "goodbye", "thanks", "out_of_scope", "nlu_fallback",
        "no_help_against_will", "emergency",
    }
)
# Thanks from someone who signalled danger earlier, not in this message
# ("thanks, I'll call tonight when they sleep"): 112 first, then "you are
# welcome", not the contact step again word for word.
THANKS_AFTER_DANGER = frozenset({"thanks"})
# In danger now, "is it the writer or someone else?" is the classifier's
# weakest call ("he locked us in" read as someone else's situation), and the
# helper's answer ends with "nobody may be helped against their will". So
# after 112: the helper's steps when the person is clearly a witness (an
# earlier turn was about someone else, or the classifier all but rules out
# the writer's own situation), else the contact step, right for a victim and
# acceptable for a witness.
DANGER_INSTEAD = {"situation_other": "helper_next_step"}
DANGER_UNSURE = "danger_contact"
# ... but when only the danger classifier raised the signal, and weakly (no
# danger pattern, not the emergency intent, a score under
# actions/answer.py's WEAK_DANGER_SCORE), the description is as often a
# witness's account that merely sounds urgent ("the foreman has their
# passports, they sleep in a container") as a victim's: after 112, whom to
# contact, which speaks to both (you yourself; someone who suspects it of
# another: the police or the Assistance System).
DANGER_UNSURE_WEAK = "who_to_contact"
# "Whom do I contact?" from someone in danger now ("I can't call, he is next
# to me"; "they are driving me somewhere"): after 112, the Assistance System
# when they can, by phone or e-mail, without the lines for a bystander.
DANGER_NOW_INSTEAD = {"who_to_contact": "danger_contact"}
# In danger, the contact step a second time in a row ("I can't call, he'd
# hear"; readers of batch 9: a word-for-word repeat that ignores it): after
# 112, write instead, the e-mail address.
REPEAT_IN_DANGER = {"danger_contact": "write_instead"}
# Someone helping another person, whose message would otherwise get an answer
# not for danger (a refusal, "out of scope"): after 112, the helper's steps.
DANGER_FOR_HELPER = "helper_next_step"
# Mid-conversation, a short message the classifier takes for one of these is
# far more likely a follow-up ("what should I do", "how can I help him",
# "sige" = "ok" in Tagalog) than off-topic, a refusal of help or a goodbye;
# those answers would be harmful there (a goodbye costs a person who wanted
# to go on; the next step costs one who wanted to leave one more message).
CONTEXT_BEATS = frozenset({"out_of_scope", "nlu_fallback", "no_help_against_will", "goodbye"})
# ... and, once a situation has been described (``about`` is set), a greeting
# ("hello?? are you there") is a nudge to go on, too; after a question
# answered, "moi" is a fresh start (the greeting and its menu).
SITUATION_CONTEXT_BEATS = frozenset({"greet"})
# Once a situation has been described, "nobody may be helped against their
# will" is never the answer (JUDGING.md: harmful to someone under coercion or
# helping one): the next step for whom the conversation is about.
AGAINST_WILL_INSTEAD = {"other": "helper_next_step", "self": "next_step_contact", "minor": "minor_victim"}
# ... nor "sorry, I did not understand" to a longer message the classifier
# could not place ("should I go and talk to that uncle myself?"; readers of
# batch 18: harmful after a described situation): the same step for whom
# the conversation is about (short ones are follow-ups, above).
UNCLEAR_IN_SITUATION = frozenset({"nlu_fallback"})
# Small talk does not move the conversation: "ok" after "thanks" continues
# from the answer before.
NOT_REMEMBERED = frozenset(
    {"greet", "goodbye", "thanks", "bot_challenge", "change_language", "privacy",
     "out_of_scope", "nlu_fallback", "unsupported_language", "ui_choose_language"}
)
ABOUT = {"situation_self": "self", "minor_victim": "minor", "situation_other": "other"}
# For a child or teenager who is the victim, these become the minor's answer
# (112 in danger, the Assistance System 24/7; never "your minor children").
MINOR_INSTEAD = frozenset(
    {"situation_self", "situation_other", "who_to_contact", "how_to_get_admitted", "children",
     "danger_contact", "help_without_residence_permit", "what_is_trafficking"}
)
# A person who described exploitation and is answered with the contact step
# in danger (also a situation the classifier could not tell the writer's own
# or a witness's, DANGER_UNSURE) or with the minor's answer is first told
# that this may be human trafficking (JUDGING.md: a described situation is
# answered well only when the reply says so; readers of batch 15 missed it
# for minors and people in danger). The reply still opens with 112.
DESCRIBED = frozenset({"situation_self", "minor_victim", "situation_other"})
SAYS_WHAT_IT_MAY_BE = frozenset({"danger_contact", "minor_victim", "who_to_contact"})
# A described situation, or a question near one the source answers, that also
# asks what the source does not ("... will they deport me?", "how long does
# admission take?"): that answer, then the honest "ask them". Chosen on the
# situations dev split (docs/decisions.md §9).
WITH_NOT_IN_SOURCE = frozenset(
    {"situation_self", "situation_other", "how_to_get_admitted", "help_without_residence_permit", "privacy"}
)


@dataclass
class Plan:
    """The catalogue keys of one reply, in order, and the slots to set."""

    keys: List[str]
    slots: Dict[str, object] = field(default_factory=dict)

    @property
    def main(self) -> str:
        """The key that answers (what is remembered and evaluated)."""
        return self.keys[-1]


def main_key(
    key: str,
    intent: Optional[str],
    last_answer: Optional[str],
    about: Optional[str],
    short: bool = False,
    in_danger: bool = False,
    closing: bool = False,
) -> str:
    """The answer to this message, read in the conversation's context.

    ``in_danger``: danger was signalled; then the contact steps may come
    again (after 112; ``REPEAT_IN_DANGER`` says what changes); ``closing``:
    a goodbye that also thanks, never taken for a follow-up."""
    follow_up = intent in FOLLOW_UP_INTENTS or (
        short
        and last_answer in NEXT_STEP
        and (key in CONTEXT_BEATS or key in SITUATION_CONTEXT_BEATS and about is not None)
        and not closing
    )
    if follow_up:
        step = NEXT_STEP.get(last_answer or "", NO_CONTEXT_STEP)
        if about == "other":
            step = HELPER_STEP.get(step, step)
        return step
    if intent in PLAIN_INTENTS:
        return "plain_summary"
    answer = key
    if (key == "no_help_against_will" or key in UNCLEAR_IN_SITUATION) and about in AGAINST_WILL_INSTEAD:
        answer = AGAINST_WILL_INSTEAD[about]
    elif about == "other" and key in HELPER_STEP:
        answer = HELPER_STEP[key]
    if answer == last_answer and (
        short and answer in REPEAT_MOVES_ON or answer in REPEAT_ALWAYS_MOVES_ON and not in_danger
    ):
        # a message that would get the same answer again ("but who do I
        # contact?", "can I call for her?"): the next step tells more
        step = NEXT_STEP[answer]
        return HELPER_STEP.get(step, step) if about == "other" else step
    return answer


def plan(
    key: str,
    intent: Optional[str],
    danger_now: bool,
    last_answer: Optional[str] = None,
    about: Optional[str] = None,
    danger_before: bool = False,
    short: bool = False,
    minor: bool = False,
    unanswered_question: bool = False,
    clearly_other: bool = False,
    closing: bool = False,
    danger_weak: bool = False,
) -> Plan:
    """Compose one reply: 112 first when in danger, then the answer in context.

    ``key`` is the catalogue key the message alone would get (from its intent);
    ``short``: the message has few words (a follow-up rather than a new topic);
    ``minor``: the person says they are under 18 (``bot/minor.py``);
    ``unanswered_question``: the message also asks something the source does
    not answer (the classifier's second thought, ``actions/answer.py``);
    ``clearly_other``: the classifier all but rules out the writer's own situation;
    ``closing``: a goodbye that also thanks ("thank you, bye");
    ``danger_weak``: only the danger classifier raised the signal, with a
    low score (``bot/danger.py``).
    """
    stored_about = about
    described = key in DESCRIBED and intent not in FOLLOW_UP_INTENTS
    if minor:
        about = "minor"
    if about == "minor" and key in MINOR_INSTEAD:
        key = "minor_victim"
    main = main_key(
        key, intent, last_answer, about, short, in_danger=danger_now or danger_before, closing=closing
    )
    if about == "minor" and main in MINOR_INSTEAD:
        main = "minor_victim"
    in_danger = danger_now or danger_before or main in OPENS_WITH_112
    keys = [main]
    if in_danger:
        if main in NOT_FOR_DANGER and not (main in THANKS_AFTER_DANGER and not danger_now):
            # a helper ("he won't go to the police") gets the helper's steps
            main = DANGER_FOR_HELPER if about == "other" else "danger_contact"
        elif danger_now and main in DANGER_INSTEAD:
            if stored_about == "other" or clearly_other:
                main = DANGER_INSTEAD[main]
            else:
                main = DANGER_UNSURE_WEAK if danger_weak else DANGER_UNSURE
        elif danger_now and main in DANGER_NOW_INSTEAD:
            # (a helper's "whom do I contact?" is already the helper's step)
            main = DANGER_NOW_INSTEAD[main]
        if main == last_answer and main in REPEAT_IN_DANGER:
            main = REPEAT_IN_DANGER[main]
        # the opener also speaks to a bystander ("you or someone near you"):
        # it comes first whenever this message signals danger (the answers
        # after it do not say 112 again, bot.catalogue.reply)
        keys = [main] if main in OPENS_WITH_112 and not danger_now else ["danger_first", main]
    if described and main in SAYS_WHAT_IT_MAY_BE:
        keys = ["danger_first", "may_be_trafficking", main]
    slots: Dict[str, object] = {}
    if main not in NOT_REMEMBERED and main != last_answer:
        slots["last_answer"] = main
    if unanswered_question and main in WITH_NOT_IN_SOURCE:
        keys.append("not_in_source")
    new_about = "minor" if minor else ABOUT.get(key) if intent not in FOLLOW_UP_INTENTS else None
    if new_about == "other" and main in (DANGER_UNSURE, DANGER_UNSURE_WEAK) and stored_about != "other":
        # answered as possibly the writer's own situation: not remembered as
        # someone else's ("I can't call, he's next to me" then gets the
        # victim's next step, not the helper's)
        new_about = None
    if new_about and new_about != stored_about:
        slots["about"] = new_about
    if (danger_now or main in OPENS_WITH_112 or key in OPENS_WITH_112) and not danger_before:
        slots["danger"] = True
    return Plan(keys=keys, slots=slots)
