"""The places where we change how Rasa 3.6 works inside.

Rasa has no hook for any of them, so each wraps one method once per process.
They are installed by the project's Rasa entry point (bot/rasa_main.py, which
also checks the Rasa version first), used by every Rasa process the project
starts; and again, idempotently, by the ``LanguageDetector`` component when a
model is loaded in-process (``make evaluate``, tests).

1. The contact block even when the action server fails. Rasa answers nothing
   when a custom action fails: it logs the error and the person gets an empty
   reply. Here a failed or slow action server gives the catalogue's fallback
   answer (with the contact block) in the conversation's language, rendered in
   the Rasa process.
2. Validation of the action server's answer with a validator built once.
   Rasa calls ``jsonschema.validate`` on every answer, which checks the schema
   itself first each time: 70 % of a turn's time in a profile (docs/decisions.md).
   Same schema, same errors, checked once.
3. ``Event.resolve_by_type`` remembers what it found. Rasa walks every Event
   subclass (recursively, with ``inspect.isabstract``) for each event it reads
   back from the tracker store or the action server: 14 % of a turn's time in
   a profile. The classes do not change after import; the answer is the same.
4. Log lines redacted (``bot/redact.py``). At debug level Rasa quotes every
   message it receives; with this, a phone number or an address in it reads
   ``[phone]`` or ``[address]`` in the log, as in the tracker store.
5. A retried message is handled once. The gateway gives every message an id
   (the same on a retry, which it also marks) and tries another instance when
   the first does not answer in time, while the first may still be handling
   it. Under the conversation's lock, a message whose id is already in the
   conversation is answered with the replies it got, not handled again (it
   would be stored twice and answered twice).
"""
from __future__ import annotations

import asyncio
import functools
import logging
import os
from typing import Any, Dict, List, Optional

from bot import catalogue

logger = logging.getLogger(__name__)

ACTION_TIMEOUT_ENV = "HELPLINE_ACTION_TIMEOUT"
DEFAULT_ACTION_TIMEOUT = 5.0
FALLBACK_KEY = "nlu_fallback"


def action_timeout() -> float:
    """Seconds Rasa waits for the action server (read per call: tests change it)."""
    from bot.settings import positive_setting

    return positive_setting(os.environ, ACTION_TIMEOUT_ENV, DEFAULT_ACTION_TIMEOUT)


def conversation_language(tracker: Any) -> str:
    """The conversation's language: the slot, else this message's best guess."""
    language: Optional[str] = tracker.get_slot("language")
    if not language:
        detected = (tracker.latest_message.parse_data or {}).get("language") or {}
        language = detected.get("code")
    return catalogue.supported(language)


def fallback_events(tracker: Any) -> List[Any]:
    """The events of a fallback turn: the contact block in the user's language."""
    from rasa.shared.core.events import BotUttered

    message = catalogue.turn(FALLBACK_KEY, conversation_language(tracker))
    return [
        BotUttered(
            text=message["text"],
            data={"buttons": message["buttons"]},
            metadata={"language": message["language"], "rtl": message["rtl"]},
        )
    ]


def install() -> None:
    """Install the patches (idempotent)."""
    from bot import redact

    redact.install_log_redaction()
    install_action_safety_net()
    install_retry_once()
    install_prebuilt_response_validator()
    install_event_type_cache()


def install_event_type_cache() -> None:
    """Memoise ``Event.resolve_by_type`` for the types it finds (idempotent)."""
    from rasa.shared.core.events import Event

    original = Event.resolve_by_type
    if getattr(original, "_helpline_cached", False):
        return
    found: Dict[str, Any] = {}

    @functools.wraps(original)
    def resolve_by_type(type_name, default=None):
        event_class = found.get(type_name)
        if event_class is None:
            event_class = original(type_name, default)
            if event_class is not None and event_class is not default:
                found[type_name] = event_class
        return event_class

    resolve_by_type._helpline_cached = True
    Event.resolve_by_type = staticmethod(resolve_by_type)


@functools.lru_cache(maxsize=1)
def _response_validator():
    from jsonschema.validators import validator_for
    from rasa.core.actions.action import RemoteAction

    schema = RemoteAction.action_response_format_spec()
    validator_class = validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema)


def install_prebuilt_response_validator() -> None:
    """Replace ``RemoteAction._validate_action_result`` (idempotent)."""
    from jsonschema.exceptions import best_match
    from rasa.core.actions.action import RemoteAction

    if getattr(RemoteAction._validate_action_result, "_helpline_prebuilt", False):
        return
    original = RemoteAction._validate_action_result

    @functools.wraps(original)
    def validate_action_result(self, result):
        error = best_match(_response_validator().iter_errors(result))
        if error is not None:
            error.message += (
                ". Failed to validate Action server response from API, make sure "
                "your response from the Action endpoint is valid."
            )
            raise error
        return True

    validate_action_result._helpline_prebuilt = True
    RemoteAction._validate_action_result = validate_action_result


def install_action_safety_net() -> None:
    """Wrap ``RemoteAction.run`` (idempotent)."""
    from rasa.core.actions.action import ActionExecutionRejection, RemoteAction

    if getattr(RemoteAction.run, "_helpline_safety_net", False):
        return
    original_run = RemoteAction.run

    @functools.wraps(original_run)
    async def run_with_contacts(self, output_channel, nlg, tracker, domain):
        try:
            return await asyncio.wait_for(
                original_run(self, output_channel, nlg, tracker, domain),
                timeout=action_timeout(),
            )
        except (asyncio.CancelledError, ActionExecutionRejection):
            raise
        except Exception as error:  # the person still gets the contacts
            logger.error(
                "Custom action %s failed (%s); answered with the contact block.",
                self.name(),
                type(error).__name__,
            )
            logger.debug("Custom action failure detail: %s", error)
            return fallback_events(tracker)

    run_with_contacts._helpline_safety_net = True
    RemoteAction.run = run_with_contacts


def replies_to(tracker: Any, message_id: str) -> Optional[List[Dict[str, Any]]]:
    """The bot's replies to the user message with this id, or None if it is not
    in the conversation."""
    from rasa.shared.core.events import BotUttered, UserUttered

    replies: Optional[List[Dict[str, Any]]] = None
    for event in tracker.events:
        if isinstance(event, UserUttered):
            if replies is not None:
                break
            if event.message_id == message_id:
                replies = []
        elif replies is not None and isinstance(event, BotUttered):
            data = {k: v for k, v in (event.data or {}).items() if v is not None}
            replies.append({"text": event.text, **data, **(event.metadata or {})})
    return replies


class AlreadyAnswered(Exception):
    """This message is already in the conversation: here are its replies."""

    def __init__(self, replies: List[Dict[str, Any]]) -> None:
        super().__init__("already answered")
        self.replies = replies


def install_retry_once() -> None:
    """Wrap ``MessageProcessor._handle_message_with_tracker`` and
    ``handle_message`` (idempotent). The check reads the tracker Rasa has just
    fetched for the turn (no extra read), under the conversation's lock, for
    every message that carries the gateway's id; its first try and a retry
    may reach two instances in either order."""
    from rasa.core.channels.channel import CollectingOutputChannel
    from rasa.core.processor import MessageProcessor

    from bot.settings import MESSAGE_ID

    if getattr(MessageProcessor.handle_message, "_helpline_retry_once", False):
        return
    original_handle = MessageProcessor.handle_message
    original_with_tracker = MessageProcessor._handle_message_with_tracker

    @functools.wraps(original_with_tracker)
    async def handle_message_with_tracker(self, message, tracker):
        if (message.metadata or {}).get(MESSAGE_ID) == message.message_id:
            replies = replies_to(tracker, message.message_id)
            if replies is not None:
                raise AlreadyAnswered(replies)
        return await original_with_tracker(self, message, tracker)

    @functools.wraps(original_handle)
    async def handle_message(self, message):
        try:
            return await original_handle(self, message)
        except AlreadyAnswered as answered:
            logger.info("A message already answered arrived again (a retry); its replies are sent again.")
            for reply in answered.replies:
                await message.output_channel.send_response(message.sender_id, dict(reply))
            if isinstance(message.output_channel, CollectingOutputChannel):
                return message.output_channel.messages
            return None

    handle_message._helpline_retry_once = True
    MessageProcessor.handle_message = handle_message
    MessageProcessor._handle_message_with_tracker = handle_message_with_tracker
