"""The channels' memories in Redis (production profile): BoundedStore's interface,
JSON values, an expiry on every key, one key space per channel and store, ids
seen once across processes, and answers still given when Redis fails.

Against the Redis on 127.0.0.1:6379, database 5; every key made here is deleted.
"""
from __future__ import annotations

import logging
import multiprocessing
import socket
import time
import uuid

import pytest
import redis

from bot.channels import rendering
from bot.channels.platform import PlatformInput
from bot.channels.rendering import (
    BoundedStore,
    OptionMemory,
    RedisConnection,
    RedisStore,
    channel_store,
)

DB = 5
PRODUCTION = {"HELPLINE_PROFILE": "production", "HELPLINE_REDIS_DB": str(DB)}


@pytest.fixture
def client():
    client = redis.Redis(host="127.0.0.1", port=6379, db=DB)
    try:
        client.ping()
    except redis.RedisError as error:
        pytest.fail(f"Redis must run on 127.0.0.1:6379 (.ci/run starts it): {error}")
    yield client
    client.close()


@pytest.fixture
def platform(client):
    """A channel name of its own; its keys are deleted afterwards."""
    name = f"test{uuid.uuid4().hex[:12]}"
    yield name
    keys = list(client.scan_iter(f"helpline:channel:{name}:*"))
    if keys:
        client.delete(*keys)


def store_for(platform: str, name: str, ttl: float = 3600, **connection) -> RedisStore:
    return RedisStore(RedisConnection(db=DB, **connection), f"helpline:channel:{platform}:{name}", ttl=ttl)


def test_the_profile_chooses_the_backend():
    assert isinstance(channel_store("telegram", "seen", env={}), BoundedStore)
    assert isinstance(channel_store("telegram", "seen", env={"HELPLINE_PROFILE": "embedded"}), BoundedStore)
    store = channel_store("telegram", "seen", ttl=3600, env=PRODUCTION)
    assert isinstance(store, RedisStore)
    assert store.namespace == "helpline:channel:telegram:seen" and store.expiry == 3600
    assert store.connection.client.connection_pool.connection_kwargs["db"] == DB
    # one connection (pool) per process for every store of the same Redis
    assert channel_store("whatsapp", "addresses", env=PRODUCTION).connection is store.connection


def test_a_channel_gets_its_stores_from_the_profile(monkeypatch):
    monkeypatch.setenv("HELPLINE_PROFILE", "production")
    monkeypatch.setenv("HELPLINE_REDIS_DB", str(DB))
    channel = PlatformInput()
    channel.PLATFORM = "telegram"
    channel._remember_platform(None)
    assert isinstance(channel.addresses, RedisStore) and isinstance(channel.seen, RedisStore)
    assert isinstance(channel.options._store, RedisStore)
    assert channel.addresses.namespace == "helpline:channel:telegram:addresses"
    assert channel.seen.expiry == 3600 and channel.addresses.expiry == 24 * 3600
    monkeypatch.setenv("HELPLINE_PROFILE", "embedded")
    channel._remember_platform(None)
    assert isinstance(channel.addresses, BoundedStore) and isinstance(channel.options._store, BoundedStore)


def test_put_get_pop_with_json_values_and_an_expiry_on_every_key(client, platform):
    store = store_for(platform, "addresses", ttl=24 * 3600)
    store.put("telegram-abc", 912345678901)
    store.put("whatsapp-abc", ("whatsapp:+358401110001", "whatsapp:+14155238886"))
    assert store.get("telegram-abc") == 912345678901
    assert store.get("whatsapp-abc") == ["whatsapp:+358401110001", "whatsapp:+14155238886"]
    assert client.get(f"helpline:channel:{platform}:addresses:telegram-abc") == b"912345678901"
    for key in client.scan_iter(f"helpline:channel:{platform}:*"):
        assert 24 * 3600 - 5 <= client.ttl(key) <= 24 * 3600
    # another process (another client) sees the same
    other = store_for(platform, "addresses", ttl=24 * 3600)
    assert other.get("telegram-abc") == 912345678901
    assert other.pop("telegram-abc") == 912345678901
    assert store.get("telegram-abc") is None and store.pop("telegram-abc") is None
    assert store.get("never-put") is None


def test_stores_of_different_channels_and_kinds_do_not_mix(platform):
    seen, addresses = store_for(platform, "seen"), store_for(platform, "addresses")
    other_channel = store_for(platform + "x", "seen")
    assert seen.seen("42") is False
    assert addresses.get("42") is None and other_channel.seen("42") is False
    other_channel.connection.client.delete(other_channel.key("42"))


def test_the_expiry_is_the_stores_ttl_and_an_expired_key_is_gone(client, platform):
    store = store_for(platform, "seen", ttl=1)
    assert store.seen(7) is False and store.seen(7) is True
    assert 0 < client.pttl(store.key(7)) <= 1000
    time.sleep(1.3)
    assert store.seen(7) is False  # forgotten: new again


def test_option_memory_works_on_redis_across_instances(platform):
    pod_a = OptionMemory(store=store_for(platform, "options"))
    pod_b = OptionMemory(store=store_for(platform, "options"))
    pod_a.remember("s", ["/what_is_trafficking", "/who_to_contact"])
    assert pod_b.resolve("s", "2") == "/who_to_contact" and pod_b.resolve("s", "3") is None
    assert pod_b.resolve("s", "hello") is None and pod_b.resolve("t", "1") is None
    pod_b.remember("s", [])  # a later answer without options, sent by the other instance
    assert pod_a.resolve("s", "1") is None


def _claim(platform: str, key: str, start: float, results) -> None:
    store = store_for(platform, "seen")
    while time.time() < start:
        pass
    results.put(store.seen(key))


def test_an_id_is_new_to_exactly_one_of_several_processes_at_once(platform):
    context = multiprocessing.get_context("spawn")
    for attempt in range(3):
        key, results = f"update-{attempt}", context.Queue()
        start = time.time() + 2.0
        workers = [context.Process(target=_claim, args=(platform, key, start, results)) for _ in range(6)]
        for worker in workers:
            worker.start()
        answers = [results.get(timeout=30) for _ in workers]
        for worker in workers:
            worker.join(10)
        assert sorted(answers) == [False] + [True] * 5


def closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once closed


def test_without_redis_this_instance_answers_from_its_own_memory(caplog):
    connection = RedisConnection(port=closed_port(), db=DB, retry_after=60)
    addresses = RedisStore(connection, "helpline:channel:telegram:addresses")
    seen = RedisStore(connection, "helpline:channel:telegram:seen", ttl=3600)
    options = OptionMemory(store=RedisStore(connection, "helpline:channel:telegram:options"))
    with caplog.at_level(logging.INFO):
        assert seen.seen(918273645) is False  # the message is answered
        addresses.put("telegram-secret-sender", 918273645)
        assert addresses.get("telegram-secret-sender") == 918273645  # ... to the right chat
        options.remember("telegram-secret-sender", ["/a", "/b"])
        assert options.resolve("telegram-secret-sender", "2") == "/b"
        assert seen.seen(918273645) is True  # a retry to this instance: once
        assert addresses.pop("telegram-secret-sender") == 918273645
    errors = [r for r in caplog.records if r.name == rendering.logger.name]
    assert len(errors) == 1 and "ConnectionError" in errors[0].getMessage()  # once per outage
    assert "918273645" not in caplog.text and "secret-sender" not in caplog.text


def test_after_a_failure_redis_is_tried_again_later(client, platform, monkeypatch):
    connection = RedisConnection(db=DB, retry_after=5)
    store = RedisStore(connection, f"helpline:channel:{platform}:seen")
    real = connection.client
    connection.client = redis.Redis(port=closed_port(), db=DB)
    assert store.seen("a") is False  # from this instance's memory
    connection.client = real
    assert store.seen("b") is False and client.get(store.key("b")) is None  # still paused
    now = time.monotonic()
    monkeypatch.setattr(rendering.time, "monotonic", lambda: now + 6)
    assert store.seen("c") is False and client.get(store.key("c")) == b"true"  # back on Redis


def test_a_claimed_id_is_free_again_if_its_handler_never_confirms(client, platform):
    """A pod that dies while handling a message must not make the platform's
    later retry a 'duplicate' for an hour: the claim is short until confirmed."""
    store = store_for(platform, "seen", ttl=3600)
    key = f"claim-{uuid.uuid4().hex}"
    assert store.seen(key) is False
    assert 0 < client.ttl(store.key(key)) <= rendering.CLAIM_SECONDS
    store.confirm(key)
    assert client.ttl(store.key(key)) > rendering.CLAIM_SECONDS
    assert store.seen(key) is True
