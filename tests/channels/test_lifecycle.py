"""The channels over a server's life, in a real Sanic server in this process:
the outgoing HTTP clients are closed when the server stops (no "Unclosed client
session" at shutdown), and a message whose handling is cancelled (the server
stopping, the caller gone) is not answered as if it had been handled, so the
platform or the gateway delivers it again.
"""
from __future__ import annotations

import asyncio
import logging
import socket

import aiohttp
import pytest
from aiohttp import web
from sanic import Sanic

from bot.channels.messenger import HelplineMessengerInput, MessengerSettings
from bot.channels.rest import HelplineRestInput
from bot.channels.telegram import HelplineTelegramInput, TelegramSettings
from bot.channels.whatsapp import HelplineWhatsAppInput, TwilioSettings

from .conftest import (
    MESSENGER_APP_SECRET,
    MESSENGER_PAGE_TOKEN,
    MESSENGER_VERIFY_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A Sanic app with the given channels' blueprints, started and stopped with
    its listeners, on a free loopback port."""

    def __init__(self, channels, on_new_message):
        Sanic.test_mode = True
        self.app = Sanic(f"lifecycle{free_port()}")
        for channel in channels:
            self.app.blueprint(channel.blueprint(on_new_message), url_prefix=f"/webhooks/{channel.name()}")
        self.port = free_port()
        self.server = None

    async def __aenter__(self):
        self.server = await self.app.create_server(
            host="127.0.0.1", port=self.port, return_asyncio_server=True, access_log=False
        )
        await self.server.startup()
        await self.server.before_start()
        await self.server.after_start()
        return self

    async def __aexit__(self, *exc):
        await self.server.before_stop()
        self.server.close()
        await self.server.wait_closed()
        await self.server.after_stop()


async def api_standin():
    """A platform API that answers every POST with {}."""

    async def answer(request):
        return web.json_response({"ok": True, "result": {}})

    app = web.Application()
    app.router.add_route("POST", "/{tail:.*}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    return runner, f"http://127.0.0.1:{port}"


async def test_the_platform_clients_are_closed_when_the_server_stops():
    runner, api = await api_standin()
    try:
        messenger = HelplineMessengerInput(
            MessengerSettings(MESSENGER_PAGE_TOKEN, MESSENGER_APP_SECRET, MESSENGER_VERIFY_TOKEN, api)
        )
        whatsapp = HelplineWhatsAppInput(
            TwilioSettings(TWILIO_SID, TWILIO_TOKEN, TWILIO_NUMBER, "https://helpline.example", api)
        )
        telegram = HelplineTelegramInput(TelegramSettings(TELEGRAM_TOKEN, TELEGRAM_SECRET, api))

        async def nothing(message):
            return None

        async with Server([messenger, whatsapp, telegram], nothing):
            sessions = []
            for channel in (messenger, whatsapp):
                client = channel.get_output_channel().platform_api
                status, _ = await client.post(f"{api}/send", json={})
                assert status == 200  # the client is open and used
                sessions.append(client._session)
            sessions.append(telegram.get_output_channel().session)  # aiogram's, made on use
            assert not any(session.closed for session in sessions)
        assert all(session.closed for session in sessions)
    finally:
        await runner.cleanup()


async def test_a_cancelled_message_is_not_answered_as_handled(caplog):
    """The caller gives up while the message is being handled: the handler is
    cancelled and says so, and no 200 with an empty answer is sent as if it had
    been answered (the gateway retries it; a platform redelivers it)."""
    started, cancelled = asyncio.Event(), asyncio.Event()

    async def slow(message):
        started.set()
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    caplog.set_level(logging.WARNING)
    async with Server([HelplineRestInput()], slow) as server:
        url = f"http://127.0.0.1:{server.port}/webhooks/rest/webhook"
        async with aiohttp.ClientSession() as session:
            request = asyncio.ensure_future(
                session.post(url, json={"sender": "a" * 32, "message": "apua"})
            )
            await asyncio.wait_for(started.wait(), 10)
            request.cancel()  # the caller goes away
            with pytest.raises(asyncio.CancelledError):
                await request
        await asyncio.wait_for(cancelled.wait(), 10)
        await asyncio.sleep(0.2)
    messages = [record.getMessage() for record in caplog.records]
    assert "Handling a message was cancelled." in messages
    assert not any("failed" in message for message in messages)
