"""Rasa's Redis lock store, safe when a Rasa instance dies holding a lock.

Rasa 3.6 gives every message of a conversation a ticket that expires after
``TICKET_LOCK_LIFETIME`` seconds, and serves tickets in order. When an instance
is killed while it holds a ticket, a message retried on another instance gets
the next ticket, and then waits for the dead one to expire. But its own ticket
was issued moments later and expires moments later: Rasa removes expired
tickets only once a second, so the waiting ticket usually expires in the same
sweep, and Rasa then waits for it forever (the gateway gives up and the person
gets the "not available" answer). Measured: 3 of 12 conversations lost a
message when an instance was killed under load.

Here a waiting ticket is renewed every time it checks, so only the tickets of
processes that are gone expire. Lock keys also get a Redis expiry, so a lock
left by a dead instance (keyed by conversation id) does not stay in Redis
forever.

The ticket lifetime is read here, from ``HELPLINE_LOCK_LIFETIME`` (default
8 s, below the gateway's 12 s wait), when the store is built: Rasa's own
``TICKET_LOCK_LIFETIME`` is read once at import and is 60 s unless set, so a
pod started without it (Kubernetes, a Dockerfile) would make a retried message
wait longer than the gateway does.

Every change to a conversation's lock (issuing, renewing, serving, removing
expired tickets, deleting) is a read-modify-write of one Redis key; Rasa does
it without a transaction, so two instances receiving a message of the same
conversation at the same moment could both read "no lock", both take ticket
0 and handle their messages at once (measured: a retried message handled
twice, 1 run in 2). Here each change runs under a short Redis mutex of that
conversation (redis-py's ``Lock``, expiring after ``MUTEX_SECONDS``).

Used by endpoints.production.yml (``type: bot.lock_store.HelplineRedisLockStore``).
"""
from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Mapping, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# A lock key outlives its last use by this many ticket lifetimes.
KEY_EXPIRY_LIFETIMES = 10
# The mutex around one change of a conversation's lock: held for a few Redis
# round trips; expires by itself if its holder dies.
MUTEX_SECONDS = 5


def configured_lifetime(env: Optional[Mapping[str, str]] = None) -> float:
    """Seconds a ticket lives: ``HELPLINE_LOCK_LIFETIME`` (bot/settings.py)."""
    from bot.settings import DEFAULT_LOCK_LIFETIME, positive_setting

    return positive_setting(os.environ if env is None else env, "HELPLINE_LOCK_LIFETIME", DEFAULT_LOCK_LIFETIME)


class HelplineRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the endpoint config of a custom lock store type."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.lock_lifetime = configured_lifetime()
        self.key_expiry_seconds = int(max(60, KEY_EXPIRY_LIFETIMES * self.lock_lifetime))

    def _mutex(self, conversation_id: Text):
        return self.red.lock(
            f"{self.key_prefix}{conversation_id}:mutex", timeout=MUTEX_SECONDS, blocking_timeout=MUTEX_SECONDS
        )

    def issue_ticket(self, conversation_id: Text, lock_lifetime: Optional[float] = None) -> int:
        """A ticket living ``lock_lifetime`` seconds, by default the configured lifetime."""
        with self._mutex(conversation_id):
            return super().issue_ticket(
                conversation_id, self.lock_lifetime if lock_lifetime is None else lock_lifetime
            )

    def update_lock(self, conversation_id: Text) -> None:
        with self._mutex(conversation_id):
            super().update_lock(conversation_id)

    def cleanup(self, conversation_id: Text, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            super().cleanup(conversation_id, ticket_number)

    def lock(
        self, conversation_id: Text, lock_lifetime: Optional[float] = None, wait_time_in_seconds: float = 1
    ):
        """Rasa calls ``lock(sender_id)``: the configured lifetime, not Rasa's import-time one."""
        return super().lock(
            conversation_id,
            self.lock_lifetime if lock_lifetime is None else lock_lifetime,
            wait_time_in_seconds,
        )

    def save_lock(self, lock: TicketLock) -> None:
        self.red.set(
            self.key_prefix + lock.conversation_id, lock.dumps(), ex=self.key_expiry_seconds
        )

    def _renew_ticket(self, conversation_id: Text, ticket_number: int) -> None:
        with self._mutex(conversation_id):
            lock = self.get_lock(conversation_id)
            if lock is None:
                return
            ticket = lock._ticket_for_ticket_number(ticket_number)
            if ticket is not None:
                ticket.expires = time.time() + self.lock_lifetime
                self.save_lock(lock)

    async def _acquire_lock(
        self, conversation_id: Text, ticket: int, wait_time_in_seconds: float
    ) -> TicketLock:
        while True:
            lock = self.get_lock(conversation_id)
            if lock is None:
                raise LockError(f"The lock of a conversation vanished while waiting (ticket {ticket}).")
            if not lock.is_locked(ticket):
                return lock
            self._renew_ticket(conversation_id, ticket)
            await asyncio.sleep(wait_time_in_seconds)
            self.update_lock(conversation_id)
