"""Bot messages rendered for messaging apps, and what the three connectors share.

Rendering (pure functions, unit-tested in ``tests/channels/test_rendering.py``):

* ``split_text`` cuts a text into chunks within a platform's limit, at
  paragraph, then line, then sentence, then word boundaries, never inside the
  phone number or the e-mail address;
* ``render`` turns one bot message (``text`` with the contact block, ``buttons``,
  ``language``, ``rtl``) into the chunks to send: the answer first, then the
  options (numbered, for platforms without buttons), and the contact block
  always in the LAST chunk (or as the last chunk by itself), so the person
  always sees it;
* in right-to-left messages the phone number is wrapped in Unicode isolates so
  it reads "+358 2954 63177" and not "63177 2954 +358"; it stays in
  international format, which every platform makes tappable.

Shared by ``telegram.py``, ``whatsapp.py`` and ``messenger.py``: reading a
channel's settings from the environment (all variables or none), pseudonymous
sender ids, the channels' memories (addresses, numbered options, seen message
ids: ``channel_store`` gives one in Redis, shared by every Rasa instance, in
the production profile, and one in this process's memory otherwise; both
forget after a time) and a small HTTP client that never logs what it sends.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import os
import re
import time
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Generic, List, Mapping, Optional, Sequence, Tuple, TypeVar, Union
from urllib.parse import urlsplit

from rasa.shared.exceptions import RasaException

from bot import catalogue

logger = logging.getLogger(__name__)

# Platform limits, in UTF-16 code units (at least Python's len(); the stricter count).
TELEGRAM_TEXT_LIMIT = 4096
MESSENGER_TEXT_LIMIT = 2000
TWILIO_BODY_LIMIT = 1600
MESSENGER_MAX_QUICK_REPLIES = 13
MESSENGER_QUICK_REPLY_TITLE_LIMIT = 20
TELEGRAM_CALLBACK_DATA_BYTES = 64

# What the person typed goes to Rasa at most this long (the web gateway's limit).
DEFAULT_MAX_USER_CHARS = 1000
# Webhook bodies larger than this are refused before parsing.
MAX_WEBHOOK_BYTES = 256 * 1024

# First strong isolate / pop directional isolate: keeps the number left to right.
LRI, PDI = "\u2066", "\u2069"

# Sent to Rasa for a message without text (voice, photo, sticker, location):
# "did not understand", with the questions and the contact block.
NOT_TEXT_PAYLOAD = "/nlu_fallback"


# ---------------------------------------------------------------------------
# Splitting


def utf16_len(text: str) -> int:
    """Length as the platforms count it (UTF-16 code units)."""
    return len(text.encode("utf-16-le")) // 2


_BOUNDARIES = (
    re.compile(r"\n[ \t]*\n\s*"),  # paragraphs
    re.compile(r"\n\s*"),  # lines
    re.compile(r"(?<=[.!?…।؟])\s+|(?<=[。！？])\s*"),  # sentences (CJK: no space after)
    re.compile(r"\s+"),  # words
)


def _protected_spans(text: str, protected: Sequence[str]) -> List[Tuple[int, int]]:
    spans = []
    for item in protected:
        if not item:
            continue
        start = text.find(item)
        while start != -1:
            spans.append((start, start + len(item)))
            start = text.find(item, start + 1)
    return spans


def _overlaps(start: int, end: int, spans: Sequence[Tuple[int, int]]) -> bool:
    return any(s < max(end, start + 1) and start < e for s, e in spans)


def _hard_split(text: str, limit: int, spans: Sequence[Tuple[int, int]]) -> List[str]:
    chunks, start = [], 0
    while start < len(text):
        end = start
        while end < len(text) and utf16_len(text[start : end + 1]) <= limit:
            end += 1
        if end < len(text):
            for s, e in spans:  # never cut the phone number or the e-mail address
                if s < end < e and s > start:
                    end = s
        end = max(end, start + 1)
        chunks.append(text[start:end])
        start = end
    return [c.strip() for c in chunks if c.strip()]


def split_text(text: str, limit: int, protected: Sequence[str] = ()) -> List[str]:
    """Chunks of ``text``, each within ``limit`` (UTF-16 units), in order.

    Cuts at the coarsest boundary that helps: paragraphs, lines, sentences,
    words; a single word longer than the limit is cut hard. Never cuts inside
    a ``protected`` string (the phone number, the e-mail address).
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    text = text.strip()
    if not text:
        return []
    if utf16_len(text) <= limit:
        return [text]
    spans = _protected_spans(text, protected)
    for boundary in _BOUNDARIES:
        cuts = [
            (m.start(), m.end())
            for m in boundary.finditer(text)
            if 0 < m.start() and m.end() < len(text) and not _overlaps(m.start(), m.end(), spans)
        ]
        if cuts:
            break
    else:
        return _hard_split(text, limit, spans)

    segments = []
    previous_end = 0
    for start, end in cuts:
        if start > previous_end:
            segments.append((previous_end, start))
        previous_end = max(previous_end, end)
    segments.append((previous_end, len(text)))

    chunks: List[str] = []
    i = 0
    while i < len(segments):
        start = segments[i][0]
        j = i
        while j + 1 < len(segments) and utf16_len(text[start : segments[j + 1][1]]) <= limit:
            j += 1
        piece = text[start : segments[j][1]]
        if utf16_len(piece) > limit:  # one segment alone is too long: finer cuts
            chunks.extend(split_text(piece, limit, protected))
        elif piece.strip():
            chunks.append(piece.strip())
        i = j + 1
    return chunks


# ---------------------------------------------------------------------------
# Rendering one bot message


@dataclass
class Rendered:
    """One bot message, ready to send: chunks in order, and the options.

    ``buttons`` are for the platform's own buttons, shown with the last chunk;
    ``numbered`` are the payloads of options written as "1. ..." in the text
    (a reply that is just that digit chooses it).
    """

    chunks: List[str]
    language: str
    buttons: List[Dict[str, str]] = field(default_factory=list)
    numbered: List[str] = field(default_factory=list)


def message_language(message: Mapping[str, Any]) -> str:
    """The language of a bot message; the default language when it has none."""
    language = message.get("language")
    if language in catalogue.languages():
        return language
    text = str(message.get("text") or "")
    for code in catalogue.languages():  # e.g. a message without the language key
        if text.endswith(catalogue.text("contact_block", code)):
            return code
    return catalogue.default_language()


def _split_contact_block(text: str, language: str) -> Tuple[str, str]:
    """(answer, contact block). Adds the block when the text lacks the contacts."""
    block = catalogue.text("contact_block", language)
    text = text.strip()
    if text.endswith(block):
        return text[: -len(block)].rstrip(), block
    if block in text:
        return text.replace(block, "").strip(), block
    return text, block


def tappable_phone(text: str, rtl: bool) -> str:
    """The phone number in international format; isolated in right-to-left text."""
    phone = str(catalogue.facts()["phone"])
    if not rtl or phone not in text:
        return text
    return text.replace(f"{LRI}{phone}{PDI}", phone).replace(phone, f"{LRI}{phone}{PDI}")


def protected_strings(rtl: bool) -> Tuple[str, ...]:
    phone, email = str(catalogue.facts()["phone"]), str(catalogue.facts()["email"])
    return (f"{LRI}{phone}{PDI}" if rtl else phone, email)


def numbered_options(buttons: Sequence[Mapping[str, Any]], language: str) -> str:
    """The options as a numbered list under "Reply with a number:" (localized)."""
    lines = [catalogue.text("ui_reply_with_number", language)]
    lines += [f"{number}. {button['title']}" for number, button in enumerate(buttons, 1)]
    return "\n".join(lines)


def valid_buttons(message: Mapping[str, Any]) -> List[Dict[str, str]]:
    buttons = message.get("buttons") or []
    if not isinstance(buttons, list):
        return []
    return [
        {"title": str(b["title"]), "payload": str(b["payload"])}
        for b in buttons
        if isinstance(b, Mapping) and b.get("title") and b.get("payload")
    ]


def render(message: Mapping[str, Any], limit: int, native_buttons: bool) -> Rendered:
    """One bot message as chunks within ``limit``, the contact block in the last.

    ``native_buttons``: the platform shows these buttons itself (they go with
    the last chunk); otherwise they are written as a numbered list before the
    contact block.
    """
    language = message_language(message)
    rtl = bool(message.get("rtl", catalogue.languages()[language].rtl))
    answer, block = _split_contact_block(str(message.get("text") or ""), language)
    buttons = valid_buttons(message)
    numbered: List[str] = []
    parts = [answer]
    if buttons and not native_buttons:
        parts.append(numbered_options(buttons, language))
        numbered = [b["payload"] for b in buttons]
    body = tappable_phone("\n\n".join(p for p in parts if p), rtl)
    block = tappable_phone(block, rtl)
    protected = protected_strings(rtl)
    chunks = split_text(body, limit, protected)
    if utf16_len(block) > limit:  # never with our catalogue; still, send it whole
        chunks.extend(split_text(block, limit, protected))
    elif chunks and utf16_len(f"{chunks[-1]}\n\n{block}") <= limit:
        chunks[-1] = f"{chunks[-1]}\n\n{block}"
    else:
        chunks.append(block)
    return Rendered(
        chunks=chunks,
        language=language,
        buttons=buttons if native_buttons else [],
        numbered=numbered,
    )


def digit_choice(text: Optional[str]) -> Optional[int]:
    """The number in a reply that is just a number ("2", " 2. ", "٢", "２")."""
    if not text:
        return None
    candidate = unicodedata.normalize("NFKC", text).strip().rstrip(".)").strip()
    if 0 < len(candidate) <= 3 and candidate.isdecimal():
        return int(candidate)
    return None


def typed_text(text: str, max_chars: Optional[int] = None) -> str:
    """What a person typed, as Rasa gets it: no leading "/" (which would be read
    as an intent, and logged by Rasa), at most ``max_chars`` characters."""
    limit = max_chars or max_user_chars()
    return text.strip().lstrip("/").strip()[:limit]


def is_payload(text: Optional[str]) -> bool:
    """A button payload we sent ("/intent" or "/intent{...}")."""
    return bool(text) and text.startswith("/") and len(text) <= 1000


def max_user_chars(env: Optional[Mapping[str, str]] = None) -> int:
    env = os.environ if env is None else env
    try:
        value = int(float(env.get("HELPLINE_MAX_MESSAGE_CHARS", DEFAULT_MAX_USER_CHARS)))
    except ValueError:
        return DEFAULT_MAX_USER_CHARS
    return value if value > 0 else DEFAULT_MAX_USER_CHARS


# ---------------------------------------------------------------------------
# Bounded memories


K = TypeVar("K")
V = TypeVar("V")


class BoundedStore(Generic[K, V]):
    """A dict that forgets: at most ``max_items`` entries, each for ``ttl`` seconds."""

    def __init__(self, max_items: int = 10_000, ttl: float = 24 * 3600) -> None:
        self.max_items = max_items
        self.ttl = ttl
        self._items: "OrderedDict[K, Tuple[float, V]]" = OrderedDict()

    def put(self, key: K, value: V) -> None:
        self._items.pop(key, None)
        self._items[key] = (time.monotonic(), value)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def get(self, key: K) -> Optional[V]:
        item = self._items.get(key)
        if item is None:
            return None
        stored, value = item
        if time.monotonic() - stored > self.ttl:
            del self._items[key]
            return None
        return value

    def pop(self, key: K) -> Optional[V]:
        value = self.get(key)
        self._items.pop(key, None)
        return value

    def seen(self, key: K) -> bool:
        """True when ``key`` was seen before; remembers it otherwise."""
        if self.get(key) is not None:
            return True
        self.put(key, True)  # type: ignore[arg-type]
        return False

    def confirm(self, key: K) -> None:
        """The message with this id was handled (in memory: already remembered)."""

    def __len__(self) -> int:
        return len(self._items)


# How long a platform message id is claimed while a pod handles it (longer
# than a turn can take: the gateway and Rasa give up after 12 s).
CLAIM_SECONDS = 60


class RedisUnavailable(Exception):
    """Redis failed just now, or recently (then it is not tried for a while)."""


class RedisConnection:
    """One Redis client per process for the channels' memories. After a failure
    Redis is left alone for ``retry_after`` seconds (a Redis that hangs would
    otherwise hold up every message by its timeout, several times); the
    failure is logged once, by its type only."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 6379,
        db: int = 0,
        password: Optional[str] = None,
        timeout: float = 0.5,
        retry_after: float = 5.0,
    ) -> None:
        import redis

        self.client = redis.Redis(
            host=host, port=port, db=db, password=password or None,
            socket_connect_timeout=timeout, socket_timeout=timeout,
        )
        self.retry_after = retry_after
        self._paused_until = 0.0

    def call(self, operation: Callable[[Any], Any]) -> Any:
        """``operation(client)``; RedisUnavailable when Redis fails or failed recently."""
        import redis

        if time.monotonic() < self._paused_until:
            raise RedisUnavailable()
        try:
            return operation(self.client)
        except (redis.RedisError, OSError) as problem:
            logger.error(
                "Channel memory: Redis failed (%s); this instance's own memory is used for %g s.",
                type(problem).__name__, self.retry_after,
            )
            self._paused_until = time.monotonic() + self.retry_after
            raise RedisUnavailable() from None


class RedisStore(Generic[K, V]):
    """BoundedStore's interface, in Redis: shared by every Rasa instance.

    One key per entry, ``<namespace>:<key>``, its value JSON (a tuple comes
    back as a list), with a Redis expiry of ``ttl`` seconds from the last
    ``put`` (``max_items`` bounds only the local copy; Redis is bounded by the
    expiry). ``seen`` is one ``SET NX EX``: of two instances given the same
    id at once, exactly one hears "new".

    When Redis fails, the person's message is still answered: this instance
    falls back to its own copy of what it put (a BoundedStore), so an address
    put for a message is there for its answer, and an id is seen again only
    if this instance saw it (a retry reaching another instance then is
    answered twice rather than not at all).
    """

    def __init__(
        self, connection: RedisConnection, namespace: str, max_items: int = 10_000, ttl: float = 24 * 3600
    ) -> None:
        self.connection = connection
        self.namespace = namespace
        self.max_items = max_items
        self.ttl = ttl
        self.expiry = max(1, math.ceil(ttl))  # whole seconds; never shorter than ttl
        self.local: BoundedStore[K, V] = BoundedStore(max_items, ttl)

    def key(self, key: K) -> str:
        return f"{self.namespace}:{key}"

    @staticmethod
    def _decode(raw: Optional[bytes]) -> Optional[V]:
        if raw is None:
            return None
        try:
            return json.loads(raw)
        except ValueError:  # not ours: as if absent
            return None

    def put(self, key: K, value: V) -> None:
        self.local.put(key, value)
        encoded = json.dumps(value)
        try:
            self.connection.call(lambda r: r.set(self.key(key), encoded, ex=self.expiry))
        except RedisUnavailable:
            pass

    def get(self, key: K) -> Optional[V]:
        try:
            raw = self.connection.call(lambda r: r.get(self.key(key)))
        except RedisUnavailable:
            return self.local.get(key)
        return self._decode(raw)

    def pop(self, key: K) -> Optional[V]:
        kept = self.local.pop(key)

        def get_and_delete(r: Any) -> Any:
            pipeline = r.pipeline(transaction=True)  # GETDEL, on any Redis version
            pipeline.get(self.key(key))
            pipeline.delete(self.key(key))
            return pipeline.execute()[0]

        try:
            raw = self.connection.call(get_and_delete)
        except RedisUnavailable:
            return kept
        return self._decode(raw)

    def seen(self, key: K) -> bool:
        """True when ``key`` was seen before, by any instance; claims it otherwise.

        The claim lasts ``CLAIM_SECONDS`` until :meth:`confirm` (the message was
        handled) makes it last the store's expiry: if the pod handling it dies,
        the platform's later retry is handled by another pod, not dropped."""
        try:
            new = self.connection.call(lambda r: r.set(self.key(key), "true", nx=True, ex=min(CLAIM_SECONDS, self.expiry)))
        except RedisUnavailable:
            return self.local.seen(key)
        self.local.put(key, True)  # type: ignore[arg-type]
        return not new

    def confirm(self, key: K) -> None:
        try:
            self.connection.call(lambda r: r.expire(self.key(key), self.expiry))
        except RedisUnavailable:
            pass


Store = Union[BoundedStore, RedisStore]

_connections: Dict[Tuple[str, int, int, str], RedisConnection] = {}


def redis_connection(env: Optional[Mapping[str, str]] = None) -> RedisConnection:
    """This process's connection to the Redis of ``HELPLINE_REDIS_*`` (bot/settings.py)."""
    from bot.settings import Settings

    settings = Settings.from_env(env)
    where = (settings.redis_host, settings.redis_port, settings.redis_db, settings.redis_password)
    if where not in _connections:
        _connections[where] = RedisConnection(*where)
    return _connections[where]


def channel_store(
    platform: str,
    name: str,
    max_items: int = 10_000,
    ttl: float = 24 * 3600,
    env: Optional[Mapping[str, str]] = None,
) -> Store:
    """Where a channel keeps one kind of state (``name``: addresses, options,
    seen): in Redis, shared by every Rasa instance, under
    ``helpline:channel:<platform>:<name>:`` in the production profile; in this
    process's memory in the embedded one. Either forgets after ``ttl`` seconds."""
    from bot.settings import CHANNEL_STATE_PREFIX, Settings

    if Settings.from_env(env).profile == "production":
        namespace = f"{CHANNEL_STATE_PREFIX}:{platform}:{name}"
        return RedisStore(redis_connection(env), namespace, max_items, ttl)
    return BoundedStore(max_items, ttl)


class OptionMemory:
    """The numbered options last sent to each conversation, in ``store`` (a
    BoundedStore or a RedisStore; by default a BoundedStore)."""

    def __init__(self, max_items: int = 10_000, ttl: float = 24 * 3600, store: Optional[Store] = None) -> None:
        self._store: Store = store if store is not None else BoundedStore(max_items, ttl)

    def remember(self, sender_id: str, payloads: Sequence[str]) -> None:
        """The options of the latest bot message; a message without any clears them."""
        if payloads:
            self._store.put(sender_id, list(payloads))
        else:
            self._store.pop(sender_id)

    def resolve(self, sender_id: str, text: Optional[str]) -> Optional[str]:
        """The payload a digit reply chooses, or None (not a digit, no such option)."""
        number = digit_choice(text)
        options = self._store.get(sender_id) if number is not None else None
        if options and 1 <= number <= len(options):  # type: ignore[operator]
            return options[number - 1]  # type: ignore[operator]
        return None


# ---------------------------------------------------------------------------
# Sender ids


def pseudonym(platform: str, key: str, address: str) -> str:
    """A stable sender id for one person on one platform, without their address.

    Keyed HMAC of the platform's user address (chat id, phone number, page-scoped
    id), so trackers and logs never hold the address itself. Changing the key
    (the channel's secret) starts new conversations.
    """
    digest = hmac.new(key.encode("utf-8"), f"{platform}:{address}".encode("utf-8"), hashlib.sha256)
    return f"{platform}-{digest.hexdigest()[:32]}"


def same_secret(given: Optional[str], expected: str) -> bool:
    """Constant-time comparison of a secret from a request."""
    return hmac.compare_digest((given or "").encode("utf-8"), expected.encode("utf-8"))


# ---------------------------------------------------------------------------
# Settings from the environment


class ChannelSettingError(RasaException):
    """A messaging channel is half configured; the message names the variable."""


def channel_variables(
    channel: str,
    required: Sequence[str],
    optional: Sequence[str] = (),
    env: Optional[Mapping[str, str]] = None,
    switches: Optional[Sequence[str]] = None,
) -> Optional[Dict[str, str]]:
    """The channel's variables, or None when it is switched off.

    The channel is on when any of ``switches`` (default: ``required``) is set;
    then every ``required`` variable must be set too.
    """
    env = os.environ if env is None else env
    values = {name: env.get(name, "").strip() for name in [*required, *optional]}
    if not any(values[name] for name in (switches or required)):
        return None
    missing = [name for name in required if not values[name]]
    if missing:
        raise ChannelSettingError(
            f"{missing[0]} is not set. The {channel} channel needs "
            f"{', '.join(required)}; set all of them to switch it on, "
            f"or none of them to switch it off (see docs/channels.md)."
        )
    return values


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def checked_url(name: str, value: str) -> str:
    """An https URL (http only on loopback, for tests), without a trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ChannelSettingError(f"{name} must be an https:// URL, not {value!r}")
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
        raise ChannelSettingError(f"{name} must use https:// (http only on loopback)")
    if parts.query or parts.fragment:
        raise ChannelSettingError(f"{name} must not have a query or fragment")
    return value.rstrip("/")


# ---------------------------------------------------------------------------
# Outgoing HTTP


class ApiClient:
    """POSTs to a platform's API; logs statuses and error types, never contents."""

    def __init__(self, platform: str, timeout: float = 10.0) -> None:
        self.platform = platform
        self.timeout = timeout
        self._session: Any = None
        self._loop: Optional[asyncio.AbstractEventLoop] = None

    def _session_now(self) -> Any:
        import aiohttp

        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=self.timeout))
            self._loop = loop
        return self._session

    async def post(self, url: str, **kwargs: Any) -> Tuple[int, Any]:
        """(status, JSON body or None); status 0 when the API was not reached."""
        import aiohttp

        try:
            async with self._session_now().post(url, **kwargs) as reply:
                try:
                    body = await reply.json(content_type=None)
                except ValueError:
                    body = None
                if reply.status >= 300:
                    code = body.get("code") if isinstance(body, dict) else None
                    error = body.get("error") if isinstance(body, dict) else None
                    if isinstance(error, dict):
                        code = error.get("code")
                    logger.error("%s API answered %s (code %s)", self.platform, reply.status, code)
                return reply.status, body
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as problem:
            logger.error("%s API not reached: %s", self.platform, type(problem).__name__)
            return 0, None

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
