"""Two Rasa instances on PostgreSQL and Redis: state shared, failures survived,
data kept only as long as needed, nothing personal in the logs."""
import concurrent.futures
import json
import signal
import time
import urllib.request
import uuid

import pytest
import sqlalchemy as sa

from bot import catalogue, retention
from tests.conftest import contacts_in
from tests.e2e.conftest import post_json
from tests.production.conftest import user_events

pytestmark = pytest.mark.e2e


def rest(stack, instance, sender, text):
    url = f"{stack.settings.rasa_urls[instance]}/webhooks/rest/webhook"
    return "\n\n".join(m.get("text", "") for m in post_json(url, {"sender": sender, "message": text}))


def user_texts(settings, sender):
    return [event["text"] for event in user_events(settings, sender)]


def test_one_conversation_alternating_between_instances_keeps_language_and_state(production_stack):
    sender = f"alt-{uuid.uuid4().hex}"
    assert rest(production_stack, 0, sender, "mitä on ihmiskauppa").startswith(
        catalogue.text("what_is_trafficking", "fi"))
    assert catalogue.text("contact_block", "fi") in rest(production_stack, 1, sender, "ok")
    assert rest(production_stack, 0, sender, "in English please") == catalogue.reply("change_language", "en")
    assert catalogue.text("contact_block", "en") in rest(production_stack, 1, sender, "👍")
    assert user_texts(production_stack.settings, sender) == [
        "mitä on ihmiskauppa", "ok", "in English please", "👍"]


def gateway_say(stack, sender, text):
    url = f"http://127.0.0.1:{stack.settings.gateway_port}/api/chat"
    try:
        body = post_json(url, {"sender": sender, "message": text}, timeout=30)
        return 200, "\n".join(m["text"] for m in body["messages"])
    except urllib.error.HTTPError as error:
        with error:
            body = json.load(error)
        return error.code, "\n".join(m["text"] for m in body.get("messages", []))


def test_an_instance_killed_during_load_loses_no_message(production_stack):
    conversation = ["hei", "mitä on ihmiskauppa", "ok", "kehen otan yhteyttä", "kiitos", "apua", "ok", "hei hei"]
    senders = [f"load-{uuid.uuid4().hex[:12]}" for _ in range(12)]
    results = {}

    def talk(sender):
        answers = []
        for text in conversation:
            answers.append(gateway_say(production_stack, sender, text))
            time.sleep(0.05)
        results[sender] = answers

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(senders)) as pool:
        futures = [pool.submit(talk, s) for s in senders]
        time.sleep(1.0)
        production_stack.stop_process("rasa-1", signal.SIGKILL)
        for future in futures:
            future.result()

    for sender, answers in results.items():
        assert [status for status, _ in answers] == [200] * len(conversation), sender
        assert all(contacts_in(text, "fi") for _, text in answers), sender
        stored = user_texts(production_stack.settings, sender)
        deduplicated = [t for i, t in enumerate(stored) if i == 0 or t != stored[i - 1]]
        assert deduplicated == conversation, sender
    # the surviving instance still serves new conversations
    assert gateway_say(production_stack, f"after-{uuid.uuid4().hex}", "hi")[0] == 200
    production_stack.start_rasa(1)
    production_stack.wait_ready(names=["rasa-1"])


def test_retention_deletes_old_conversations_and_nothing_else(production_stack):
    settings = production_stack.settings
    old, recent = f"old-{uuid.uuid4().hex}", f"recent-{uuid.uuid4().hex}"
    rest(production_stack, 0, old, "hej")
    rest(production_stack, 0, recent, "hej")
    engine = retention.engine_for(settings)
    with engine.begin() as connection:
        connection.execute(sa.text("UPDATE events SET timestamp = timestamp - 40 * 86400 WHERE sender_id = :s"),
                           {"s": old})
    engine.dispose()
    assert retention.purge(settings, older_than_days=30) == 1
    assert user_texts(settings, old) == []
    assert user_texts(settings, recent) == ["hej"]


def test_staff_delete_one_conversation_by_sender_id(production_stack, monkeypatch, capsys):
    settings = production_stack.settings
    gone, kept = f"gone-{uuid.uuid4().hex}", f"kept-{uuid.uuid4().hex}"
    rest(production_stack, 0, gone, "hello")
    rest(production_stack, 0, kept, "hello")
    for name, value in settings.to_env().items():
        monkeypatch.setenv(name, value)
    assert retention.main(["delete", "--sender", gone]) == 0
    assert "Deleted." in capsys.readouterr().out
    assert user_texts(settings, gone) == []
    assert user_texts(settings, kept) == ["hello"]
    # a deleted conversation starts afresh: no language remembered, so the picker
    url = f"{production_stack.settings.rasa_urls[1]}/webhooks/rest/webhook"
    reply = post_json(url, {"sender": gone, "message": "ok"})
    assert any("change_language" in b["payload"] for m in reply for b in m.get("buttons", []))


def test_no_message_text_or_identifier_in_any_log(production_stack):
    sender = f"secret-sender-{uuid.uuid4().hex}"
    # not test_redaction.py's name: "I am <name>" is kept in the tracker (no name cue), and
    # that test looks for its own names in the whole database
    secrets = ["Quorvin Blatt", "+358401234567", "maria.k@example.org"]
    rest(production_stack, 0, sender, f"my name is {secrets[0]}, call me at {secrets[1]}")
    rest(production_stack, 1, sender, f"write to {secrets[2]}")
    gateway_say(production_stack, f"gw-{sender}", f"I am {secrets[0]}")
    time.sleep(1)
    logs = {p.name: p.read_text(errors="replace") for p in production_stack.log_dir.glob("*.log")}
    assert logs, "the stack wrote no logs to scan"
    bot_phone = catalogue.facts()["phone"]
    for name, text in logs.items():
        for needle in [*secrets, sender, bot_phone, catalogue.facts()["email"]]:
            assert needle not in text, f"{needle!r} found in {name}"
