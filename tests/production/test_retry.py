"""A message the gateway retries on another instance is handled once: one user
event in PostgreSQL, the same answer to both tries, also when both run at once."""
import concurrent.futures
import json
import uuid

import pytest
import sqlalchemy as sa

from bot import catalogue, retention
from bot.settings import MESSAGE_ID, RETRY
from tests.e2e.conftest import post_json

pytestmark = pytest.mark.e2e


def send(stack, instance, sender, text, message_id, retry=False):
    metadata = {MESSAGE_ID: message_id, **({RETRY: True} if retry else {})}
    url = f"{stack.settings.rasa_urls[instance]}/webhooks/rest/webhook"
    return post_json(url, {"sender": sender, "message": text, "metadata": metadata}, timeout=60)


def stored(settings, sender):
    engine = retention.engine_for(settings)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT type_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender})
            return [(kind, json.loads(data)) for kind, data in rows]
    finally:
        engine.dispose()


def test_a_retry_after_the_first_try_answered_is_not_handled_again(production_stack):
    sender, message_id = f"retry-{uuid.uuid4().hex}", uuid.uuid4().hex
    first = send(production_stack, 0, sender, "mitä on ihmiskauppa", message_id)
    after_first = stored(production_stack.settings, sender)
    again = send(production_stack, 1, sender, "mitä on ihmiskauppa", message_id, retry=True)
    assert first and again == first
    assert first[0]["text"].startswith(catalogue.text("what_is_trafficking", "fi"))
    events = stored(production_stack.settings, sender)
    assert [d["text"] for kind, d in events if kind == "user"] == ["mitä on ihmiskauppa"]
    assert events == after_first  # nothing stored a second time
    # a new message with a new id is answered as usual
    later = send(production_stack, 1, sender, "ok", uuid.uuid4().hex)
    assert catalogue.text("contact_block", "fi") in later[-1]["text"]
    assert len([1 for kind, _ in stored(production_stack.settings, sender) if kind == "user"]) == 2


def test_a_retry_running_at_the_same_time_as_the_first_try_is_handled_once(production_stack):
    for _ in range(3):
        sender, message_id = f"race-{uuid.uuid4().hex}", uuid.uuid4().hex
        with concurrent.futures.ThreadPoolExecutor(2) as pool:
            a = pool.submit(send, production_stack, 0, sender, "kuka auttaa", message_id)
            b = pool.submit(send, production_stack, 1, sender, "kuka auttaa", message_id, True)
            replies = [a.result(), b.result()]
        assert replies[0] == replies[1] and replies[0]
        users = [d for kind, d in stored(production_stack.settings, sender) if kind == "user"]
        assert len(users) == 1
