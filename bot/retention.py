"""Keep conversations no longer than needed (production profile).

    python -m bot.retention purge [--older-than-days N]   # delete conversations idle for N days
    python -m bot.retention delete --sender SENDER_ID     # staff: delete one conversation now
    python -m bot.retention schedule                      # purge every HELPLINE_RETENTION_INTERVAL_MINUTES
    python -m bot.retention ensure-db                     # create the database (before Rasa starts)

Conversations live in Rasa's SQL tracker store (table ``events``). A
conversation is deleted whole, when its newest event is older than the window,
so nobody is left with half a history. In the embedded profile nothing is on
disk; ``delete`` then asks the running Rasa server (needs its API token) to
replace the conversation's events with none.

Logs say how many conversations were deleted, never which.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
import time
import urllib.error
import urllib.request
from typing import List, Optional

from bot.settings import CHANNEL_STATE_PREFIX, CONVERSATION_STATE, Settings, SettingError

logger = logging.getLogger("bot.retention")
EVENTS_TABLE = "events"
# the messaging channels (bot/channels), by the prefix of their pseudonyms
CHANNEL_PLATFORMS = ("telegram", "whatsapp", "messenger")


def engine_for(settings: Settings, database: Optional[str] = None):
    import sqlalchemy as sa
    from sqlalchemy.engine import URL

    url = URL.create(
        "postgresql",
        username=settings.db_user,
        password=settings.db_password or None,
        host=settings.db_host,
        port=settings.db_port,
        database=database or settings.db_name,
    )
    return sa.create_engine(url, pool_pre_ping=True, future=True)


def ensure_database(settings: Settings) -> None:
    """Create the tracker database if it does not exist yet (Rasa creates the table)."""
    import sqlalchemy as sa

    engine = engine_for(settings, database="postgres")
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            exists = connection.execute(
                sa.text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": settings.db_name}
            ).scalar()
            if not exists:
                quoted = engine.dialect.identifier_preparer.quote(settings.db_name)
                connection.execute(sa.text(f"CREATE DATABASE {quoted}"))
    finally:
        engine.dispose()


@contextlib.contextmanager
def events_table(settings: Settings):
    """(engine, Rasa's events table or None before Rasa created it); disposed after."""
    import sqlalchemy as sa

    engine = engine_for(settings)
    try:
        try:
            table = sa.Table(EVENTS_TABLE, sa.MetaData(), autoload_with=engine)
        except sa.exc.NoSuchTableError:
            table = None
        yield engine, table
    finally:
        engine.dispose()


def purge(settings: Settings, older_than_days: Optional[float] = None, now: Optional[float] = None) -> int:
    """Delete every conversation whose newest event is older than the window.
    Returns how many conversations were deleted."""
    import sqlalchemy as sa

    days = settings.retention_days if older_than_days is None else older_than_days
    cutoff = (time.time() if now is None else now) - days * 86400
    with events_table(settings) as (engine, events):
        if events is None:
            return 0
        with engine.begin() as connection:
            stale = (
                sa.select(events.c.sender_id)
                .group_by(events.c.sender_id)
                .having(sa.func.max(events.c.timestamp) < cutoff)
            )
            senders = [row[0] for row in connection.execute(stale)]
            if senders:
                connection.execute(sa.delete(events).where(events.c.sender_id.in_(senders)))
        return len(senders)


class ChannelStateError(RuntimeError):
    """The channel state of a conversation could not be deleted from Redis."""


def channel_state_keys(sender_id: str) -> List[str]:
    """The Redis keys of a messaging conversation's state (its platform address,
    its last numbered options; bot/channels/rendering.py), from its pseudonym
    (``telegram-…``, ``whatsapp-…``, ``messenger-…``); none for other senders."""
    platform = sender_id.split("-", 1)[0] if "-" in sender_id else ""
    if platform not in CHANNEL_PLATFORMS:
        return []
    return [f"{CHANNEL_STATE_PREFIX}:{platform}:{store}:{sender_id}" for store in CONVERSATION_STATE]


def forget_channel_state(settings: Settings, sender_id: str) -> int:
    """Delete a messaging conversation's state from Redis now (it would expire
    within a day anyway). Returns how many keys were deleted."""
    keys = channel_state_keys(sender_id)
    if not keys:
        return 0
    import redis

    client = redis.Redis(
        host=settings.redis_host, port=settings.redis_port, db=settings.redis_db,
        password=settings.redis_password or None, socket_connect_timeout=5, socket_timeout=5,
    )
    try:
        return client.delete(*keys)
    except redis.RedisError as problem:
        raise ChannelStateError(
            f"Redis not reached ({type(problem).__name__}): the conversation's channel state "
            "(platform address, numbered options) was not deleted now; it expires within a day"
        ) from None
    finally:
        client.close()


def delete_conversation(settings: Settings, sender_id: str) -> int:
    """Delete one conversation. Returns the number of events removed (production;
    with the channel state in Redis) or 1/0 for the embedded profile (whether
    Rasa accepted the deletion)."""
    if settings.profile == "production":
        import sqlalchemy as sa

        with events_table(settings) as (engine, events):
            removed = 0
            if events is not None:
                with engine.begin() as connection:
                    result = connection.execute(sa.delete(events).where(events.c.sender_id == sender_id))
                    removed = result.rowcount
        return removed + forget_channel_state(settings, sender_id)
    if not settings.rasa_api_token:
        raise SettingError(
            "Deleting a conversation from the embedded profile goes through Rasa's API: "
            "set HELPLINE_RASA_API_TOKEN (and start the bot with it)"
        )
    deleted = 0
    for url in settings.rasa_urls:
        request = urllib.request.Request(
            f"{url}/conversations/{urllib.request.quote(sender_id, safe='')}/tracker/events"
            f"?token={urllib.request.quote(settings.rasa_api_token)}",
            data=json.dumps([]).encode(),
            method="PUT",
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10):
            deleted = 1
    return deleted


def schedule(settings: Settings) -> None:
    """Purge now and then every interval, until stopped."""
    while True:
        try:
            count = purge(settings)
            logger.info("Retention: deleted %d conversation(s) idle for over %s days.", count, settings.retention_days)
        except Exception as error:  # keep the schedule alive; say what kind of failure
            logger.error("Retention purge failed: %s", type(error).__name__)
        time.sleep(settings.retention_interval_minutes * 60)


def main(argv=None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    parser = argparse.ArgumentParser(prog="python -m bot.retention", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    purge_parser = commands.add_parser("purge", help="delete conversations idle for longer than the window")
    purge_parser.add_argument("--older-than-days", type=float, default=None)
    delete_parser = commands.add_parser("delete", help="delete one conversation by sender id")
    delete_parser.add_argument("--sender", required=True)
    commands.add_parser("schedule", help="purge every HELPLINE_RETENTION_INTERVAL_MINUTES")
    commands.add_parser("ensure-db", help="create the tracker database if missing (before Rasa starts)")
    args = parser.parse_args(argv)
    try:
        settings = Settings.from_env()
        if args.command in ("purge", "schedule", "ensure-db") and settings.profile != "production":
            print(
                "HELPLINE_PROFILE is not 'production': conversations are only in memory, "
                "there is no database to work on.",
                file=sys.stderr,
            )
            return 2
        if args.command == "purge":
            print(f"Deleted {purge(settings, args.older_than_days)} conversation(s).")
        elif args.command == "ensure-db":
            ensure_database(settings)
            print("Database ready.")
        elif args.command == "delete":
            removed = delete_conversation(settings, args.sender)
            print("Deleted." if removed else "No such conversation.")
        else:
            schedule(settings)
    except (SettingError, urllib.error.URLError) as problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 2
    except ChannelStateError as problem:
        print(f"Error: {problem}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
