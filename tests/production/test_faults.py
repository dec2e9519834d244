"""PostgreSQL or Redis going away under the production profile: the person
still gets the contacts at once, and the bot recovers when they are back.
The outage is made by a TCP proxy the test controls, not by stopping the
machine's services."""
import asyncio
import threading
import time
import uuid
from pathlib import Path

import pytest

from bot import catalogue
from bot.settings import Settings
from bot.stack import Stack
from tests.conftest import contacts_in
from tests.e2e.test_faults import say
from tests.production.conftest import free_port_pair

pytestmark = pytest.mark.e2e


class CuttableProxy:
    """Forwards a loopback port to a service; ``cut()`` drops and refuses connections."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.port = free_port_pair()
        self.loop = asyncio.new_event_loop()
        self.server = None
        self.writers = set()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        self.ready.wait(10)
        self.restore()

    def _run(self):
        asyncio.set_event_loop(self.loop)
        self.ready.set()
        self.loop.run_forever()

    async def _pipe(self, reader, writer):
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def _client(self, reader, writer):
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.close()
            return
        self.writers.update({writer, upstream_writer})
        await asyncio.gather(self._pipe(reader, upstream_writer), self._pipe(upstream_reader, writer))

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(10)

    def restore(self):
        async def start():
            self.server = await asyncio.start_server(self._client, "127.0.0.1", self.port)
        self._call(start())

    def cut(self):
        async def stop():
            self.server.close()
            await self.server.wait_closed()
            for writer in list(self.writers):
                writer.transport.abort()
            self.writers.clear()
        self._call(stop())

    def close(self):
        self.cut()
        async def drain():  # let the aborted pipes finish
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        self._call(drain())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def proxied_stack(tmp_path_factory, production_settings):
    database, redis = CuttableProxy(5432), CuttableProxy(6379)
    settings = Settings(**{
        **production_settings.__dict__,
        "db_port": database.port, "redis_port": redis.port,
        "rasa_port": free_port_pair(), "action_port": free_port_pair(), "gateway_port": free_port_pair(),
        "rasa_timeout": 6,
    })
    try:
        with Stack(settings, log_dir=Path(tmp_path_factory.mktemp("outage-logs"))) as stack:
            yield stack, {"postgresql": database, "redis": redis}
    finally:
        database.close()
        redis.close()


def answered_normally_within(stack, sender, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        status, text, _ = say(stack, sender, "kehen otan yhteyttä", via="gateway", language="fi")
        if status == 200 and text == catalogue.reply("who_to_contact", "fi"):
            return True
        time.sleep(0.5)
    return False


@pytest.mark.parametrize("service", ["postgresql", "redis"])
def test_a_store_going_away_still_gives_contacts_and_recovers(proxied_stack, service):
    stack, proxies = proxied_stack
    sender = f"outage-{service}-{uuid.uuid4().hex}"
    assert say(stack, sender, "mitä on ihmiskauppa", via="gateway", language="fi")[0] == 200
    proxies[service].cut()
    try:
        for _ in range(2):
            status, text, seconds = say(stack, sender, "kehen otan yhteyttä", via="gateway", language="fi")
            assert contacts_in(text, "fi") and catalogue.text("contact_block", "fi") in text
            assert seconds < 7
    finally:
        proxies[service].restore()
    assert answered_normally_within(stack, sender, 15)
