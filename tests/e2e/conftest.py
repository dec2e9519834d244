"""One real stack (action server, Rasa, gateway) for the end-to-end tests."""
from __future__ import annotations

import json
import socket
import uuid
import urllib.request
from pathlib import Path

import pytest

from bot.settings import Settings
from bot.stack import Stack
from tests.conftest import MODEL

API_TOKEN = "e2e-test-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_json(url: str, body: dict, timeout: float = 30):
    request = urllib.request.Request(
        url, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train`")
    settings = Settings(
        rasa_port=free_port(), action_port=free_port(), gateway_port=free_port(),
        rasa_api_token=API_TOKEN, model_path=MODEL,
    )
    log_dir = Path(tmp_path_factory.mktemp("stack-logs"))
    with Stack(settings, log_dir=log_dir) as running:
        yield running


class Chat:
    """A person talking to the bot through Rasa's REST channel."""

    def __init__(self, stack: Stack, sender: str) -> None:
        self.url = f"{stack.settings.rasa_url}/webhooks/rest/webhook"
        self.sender = sender

    def say(self, text: str) -> list:
        return post_json(self.url, {"sender": self.sender, "message": text})


@pytest.fixture
def chat(stack):
    """A new person each call (a fresh sender id, as a new browser tab would be)."""
    return lambda: Chat(stack, f"person-{uuid.uuid4().hex}")
