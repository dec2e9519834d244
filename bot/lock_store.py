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

Used by endpoints.production.yml (``type: bot.lock_store.HelplineRedisLockStore``).
"""
from __future__ import annotations

import asyncio
import time
from typing import Any, Optional, Text

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, RedisLockStore
from rasa.utils.endpoints import EndpointConfig

# A lock key outlives its last use by this many ticket lifetimes.
KEY_EXPIRY_LIFETIMES = 10


class HelplineRedisLockStore(RedisLockStore):
    def __init__(self, endpoint_config: Optional[EndpointConfig] = None, **kwargs: Any) -> None:
        """Built by Rasa from the endpoint config of a custom lock store type."""
        if endpoint_config is not None:
            kwargs = {"host": endpoint_config.url, **endpoint_config.kwargs, **kwargs}
        super().__init__(**kwargs)
        self.key_expiry_seconds = int(max(60, KEY_EXPIRY_LIFETIMES * LOCK_LIFETIME))

    def save_lock(self, lock: TicketLock) -> None:
        self.red.set(
            self.key_prefix + lock.conversation_id, lock.dumps(), ex=self.key_expiry_seconds
        )

    def _renew_ticket(self, conversation_id: Text, ticket_number: int) -> None:
        lock = self.get_lock(conversation_id)
        if lock is None:
            return
        ticket = lock._ticket_for_ticket_number(ticket_number)
        if ticket is not None:
            ticket.expires = time.time() + LOCK_LIFETIME
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
