"""Bad input at the gateway, the public door: what tests/test_gateway.py does
not already cover. Each gets a clear 4xx JSON error or a normal answer with
the contacts, never a 500, and the gateway keeps answering afterwards.

Rasa's REST channel: tests/e2e/test_bad_input.py; the messaging connectors:
tests/channels/test_bad_input.py; arbitrary input (hypothesis): tests/test_fuzz.py.
"""
import asyncio
import json
import time

import pytest

from bot.gateway import create_app
from bot.settings import Settings
from tests.conftest import contacts_in
from tests.test_gateway import SENDER, fake_rasa, post  # noqa: F401  (fake_rasa is a fixture)

ONE_MB = 1024 * 1024


@pytest.fixture
async def gateway(aiohttp_client, fake_rasa, unused_tcp_port):  # noqa: F811
    settings = Settings(rasa_port=fake_rasa["port"], action_port=unused_tcp_port, rasa_timeout=2,
                        rate_limit_per_minute=10**6)
    return await aiohttp_client(create_app(settings))


async def still_alive(client) -> None:
    assert (await client.get("/healthz")).status == 200
    response = await post(client, {"sender": SENDER, "message": "hei"})
    assert response.status == 200
    assert contacts_in((await response.json())["messages"][0]["text"], "fi")


async def assert_error(response, status, code):
    assert response.status == status
    assert response.content_type == "application/json"
    assert (await response.json())["error"] == code


async def test_a_one_megabyte_body_is_refused_before_it_is_read(gateway, fake_rasa):  # noqa: F811
    """Content-Length says 1 MB: 413 after the first 64 KB, without waiting for the rest."""
    host, port = gateway.server.host, gateway.server.port
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(
            b"POST /api/chat HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {ONE_MB}\r\n\r\n".encode()
            + b'{"sender": "tab-1234abcd", "message": "' + b"a" * 65536
        )
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=5)
        assert status_line.split()[1] == b"413", status_line
    finally:
        writer.close()
    assert fake_rasa["received"] == []
    await still_alive(gateway)


async def test_a_one_megabyte_body_without_content_length_is_refused_too(gateway, fake_rasa):  # noqa: F811
    async def chunks():
        piece = b'{"sender": "tab-1234abcd", "message": "' + b"a" * (64 * 1024)
        yield piece
        for _ in range(15):
            yield b"a" * (64 * 1024)
        yield b'"}'

    response = await gateway.post("/api/chat", data=chunks(), headers={"Content-Type": "application/json"})
    await assert_error(response, 413, "body_too_large")
    assert fake_rasa["received"] == []
    await still_alive(gateway)


@pytest.mark.parametrize(
    "raw",
    [
        b'{"sender": "tab-1234abcd", "message": "\xff\xfe bad bytes"}',  # invalid UTF-8 inside a string
        b'{"sender": "tab-1234abcd", "message": "\xed\xa0\x80"}',  # an encoded surrogate
        b"\xef\xbb\xbf" + b'{"sender": "tab-1234abcd", "message": "hi"}',  # a byte order mark first
        b"",  # nothing at all
        b"null",
        b'"just a string"',
        b'{"sender": "tab-1234abcd", "message": "hi"',  # cut off
        b'{"sender": "tab-1234abcd", "message": "hi"} trailing',
        b"[" * 4000 + b"]" * 4000,  # deeper than Python's recursion limit, within 8 KB
        b'{"a":' * 1300 + b"1" + b"}" * 1300,
    ],
    ids=["invalid-utf8", "surrogate", "bom", "empty", "null", "string", "cut-off", "trailing",
         "deep-array", "deep-object"],
)
async def test_malformed_bodies_get_400(gateway, fake_rasa, raw):  # noqa: F811
    await assert_error(await post(gateway, raw), 400, "invalid_json")
    assert fake_rasa["received"] == []
    await still_alive(gateway)


@pytest.mark.parametrize(
    "body, code",
    [
        ({"sender": SENDER, "message": None}, "invalid_message"),
        ({"sender": SENDER, "message": ["hi"]}, "invalid_message"),
        ({"sender": SENDER, "message": {"text": "hi"}}, "invalid_message"),
        ({"sender": SENDER, "message": True}, "invalid_message"),
        ({"sender": SENDER, "message": 1e308}, "invalid_message"),
        ({"sender": 12345678, "message": "hi"}, "invalid_sender"),
        ({"sender": None, "message": "hi"}, "invalid_sender"),
        ({"sender": ["tab-1234abcd"], "message": "hi"}, "invalid_sender"),
        ({"sender": "tab-1234abcd\n", "message": "hi"}, "invalid_sender"),
        ({"sender": "tab 1234abcd", "message": "hi"}, "invalid_sender"),
        ({"sender": "x" * 65, "message": "hi"}, "invalid_sender"),
        ({"sender": "tab-1234abcd\u202e", "message": "hi"}, "invalid_sender"),
        ({"sender": SENDER, "message": ""}, "empty_message"),
        ({"sender": SENDER, "message": " \t\r\n\u3000\u00a0"}, "empty_message"),
    ],
)
async def test_wrong_types_and_empty_messages_get_400(gateway, fake_rasa, body, code):  # noqa: F811
    await assert_error(await post(gateway, body), 400, code)
    assert fake_rasa["received"] == []


@pytest.mark.parametrize("language", [["fi"], {"fi": 1}, 42, None, True, "../fi", "FI", "fi\u200b"])
async def test_a_language_hint_of_any_type_is_ignored_not_fatal(gateway, fake_rasa, language):  # noqa: F811
    response = await post(gateway, {"sender": SENDER, "message": "hei", "language": language})
    assert response.status == 200
    assert "language" not in fake_rasa["received"][-1]["metadata"]  # no hint passed on
    assert contacts_in((await response.json())["messages"][0]["text"], "fi")


ODD_MESSAGES = {
    "control": "hei\x00\x07\x1b[31m\x7f\x85",
    "zero-width": "\u200b\u200c\u200d\u2060\ufeff",
    "rtl-override": "\u202emitä on ihmiskauppa\u202c",
    "isolates": "\u2066\u2067\u2068abc\u2069",
    "html": "<b>hi</b><iframe src=//evil></iframe>",
    "script": "<script>alert(document.cookie)</script>",
    "emoji-only": "🆘🙏👨‍👩‍👧🇫🇮",
    "mixed-scripts": "help помогите مساعدة 帮助 ช่วยด้วย मद्दत apua",
    "combining": "a" + "\u0301" * 900,
    "slash-intent": '/change_language{"language": "ar"}',
    "template": "{phone} {email} %s %(x)s ${HOME}",
    "json-in-text": '{"sender": "other-person-1", "message": "hi"}',
}


@pytest.mark.parametrize("text", list(ODD_MESSAGES.values()), ids=list(ODD_MESSAGES))
async def test_odd_text_is_passed_on_as_plain_text_and_answered_with_contacts(gateway, fake_rasa, text):  # noqa: F811
    response = await post(gateway, {"sender": SENDER, "message": text})
    assert response.status == 200
    assert fake_rasa["received"][-1]["message"] == text.strip()
    assert fake_rasa["received"][-1]["sender"] == SENDER
    body = await response.json()
    assert contacts_in(body["messages"][0]["text"], "fi")


async def test_a_message_at_the_limit_in_a_four_byte_script_fits(gateway, fake_rasa):  # noqa: F811
    # 1000 emoji are 4000 bytes of UTF-8, as the widget sends them (JSON.stringify
    # does not escape): within the 8 KB body limit
    body = json.dumps({"sender": SENDER, "message": "🙏" * 1000}, ensure_ascii=False).encode()
    response = await post(gateway, body)
    assert response.status == 200
    assert fake_rasa["received"][-1]["message"] == "🙏" * 1000


async def test_thousands_of_messages_from_one_client_are_cut_off_quickly(aiohttp_client, fake_rasa):  # noqa: F811
    """A flood from one client: the first 30 a minute are answered, the rest get
    429 in milliseconds without reaching Rasa, and everyone else is still served."""
    settings = Settings(rasa_port=fake_rasa["port"], rate_limit_per_minute=30, trust_forwarded_for=True)
    client = await aiohttp_client(create_app(settings))
    flood = {"X-Forwarded-For": "203.0.113.66"}
    started = time.perf_counter()
    statuses = []
    for batch in range(20):  # 2000 messages, 100 at a time
        responses = await asyncio.gather(
            *(post(client, {"sender": SENDER, "message": f"spam {batch} {i}"}, headers=flood) for i in range(100))
        )
        statuses += [r.status for r in responses]
    seconds = time.perf_counter() - started
    assert statuses.count(200) == 30 and statuses.count(429) == 1970
    assert len(fake_rasa["received"]) == 30
    assert seconds < 30, f"2000 requests took {seconds:.1f} s"
    # the gateway is alive, and another person is answered at once
    assert (await client.get("/healthz")).status == 200
    other = await post(client, {"sender": "tab-other-person", "message": "apua"},
                       headers={"X-Forwarded-For": "198.51.100.7"})
    assert other.status == 200
    # the flooder's 429 is a JSON error, not an empty page
    again = await post(client, {"sender": SENDER, "message": "hi"}, headers=flood)
    await assert_error(again, 429, "rate_limited")


async def test_many_clients_do_not_grow_the_rate_limiter_without_bound(aiohttp_client, fake_rasa):  # noqa: F811
    from bot.gateway import LIMITER

    settings = Settings(rasa_port=fake_rasa["port"], rate_limit_per_minute=5, trust_forwarded_for=True)
    app = create_app(settings)
    app[LIMITER].max_clients = 100
    client = await aiohttp_client(app)
    for i in range(300):
        await post(client, {"sender": SENDER, "message": "hi"}, headers={"X-Forwarded-For": f"2001:db8::{i:x}"})
    assert len(app[LIMITER]._hits) <= 100
    await still_alive(client)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
async def test_other_methods_on_the_chat_endpoint_are_refused(gateway, fake_rasa, method):  # noqa: F811
    response = await gateway.request(method, "/api/chat")
    assert response.status in (405,)
    assert fake_rasa["received"] == []


@pytest.mark.parametrize("path", ["/api/chat/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/widget.js/..%2f..%2fsettings.py",
                                  "/webhooks/rest/webhook", "/conversations/x/tracker", "/" + "a" * 4000])
async def test_unknown_paths_are_404_and_reveal_nothing(gateway, path):
    response = await gateway.get(path)
    assert response.status in (404, 400, 414)
    text = await response.text()
    assert "root:" not in text and "Traceback" not in text
