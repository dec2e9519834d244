"""Browser tests: the real gateway, in-process on loopback, with a fake Rasa
behind it, driven by Debian's Chromium through Playwright.

Servers (one asyncio loop in a background thread, for the whole package):
- a fake Rasa answering /webhooks/rest/webhook with catalogue turns in the
  language it is told (the language picker's payload) or sees (Arabic script,
  Finnish words), contacts included, as the real bot does;
- the gateway pointed at it, and a second gateway pointed at a closed port
  (Rasa down).

Every page is opened through ``open_page``, which keeps the browser off the
network: requests to the gateway under test pass, quick exit's neutral sites
are answered locally, anything else is aborted and fails the test. After each
test it also fails on page errors and on Content-Security-Policy violations.
"""
from __future__ import annotations

import asyncio
import re
import socket
import threading
import urllib.request
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

import pytest
from aiohttp import web

from bot import catalogue
from bot.gateway import RASA_WEBHOOK, create_app
from bot.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"

# Quick exit's default and the one a test host page configures. Neither is
# ever reached: the browser context answers them locally (see open_page).
DEFAULT_EXIT_URL = "https://www.google.com/search?q=weather"
CUSTOM_EXIT_URL = "https://example.com/weather"
NEUTRAL_PAGE = "<!doctype html><title>Weather</title><p>Weather today</p>"

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    # A belt to the routing's braces: no host name resolves but loopback.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1, EXCLUDE localhost",
]

ARABIC_SCRIPT = re.compile(r"[\u0600-\u06FF]")
FINNISH_WORDS = ("mitä", "ihmiskauppa", "apua", "hei", "kiitos", "missä")
TOPICS = {
    "what_is_trafficking": ("ihmiskauppa", "trafficking", "الاتجار"),
    "who_to_contact": ("contact", "yhteyttä", "اتصل"),
}
CHANGE_LANGUAGE = re.compile(r'^/change_language\{"language":\s*"([a-z]+)"\}$')


def free_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeRasa:
    """A stand-in for Rasa's helpline channel. Records what it gets.

    - ``/change_language{"language": "xx"}``: answers ``change_language`` in xx
      and keeps xx for the sender;
    - ``/<catalogue key>`` (a button): that answer in the sender's language;
    - text with ``<``: echoes it back, in the text and as a button title;
    - text with ``slow``: answers after ``slow_seconds``;
    - text with ``languages``: the language picker as buttons;
    - other text: language from Arabic script or Finnish words (else the
      sender's), answer by topic word, else ``nlu_fallback``.
    """

    slow_seconds = 2.0

    def __init__(self) -> None:
        self.received: List[Dict[str, str]] = []
        self.languages: Dict[str, str] = {}
        self.port = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post(RASA_WEBHOOK, self.webhook)
        app.router.add_get("/", self.root)
        return app

    async def root(self, request: web.Request) -> web.Response:
        return web.Response(text="Hello from Rasa")

    def messages_from(self, sender: str) -> List[str]:
        return [r["message"] for r in self.received if r.get("sender") == sender]

    async def webhook(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.received.append(body)
        sender, text = body["sender"], body["message"]
        language = self.languages.get(sender, "en")
        if "slow" in text:
            await asyncio.sleep(self.slow_seconds)
        change = CHANGE_LANGUAGE.match(text)
        if change:
            language = catalogue.supported(change.group(1))
            turn = catalogue.turn("change_language", language)
        elif text.startswith("/") and text[1:] in catalogue.raw_texts("en"):
            turn = catalogue.turn(text[1:], language)
        elif "<" in text:
            turn = {
                "text": f"{text}\n\n{catalogue.text('contact_block', language)}\n{text}",
                "buttons": [{"title": text, "payload": "/greet"}],
                "language": language,
                "rtl": catalogue.languages()[language].rtl,
            }
        else:
            lowered = text.lower()
            if ARABIC_SCRIPT.search(text):
                language = "ar"
            elif any(word in lowered for word in FINNISH_WORDS):
                language = "fi"
            if "languages" in lowered:
                turn = catalogue.turn("unsupported_language", language, offer_languages=True)
            else:
                key = next(
                    (k for k, words in TOPICS.items() if any(w in lowered for w in words)),
                    "nlu_fallback",
                )
                turn = catalogue.turn(key, language)
        self.languages[sender] = language
        return web.json_response([{"recipient_id": sender, **turn}])


class Servers:
    """aiohttp apps on loopback, served from one event loop in a thread."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(
            target=self.loop.run_forever, name="browser-test-servers", daemon=True
        )
        self.thread.start()
        self.runners: List[web.AppRunner] = []

    def run(self, coro, timeout: float = 30.0):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def _serve(self, app: web.Application, port: int) -> int:
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=5.0)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        self.runners.append(runner)
        return runner.addresses[0][1]

    def serve(self, app: web.Application, port: int = 0) -> int:
        return self.run(self._serve(app, port))

    async def _finish(self) -> None:
        # Requests a closed browser left behind (a slow answer) end here.
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.loop.shutdown_asyncgens()

    def close(self) -> None:
        for runner in reversed(self.runners):
            self.run(runner.cleanup())
        self.run(self._finish())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="package")
def servers():
    running = Servers()
    yield running
    running.close()


@pytest.fixture(scope="package")
def fake_rasa(servers) -> FakeRasa:
    fake = FakeRasa()
    fake.port = servers.serve(fake.app())
    return fake


def start_gateway(servers: Servers, rasa_port: int) -> str:
    settings = Settings(
        rasa_port=rasa_port,
        action_port=free_port(),  # no action server: /readyz says not ready, chat works
        gateway_port=free_port(),
        rasa_timeout=5.0,
        rate_limit_per_minute=10000,
    )
    port = servers.serve(create_app(settings), settings.gateway_port)
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="package")
def gateway(servers, fake_rasa) -> str:
    """The gateway's base URL, with the fake Rasa behind it."""
    return start_gateway(servers, fake_rasa.port)


@pytest.fixture(scope="package")
def gateway_rasa_down(servers) -> str:
    """The gateway's base URL, with nothing listening where Rasa should be."""
    return start_gateway(servers, free_port())


@pytest.fixture(scope="package")
def gateway_csp(gateway) -> str:
    with urllib.request.urlopen(gateway + "/", timeout=5) as response:
        return response.headers["Content-Security-Policy"]


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: run scripts/install-system-deps.sh "
            "(apt-get install -y chromium). Never `playwright install`."
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("The Python package playwright is missing: pip install it into .venv")
    playwright = sync_playwright().start()
    # launch() gives the browser a fresh temporary --user-data-dir of its own.
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
    )
    yield chromium
    chromium.close()
    playwright.stop()


class Watch:
    """What one browser context asked for and what went wrong in it."""

    def __init__(self, origin: str) -> None:
        self.origin = origin
        self.requests: List[tuple] = []
        self.foreign: List[str] = []
        self.page_errors: List[str] = []
        self.csp_violations: List[str] = []

    def problems(self) -> List[str]:
        found = [f"request outside the gateway: {url}" for url in self.foreign]
        for method, url, kind in self.requests:
            if kind in ("fetch", "xhr") and not (method == "POST" and url == f"{self.origin}/api/chat"):
                found.append(f"script request other than POST /api/chat: {method} {url}")
        found += [f"page error: {e}" for e in self.page_errors]
        found += [f"CSP violation: {v}" for v in self.csp_violations]
        return found

    def api_calls(self) -> int:
        return sum(1 for _, url, _ in self.requests if url == f"{self.origin}/api/chat")


@pytest.fixture
def open_page(browser, gateway, gateway_csp):
    """Open the demo page (or a test host page) in a fresh browser context.

    ``open_page(base=None, path="/", locale="en-US", width=1280, height=800,
    bypass_csp=False, host_pages=None)``: ``host_pages`` maps a path on the
    gateway's origin to (html, with_csp) served in place of a real response,
    for host pages with other script-tag options.
    Returns (page, watch).
    """
    opened = []

    def open_(
        base: Optional[str] = None,
        path: str = "/",
        locale: str = "en-US",
        width: int = 1280,
        height: int = 800,
        bypass_csp: bool = False,
        host_pages: Optional[Dict[str, tuple]] = None,
    ):
        base = base or gateway
        watch = Watch(base)
        context = browser.new_context(
            locale=locale,
            viewport={"width": width, "height": height},
            bypass_csp=bypass_csp,
            service_workers="block",
        )
        context.set_default_timeout(10000)
        pages = dict(host_pages or {})

        def route(route_):
            url = route_.request.url
            if url.startswith(("data:", "blob:")):
                return route_.continue_()
            if url in (DEFAULT_EXIT_URL, CUSTOM_EXIT_URL):
                return route_.fulfill(status=200, content_type="text/html", body=NEUTRAL_PAGE)
            if url.startswith(base + "/"):
                path_ = urlsplit(url).path
                if path_ in pages:
                    html, with_csp = pages[path_]
                    headers = {"Content-Security-Policy": gateway_csp} if with_csp else {}
                    return route_.fulfill(
                        status=200, content_type="text/html; charset=utf-8", body=html, headers=headers
                    )
                return route_.continue_()
            watch.foreign.append(url)
            return route_.abort()

        context.route("**/*", route)
        context.on("request", lambda r: watch.requests.append((r.method, r.url, r.resource_type)))
        context.on(
            "console",
            lambda m: "Content Security Policy" in m.text and watch.csp_violations.append(m.text),
        )
        page = context.new_page()
        page.on("pageerror", lambda e: watch.page_errors.append(str(e)))
        opened.append((context, watch))
        page.goto(base + path)
        if path in pages or path == "/":
            page.wait_for_selector(".hl-widget")
        return page, watch

    yield open_
    problems = []
    for context, watch in opened:
        problems += watch.problems()
        context.close()
    assert not problems, "\n".join(problems)


def host_page(script_attributes: str, head: str = "") -> str:
    """A site owner's page embedding the widget with the given script-tag attributes."""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<link rel="icon" href="data:,"><title>Host page</title>'
        f"{head}</head><body><main><h1>Host page</h1><p>Some neutral text.</p></main>"
        f'<script src="/widget.js" {script_attributes} defer></script></body></html>'
    )


@pytest.fixture(scope="package")
def axe_source() -> str:
    if not AXE_JS.exists():
        pytest.fail(
            f"{AXE_JS.relative_to(ROOT)} is missing: run `npm ci` at the project root "
            "(package.json pins axe-core)."
        )
    return AXE_JS.read_text(encoding="utf-8")


@pytest.fixture(scope="package")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
