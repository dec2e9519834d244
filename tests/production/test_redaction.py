"""Through the gateway of the production profile: personal data in messages is
answered as any message, and none of it is in PostgreSQL, Redis or the logs."""
import re
import time
import uuid

import pytest
import redis
import sqlalchemy as sa

from bot import catalogue, retention
from tests.production.test_production import gateway_say

pytestmark = pytest.mark.e2e

# (language, message, the personal data in it)
MESSAGES = [
    ("fi", "pomo vei passin. mun nimi on Zorblat Quimby, numero 040 123 4567 ja osoite Hämeenkatu 5 A 7",
     ["Zorblat Quimby", "040 123 4567", "Hämeenkatu 5 A 7"]),
    ("fi", "voitteko soittaa +358 40 765 4321, hetu 131052-308T, tili FI21 1234 5600 0007 85",
     ["+358 40 765 4321", "131052-308T", "FI21 1234 5600 0007 85"]),
    ("en", "my boss took my passport XK1234567. write to me at quimby.z@example.org",
     ["XK1234567", "quimby.z@example.org"]),
    ("ru", "меня зовут Зорблат Квимби, хозяин забрал паспорт, мой номер +7 912 345-67-89",
     ["Зорблат Квимби", "+7 912 345-67-89"]),
    ("pl", "nazywam się Zorblat Kwimby, szef zabrał paszport, PESEL 44051401359, karta 4111 1111 1111 1111",
     ["Zorblat Kwimby", "44051401359", "4111 1111 1111 1111"]),
    ("ar", "اسمي زوربلات، صاحب العمل أخذ جوازي، رقمي 0501234567 وموقعي www.zorblat-example.com",
     ["زوربلات", "0501234567", "www.zorblat-example.com"]),
]


def compact(text: str) -> str:
    return re.sub(r"[\s\-]", "", text)


def database_dump(settings) -> str:
    engine = retention.engine_for(settings)
    try:
        with engine.connect() as connection:
            tables = [r[0] for r in connection.execute(sa.text(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"))]
            rows = []
            for table in tables:
                rows.extend(str(tuple(r)) for r in connection.execute(sa.text(f'SELECT * FROM "{table}"')))
            return "\n".join(rows)
    finally:
        engine.dispose()


def redis_dump(settings) -> str:
    client = redis.Redis(host=settings.redis_host, port=settings.redis_port, db=settings.redis_db)
    out = []
    for key in client.scan_iter():
        out.append(repr(key))
        kind = client.type(key)
        if kind == b"string":
            out.append(repr(client.get(key)))
        elif kind == b"hash":
            out.append(repr(client.hgetall(key)))
        elif kind == b"list":
            out.append(repr(client.lrange(key, 0, -1)))
        elif kind in (b"set", b"zset"):
            out.append(repr(client.zrange(key, 0, -1) if kind == b"zset" else client.smembers(key)))
    return "\n".join(out)


def test_personal_data_is_answered_but_not_found_in_the_database_redis_or_logs(production_stack):
    for index, (language, message, _) in enumerate(MESSAGES):
        status, reply = gateway_say(production_stack, f"pii-{uuid.uuid4().hex}-{index}", message)
        assert status == 200
        assert catalogue.text("contact_block", language) in reply, (language, reply)
    time.sleep(1)
    dumps = {
        "postgresql": database_dump(production_stack.settings),
        "redis": redis_dump(production_stack.settings),
        **{p.name: p.read_text(errors="replace") for p in production_stack.log_dir.glob("*.log")},
    }
    assert "[phone]" in dumps["postgresql"], "the conversations were not stored at all"
    for where, dump in dumps.items():
        flat = compact(dump)
        for _, _, secrets in MESSAGES:
            for secret in secrets:
                assert secret not in dump, f"{secret!r} found in {where}"
                assert compact(secret) not in flat, f"{secret!r} (without spaces) found in {where}"
