"""How a reply is composed from the message AND the conversation so far.

Pure functions (no Rasa objects), so every path is unit-tested. The state is
three slots that ``action_answer`` keeps (domain.yml):

- ``last_answer``: the last substantive answer; a follow-up ("what now?",
  "ok", "??") gets the next step after it (``NEXT_STEP``);
- ``about``: ``self`` or ``other`` (a helper asking for someone else);
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
    "situation_self": "how_to_get_admitted",
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
    "next_step_contact": "plain_summary",
    "plain_summary": "next_step_contact",
    # someone helping another person
    "situation_other": "helper_next_step",
    "helper_next_step": "services_offered",
}
# With no earlier answer (a first message "what now?"), or after small talk.
NO_CONTEXT_STEP = "next_step_contact"
# For a helper, whom to contact is the helper's path.
HELPER_STEP = {"who_to_contact": "helper_next_step", "how_to_get_admitted": "helper_next_step"}

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
# In danger now, "is it the writer or someone else?" is the classifier's
# weakest call ("he locked me in" read as someone else's situation), and the
# helper's text ends with "nobody may be helped against their will": after
# 112 the reply is the contact step, right for a victim and a witness alike.
DANGER_NEUTRAL = frozenset({"situation_other"})
# Mid-conversation, a short message the classifier takes for one of these is
# far more likely a follow-up ("what should I do", "how can I help him") than
# off-topic or a refusal of help; those answers would be harmful there.
CONTEXT_BEATS = frozenset({"out_of_scope", "nlu_fallback", "no_help_against_will"})
# Small talk does not move the conversation: "ok" after "thanks" continues
# from the answer before.
NOT_REMEMBERED = frozenset(
    {"greet", "goodbye", "thanks", "bot_challenge", "change_language", "privacy",
     "out_of_scope", "nlu_fallback", "unsupported_language", "ui_choose_language"}
)
ABOUT = {"situation_self": "self", "minor_victim": "self", "situation_other": "other"}


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
) -> str:
    """The answer to this message, read in the conversation's context."""
    follow_up = intent in FOLLOW_UP_INTENTS or (
        short and last_answer in NEXT_STEP and key in CONTEXT_BEATS
    )
    if follow_up:
        step = NEXT_STEP.get(last_answer or "", NO_CONTEXT_STEP)
        if about == "other":
            step = HELPER_STEP.get(step, step)
        return step
    if intent in PLAIN_INTENTS:
        return "plain_summary"
    if about == "other" and key == "how_to_get_admitted" and last_answer in (
        "situation_other", "helper_next_step"
    ):
        return "helper_next_step"
    return key


def plan(
    key: str,
    intent: Optional[str],
    danger_now: bool,
    last_answer: Optional[str] = None,
    about: Optional[str] = None,
    danger_before: bool = False,
    short: bool = False,
) -> Plan:
    """Compose one reply: 112 first when in danger, then the answer in context.

    ``key`` is the catalogue key the message alone would get (from its intent);
    ``short``: the message has few words (a follow-up rather than a new topic).
    """
    main = main_key(key, intent, last_answer, about, short)
    in_danger = danger_now or danger_before or main in OPENS_WITH_112
    keys = [main]
    if in_danger:
        if main in NOT_FOR_DANGER or (main in DANGER_NEUTRAL and danger_now):
            main = "danger_contact"
        # the opener also speaks to a bystander ("you or someone near you"):
        # it comes first whenever this message signals danger
        keys = [main] if main in OPENS_WITH_112 and not danger_now else ["danger_first", main]
    slots: Dict[str, object] = {}
    if main not in NOT_REMEMBERED and main != last_answer:
        slots["last_answer"] = main
    new_about = ABOUT.get(key) if intent not in FOLLOW_UP_INTENTS else None
    if new_about and new_about != about:
        slots["about"] = new_about
    if (danger_now or main in OPENS_WITH_112 or key in OPENS_WITH_112) and not danger_before:
        slots["danger"] = True
    return Plan(keys=keys, slots=slots)
