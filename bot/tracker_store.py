"""Rasa's in-memory tracker store, forgetting what it no longer needs.

Rasa's own keeps every conversation until the process ends: a 10-minute soak
(50 users, ~9,700 conversations) grew Rasa's memory by 27 %, and every
conversation stays readable in memory for as long as the server runs. This one
forgets a conversation once it has been idle for longer than the session
expiry (domain.yml ``session_config``: its next message would start a new
session anyway) and keeps at most ``max_conversations``, dropping the least
recently used first.

Used by endpoints.yml (the embedded profile). The production profile keeps
conversations in PostgreSQL (``RedactingSQLTrackerStore``), with the retention
job (bot/retention.py).

Both store what a person wrote only after ``bot/redact.py`` has replaced
personal data with its kind (``[phone]``, ``[email]``, ...), or, with
``HELPLINE_STORE_TEXT=none``, no text at all. NLU and the actions of the turn
being answered still see the original message: only the stored copy changes.
"""
from __future__ import annotations

import copy
import os
import time
from collections import OrderedDict, deque
from typing import Any, Optional, Text

from rasa.core.brokers.broker import EventBroker
from rasa.core.tracker_store import InMemoryTrackerStore, SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import Event, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot import redact

DEFAULT_MAX_CONVERSATIONS = 2000
DEFAULT_IDLE_MINUTES = 60


def keeps_text() -> bool:
    """False when the operator chose ``HELPLINE_STORE_TEXT=none`` (bot/settings.py)."""
    from bot.settings import STORE_TEXT, _choice

    return _choice(os.environ, "HELPLINE_STORE_TEXT", "redacted", STORE_TEXT) != "none"


def stored_event(event: Event, keep_text: bool) -> Event:
    """The event as it may be stored: a user message redacted, others as they are."""
    if not isinstance(event, UserUttered) or (event.parse_data or {}).get(redact.STORED_MARK):
        return event  # not a message, or read back from the store: already done
    return Event.from_parameters(redact.stored_user_event(event.as_dict(), keep_text))


def stored_view(tracker: DialogueStateTracker, keep_text: bool = True) -> DialogueStateTracker:
    """A copy of the tracker whose user messages are what may be stored.

    Messages read back from the store carry the mark of having been redacted
    and are not redacted again on every turn (that cost the most time in a
    profile of a long conversation); only new ones are."""
    view = copy.copy(tracker)
    view.events = deque(stored_event(event, keep_text) for event in tracker.events)
    return view


class RedactingSQLTrackerStore(SQLTrackerStore):
    """Rasa's SQL tracker store, storing user messages redacted (endpoints.production.yml)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep_text = keeps_text()

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(stored_view(tracker, self.keep_text))


class ExpiringInMemoryTrackerStore(InMemoryTrackerStore):
    def __init__(
        self,
        domain: Domain,
        event_broker: Optional[EventBroker] = None,
        host: Optional[Text] = None,
        max_conversations: int = DEFAULT_MAX_CONVERSATIONS,
        **kwargs: Any,
    ) -> None:
        super().__init__(domain, event_broker, **kwargs)
        if not isinstance(max_conversations, int) or max_conversations < 1:
            raise ValueError(
                "tracker_store max_conversations (endpoints.yml) must be a positive whole number"
            )
        self.max_conversations = max_conversations
        expiry = domain.session_config.session_expiration_time if domain else 0
        self.idle_seconds = 60 * (expiry or DEFAULT_IDLE_MINUTES)
        self.keep_text = keeps_text()
        self.store: "OrderedDict[Text, Text]" = OrderedDict()
        self.last_used: "OrderedDict[Text, float]" = OrderedDict()

    def forget(self, now: Optional[float] = None) -> None:
        """Drop conversations idle for too long, then the oldest beyond the limit."""
        now = time.monotonic() if now is None else now
        while self.last_used:
            sender_id, last = next(iter(self.last_used.items()))
            if now - last <= self.idle_seconds and len(self.last_used) <= self.max_conversations:
                break
            del self.last_used[sender_id]
            self.store.pop(sender_id, None)

    async def save(self, tracker: DialogueStateTracker) -> None:
        await super().save(stored_view(tracker, self.keep_text))
        self.last_used.pop(tracker.sender_id, None)
        self.last_used[tracker.sender_id] = time.monotonic()
        self.store.move_to_end(tracker.sender_id)
        self.forget()
