"""The one answering action: intent -> catalogue key, in the conversation's language.

Every message it sends carries the contact block (``bot.catalogue.turn``).
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import SlotSet
from rasa_sdk.executor import CollectingDispatcher

from bot import catalogue

LANGUAGE_SLOT = "language"

FALLBACK_KEY = "nlu_fallback"
NOT_ANSWERS = ("ui_", "button_", "contact_block")


def answer_key(intent: Optional[str]) -> str:
    """The catalogue key that answers an intent (its own name); else the fallback."""
    if (
        intent
        and not intent.startswith(NOT_ANSWERS)
        and intent in catalogue.raw_texts(catalogue.default_language())
    ):
        return intent
    return FALLBACK_KEY


def choose_language(tracker: Tracker) -> Tuple[str, bool, bool]:
    """(language, switch the slot to it, offer the language picker)."""
    current = tracker.get_slot(LANGUAGE_SLOT)
    detection: Dict[str, Any] = tracker.latest_message.get("language") or {}
    # the language picker's payload, or a phrase like "in English please"
    requested = next(tracker.get_latest_entity_values(LANGUAGE_SLOT), None) or detection.get(
        "requested"
    )
    if requested in catalogue.languages():
        return requested, requested != current, False
    if detection.get("confident") and detection.get("code") in catalogue.languages():
        return detection["code"], detection["code"] != current, False
    if current in catalogue.languages():
        return current, False, False
    # Too short to tell, first message: the page's language if the widget sent
    # it, else our best guess; the picker lets the person correct it.
    hint = detection.get("hint")
    guess = hint if hint in catalogue.languages() else catalogue.supported(detection.get("code"))
    return guess, False, True


class ActionAnswer(Action):
    """Answers every intent from the catalogue, with the contact block."""

    def name(self) -> Text:
        return "action_answer"

    def key(self, tracker: Tracker) -> str:
        return answer_key((tracker.latest_message.get("intent") or {}).get("name"))

    async def run(
        self,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: Dict[Text, Any],
    ) -> List[Dict[Text, Any]]:
        language, switch, offer_languages = choose_language(tracker)
        detection = tracker.latest_message.get("language") or {}
        key = self.key(tracker)

        if detection.get("unsupported") and not switch:
            key, offer_languages = "unsupported_language", True
            language = catalogue.default_language()
        elif key == "change_language" and not switch:
            # asked for another language without naming one we know
            key, offer_languages = "ui_choose_language", True

        dispatcher.utter_message(**catalogue.turn(key, language, offer_languages))
        return [SlotSet(LANGUAGE_SLOT, language)] if switch else []


class ActionDefaultFallback(ActionAnswer):
    """Rasa's core fallback, overridden so it too answers with the contacts."""

    def name(self) -> Text:
        return "action_default_fallback"

    def key(self, tracker: Tracker) -> str:
        return FALLBACK_KEY
