"""Every run-time setting, read from the environment and validated at start-up.

Defaults are the embedded profile: everything on loopback, in memory, no secrets.
"""
from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, Mapping, Optional, Tuple

ROOT = Path(__file__).resolve().parent.parent


class SettingError(ValueError):
    """A setting has a value we cannot use; the message names the setting."""


def _port(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    try:
        value = int(raw)
    except ValueError:
        raise SettingError(f"{name} must be a port number, not {raw!r}")
    if not 0 <= value <= 65535:
        raise SettingError(f"{name} must be between 0 and 65535, not {value}")
    return value


def _whole_number(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, str(default))
    if not raw.isdigit():
        raise SettingError(f"{name} must be a whole number (0 or more), not {raw!r}")
    return int(raw)


def positive_setting(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, str(default))
    try:
        value = float(raw)
    except ValueError:
        raise SettingError(f"{name} must be a number, not {raw!r}")
    if value <= 0:
        raise SettingError(f"{name} must be positive, not {raw!r}")
    return value


def _loopback(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, default)
    try:
        if not ipaddress.ip_address(value).is_loopback:
            raise SettingError(f"{name} must be a loopback address (127.0.0.1 or ::1), not {value!r}")
    except ValueError:
        if value != "localhost":
            raise SettingError(f"{name} must be a loopback address, not {value!r}")
    return value


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "0").strip().lower()
    if raw not in ("0", "1", "true", "false", "yes", "no", ""):
        raise SettingError(f"{name} must be 1 or 0, not {raw!r}")
    return raw in ("1", "true", "yes")


def _list(env: Mapping[str, str], name: str) -> Tuple[str, ...]:
    return tuple(item.strip() for item in env.get(name, "").split(",") if item.strip())


PROFILES = ("embedded", "production")
# What a tracker store keeps of a message (bot/redact.py): the text with personal
# data replaced by its kind, or no text at all (intent, language, answer).
STORE_TEXT = ("redacted", "none")
# Metadata keys of a message the gateway forwards: its id (the same on every
# retry) and whether this is a retry (bot/gateway.py, bot/rasa_patches.py).
MESSAGE_ID = "helpline_message_id"
RETRY = "helpline_retry"
# The messaging channels' state in Redis (production profile; bot/channels/rendering.py):
# key f"{CHANNEL_STATE_PREFIX}:{platform}:{store}:{id}", each with an expiry.
# The stores kept per conversation (by sender id) are deleted with it (bot/retention.py).
CHANNEL_STATE_PREFIX = "helpline:channel"
CONVERSATION_STATE = ("addresses", "options")
# Seconds a conversation's lock ticket lives (bot/lock_store.py): below the
# gateway's wait for Rasa (HELPLINE_RASA_TIMEOUT, 12 s).
DEFAULT_LOCK_LIFETIME = 8


def _choice(env: Mapping[str, str], name: str, default: str, choices: Tuple[str, ...]) -> str:
    value = env.get(name, default)
    if value not in choices:
        raise SettingError(f"{name} must be one of {', '.join(choices)}, not {value!r}")
    return value


@dataclass(frozen=True)
class Settings:
    # "embedded": one Rasa, conversations in memory, nothing on disk.
    # "production": PostgreSQL tracker store, Redis lock store, several Rasa
    # instances (and as many action servers) behind the gateway.
    profile: str = "embedded"
    rasa_instances: int = 1
    # Rasa and the action server: loopback only, always. Instance i listens on
    # rasa_port + i and uses the action server on action_port + i.
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    # Rasa's HTTP API (tracker etc.) is on only when a token is given.
    rasa_api_token: Optional[str] = None
    # The web gateway: the one public surface. Loopback unless told otherwise.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    # the gateway's time for one message, all Rasa instances together; above
    # the lock lifetime, so a message whose conversation was locked by a
    # killed instance is still answered by another
    rasa_timeout: float = 12.0
    max_message_chars: int = 1000
    # 1000 characters written as JSON escapes (up to 12 bytes each) still fit
    max_body_bytes: int = 16384
    rate_limit_per_minute: int = 30
    cors_origins: Tuple[str, ...] = ()
    frame_ancestors: Tuple[str, ...] = ("'self'",)
    # behind a reverse proxy: count the rate limit per client it names
    trust_forwarded_for: bool = False
    store_text: str = "redacted"
    # Rasa servers the gateway forwards to, when they are not the ones
    # bot/stack.py starts (e.g. a Kubernetes service); else derived.
    rasa_urls_override: Tuple[str, ...] = ()
    # production profile: PostgreSQL and Redis (passwords from the environment only)
    db_host: str = "127.0.0.1"
    db_port: int = 5432
    db_name: str = "helpline"
    db_user: str = "postgres"
    db_password: str = field(default="", repr=False)
    redis_host: str = "127.0.0.1"
    redis_port: int = 6379
    redis_db: int = 1
    redis_password: str = field(default="", repr=False)
    # conversations untouched for longer than this are deleted (production)
    # seconds a conversation's lock outlives a Rasa instance that died holding it
    # (above the action timeout, 5 s, plus NLU; Rasa's default is 60 s)
    lock_lifetime: int = 8
    retention_days: float = 30.0
    retention_interval_minutes: float = 60.0
    model_path: Path = field(default=ROOT / "models" / "helpline.tar.gz")

    @property
    def rasa_url(self) -> str:
        return self.rasa_urls[0]

    @property
    def rasa_urls(self) -> Tuple[str, ...]:
        """Every Rasa server the gateway may forward to."""
        if self.rasa_urls_override:
            return self.rasa_urls_override
        return tuple(
            f"http://{self.rasa_host}:{self.rasa_port + i}" for i in range(self.rasa_instances)
        )

    def action_url_for(self, instance: int) -> str:
        return f"http://{self.action_host}:{self.action_port + instance}/webhook"

    @property
    def action_url(self) -> str:
        return self.action_url_for(0)

    @property
    def endpoints_file(self) -> Path:
        name = "endpoints.production.yml" if self.profile == "production" else "endpoints.yml"
        return ROOT / name

    def to_env(self) -> Dict[str, str]:
        """The environment that makes ``from_env`` give these settings back
        (how bot/stack.py hands them to the processes it starts)."""
        env = {
            "HELPLINE_PROFILE": self.profile,
            "HELPLINE_RASA_INSTANCES": str(self.rasa_instances),
            "HELPLINE_RASA_URLS": ",".join(self.rasa_urls_override),
            "HELPLINE_DB_HOST": self.db_host,
            "HELPLINE_DB_PORT": str(self.db_port),
            "HELPLINE_DB_NAME": self.db_name,
            "HELPLINE_DB_USER": self.db_user,
            "HELPLINE_DB_PASSWORD": self.db_password,
            "HELPLINE_REDIS_HOST": self.redis_host,
            "HELPLINE_REDIS_PORT": str(self.redis_port),
            "HELPLINE_REDIS_DB": str(self.redis_db),
            "HELPLINE_REDIS_PASSWORD": self.redis_password,
            "HELPLINE_RETENTION_DAYS": str(self.retention_days),
            "HELPLINE_LOCK_LIFETIME": str(self.lock_lifetime),
            "HELPLINE_RETENTION_INTERVAL_MINUTES": str(self.retention_interval_minutes),
            "HELPLINE_RASA_HOST": self.rasa_host,
            "HELPLINE_RASA_PORT": str(self.rasa_port),
            "HELPLINE_ACTION_HOST": self.action_host,
            "HELPLINE_ACTION_PORT": str(self.action_port),
            "HELPLINE_GATEWAY_HOST": self.gateway_host,
            "HELPLINE_GATEWAY_PORT": str(self.gateway_port),
            "HELPLINE_RASA_TIMEOUT": str(self.rasa_timeout),
            "HELPLINE_MAX_MESSAGE_CHARS": str(self.max_message_chars),
            "HELPLINE_MAX_BODY_BYTES": str(self.max_body_bytes),
            "HELPLINE_RATE_LIMIT_PER_MINUTE": str(self.rate_limit_per_minute),
            "HELPLINE_CORS_ORIGINS": ",".join(self.cors_origins),
            "HELPLINE_FRAME_ANCESTORS": " ".join(self.frame_ancestors),
            "HELPLINE_MODEL": str(self.model_path),
            "HELPLINE_TRUST_FORWARDED_FOR": "1" if self.trust_forwarded_for else "0",
            "HELPLINE_STORE_TEXT": self.store_text,
        }
        if self.rasa_api_token:
            env["HELPLINE_RASA_API_TOKEN"] = self.rasa_api_token
        return env

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        profile = _choice(env, "HELPLINE_PROFILE", "embedded", PROFILES)
        instances = int(positive_setting(env, "HELPLINE_RASA_INSTANCES", 2 if profile == "production" else 1))
        if profile == "embedded" and instances != 1:
            raise SettingError(
                "HELPLINE_RASA_INSTANCES must be 1 in the embedded profile "
                "(conversations are in one process's memory); use HELPLINE_PROFILE=production"
            )
        return cls(
            profile=profile,
            rasa_instances=instances,
            rasa_urls_override=_list(env, "HELPLINE_RASA_URLS"),
            db_host=env.get("HELPLINE_DB_HOST", "127.0.0.1"),
            db_port=_port(env, "HELPLINE_DB_PORT", 5432),
            db_name=env.get("HELPLINE_DB_NAME", "helpline"),
            db_user=env.get("HELPLINE_DB_USER", "postgres"),
            db_password=env.get("HELPLINE_DB_PASSWORD", ""),
            redis_host=env.get("HELPLINE_REDIS_HOST", "127.0.0.1"),
            redis_port=_port(env, "HELPLINE_REDIS_PORT", 6379),
            redis_db=_whole_number(env, "HELPLINE_REDIS_DB", 1),
            redis_password=env.get("HELPLINE_REDIS_PASSWORD", ""),
            retention_days=positive_setting(env, "HELPLINE_RETENTION_DAYS", 30.0),
            retention_interval_minutes=positive_setting(env, "HELPLINE_RETENTION_INTERVAL_MINUTES", 60.0),
            rasa_host=_loopback(env, "HELPLINE_RASA_HOST", "127.0.0.1"),
            rasa_port=_port(env, "HELPLINE_RASA_PORT", 5005),
            action_host=_loopback(env, "HELPLINE_ACTION_HOST", "127.0.0.1"),
            action_port=_port(env, "HELPLINE_ACTION_PORT", 5055),
            rasa_api_token=env.get("HELPLINE_RASA_API_TOKEN") or None,
            gateway_host=env.get("HELPLINE_GATEWAY_HOST", "127.0.0.1"),
            gateway_port=_port(env, "HELPLINE_GATEWAY_PORT", 8080),
            rasa_timeout=positive_setting(env, "HELPLINE_RASA_TIMEOUT", 12.0),
            lock_lifetime=int(positive_setting(env, "HELPLINE_LOCK_LIFETIME", DEFAULT_LOCK_LIFETIME)),
            max_message_chars=int(positive_setting(env, "HELPLINE_MAX_MESSAGE_CHARS", 1000)),
            max_body_bytes=int(positive_setting(env, "HELPLINE_MAX_BODY_BYTES", 16384)),
            rate_limit_per_minute=int(positive_setting(env, "HELPLINE_RATE_LIMIT_PER_MINUTE", 30)),
            cors_origins=_list(env, "HELPLINE_CORS_ORIGINS"),
            frame_ancestors=tuple(
                a.strip() for a in env.get("HELPLINE_FRAME_ANCESTORS", "").split(" ") if a.strip()
            ) or ("'self'",),
            model_path=Path(env.get("HELPLINE_MODEL", ROOT / "models" / "helpline.tar.gz")),
            trust_forwarded_for=_flag(env, "HELPLINE_TRUST_FORWARDED_FOR"),
            store_text=_choice(env, "HELPLINE_STORE_TEXT", "redacted", STORE_TEXT),
        )
