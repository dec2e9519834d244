"""The web gateway: the only public HTTP surface of the website chat.

Serves the demo page and the embeddable widget, forwards ``POST /api/chat`` to
Rasa's channel on loopback, and answers with the contacts in the person's
language whatever fails behind it. ``/healthz``: alive; ``/readyz``: Rasa and
the action server reachable.

Run: ``python -m bot.gateway`` (settings from the environment, bot/settings.py).
"""
from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
import zlib
from collections import OrderedDict
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

from aiohttp import ClientError, ClientSession, ClientTimeout, web

from bot import catalogue
from bot.settings import MESSAGE_ID, RETRY, Settings

logger = logging.getLogger("bot.gateway")

STATIC_DIR = Path(__file__).resolve().parent / "web"
SENDER_PATTERN = re.compile(r"\A[A-Za-z0-9_-]{8,64}\Z")
RASA_WEBHOOK = "/webhooks/rest/webhook"

SETTINGS = web.AppKey("settings", Settings)
HTTP = web.AppKey("http", ClientSession)
LIMITER = web.AppKey("limiter", object)
WIDGET_JS = web.AppKey("widget_js", bytes)


class RateLimiter:
    """A sliding one-minute window per client, in memory, bounded in size."""

    def __init__(self, per_minute: int, max_clients: int = 10000) -> None:
        self.per_minute = per_minute
        self.max_clients = max_clients
        self._hits: "OrderedDict[str, List[float]]" = OrderedDict()

    def allow(self, client: str, now: Optional[float] = None) -> bool:
        now = time.monotonic() if now is None else now
        hits = [t for t in self._hits.pop(client, []) if now - t < 60.0]
        allowed = len(hits) < self.per_minute
        if allowed:
            hits.append(now)
        self._hits[client] = hits
        while len(self._hits) > self.max_clients:
            self._hits.popitem(last=False)
        return allowed


def error(status: int, code: str, language: Optional[str] = None, key: Optional[str] = None) -> web.Response:
    """A JSON error; with a catalogue key, also a message with the contacts."""
    body: Dict[str, Any] = {"error": code}
    if key:
        body.update(fallback_body(language, key))
    return web.json_response(body, status=status)


def fallback_body(language: Optional[str], key: str = "ui_backend_down") -> Dict[str, Any]:
    language = catalogue.supported(language)
    message = catalogue.turn(key, language)
    return {
        "messages": [{"text": message["text"], "buttons": []}],
        "language": language,
        "rtl": message["rtl"],
    }


def client_id(request: web.Request) -> str:
    """Who the rate limit counts: the peer, or behind a trusted reverse proxy
    (HELPLINE_TRUST_FORWARDED_FOR) the client it names."""
    if request.app[SETTINGS].trust_forwarded_for:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded
    return request.remote or "unknown"


@web.middleware
async def security_headers(request: web.Request, handler):
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        response = exc
    settings = request.app[SETTINGS]
    response.headers.update(
        {
            "Content-Security-Policy": (
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
                "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
                f"frame-ancestors {' '.join(settings.frame_ancestors)}"
            ),
            "Referrer-Policy": "no-referrer",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
            "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        }
    )
    origin = request.headers.get("Origin")
    if origin and origin in settings.cors_origins and request.path.startswith("/api/"):
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Access-Control-Allow-Methods"] = "POST, GET, OPTIONS"
        response.headers["Access-Control-Allow-Headers"] = "Content-Type"
        response.headers["Vary"] = "Origin"
    if isinstance(response, web.HTTPException):
        raise response
    return response


async def preflight(request: web.Request) -> web.Response:
    return web.Response(status=204)


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    checks = {f"rasa{'' if i == 0 else f'-{i}'}": f"{url}/" for i, url in enumerate(settings.rasa_urls)}
    if not settings.rasa_urls_override:  # action servers we started ourselves
        checks.update({
            f"actions{'' if i == 0 else f'-{i}'}": f"http://{settings.action_host}:{settings.action_port + i}/health"
            for i in range(settings.rasa_instances)
        })
    results = {}
    for name, url in checks.items():
        try:
            async with request.app[HTTP].get(url, timeout=ClientTimeout(total=2)) as response:
                results[name] = response.status == 200
        except (OSError, asyncio.TimeoutError, Exception):
            results[name] = False
    ready = all(results.values())
    return web.json_response({"ready": ready, **results}, status=200 if ready else 503)


async def chat(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    if not request.app[LIMITER].allow(client_id(request)):
        return error(429, "rate_limited")
    if request.content_type != "application/json":
        return error(415, "expected_json")
    if request.content_length is not None and request.content_length > settings.max_body_bytes:
        return error(413, "body_too_large")
    try:
        raw = await request.content.read(settings.max_body_bytes + 1)
    except (asyncio.TimeoutError, OSError):
        return error(400, "unreadable_body")
    if len(raw) > settings.max_body_bytes:
        return error(413, "body_too_large")
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return error(400, "invalid_json")
    if not isinstance(body, dict):
        return error(400, "invalid_json")
    # the widget's current language: a hint for a first message too short to tell
    language = body.get("language")
    hint = language if isinstance(language, str) and language in catalogue.languages() else None
    sender, text = body.get("sender"), body.get("message")
    if not isinstance(sender, str) or not SENDER_PATTERN.match(sender):
        return error(400, "invalid_sender")
    if not isinstance(text, str):
        return error(400, "invalid_message")
    text = text.strip()
    if not text:
        return error(400, "empty_message")
    if len(text) > settings.max_message_chars:
        return error(413, "message_too_long", hint, "ui_message_too_long")

    metadata: Dict[str, Any] = {"language": hint} if hint else {}
    # one id per message, the same on every retry: Rasa answers a retry of a
    # message it already handled from the conversation (bot/rasa_patches.py)
    metadata[MESSAGE_ID] = uuid.uuid4().hex
    payload = {"sender": sender, "message": text, "metadata": metadata}
    messages = await forward(request.app, settings, sender, payload)
    if messages is None:
        return web.json_response({"error": "backend_unavailable", **fallback_body(hint)}, status=503)
    return web.json_response(shape_reply(messages, hint))


def upstream_order(urls: Sequence[str], sender: str) -> List[str]:
    """The Rasa servers to try for a sender: the same one first every time
    (its lock and cache stay warm), then the others in turn."""
    start = zlib.crc32(sender.encode("utf-8")) % len(urls)
    return list(urls[start:]) + list(urls[:start])


async def forward(app: web.Application, settings: Settings, sender: str, payload: Dict[str, Any]):
    """Rasa's answer, trying each instance in turn within the time limit;
    None when none answered. The Redis lock store keeps one conversation's
    messages in order whichever instance handles them."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + settings.rasa_timeout
    order = upstream_order(settings.rasa_urls, sender)
    if len(order) == 1:  # one address (a load-balanced service): a second try may reach another server
        order = order * 2
    for attempt, url in enumerate(order):
        remaining = deadline - loop.time()
        if remaining <= 0:
            break
        if attempt:  # the first try may still be running: Rasa must not handle it twice
            payload = {**payload, "metadata": {**payload.get("metadata", {}), RETRY: True}}
        try:
            async with app[HTTP].post(
                f"{url}{RASA_WEBHOOK}",
                json=payload,
                timeout=ClientTimeout(total=remaining / (len(order) - attempt)),
            ) as response:
                if response.status != 200:
                    raise RuntimeError(f"status {response.status}")
                return await response.json()
        except (asyncio.TimeoutError, OSError, RuntimeError, ValueError, ClientError) as exc:
            logger.warning(
                "Rasa instance %d of %d did not answer (%s).", attempt + 1, len(order), type(exc).__name__
            )
    return None


def shape_reply(messages: Any, hint: Optional[str]) -> Dict[str, Any]:
    """Rasa's messages as the widget wants them; never a turn without contacts."""
    shaped: List[Dict[str, Any]] = []
    language = None
    for message in messages if isinstance(messages, list) else []:
        if not isinstance(message, dict) or not isinstance(message.get("text"), str):
            continue
        language = language or message.get("language")
        buttons = [
            {"title": str(b.get("title", "")), "payload": str(b.get("payload", ""))}
            for b in message.get("buttons") or []
            if isinstance(b, dict)
        ]
        shaped.append({"text": message["text"], "buttons": buttons})
    language = catalogue.supported(language or hint)
    contacts = catalogue.fact_values(language)
    if not any(all(contacts[f] in m["text"] for f in ("phone", "email", "emergency")) for m in shaped):
        shaped.append(fallback_body(language, "nlu_fallback")["messages"][0])
    return {"messages": shaped, "language": language, "rtl": catalogue.languages()[language].rtl}


def widget_script() -> bytes:
    """The widget with every language's UI strings and the facts built in,
    so the contact bar shows even when nothing behind the page answers."""
    strings = {code: catalogue.ui_strings(code) for code in catalogue.languages()}
    head = "/* Generated by bot/gateway.py from bot/catalogue and bot/facts.yml. */\n"
    data = f"window.HELPLINE_UI = {json.dumps(strings, ensure_ascii=False)};\n"
    data += f"window.HELPLINE_DEFAULT_LANGUAGE = {json.dumps(catalogue.default_language())};\n"
    return (head + data + (STATIC_DIR / "widget.js").read_text(encoding="utf-8")).encode("utf-8")


async def serve_widget_js(request: web.Request) -> web.Response:
    return web.Response(body=request.app[WIDGET_JS], content_type="application/javascript", charset="utf-8")


def static_file(name: str, content_type: str):
    """A file of bot/web, read once at start-up."""
    body = (STATIC_DIR / name).read_bytes()

    async def handler(request: web.Request) -> web.Response:
        return web.Response(body=body, content_type=content_type, charset="utf-8")

    return handler


async def http_client(app: web.Application):
    async with ClientSession() as session:
        app[HTTP] = session
        yield


def create_app(settings: Optional[Settings] = None) -> web.Application:
    settings = settings or Settings.from_env()
    app = web.Application(
        middlewares=[security_headers], client_max_size=settings.max_body_bytes
    )
    app[SETTINGS] = settings
    app[LIMITER] = RateLimiter(settings.rate_limit_per_minute)
    app[WIDGET_JS] = widget_script()
    app.cleanup_ctx.append(http_client)
    app.router.add_get("/", static_file("index.html", "text/html"))
    app.router.add_get("/widget.js", serve_widget_js)
    app.router.add_get("/widget.css", static_file("widget.css", "text/css"))
    app.router.add_post("/api/chat", chat)
    app.router.add_route("OPTIONS", "/api/chat", preflight)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    return app


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = Settings.from_env()
    web.run_app(
        create_app(settings),
        host=settings.gateway_host,
        port=settings.gateway_port,
        access_log_format='"%r" %s %b %Tf',
        print=None,
    )


if __name__ == "__main__":
    main()
