"""A Rasa instance that dies holding a conversation's lock does not block it for good."""
import asyncio
import uuid

import pytest
from rasa.core.lock_store import RedisLockStore

from bot.lock_store import HelplineRedisLockStore

pytestmark = pytest.mark.e2e
REDIS = {"host": "127.0.0.1", "port": 6379, "db": 4, "key_prefix": "locktest"}


async def message_after_a_dead_holder(store) -> None:
    conversation = f"c-{uuid.uuid4().hex}"
    store.issue_ticket(conversation, lock_lifetime=1)  # held by an instance that then died
    async with store.lock(conversation, lock_lifetime=1, wait_time_in_seconds=0.25):
        pass


async def test_stock_redis_lock_store_waits_forever_after_a_dead_holder():
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(message_after_a_dead_holder(RedisLockStore(**REDIS)), timeout=4)


async def test_our_lock_store_serves_the_next_message_once_the_dead_ticket_expires():
    await asyncio.wait_for(message_after_a_dead_holder(HelplineRedisLockStore(**REDIS)), timeout=4)


def test_lock_keys_expire_in_redis():
    store = HelplineRedisLockStore(**REDIS)
    conversation = f"c-{uuid.uuid4().hex}"
    store.issue_ticket(conversation, lock_lifetime=1)
    ttl = store.red.ttl(store.key_prefix + conversation)
    assert 0 < ttl <= store.key_expiry_seconds
