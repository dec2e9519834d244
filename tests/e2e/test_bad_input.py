"""Bad input straight into Rasa's REST channels on the real stack.

Rasa listens on loopback only, so only the gateway (which already refuses
most of this, tests/test_bad_input.py), ``rasa shell`` and staff tools reach
these; they must still never crash Rasa or leave a person without the
contacts. Both REST channels are tried: Rasa's own (``rest``, what ``rasa
shell`` and scripts use) and ours (``helpline``, what the gateway uses).

Each request gets a 4xx or an answer with the contacts; afterwards every
process of the stack is alive and a normal question is answered.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request
import uuid
from typing import Tuple

import pytest

from tests.conftest import contacts_in

pytestmark = pytest.mark.e2e

CHANNELS = ["rest"]
ONE_MB = 1024 * 1024


def send(url: str, raw: bytes, content_type: str = "application/json", timeout: float = 60) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=raw, headers={"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        with refused:
            return refused.code, refused.read()


def webhook(stack, channel: str) -> str:
    return f"{stack.settings.rasa_url}/webhooks/{channel}/webhook"


def sender() -> str:
    return f"bad-input-{uuid.uuid4().hex[:12]}"


def assert_refused_or_answered(status: int, raw: bytes) -> None:
    """A clear 4xx, or 200 with the contacts in the answer."""
    assert status != 500 and status < 500, (status, raw[:300])
    if status == 200:
        messages = json.loads(raw)
        assert isinstance(messages, list) and messages, "answered nothing"
        assert contacts_in("\n\n".join(m.get("text", "") for m in messages)), raw[:300]
    else:
        assert 400 <= status < 500, status


def assert_stack_alive(stack) -> None:
    for name, process in stack.processes.items():
        assert process.poll() is None, f"{name} died (exit {process.returncode})"
    status, raw = send(webhook(stack, "rest"), json.dumps({"sender": sender(), "message": "mitä on ihmiskauppa"}).encode())
    assert status == 200
    assert contacts_in("\n\n".join(m.get("text", "") for m in json.loads(raw)), "fi")


MESSAGES = {
    "empty": "",
    "spaces": "   \t  ",
    "script": "<script>alert(1)</script><img src=x onerror=alert(2)>",
    "emoji-only": "🆘🙏👨‍👩‍👧",
    "rtl-override": "\u202emitä on ihmiskauppa\u202c",
    "zero-width": "\u200b\u200c\u200d\ufeff",
    "control": "hei\x00\x1b[2J\x7f",
    "mixed-scripts": "help помогите مساعدة 帮助 ช่วยด้วย",
    "slash-unknown-intent": "/no_such_intent",
    "slash-bad-entities": '/greet{"language": ',
    "slash-set-slot": '/greet{"language": "xx"}',
}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("text", list(MESSAGES.values()), ids=list(MESSAGES))
def test_odd_messages_are_refused_or_answered_with_contacts(stack, channel, text):
    status, raw = send(webhook(stack, channel), json.dumps({"sender": sender(), "message": text}).encode())
    assert_refused_or_answered(status, raw)


BODIES = {
    "invalid-json": b'{"sender": "x", "message": ',
    "invalid-utf8": b'{"sender": "bad-input-1", "message": "\xff\xfe"}',
    "empty-body": b"",
    "json-null": b"null",
    "json-list": b'["hello"]',
    "json-string": b'"hello"',
    "message-number": b'{"sender": "bad-input-2", "message": 42}',
    "message-list": b'{"sender": "bad-input-3", "message": ["hi"]}',
    "message-null": b'{"sender": "bad-input-4", "message": null}',
    "message-object": b'{"sender": "bad-input-5", "message": {"text": "hi"}}',
    "message-missing": b'{"sender": "bad-input-6"}',
    "sender-number": b'{"sender": 7, "message": "hi"}',
    "sender-null": b'{"sender": null, "message": "hi"}',
    "metadata-string": b'{"sender": "bad-input-7", "message": "hi", "metadata": "x"}',
    "deep-nesting": b'{"sender": "bad-input-8", "message": "hi", "metadata": ' + b"[" * 5000 + b"]" * 5000 + b"}",
}


@pytest.mark.parametrize("channel", CHANNELS)
@pytest.mark.parametrize("raw", list(BODIES.values()), ids=list(BODIES))
def test_malformed_bodies_and_wrong_types_never_give_500(stack, channel, raw):
    assert_refused_or_answered(*send(webhook(stack, channel), raw))


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_form_body_is_not_taken_for_json(stack, channel):
    status, raw = send(webhook(stack, channel), b"sender=x&message=hi", "application/x-www-form-urlencoded")
    assert_refused_or_answered(status, raw)


@pytest.mark.parametrize("channel", CHANNELS)
def test_a_one_megabyte_message_is_refused_or_answered_and_rasa_survives(stack, channel):
    body = json.dumps({"sender": sender(), "message": "apua " * (ONE_MB // 5)}).encode()
    assert_refused_or_answered(*send(webhook(stack, channel), body, timeout=120))
    assert_stack_alive(stack)


def test_after_all_that_every_process_is_alive_and_answers(stack):
    assert_stack_alive(stack)
