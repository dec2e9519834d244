"""Parts of the stack failing: the person still gets the contacts, in their
language, within seconds; the bot recovers by itself when the part is back."""
import asyncio
import json
import signal
import threading
import time
import urllib.error
import uuid
from pathlib import Path

import pytest
from aiohttp import web

from bot import catalogue
from bot.settings import Settings
from bot.stack import Stack
from tests.conftest import MODEL, contacts_in
from tests.e2e.conftest import free_port, post_json

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def own_stack(tmp_path_factory):
    """A stack of its own: these tests stop and start its processes."""
    settings = Settings(rasa_port=free_port(), action_port=free_port(), gateway_port=free_port(),
                        model_path=MODEL, rate_limit_per_minute=10**6, rasa_timeout=6)
    with Stack(settings, log_dir=Path(tmp_path_factory.mktemp("fault-logs")),
                  extra_env={"HELPLINE_ACTION_TIMEOUT": "2"}) as stack:
        yield stack


def say(stack, sender, text, via="rasa", language=None):
    """(status, text of the whole turn, seconds) as a person would see it."""
    if via == "rasa":
        url, body = f"{stack.settings.rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text}
    else:
        url = f"http://127.0.0.1:{stack.settings.gateway_port}/api/chat"
        body = {"sender": sender, "message": text, **({"language": language} if language else {})}
    started = time.monotonic()
    try:
        reply = post_json(url, body, timeout=30)
        status = 200
    except urllib.error.HTTPError as error:
        with error:
            reply, status = json.load(error), error.code
    messages = reply if isinstance(reply, list) else reply.get("messages", [])
    return status, "\n\n".join(m.get("text", "") for m in messages), time.monotonic() - started


class FakeActionServer:
    """Stands in for the action server on its port: slow, or failing."""

    def __init__(self, port, behaviour):
        self.port, self.behaviour = port, behaviour
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    async def _handle(self, request):
        if self.behaviour == "slow":
            await asyncio.sleep(10)
        return web.json_response({"error": "boom"}, status=500)

    def _run(self):
        asyncio.set_event_loop(self.loop)
        app = web.Application()
        app.router.add_post("/webhook", self._handle)
        self.runner = web.AppRunner(app)
        self.loop.run_until_complete(self.runner.setup())
        self.loop.run_until_complete(web.TCPSite(self.runner, "127.0.0.1", self.port).start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self):
        self.thread.start()
        self.ready.wait(10)
        return self

    def stop(self):
        """Vanish: close the port and every open connection (idempotent)."""
        if self.loop.is_closed():
            return
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def __exit__(self, *exc):
        self.stop()


def restart_actions(stack):
    stack.start_action_server()
    stack.wait_ready(names=["actions"])


@pytest.mark.parametrize("fault", ["down", "slow", "errors"])
def test_action_server_faults_still_give_contacts_in_the_conversation_language(own_stack, fault):
    sender = f"fault-{fault}-{uuid.uuid4().hex}"
    assert say(own_stack, sender, "mitä on ihmiskauppa")[1].startswith(catalogue.text("what_is_trafficking", "fi"))
    own_stack.stop_process("actions")
    try:
        if fault == "down":
            status, text, seconds = say(own_stack, sender, "kehen otan yhteyttä")
        else:
            with FakeActionServer(own_stack.settings.action_port, fault):
                status, text, seconds = say(own_stack, sender, "kehen otan yhteyttä")
        assert status == 200 and text == catalogue.reply("nlu_fallback", "fi")
        assert seconds < 5
    finally:
        restart_actions(own_stack)
    # recovered by itself, and the conversation kept its language
    status, text, _ = say(own_stack, sender, "kehen otan yhteyttä")
    assert text == catalogue.reply("who_to_contact", "fi")


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGKILL])
def test_rasa_down_then_back(own_stack, how):
    sender = f"rasa-down-{uuid.uuid4().hex}"
    own_stack.stop_process("rasa", how)
    try:
        status, text, seconds = say(own_stack, sender, "ما هو الاتجار بالبشر", via="gateway", language="ar")
        assert status == 503 and contacts_in(text, "ar") and seconds < 5
        assert text.startswith(catalogue.text("ui_backend_down", "ar"))
    finally:
        own_stack.start_rasa()
        own_stack.wait_ready(names=["rasa"])
    status, text, _ = say(own_stack, sender, "ما هو الاتجار بالبشر", via="gateway", language="ar")
    assert status == 200 and text.startswith(catalogue.text("what_is_trafficking", "ar"))


def test_action_server_killed_in_the_middle_of_a_turn(own_stack):
    sender = f"mid-turn-{uuid.uuid4().hex}"
    say(own_stack, sender, "vad är människohandel")
    own_stack.stop_process("actions")
    try:
        with FakeActionServer(own_stack.settings.action_port, "slow") as fake:
            result = {}
            turn = threading.Thread(target=lambda: result.update(r=say(own_stack, sender, "vem ska jag kontakta")))
            turn.start()
            time.sleep(0.5)
            fake.stop()  # the action server vanishes in the middle of the turn
            turn.join(15)
        status, text, seconds = result["r"]
        assert status == 200 and text == catalogue.reply("nlu_fallback", "sv") and seconds < 5
    finally:
        restart_actions(own_stack)
    assert say(own_stack, sender, "vem ska jag kontakta")[1] == catalogue.reply("who_to_contact", "sv")
