"""Messaging channels on two Rasa instances (production profile): a platform's
deliveries and its retries alternate between the instances, as a Service
spreads them over two pods. Every message is answered once, a digit reply is
understood by the instance that did not send the options, and each message
is in the tracker (PostgreSQL) once. The channels' state is in Redis, every
key with an expiry, and a staff deletion removes the platform address too.
"""
from __future__ import annotations

import concurrent.futures
import json
import random
import re
import time
import uuid
from typing import Any, Dict, List

import pytest
import redis

from bot import catalogue, retention
from bot.channels import rendering
from bot.settings import CHANNEL_STATE_PREFIX
from tests.channels.conftest import (
    FI_QUESTION,
    MESSENGER_APP_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_TOKEN,
    ChannelStack,
    plain,
)
from tests.channels.test_messenger import event, page
from tests.channels.test_telegram import update
from tests.channels.test_whatsapp import incoming
from tests.production.conftest import PUBLIC_URL, user_events

pytestmark = pytest.mark.e2e

FI_BLOCK = catalogue.text("contact_block", "fi")


@pytest.fixture
def pods(production_stack, production_standin):
    """A poster of platform webhooks for each Rasa instance; the stand-in's record emptied."""
    production_standin.take()
    yield [
        ChannelStack(url, PUBLIC_URL, production_standin, production_stack.log_dir)
        for url in production_stack.settings.rasa_urls
    ]
    production_standin.take()


@pytest.fixture
def state(production_stack):
    """Redis of the production stack; keys the test names are deleted afterwards."""
    settings = production_stack.settings
    client = redis.Redis(host=settings.redis_host, port=settings.redis_port, db=settings.redis_db)
    made: List[str] = []
    yield client, made
    if made:
        client.delete(*made)
    client.close()


def once(texts: List[str], block: str = FI_BLOCK) -> bool:
    """One answer: the contact block exactly once, at the end of the last message."""
    joined = "\n\n".join(plain(t) for t in texts)
    return bool(texts) and joined.count(block) == 1 and plain(texts[-1]).rstrip().endswith(block)


def both_at_once(*posts):
    with concurrent.futures.ThreadPoolExecutor(len(posts)) as pool:
        return [f.result() for f in [pool.submit(post) for post in posts]]


def chat_states(client, platform: str, sender: str) -> Dict[str, Any]:
    return {store: client.get(f"{CHANNEL_STATE_PREFIX}:{platform}:{store}:{sender}")
            for store in ("addresses", "options")}


def test_whatsapp_deliveries_and_retries_alternating_between_instances(production_stack, pods, state):
    """The done-when: deliveries 0, 1, 0, 1 ..., each Twilio retry (same MessageSid) to
    the other instance, a "2" to the instance that did not send the options, and a
    retry at the same moment as its first delivery."""
    standin, settings = pods[0].standin, production_stack.settings
    client, made = state
    phone = "+35850" + "".join(random.choice("6789") for _ in range(7))
    sender = rendering.pseudonym("whatsapp", TWILIO_TOKEN, f"whatsapp:{phone}")

    def message(body: str) -> Dict[str, str]:
        sid = f"SM{uuid.uuid4().hex}"
        made.append(f"{CHANNEL_STATE_PREFIX}:whatsapp:seen:{sid}")
        return incoming(phone, body, MessageSid=sid, SmsMessageSid=sid, SmsSid=sid)

    def bodies() -> List[str]:
        calls = standin.take()
        assert all(c.method == "Messages.json" and c.data["To"] == f"whatsapp:{phone}" for c in calls)
        return [c.data["Body"] for c in calls]

    answers: Dict[str, List[str]] = {}
    question = message(FI_QUESTION)  # Finnish from now on
    assert pods[0].whatsapp(question)[0] == 200
    answers["question"] = bodies()
    assert pods[1].whatsapp(question)[0] == 200  # Twilio's retry, to the other instance
    answers["question"] += bodies()

    hello = message("moi")  # answered with the questions, numbered
    assert pods[1].whatsapp(hello)[0] == 200
    answers["hello"] = bodies()
    assert pods[0].whatsapp(hello)[0] == 200
    answers["hello"] += bodies()
    numbered = "\n\n".join(answers["hello"])
    titles = [b["title"] for b in catalogue.question_buttons("fi")]
    assert re.findall(r"^(\d+)\. (.+)$", numbered, re.M) == [(str(n), t) for n, t in enumerate(titles, 1)]

    choice = message("2")  # to instance 0, which did not send the options: 2 = who_to_contact
    assert pods[0].whatsapp(choice)[0] == 200
    answers["choice"] = bodies()
    assert pods[1].whatsapp(choice)[0] == 200
    answers["choice"] += bodies()
    assert catalogue.text("who_to_contact", "fi") in answers["choice"][0]

    thanks = message("kiitos")  # delivered and retried at the same moment
    assert [status for status, _ in both_at_once(lambda: pods[1].whatsapp(thanks),
                                                 lambda: pods[0].whatsapp(thanks))] == [200, 200]
    answers["thanks"] = bodies()

    assert catalogue.text("what_is_trafficking", "fi") in answers["question"][0]
    for name, texts in answers.items():
        assert once(texts), (name, texts)  # every message answered, and only once
    events = user_events(settings, sender)
    assert len(events) == 4  # nothing stored twice
    assert [e["parse_data"]["intent"]["name"] for e in events][2] == "who_to_contact"
    assert [e["text"] for e in events][:2] == [FI_QUESTION, "moi"] and events[3]["text"] == "kiitos"
    # the state is in Redis, the address only with an expiry (a day)
    assert json.loads(chat_states(client, "whatsapp", sender)["addresses"])[0] == f"whatsapp:{phone}"
    for key in [f"{CHANNEL_STATE_PREFIX}:whatsapp:addresses:{sender}", *made]:
        assert 0 < client.ttl(key) <= 24 * 3600, key
    made.extend(f"{CHANNEL_STATE_PREFIX}:whatsapp:{store}:{sender}" for store in ("addresses", "options"))


def test_telegram_updates_and_retries_alternating_between_instances(production_stack, pods, state, monkeypatch):
    """Each update_id answered once (counted in the stand-in's sendMessage calls),
    whichever instance gets it and its retry; in the tracker once; the chat id in
    no log, in Redis only with an expiry, and gone when staff delete the conversation."""
    standin, settings = pods[0].standin, production_stack.settings
    client, made = state
    chat = random.randint(9 * 10**11, 10**12 - 1)
    sender = rendering.pseudonym("telegram", TELEGRAM_TOKEN, str(chat))

    def new_update(text: str) -> Dict[str, Any]:
        body = update(chat, text, "fi")
        body["update_id"] = random.randint(10**9, 2 * 10**9)
        made.append(f"{CHANNEL_STATE_PREFIX}:telegram:seen:{body['update_id']}")
        return body

    sent: Dict[int, List[str]] = {}

    def record(body: Dict[str, Any]) -> None:
        for call in standin.take():
            assert call.method == "sendMessage" and call.data["chat_id"] == str(chat)
            sent.setdefault(body["update_id"], []).append(call.data["text"])

    updates = [new_update(FI_QUESTION), new_update("ok"), new_update("kehen otan yhteyttä")]
    for number, body in enumerate(updates[:2]):
        first, other = pods[number % 2], pods[(number + 1) % 2]
        assert first.telegram(body)[0] == 200
        record(body)
        assert other.telegram(body)[0] == 200  # Telegram's retry, to the other instance
        record(body)
    assert [s for s, _ in both_at_once(lambda: pods[0].telegram(updates[2]),
                                       lambda: pods[1].telegram(updates[2]))] == [200, 200]
    record(updates[2])

    assert sorted(sent) == sorted(u["update_id"] for u in updates)
    for body in updates:
        assert once(sent[body["update_id"]]), body["message"]["text"]
    assert catalogue.text("what_is_trafficking", "fi") in sent[updates[0]["update_id"]][0]
    assert [e["text"] for e in user_events(settings, sender)] == [u["message"]["text"] for u in updates]

    address = f"{CHANNEL_STATE_PREFIX}:telegram:addresses:{sender}"
    assert client.get(address) == str(chat).encode()
    assert all(0 < client.ttl(key) <= 24 * 3600 for key in [address, *made])
    assert all(0 < client.ttl(key) <= 3600 for key in made)  # seen ids: an hour
    time.sleep(0.5)
    for log in production_stack.log_dir.glob("*.log"):
        assert str(chat) not in log.read_text(errors="replace"), log.name

    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    assert retention.main(["delete", "--sender", sender]) == 0
    assert user_events(settings, sender) == [] and chat_states(client, "telegram", sender)["addresses"] is None


def test_messenger_a_digit_and_its_retry_on_the_other_instance(production_stack, pods, state):
    """Get Started on one instance (numbered quick replies), the typed "2" on the
    other, Messenger's redelivery of it (same mid) on the first: one answer."""
    standin, settings = pods[0].standin, production_stack.settings
    client, made = state
    psid = str(random.randint(10**15, 10**16 - 1))
    sender = rendering.pseudonym("messenger", MESSENGER_APP_SECRET, psid)

    assert pods[0].messenger(page(event(psid, postback="/greet")))[0] == 200
    offered = standin.take()
    replies = offered[-1].data["message"]["quick_replies"]
    assert replies[1]["title"].startswith("2. ")

    typed = event(psid, "2")
    typed["message"]["mid"] = f"m_{uuid.uuid4().hex}"
    made.append(f"{CHANNEL_STATE_PREFIX}:messenger:seen:{typed['message']['mid']}")
    assert pods[1].messenger(page(typed))[0] == 200
    assert pods[0].messenger(page(typed))[0] == 200  # redelivered
    answered = [c.data["message"]["text"] for c in standin.take()]
    language = catalogue.default_language()
    assert once(answered, catalogue.text("contact_block", language)), answered
    events = user_events(settings, sender)
    assert len(events) == 2 and events[1]["text"] == replies[1]["payload"]
    assert all(0 < client.ttl(key) <= 3600 for key in made)
    made.append(f"{CHANNEL_STATE_PREFIX}:messenger:addresses:{sender}")
    made.append(f"{CHANNEL_STATE_PREFIX}:messenger:options:{sender}")
