"""The messaging channels end to end: ONE stack for all channel tests, and ONE
local stand-in for the three platforms' APIs on loopback.

The stack is the real one (``bot.stack.Stack``: action server + Rasa, no
gateway) on free loopback ports, with every channel switched on by its
environment variables and every API URL pointing to the stand-in, which records
each outgoing call and answers like the real API, minimally.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import socket
import threading
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Tuple

import pytest
from aiohttp import web
from twilio.request_validator import RequestValidator

from bot import catalogue
from bot.channels import rendering

# Test credentials: made up, never real.
TELEGRAM_TOKEN = "123456789:TEST-token_for_the_stand-in"
TELEGRAM_SECRET = "test-webhook-secret_123"
TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "test-twilio-auth-token"
TWILIO_NUMBER = "+14155238886"
MESSENGER_PAGE_TOKEN = "test-page-token"
MESSENGER_APP_SECRET = "test-app-secret"
MESSENGER_VERIFY_TOKEN = "test-verify-token"
RASA_API_TOKEN = "test-rasa-api-token"
GRAPH_VERSION = "v21.0"

CHANNEL_VARIABLES = (
    "HELPLINE_TELEGRAM_TOKEN", "HELPLINE_TELEGRAM_WEBHOOK_SECRET", "HELPLINE_TELEGRAM_API_URL",
    "HELPLINE_TWILIO_ACCOUNT_SID", "HELPLINE_TWILIO_AUTH_TOKEN", "HELPLINE_TWILIO_WHATSAPP_NUMBER",
    "HELPLINE_TWILIO_API_URL", "HELPLINE_PUBLIC_URL",
    "HELPLINE_MESSENGER_PAGE_TOKEN", "HELPLINE_MESSENGER_APP_SECRET",
    "HELPLINE_MESSENGER_VERIFY_TOKEN", "HELPLINE_MESSENGER_API_URL",
)

# The questions each test asks (from tests/stories: the model knows them).
FI_QUESTION = "mitä on ihmiskauppa"
AR_QUESTION = "ما هو الاتجار بالبشر"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def contacts_present(text: str) -> bool:
    facts = catalogue.fact_values(catalogue.default_language())
    return all(facts[name] in text for name in ("phone", "email", "emergency"))


def plain(text: str) -> str:
    """Text without the directional isolates put around the phone number."""
    return text.replace(rendering.LRI, "").replace(rendering.PDI, "")


def in_language(text: str, language: str) -> bool:
    """Does a message end with the contact block of this language?"""
    return plain(text).rstrip().endswith(catalogue.text("contact_block", language))


# ---------------------------------------------------------------------------
# The platforms' APIs, on loopback


@dataclass
class Call:
    platform: str
    method: str  # the API method: sendMessage, Messages.json, me/messages ...
    path: str
    query: Dict[str, str]
    headers: Dict[str, str]
    data: Dict[str, Any]


class StandIn:
    """A local stand-in for the Telegram, Twilio and Graph APIs, in its own thread."""

    def __init__(self) -> None:
        self.calls: List[Call] = []
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._thread: Optional[threading.Thread] = None
        self.port = 0
        self._message_ids = 0

    # -- recording
    def take(self) -> List[Call]:
        """The calls since the last take, in order; forgets them."""
        with self._lock:
            calls, self.calls = self.calls, []
        return calls

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)
            self._message_ids += 1

    # -- the API
    async def _body(self, request: web.Request) -> Dict[str, Any]:
        if request.content_type == "application/json":
            return await request.json()
        return dict(await request.post())

    async def telegram(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        data = await self._body(request)
        self._record(Call("telegram", method, request.path, dict(request.query),
                          {}, data))
        if request.match_info["token"] != TELEGRAM_TOKEN:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        if method == "sendMessage":
            result: Any = {
                "message_id": self._message_ids,
                "date": 1700000000,
                "chat": {"id": int(data["chat_id"]), "type": "private"},
                "text": data.get("text", ""),
            }
        else:
            result = True
        return web.json_response({"ok": True, "result": result})

    async def twilio(self, request: web.Request) -> web.Response:
        data = await self._body(request)
        self._record(Call("twilio", "Messages.json", request.path, dict(request.query),
                          {"Authorization": request.headers.get("Authorization", "")}, data))
        return web.json_response(
            {"sid": f"SM{self._message_ids:032d}", "status": "queued", "to": data.get("To"),
             "from": data.get("From"), "body": data.get("Body"), "num_segments": "1"},
            status=201,
        )

    async def messenger(self, request: web.Request) -> web.Response:
        data = await self._body(request)
        self._record(Call("messenger", "me/messages", request.path, dict(request.query), {}, data))
        if request.query.get("access_token") != MESSENGER_PAGE_TOKEN:
            return web.json_response({"error": {"message": "Invalid OAuth access token.", "code": 190}}, status=400)
        return web.json_response(
            {"recipient_id": data["recipient"]["id"], "message_id": f"m_{self._message_ids}"}
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/telegram/bot{token}/{method}", self.telegram)
        app.router.add_post("/twilio/2010-04-01/Accounts/{sid}/Messages.json", self.twilio)
        app.router.add_post(f"/messenger/{GRAPH_VERSION}/me/messages", self.messenger)
        return app

    # -- lifecycle
    def start(self) -> "StandIn":
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            runner = web.AppRunner(self.app(), access_log=None)
            self._loop.run_until_complete(runner.setup())
            site = web.TCPSite(runner, "127.0.0.1", 0)
            self._loop.run_until_complete(site.start())
            self.port = runner.addresses[0][1]
            ready.set()
            self._loop.run_forever()
            self._loop.run_until_complete(runner.cleanup())
            self._loop.close()

        self._thread = threading.Thread(target=serve, name="platform-stand-in", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the stand-in API did not start")
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# ---------------------------------------------------------------------------
# Posting webhooks like the platforms do


def http(url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None,
         method: Optional[str] = None) -> Tuple[int, bytes]:
    request = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(request, timeout=30) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, error.read()


@dataclass
class ChannelStack:
    rasa_url: str
    public_url: str
    standin: StandIn
    log_dir: Any

    # Telegram: an Update, JSON, with the secret token header.
    def telegram(self, update: Dict[str, Any], secret: Optional[str] = TELEGRAM_SECRET) -> Tuple[int, bytes]:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        return http(f"{self.rasa_url}/webhooks/telegram/webhook", json.dumps(update).encode(), headers)

    # Twilio: form-encoded fields, signed for the public URL.
    def whatsapp(self, fields: Dict[str, str], auth_token: str = TWILIO_TOKEN,
                 signature: Optional[str] = None) -> Tuple[int, bytes]:
        path = "/webhooks/whatsapp/webhook"
        if signature is None:
            signature = RequestValidator(auth_token).compute_signature(self.public_url + path, fields)
        return http(
            self.rasa_url + path,
            urllib.parse.urlencode(fields).encode(),
            {"Content-Type": "application/x-www-form-urlencoded", "X-Twilio-Signature": signature},
        )

    # Messenger: JSON, signed with the app secret.
    def messenger(self, payload: Dict[str, Any], app_secret: Optional[str] = MESSENGER_APP_SECRET,
                  signature: Optional[str] = None) -> Tuple[int, bytes]:
        body = json.dumps(payload).encode()
        headers = {"Content-Type": "application/json"}
        if signature is None and app_secret is not None:
            signature = "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()
        if signature is not None:
            headers["X-Hub-Signature-256"] = signature
        return http(f"{self.rasa_url}/webhooks/messenger/webhook", body, headers)

    def user_events(self, sender_id: str) -> List[Dict[str, Any]]:
        """The user events in Rasa's tracker for a sender id (via Rasa's API)."""
        status, body = http(
            f"{self.rasa_url}/conversations/{urllib.parse.quote(sender_id)}/tracker"
            f"?token={RASA_API_TOKEN}"
        )
        assert status == 200, body
        return [e for e in json.loads(body)["events"] if e["event"] == "user"]


@pytest.fixture(scope="session")
def standin():
    server = StandIn().start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def channel_stack(standin, tmp_path_factory):
    """ONE running stack (action server + Rasa) with all three channels on."""
    from bot.settings import Settings
    from bot.stack import Stack
    from tests.conftest import MODEL

    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train`")
    rasa_port = free_port()
    settings = Settings(rasa_port=rasa_port, action_port=free_port(), rasa_api_token=RASA_API_TOKEN)
    public_url = f"http://127.0.0.1:{rasa_port}"  # what Twilio signs (a proxy's URL in production)
    env = {
        "HELPLINE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
        "HELPLINE_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "HELPLINE_TELEGRAM_API_URL": f"{standin.url}/telegram",
        "HELPLINE_TWILIO_ACCOUNT_SID": TWILIO_SID,
        "HELPLINE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "HELPLINE_TWILIO_WHATSAPP_NUMBER": TWILIO_NUMBER,
        "HELPLINE_TWILIO_API_URL": f"{standin.url}/twilio",
        "HELPLINE_PUBLIC_URL": public_url,
        "HELPLINE_MESSENGER_PAGE_TOKEN": MESSENGER_PAGE_TOKEN,
        "HELPLINE_MESSENGER_APP_SECRET": MESSENGER_APP_SECRET,
        "HELPLINE_MESSENGER_VERIFY_TOKEN": MESSENGER_VERIFY_TOKEN,
        "HELPLINE_MESSENGER_API_URL": f"{standin.url}/messenger/{GRAPH_VERSION}",
    }
    log_dir = tmp_path_factory.mktemp("channel-stack")
    stack = Stack(settings, gateway=False, log_dir=log_dir, extra_env=env)
    stack.start()
    try:
        stack.wait_ready(timeout=120)
        yield ChannelStack(settings.rasa_url, public_url, standin, log_dir)
    finally:
        stack.stop()


@pytest.fixture
def stack(channel_stack):
    """The shared stack, with the stand-in's record emptied for this test."""
    channel_stack.standin.take()
    yield channel_stack
    channel_stack.standin.take()
