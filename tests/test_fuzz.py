"""Property-based fuzzing (hypothesis) of the three places untrusted text meets code:
the language identifier, the catalogue renderer and the gateway's /api/chat.

What must hold for ANY input, not only the examples we thought of:

* language identification never raises, always answers a supported language
  or None, answers the same twice, and is never "confident" about nothing;
* every catalogue turn, in every language and for any language string a
  client could send, carries the phone number, the e-mail address and 112;
* the gateway answers any body with a clear status (never 500) and a JSON
  body, and every 200 answer carries the contacts, whatever Rasa replied.

Examples are bounded (``max_examples``) so the file runs in seconds; the
settings are per test (``@settings``), never a global profile.
"""
from __future__ import annotations

import asyncio
import http.client
import json
import threading
from typing import Any, Dict, Optional, Tuple

import pytest
from aiohttp import web
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import catalogue
from bot.gateway import create_app, shape_reply
from bot.language import Detection, LanguageIdentifier, catalogue_texts
from bot.settings import Settings

LANGUAGES = list(catalogue.languages())
KEYS = list(catalogue.raw_texts(catalogue.default_language()))
ALLOWED_STATUSES = {200, 400, 413, 415, 429, 503}

FAST = settings(max_examples=250, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(max_examples=120, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def contacts_in(text: str, language: str) -> bool:
    facts = catalogue.fact_values(language)
    return all(facts[name] in text for name in ("phone", "email", "emergency"))


# ---------------------------------------------------------------------------
# Strategies: what people (and attackers) type

# Characters that have bitten chat systems: C0/C1 controls, zero-width
# characters, bidirectional overrides and isolates, BOM, replacement char,
# combining marks, a lone "/" (Rasa reads "/intent" as a command).
SPECIAL = [
    "\x00", "\x07", "\x1b", "\x7f", "\x85", "\t", "\r\n", "\u2028",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff",
    "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069",
    "\u0301", "\u0e31", "\u093f", "\ufffd", "/", "{", "}", '"', "\\", "%s", "{phone}",
]
# Words in every script we support, and some we do not.
WORDS = [
    "hei", "apua", "ihmiskauppa", "hjälp", "help", "trafficking", "помогите", "допоможіть",
    "помощ", "ajutor", "pomocy", "abi", "مساعدة", "کمک", "caawimo", "yardım", "aide", "ayuda",
    "ช่วยด้วย", "giúp", "tulong", "帮助", "मद्दत", "βοήθεια", "עזרה", "도와주세요", "112",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "'; DROP TABLE events; --",
]
EMOJI = ["👍", "🙏", "😢", "🆘", "👨‍👩‍👧", "🏳️‍🌈", "❤️", "🇫🇮"]

any_char = st.characters(blacklist_categories=("Cs",))  # surrogates cannot be UTF-8 encoded
fragments = st.one_of(
    st.sampled_from(SPECIAL),
    st.sampled_from(WORDS),
    st.sampled_from(EMOJI),
    st.text(any_char, max_size=40),
)
messages = st.one_of(
    st.text(any_char, max_size=300),
    st.lists(fragments, max_size=30).map(" ".join),
    st.lists(fragments, max_size=30).map("".join),
    # long ones: a few thousand characters, mixed scripts
    st.tuples(st.sampled_from(WORDS + EMOJI + SPECIAL), st.integers(200, 1500)).map(
        lambda pair: (pair[0] + " ") * pair[1]
    ).map(lambda text: text[:3000]),
)
language_strings = st.one_of(
    st.sampled_from(LANGUAGES),
    st.sampled_from(["", "EN", "fi-FI", "zz", "en\u200b", "../fi", "None", "ar "]),
    st.text(any_char, max_size=12),
)
json_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(any_char, max_size=30)
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(st.text(any_char, max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


# ---------------------------------------------------------------------------
# (a) the language identifier


@pytest.fixture(scope="module")
def identifier() -> LanguageIdentifier:
    """The identifier trained on the catalogue texts of all languages (the
    shipped model adds the NLU examples; the code paths are the same)."""
    return LanguageIdentifier.train(catalogue_texts())


@FAST
@given(text=messages)
def test_language_identification_never_fails_and_repeats_itself(identifier, text):
    first = identifier.identify(text)
    assert isinstance(first, Detection)
    assert first.code is None or first.code in LANGUAGES
    assert first.requested is None or first.requested in LANGUAGES
    assert not first.confident or first.code is not None
    assert 0.0 <= first.probability <= 1.0 + 1e-9
    assert identifier.identify(text) == first


@FEW
@given(text=messages)
def test_invisible_characters_do_not_change_the_language(identifier, text):
    """Zero-width and direction characters are noise: sprinkling them between
    the words must not change what the identifier concludes."""
    noisy = "\u200b\u202e".join(text.split(" "))
    assert identifier.identify(noisy).code == identifier.identify(" ".join(text.split(" "))).code


# ---------------------------------------------------------------------------
# (b) the catalogue renderer


@FAST
@given(key=st.sampled_from(KEYS), language=language_strings, offer_languages=st.booleans())
def test_every_turn_in_any_language_string_carries_the_contacts(key, language, offer_languages):
    message = catalogue.turn(key, language, offer_languages=offer_languages)
    expected = language if language in LANGUAGES else catalogue.default_language()
    assert message["language"] == expected
    assert message["rtl"] is catalogue.languages()[expected].rtl
    assert contacts_in(message["text"], expected)
    assert all(isinstance(b["title"], str) and isinstance(b["payload"], str) for b in message["buttons"])


def test_every_key_in_every_language_carries_the_contacts():
    """The exhaustive version of the property above: 20 languages × every key."""
    for language in LANGUAGES:
        for key in KEYS:
            assert contacts_in(catalogue.turn(key, language)["text"], language), (language, key)


@FAST
@given(reply=json_values, hint=st.one_of(st.none(), language_strings))
def test_whatever_rasa_replies_the_widget_gets_the_contacts(reply, hint):
    shaped = shape_reply(reply, hint if hint in LANGUAGES else None)
    assert shaped["language"] in LANGUAGES
    assert any(contacts_in(m["text"], shaped["language"]) for m in shaped["messages"])
    json.dumps(shaped)  # always serialisable


# ---------------------------------------------------------------------------
# (c) the gateway's request handling, with a fake Rasa, over real HTTP


DEFAULT_REPLY = object()  # the fake Rasa's normal answer: an echo with the contacts


class ServedGateway:
    """The gateway app and a fake Rasa, served on loopback from one background
    thread (hypothesis drives it synchronously, one request per example)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread: Optional[threading.Thread] = None
        self.port = 0
        self.rasa_reply: Any = DEFAULT_REPLY

    async def _rasa(self, request: web.Request) -> web.Response:
        body = await request.json()
        language = (body.get("metadata") or {}).get("language") or "fi"
        if self.rasa_reply is not DEFAULT_REPLY:
            return web.json_response(self.rasa_reply)
        return web.json_response([
            {"recipient_id": body["sender"], "language": language, "rtl": False,
             "text": "Vastaus\n\n" + catalogue.text("contact_block", language)}
        ])

    def start(self) -> "ServedGateway":
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            rasa = web.Application()
            rasa.router.add_post("/webhooks/rest/webhook", self._rasa)
            rasa_runner = web.AppRunner(rasa, access_log=None)
            self.loop.run_until_complete(rasa_runner.setup())
            self.loop.run_until_complete(web.TCPSite(rasa_runner, "127.0.0.1", 0).start())
            rasa_port = rasa_runner.addresses[0][1]
            gateway_settings = Settings(rasa_port=rasa_port, action_port=1, rasa_timeout=2,
                                        rate_limit_per_minute=10**9)
            runner = web.AppRunner(create_app(gateway_settings), access_log=None)
            self.loop.run_until_complete(runner.setup())
            self.loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0).start())
            self.port = runner.addresses[0][1]
            ready.set()
            self.loop.run_forever()
            self.loop.run_until_complete(runner.cleanup())
            self.loop.run_until_complete(rasa_runner.cleanup())
            self.loop.close()

        self.thread = threading.Thread(target=serve, name="fuzz-gateway", daemon=True)
        self.thread.start()
        if not ready.wait(10):
            raise RuntimeError("the gateway did not start")
        return self

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        if self.thread is not None:
            self.thread.join(10)

    def post(self, body: bytes, content_type: str = "application/json") -> Tuple[int, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("POST", "/api/chat", body=body, headers={"Content-Type": content_type})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


@pytest.fixture(scope="module")
def served():
    server = ServedGateway().start()
    yield server
    server.stop()


def check_answer(status: int, raw: bytes) -> Dict[str, Any]:
    assert status in ALLOWED_STATUSES, (status, raw[:200])
    body = json.loads(raw)  # always JSON
    assert isinstance(body, dict)
    if status == 200:
        language = body["language"]
        assert language in LANGUAGES
        assert any(contacts_in(m["text"], language) for m in body["messages"])
    elif status == 503 or "messages" in body:
        assert any(contacts_in(m["text"], body["language"]) for m in body["messages"])
    return body


@FEW
@given(body=st.binary(max_size=9000),
       content_type=st.sampled_from(["application/json", "application/json; charset=utf-8",
                                     "text/plain", "application/x-www-form-urlencoded", ""]))
def test_any_bytes_get_a_clear_answer(served, body, content_type):
    status, raw = served.post(body, content_type)
    check_answer(status, raw)
    if content_type and not content_type.startswith("application/json"):
        assert status == 415


@FEW
@given(value=json_values)
def test_any_json_value_gets_a_clear_answer(served, value):
    check_answer(*served.post(json.dumps(value).encode()))


senders = st.one_of(json_values, st.from_regex(r"\A[A-Za-z0-9_-]{8,64}\Z"), st.just("tab-1234abcd"))


@FAST
@given(sender=senders, message=st.one_of(json_values, messages),
       language=st.one_of(json_values, language_strings), extra=st.dictionaries(st.text(max_size=8), json_values, max_size=3))
def test_any_chat_request_gets_a_clear_answer(served, sender, message, language, extra):
    body = {**extra, "sender": sender, "message": message, "language": language}
    status, raw = served.post(json.dumps(body, ensure_ascii=False).encode("utf-8"))
    answer = check_answer(status, raw)
    valid_sender = isinstance(sender, str) and len(sender) >= 8
    if status == 200:
        assert valid_sender and isinstance(message, str) and message.strip()
    if isinstance(message, str) and message.strip() and len(message.strip()) <= 1000 and status != 200:
        assert answer["error"] in ("invalid_sender", "body_too_large"), answer


@FEW
@given(reply=json_values, hint=st.sampled_from(LANGUAGES))
def test_whatever_rasa_answers_the_gateway_adds_the_contacts(served, reply, hint):
    served.rasa_reply = reply
    try:
        status, raw = served.post(json.dumps({"sender": "fuzz-sender-1", "message": "hei", "language": hint}).encode())
    finally:
        served.rasa_reply = DEFAULT_REPLY
    # a reply Rasa could not have meant (null) counts as no answer: 503, with the contacts too
    assert status in (200, 503)
    check_answer(status, raw)
