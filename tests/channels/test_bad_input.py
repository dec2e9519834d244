"""Malformed webhook calls to the three messaging connectors, on the shared
channel stack (tests/channels/conftest.py).

Forged calls (no or wrong secret / signature) are refused with 403 in each
connector's own tests. Here the calls are AUTHENTIC (right secret, valid
signature) but their content is broken: broken JSON, missing fields, wrong
types, huge text, odd characters. A platform bug or a leaked secret must not
be able to take Rasa down: each call gets a 4xx or is ignored (2xx, nothing
sent) or is answered with the contacts; never a 500; Rasa stays up.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from typing import Any, Dict, List

import pytest
from twilio.request_validator import RequestValidator

from .conftest import (
    MESSENGER_APP_SECRET,
    TELEGRAM_SECRET,
    TWILIO_TOKEN,
    contacts_present,
    http,
    plain,
)
from .test_messenger import event, page
from .test_telegram import update
from .test_whatsapp import incoming

pytestmark = pytest.mark.e2e

HUGE_TEXT = "apua " * 40_000  # 200 KB: under the 256 KB webhook limit, far over 1000 characters
TOO_BIG = 300 * 1024
DEEP = "[" * 5000 + "]" * 5000  # deeper than Python's recursion limit


def outgoing_texts(calls) -> List[str]:
    texts = []
    for call in calls:
        if call.platform == "telegram" and call.method == "sendMessage":
            texts.append(call.data.get("text", ""))
        elif call.platform == "twilio":
            texts.append(call.data.get("Body", ""))
        elif call.platform == "messenger":
            texts.append((call.data.get("message") or {}).get("text", ""))
    return texts


def assert_handled(stack, status: int, body: bytes) -> None:
    """4xx, or 2xx with either nothing sent or the last message with the contacts."""
    assert status < 500, (status, body[:300])
    texts = outgoing_texts(stack.standin.take())
    if 200 <= status < 300 and texts:
        assert contacts_present(plain(texts[-1])), texts[-1][:200]
    for text in texts:
        assert len(text) <= 4096


def assert_rasa_alive(stack) -> None:
    assert http(f"{stack.rasa_url}/")[0] == 200
    status, body = http(f"{stack.rasa_url}/webhooks/rest/webhook",
                        json.dumps({"sender": "bad-input-check", "message": "hei"}).encode(),
                        {"Content-Type": "application/json"})
    assert status == 200 and contacts_present("\n\n".join(m["text"] for m in json.loads(body)))


# ---------------------------------------------------------------- Telegram


def telegram_raw(stack, raw: bytes):
    return http(f"{stack.rasa_url}/webhooks/telegram/webhook", raw,
                {"Content-Type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})


def telegram_with(chat_id: int, **message: Any) -> Dict[str, Any]:
    base = update(chat_id, "hei")
    base["message"].update(message)
    return base


TELEGRAM_BODIES = {
    "broken-json": b'{"update_id": 1, "message": {',
    "invalid-utf8": b'{"update_id": 2, "message": {"text": "\xff\xfe"}}',
    "empty": b"",
    "json-list": b"[1, 2, 3]",
    "json-null": b"null",
    "deep-nesting": DEEP.encode(),
    "too-big": b'{"x": "' + b"a" * TOO_BIG + b'"}',
}

TELEGRAM_UPDATES = {
    "no-message": {"update_id": 910001},
    "message-string": {"update_id": 910002, "message": "hei"},
    "text-number": telegram_with(720001, text=42),
    "text-list": telegram_with(720002, text=["hei"]),
    "text-null": telegram_with(720003, text=None),
    "chat-missing": {"update_id": 910003, "message": {"text": "hei"}},
    "chat-id-string": telegram_with(720004, chat={"id": "720004", "type": "private"}),
    "chat-list": telegram_with(720005, chat=[720005]),
    "from-string": telegram_with(720006, text="/start", **{"from": "someone"}),
    "language-code-number": telegram_with(720007, text="/start", **{"from": {"id": 1, "language_code": 12}}),
    "callback-message-string": {"update_id": 910004, "callback_query": {"id": "1", "message": "x", "data": "/greet"}},
    "callback-data-dict": {"update_id": 910005, "callback_query": {
        "id": "2", "data": {"a": 1}, "message": {"chat": {"id": 720008, "type": "private"}}}},
    "huge-text": telegram_with(720009, text=HUGE_TEXT),
    "control-rtl-zero-width": telegram_with(720010, text="\x00\u202e\u200bmitä on ihmiskauppa\u2066"),
    "script": telegram_with(720011, text="<script>alert(1)</script>"),
    "emoji-only": telegram_with(720012, text="🆘🙏"),
    "update-id-huge": {**update(720013, "hei"), "update_id": 10**30},
}


@pytest.mark.parametrize("raw", list(TELEGRAM_BODIES.values()), ids=list(TELEGRAM_BODIES))
def test_telegram_broken_bodies(stack, raw):
    status, body = telegram_raw(stack, raw)
    assert 400 <= status < 500, (status, body[:200])
    assert stack.standin.take() == []


@pytest.mark.parametrize("payload", list(TELEGRAM_UPDATES.values()), ids=list(TELEGRAM_UPDATES))
def test_telegram_malformed_updates(stack, payload):
    assert_handled(stack, *telegram_raw(stack, json.dumps(payload).encode()))


# ---------------------------------------------------------------- WhatsApp (Twilio)

WHATSAPP_PATH = "/webhooks/whatsapp/webhook"


def whatsapp_raw(stack, raw: bytes, signed_fields: Dict[str, str], content_type="application/x-www-form-urlencoded"):
    signature = RequestValidator(TWILIO_TOKEN).compute_signature(stack.public_url + WHATSAPP_PATH, signed_fields)
    return http(stack.rasa_url + WHATSAPP_PATH, raw, {"Content-Type": content_type, "X-Twilio-Signature": signature})


def whatsapp_fields(stack, fields: Dict[str, str]):
    return whatsapp_raw(stack, urllib.parse.urlencode(fields).encode(), fields)


WHATSAPP_FIELDS = {
    "no-from": {k: v for k, v in incoming("+358401119001", "hei").items() if k != "From"},
    "empty-from": {**incoming("+358401119002", "hei"), "From": ""},
    "no-body": {k: v for k, v in incoming("+358401119003", "hei").items() if k != "Body"},
    "huge-body": incoming("+358401119004", HUGE_TEXT),
    "control-rtl-zero-width": incoming("+358401119005", "\x01\u202e\u200bhjälp\u2069"),
    "script": incoming("+358401119006", "<script>alert(1)</script>"),
    "emoji-only": incoming("+358401119007", "🆘"),
    "only-fields": {"From": "whatsapp:+358401119008"},
}


@pytest.mark.parametrize("fields", list(WHATSAPP_FIELDS.values()), ids=list(WHATSAPP_FIELDS))
def test_whatsapp_malformed_fields(stack, fields):
    assert_handled(stack, *whatsapp_fields(stack, fields))


def test_whatsapp_invalid_utf8_in_the_form(stack):
    fields = incoming("+358401119010", "x")
    raw = urllib.parse.urlencode({k: v for k, v in fields.items() if k != "Body"}).encode() + b"&Body=%FF%FEhei"
    signed = {**{k: v for k, v in fields.items() if k != "Body"}, "Body": b"\xff\xfehei".decode("utf-8", "replace")}
    assert_handled(stack, *whatsapp_raw(stack, raw, signed))


def test_whatsapp_json_instead_of_a_form(stack):
    status, body = whatsapp_raw(stack, b'{"From": "whatsapp:+358401119011", "Body": "hei"}', {},
                                content_type="application/json")
    assert_handled(stack, status, body)


def test_whatsapp_too_big(stack):
    fields = incoming("+358401119012", "a" * TOO_BIG)
    status, _ = whatsapp_fields(stack, fields)
    assert status == 413
    assert stack.standin.take() == []


# ---------------------------------------------------------------- Messenger


def messenger_raw(stack, raw: bytes):
    signature = "sha256=" + hmac.new(MESSENGER_APP_SECRET.encode(), raw, hashlib.sha256).hexdigest()
    return http(f"{stack.rasa_url}/webhooks/messenger/webhook", raw,
                {"Content-Type": "application/json", "X-Hub-Signature-256": signature})


def messenger_event(psid: str, **changes: Any) -> Dict[str, Any]:
    base = event(psid, "hei")
    base.update(changes)
    return base


MESSENGER_BODIES = {
    "broken-json": b'{"object": "page", "entry": [',
    "invalid-utf8": b'{"object": "page", "entry": "\xff"}',
    "deep-nesting": DEEP.encode(),
    "too-big": b'{"x": "' + b"a" * TOO_BIG + b'"}',
}

MESSENGER_PAYLOADS = {
    "empty-object": {},
    "json-list": [1, 2],
    "not-a-page": {"object": "user", "entry": []},
    "entry-number": {"object": "page", "entry": 5},
    "entry-string": {"object": "page", "entry": "xyz"},
    "entry-dict": {"object": "page", "entry": {"messaging": []}},
    "messaging-number": {"object": "page", "entry": [{"messaging": 7}]},
    "event-string": page("not an event"),
    "sender-string": page(messenger_event("psid-1", sender="psid-1")),
    "sender-id-number": page(messenger_event("psid-2", sender={"id": 12345})),
    "message-string": page(messenger_event("psid-3", message="hei")),
    "text-number": page(messenger_event("psid-4", message={"mid": "m_bad_4", "text": 42})),
    "quick-reply-string": page(messenger_event("psid-5", message={"mid": "m_bad_5", "text": "x", "quick_reply": "y"})),
    "mid-list": page(messenger_event("psid-6", message={"mid": ["m"], "text": "hei"})),
    "postback-string": page(messenger_event("psid-7", postback="/greet")),
    "huge-text": page(event("psid-8", HUGE_TEXT)),
    "control-rtl-zero-width": page(event("psid-9", "\x00\u202e\u200bmitä on ihmiskauppa")),
    "script": page(event("psid-10", "<script>alert(1)</script>")),
}


@pytest.mark.parametrize("raw", list(MESSENGER_BODIES.values()), ids=list(MESSENGER_BODIES))
def test_messenger_broken_bodies(stack, raw):
    status, body = messenger_raw(stack, raw)
    assert status < 500, (status, body[:200])
    assert stack.standin.take() == []


@pytest.mark.parametrize("payload", list(MESSENGER_PAYLOADS.values()), ids=list(MESSENGER_PAYLOADS))
def test_messenger_malformed_payloads(stack, payload):
    assert_handled(stack, *messenger_raw(stack, json.dumps(payload).encode()))


# ---------------------------------------------------------------- afterwards


def test_rasa_is_still_up_and_answering_after_all_of_it(stack):
    assert_rasa_alive(stack)
