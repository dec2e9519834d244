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


def _positive(env: Mapping[str, str], name: str, default: float) -> float:
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


@dataclass(frozen=True)
class Settings:
    # Rasa and the action server: loopback only, always.
    rasa_host: str = "127.0.0.1"
    rasa_port: int = 5005
    action_host: str = "127.0.0.1"
    action_port: int = 5055
    # Rasa's HTTP API (tracker etc.) is on only when a token is given.
    rasa_api_token: Optional[str] = None
    # The web gateway: the one public surface. Loopback unless told otherwise.
    gateway_host: str = "127.0.0.1"
    gateway_port: int = 8080
    rasa_timeout: float = 10.0
    max_message_chars: int = 1000
    max_body_bytes: int = 8192
    rate_limit_per_minute: int = 30
    cors_origins: Tuple[str, ...] = ()
    frame_ancestors: Tuple[str, ...] = ("'self'",)
    # behind a reverse proxy: count the rate limit per client it names
    trust_forwarded_for: bool = False
    model_path: Path = field(default=ROOT / "models" / "helpline.tar.gz")

    @property
    def rasa_url(self) -> str:
        return f"http://{self.rasa_host}:{self.rasa_port}"

    @property
    def action_url(self) -> str:
        return f"http://{self.action_host}:{self.action_port}/webhook"

    def to_env(self) -> Dict[str, str]:
        """The environment that makes ``from_env`` give these settings back
        (how bot/stack.py hands them to the processes it starts)."""
        env = {
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
        }
        if self.rasa_api_token:
            env["HELPLINE_RASA_API_TOKEN"] = self.rasa_api_token
        return env

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> "Settings":
        env = os.environ if env is None else env
        return cls(
            rasa_host=_loopback(env, "HELPLINE_RASA_HOST", "127.0.0.1"),
            rasa_port=_port(env, "HELPLINE_RASA_PORT", 5005),
            action_host=_loopback(env, "HELPLINE_ACTION_HOST", "127.0.0.1"),
            action_port=_port(env, "HELPLINE_ACTION_PORT", 5055),
            rasa_api_token=env.get("HELPLINE_RASA_API_TOKEN") or None,
            gateway_host=env.get("HELPLINE_GATEWAY_HOST", "127.0.0.1"),
            gateway_port=_port(env, "HELPLINE_GATEWAY_PORT", 8080),
            rasa_timeout=_positive(env, "HELPLINE_RASA_TIMEOUT", 10.0),
            max_message_chars=int(_positive(env, "HELPLINE_MAX_MESSAGE_CHARS", 1000)),
            max_body_bytes=int(_positive(env, "HELPLINE_MAX_BODY_BYTES", 8192)),
            rate_limit_per_minute=int(_positive(env, "HELPLINE_RATE_LIMIT_PER_MINUTE", 30)),
            cors_origins=_list(env, "HELPLINE_CORS_ORIGINS"),
            frame_ancestors=tuple(
                a.strip() for a in env.get("HELPLINE_FRAME_ANCESTORS", "").split(" ") if a.strip()
            ) or ("'self'",),
            model_path=Path(env.get("HELPLINE_MODEL", ROOT / "models" / "helpline.tar.gz")),
            trust_forwarded_for=_flag(env, "HELPLINE_TRUST_FORWARDED_FOR"),
        )
