"""The web gateway, with Rasa faked by a local aiohttp server."""
import asyncio
import json
import re

import pytest
from aiohttp import web

from bot import catalogue
from bot.gateway import RateLimiter, create_app
from bot.settings import MESSAGE_ID, RETRY, Settings
from tests.conftest import contacts_in

SENDER = "tab-1234abcd"


def rasa_reply(text="Vastaus", language="fi"):
    return [{"recipient_id": SENDER, "text": text + "\n\n" + catalogue.text("contact_block", language),
             "buttons": [{"title": "Suomi", "payload": "/x"}], "language": language, "rtl": False}]


@pytest.fixture
async def fake_rasa(aiohttp_server):
    """A stand-in for Rasa: records what it gets, answers as told."""
    state = {"received": [], "reply": rasa_reply(), "status": 200, "delay": 0.0}

    async def webhook(request):
        state["received"].append(await request.json())
        await asyncio.sleep(state["delay"])
        return web.json_response(state["reply"], status=state["status"])

    async def root(request):
        return web.Response(text="Hello from Rasa")

    app = web.Application()
    app.router.add_post("/webhooks/rest/webhook", webhook)
    app.router.add_get("/", root)
    server = await aiohttp_server(app)
    state["port"] = server.port
    return state


@pytest.fixture
async def gateway(aiohttp_client, fake_rasa, unused_tcp_port):
    settings = Settings(rasa_port=fake_rasa["port"], action_port=unused_tcp_port, rasa_timeout=0.5,
                        rate_limit_per_minute=5, cors_origins=("https://example.org",))
    return await aiohttp_client(create_app(settings))


async def post(client, body, headers=None):
    data = body if isinstance(body, (bytes, str)) else json.dumps(body)
    return await client.post("/api/chat", data=data, headers={"Content-Type": "application/json", **(headers or {})})


async def test_a_message_is_forwarded_and_answered(gateway, fake_rasa):
    response = await post(gateway, {"sender": SENDER, "message": "  mitä on ihmiskauppa  "})
    assert response.status == 200
    body = await response.json()
    (received,) = fake_rasa["received"]
    message_id = received["metadata"].pop(MESSAGE_ID)
    assert received == {"sender": SENDER, "message": "mitä on ihmiskauppa", "metadata": {}}
    assert re.fullmatch(r"[0-9a-f]{32}", message_id)
    assert body["language"] == "fi" and body["rtl"] is False
    assert body["messages"][0]["buttons"] == [{"title": "Suomi", "payload": "/x"}]
    assert contacts_in(body["messages"][0]["text"], "fi")


async def test_rasa_down_still_gives_contacts_in_the_widget_language(aiohttp_client, unused_tcp_port):
    settings = Settings(rasa_port=unused_tcp_port, rasa_timeout=0.5)
    client = await aiohttp_client(create_app(settings))
    response = await post(client, {"sender": SENDER, "message": "apua", "language": "ar"})
    assert response.status == 503
    body = await response.json()
    assert body["error"] == "backend_unavailable"
    assert body["language"] == "ar" and body["rtl"] is True
    assert contacts_in(body["messages"][0]["text"], "ar")


async def test_a_slow_rasa_is_cut_off_with_contacts(gateway, fake_rasa):
    fake_rasa["delay"] = 2
    response = await post(gateway, {"sender": SENDER, "message": "hello"})
    assert response.status == 503
    assert contacts_in((await response.json())["messages"][0]["text"])


@pytest.mark.parametrize("reply", [[], [{"text": "no contacts here"}], {"weird": True}, [{"buttons": "x"}]])
async def test_a_reply_without_contacts_gets_them_added(gateway, fake_rasa, reply):
    fake_rasa["reply"] = reply
    body = await (await post(gateway, {"sender": SENDER, "message": "hello"})).json()
    assert any(contacts_in(m["text"]) for m in body["messages"])


async def test_rasa_error_status_gives_contacts(gateway, fake_rasa):
    fake_rasa["status"] = 500
    response = await post(gateway, {"sender": SENDER, "message": "hello", "language": "sv"})
    assert response.status == 503
    assert contacts_in((await response.json())["messages"][0]["text"], "sv")


@pytest.mark.parametrize(
    "body, status, code",
    [
        (b"{not json", 400, "invalid_json"),
        (b"\xff\xfe\x00garbage", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_json"),
        ({"sender": SENDER}, 400, "invalid_message"),
        ({"sender": SENDER, "message": 42}, 400, "invalid_message"),
        ({"sender": SENDER, "message": "   "}, 400, "empty_message"),
        ({"sender": "x", "message": "hi"}, 400, "invalid_sender"),
        ({"sender": "../../etc", "message": "hi"}, 400, "invalid_sender"),
        ({"sender": SENDER, "message": "a" * 1001}, 413, "message_too_long"),
        (b"{" + b" " * 17000 + b"}", 413, "body_too_large"),
    ],
    ids=["broken-json", "invalid-utf8", "json-list", "no-message", "number-message", "spaces",
         "short-sender", "path-sender", "too-long", "huge-body"],
)
async def test_bad_input_gets_a_clear_json_error(gateway, fake_rasa, body, status, code):
    response = await post(gateway, body)
    assert response.status == status
    assert (await response.json())["error"] == code
    assert fake_rasa["received"] == []


async def test_a_too_long_message_is_explained_with_contacts(gateway):
    body = await (await post(gateway, {"sender": SENDER, "message": "ä" * 1001, "language": "fi"})).json()
    assert body["messages"][0]["text"].startswith(catalogue.text("ui_message_too_long", "fi"))
    assert contacts_in(body["messages"][0]["text"], "fi")


async def test_script_and_emoji_are_passed_as_plain_text(gateway, fake_rasa):
    for text in ("<script>alert(1)</script>", "👍👍", "\u202eevil"):
        assert (await post(gateway, {"sender": SENDER, "message": text})).status == 200
    assert [r["message"] for r in fake_rasa["received"]] == ["<script>alert(1)</script>", "👍👍", "\u202eevil"]


async def test_the_page_language_is_passed_on_as_a_hint(gateway, fake_rasa):
    await post(gateway, {"sender": SENDER, "message": "ok", "language": "fi"})
    await post(gateway, {"sender": SENDER, "message": "ok", "language": "xx"})
    assert [r["metadata"].get("language") for r in fake_rasa["received"]] == ["fi", None]


async def test_only_json_is_accepted(gateway, fake_rasa):
    response = await gateway.post("/api/chat", data="sender=x&message=hi",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status == 415
    assert fake_rasa["received"] == []


async def test_rate_limit_counts_the_forwarded_client_only_behind_a_trusted_proxy(aiohttp_client, fake_rasa):
    settings = Settings(rasa_port=fake_rasa["port"], rate_limit_per_minute=1, trust_forwarded_for=True)
    client = await aiohttp_client(create_app(settings))
    first = await post(client, {"sender": SENDER, "message": "hi"}, headers={"X-Forwarded-For": "203.0.113.1"})
    other = await post(client, {"sender": SENDER, "message": "hi"}, headers={"X-Forwarded-For": "203.0.113.2"})
    again = await post(client, {"sender": SENDER, "message": "hi"}, headers={"X-Forwarded-For": "203.0.113.1"})
    assert [first.status, other.status, again.status] == [200, 200, 429]


async def test_one_client_flooding_is_rate_limited(gateway):
    statuses = [(await post(gateway, {"sender": SENDER, "message": "hi"})).status for _ in range(7)]
    assert statuses[:5] == [200] * 5 and statuses[5:] == [429, 429]


def test_rate_limiter_window_slides():
    limiter = RateLimiter(per_minute=2)
    assert [limiter.allow("a", now=t) for t in (0, 1, 2)] == [True, True, False]
    assert limiter.allow("a", now=61) is True
    assert limiter.allow("b", now=2) is True


async def test_security_headers(gateway):
    response = await gateway.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "frame-ancestors 'self'" in csp
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_cors_only_for_allowed_origins(gateway):
    allowed = await gateway.options("/api/chat", headers={"Origin": "https://example.org"})
    other = await gateway.options("/api/chat", headers={"Origin": "https://evil.example"})
    assert allowed.headers.get("Access-Control-Allow-Origin") == "https://example.org"
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_health_and_readiness(gateway):
    assert (await gateway.get("/healthz")).status == 200
    ready = await gateway.get("/readyz")
    assert ready.status == 503  # the fake has Rasa but no action server
    assert (await ready.json()) == {"ready": False, "rasa": True, "actions": False}


async def test_widget_script_carries_every_language_and_the_facts(gateway):
    script = await (await gateway.get("/widget.js")).text()
    for code in catalogue.languages():
        assert f'"{code}": {{' in script
    assert catalogue.facts()["email"] in script and catalogue.phone_uri() in script


async def test_no_message_text_in_gateway_logs(gateway, fake_rasa, caplog):
    caplog.set_level("DEBUG")
    fake_rasa["status"] = 500
    await post(gateway, {"sender": SENDER, "message": "my secret name is Maria"})
    assert "Maria" not in caplog.text and SENDER not in caplog.text


async def test_a_retry_carries_the_same_message_id_and_says_it_is_a_retry(gateway, fake_rasa):
    """The first try times out (it may still be running in Rasa): the second
    carries the same id, marked as a retry, so Rasa handles the message once."""
    fake_rasa["delay"] = 0.3  # longer than one attempt's share of the 0.5 s
    await post(gateway, {"sender": SENDER, "message": "apua"})
    first, second = fake_rasa["received"][:2]
    assert first["metadata"][MESSAGE_ID] == second["metadata"][MESSAGE_ID]
    assert RETRY not in first["metadata"] and second["metadata"][RETRY] is True
    fake_rasa["received"].clear()
    fake_rasa["delay"] = 0
    await post(gateway, {"sender": SENDER, "message": "apua"})
    assert fake_rasa["received"][0]["metadata"][MESSAGE_ID] != first["metadata"][MESSAGE_ID]
