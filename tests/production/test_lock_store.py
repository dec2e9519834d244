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


def test_a_pod_started_as_the_chart_starts_it_uses_the_charts_lock_lifetime(tmp_path):
    """The chart's environment (no TICKET_LOCK_LIFETIME, which only bot/stack.py
    sets), Rasa's own lock call: the ticket lives HELPLINE_LOCK_LIFETIME seconds."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    import yaml

    root = Path(__file__).resolve().parents[2]
    values = yaml.safe_load((root / "deploy/helm/rasa-values.yaml").read_text())
    chart_env = {e["name"]: e["value"] for e in values["extraEnv"] if "value" in e}
    assert "HELPLINE_LOCK_LIFETIME" in chart_env
    env = {k: v for k, v in os.environ.items() if k != "TICKET_LOCK_LIFETIME"}
    env.update(chart_env)
    script = (
        "import asyncio, time, uuid\n"
        "from bot.lock_store import HelplineRedisLockStore\n"
        f"store = HelplineRedisLockStore(**{REDIS!r})\n"
        "c = 'c-' + uuid.uuid4().hex\n"
        "async def main():\n"
        "    async with store.lock(c):\n"
        "        ticket = store.get_lock(c).tickets[-1]\n"
        "        print(round(ticket.expires - time.time()))\n"
        "asyncio.run(main())\n"
    )
    out = subprocess.run([sys.executable, "-c", script], env=env, cwd=root, capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    assert int(out[-1]) == int(chart_env["HELPLINE_LOCK_LIFETIME"])
