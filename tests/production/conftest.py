"""The production profile on this machine: PostgreSQL, Redis, two Rasa instances,
with the messaging channels on against the local stand-in of their APIs."""
from __future__ import annotations

import json
import socket
import uuid
from pathlib import Path

import pytest

from bot import retention
from bot.settings import Settings
from bot.stack import Stack
from tests.channels import conftest as channels
from tests.channels.conftest import StandIn
from tests.conftest import MODEL


def free_port_pair() -> int:
    """A port p with p and p + 1 both free (two instances listen on consecutive ports)."""
    for _ in range(50):
        with socket.socket() as first:
            first.bind(("127.0.0.1", 0))
            port = first.getsockname()[1]
            try:
                with socket.socket() as second:
                    second.bind(("127.0.0.1", port + 1))
                    return port
            except OSError:
                continue
    raise RuntimeError("no two consecutive free ports")


def services_up(settings: Settings) -> None:
    import redis
    import sqlalchemy as sa

    engine = retention.engine_for(settings, database="postgres")
    try:
        with engine.connect() as connection:
            connection.execute(sa.text("SELECT 1"))
    finally:
        engine.dispose()
    redis.Redis(host=settings.redis_host, port=settings.redis_port).ping()


@pytest.fixture(scope="session")
def production_settings():
    settings = Settings(
        profile="production", rasa_instances=2, rasa_port=free_port_pair(),
        action_port=free_port_pair(), gateway_port=free_port_pair(),
        db_name=f"helpline_test_{uuid.uuid4().hex[:8]}", redis_db=3,
        model_path=MODEL, rate_limit_per_minute=10**6,
    )
    try:
        services_up(settings)
    except Exception as error:
        pytest.fail(f"PostgreSQL and Redis must run on 127.0.0.1 (.ci/run starts them): {error}")
    yield settings
    import sqlalchemy as sa

    engine = retention.engine_for(settings, database="postgres")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{settings.db_name}" WITH (FORCE)'))
    engine.dispose()


# What Twilio signs: the public address in front of every Rasa instance.
PUBLIC_URL = "https://helpline.example.test"


@pytest.fixture(scope="session")
def production_standin():
    """The platforms' APIs stood in (tests/channels/conftest.py), for both instances."""
    server = StandIn().start()
    yield server
    server.stop()


def channel_environment(standin: StandIn) -> dict:
    """The three messaging channels on, as the chart switches them on, their APIs stood in."""
    return {
        "HELPLINE_TELEGRAM_TOKEN": channels.TELEGRAM_TOKEN,
        "HELPLINE_TELEGRAM_WEBHOOK_SECRET": channels.TELEGRAM_SECRET,
        "HELPLINE_TELEGRAM_API_URL": f"{standin.url}/telegram",
        "HELPLINE_TWILIO_ACCOUNT_SID": channels.TWILIO_SID,
        "HELPLINE_TWILIO_AUTH_TOKEN": channels.TWILIO_TOKEN,
        "HELPLINE_TWILIO_WHATSAPP_NUMBER": channels.TWILIO_NUMBER,
        "HELPLINE_TWILIO_API_URL": f"{standin.url}/twilio",
        "HELPLINE_PUBLIC_URL": PUBLIC_URL,
        "HELPLINE_MESSENGER_PAGE_TOKEN": channels.MESSENGER_PAGE_TOKEN,
        "HELPLINE_MESSENGER_APP_SECRET": channels.MESSENGER_APP_SECRET,
        "HELPLINE_MESSENGER_VERIFY_TOKEN": channels.MESSENGER_VERIFY_TOKEN,
        "HELPLINE_MESSENGER_API_URL": f"{standin.url}/messenger/{channels.GRAPH_VERSION}",
    }


@pytest.fixture(scope="session")
def production_stack(production_settings, production_standin, tmp_path_factory):
    """Two Rasa instances (and action servers), the gateway, and the messaging channels."""
    log_dir = Path(tmp_path_factory.mktemp("production-logs"))
    env = channel_environment(production_standin)
    with Stack(production_settings, log_dir=log_dir, extra_env=env) as stack:
        yield stack


def user_events(settings, sender):
    """The user events of one conversation as PostgreSQL holds them, in order."""
    import sqlalchemy as sa

    engine = retention.engine_for(settings)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"),
                {"s": sender},
            )
            return [json.loads(row[0]) for row in rows]
    finally:
        engine.dispose()
