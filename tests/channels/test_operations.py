"""Running the channels: the default run needs no secrets, a half-configured
channel stops Rasa with the variable named, and nothing personal is logged."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot.channels import rendering
from bot.settings import Settings
from bot.stack import Stack

from .conftest import (
    CHANNEL_VARIABLES,
    FI_QUESTION,
    TELEGRAM_TOKEN,
    contacts_present,
    free_port,
    http,
)
from .test_messenger import event, page
from .test_telegram import update
from .test_whatsapp import incoming

WEBHOOKS = ("telegram", "whatsapp", "messenger")
NO_CHANNELS = {name: "" for name in CHANNEL_VARIABLES}  # whatever the developer's shell has


def rasa_only(tmp_path: Path, extra_env: dict) -> Stack:
    settings = Settings(rasa_port=free_port(), action_port=free_port())
    return Stack(settings, gateway=False, log_dir=tmp_path, extra_env=extra_env)


@pytest.mark.e2e
def test_without_variables_rasa_runs_and_every_channel_answers_404(tmp_path):
    stack = rasa_only(tmp_path, NO_CHANNELS)
    stack.start_rasa()  # no action server: Rasa's own fallback gives the contacts
    try:
        stack.wait_ready(timeout=120, names=["rasa"])
        url = stack.settings.rasa_url
        for name in WEBHOOKS:
            assert http(f"{url}/webhooks/{name}/webhook", b"{}", {"Content-Type": "application/json"})[0] == 404
            assert http(f"{url}/webhooks/{name}/")[0] == 404
        assert http(f"{url}/webhooks/messenger/webhook?hub.mode=subscribe&hub.verify_token=&hub.challenge=1")[0] == 404
        status, body = http(f"{url}/webhooks/rest/webhook",
                            json.dumps({"sender": "ops-test", "message": "hei"}).encode(),
                            {"Content-Type": "application/json"})
        assert status == 200 and contacts_present(json.loads(body)[0]["text"])
    finally:
        stack.stop()


@pytest.mark.e2e
def test_a_half_configured_channel_stops_rasa_naming_the_variable(tmp_path):
    stack = rasa_only(tmp_path, {**NO_CHANNELS, "HELPLINE_TELEGRAM_TOKEN": TELEGRAM_TOKEN})
    stack.start_rasa()
    try:
        with pytest.raises(RuntimeError, match="rasa exited"):
            stack.wait_ready(timeout=120, names=["rasa"])
    finally:
        stack.stop()
    assert "HELPLINE_TELEGRAM_WEBHOOK_SECRET is not set" in (tmp_path / "rasa.log").read_text(errors="replace")


@pytest.mark.e2e
def test_no_message_text_phone_number_or_sender_id_in_the_logs(stack):
    secret_text = "Nimeni on Maria Virtanen ja pomo vei passini"
    phone, chat, psid = "+358409998877", 719998887, "7199998887776665"
    assert stack.telegram(update(chat, secret_text, "fi"))[0] == 200
    assert stack.whatsapp(incoming(phone, secret_text))[0] == 200
    assert stack.messenger(page(event(psid, secret_text)))[0] == 200
    assert stack.telegram(update(chat, FI_QUESTION, "fi"), secret="forged")[0] == 403
    assert len(stack.standin.take()) >= 3
    logs = "".join(p.read_text(errors="replace") for p in Path(stack.log_dir).glob("*.log"))
    for private in ("Maria", "passini", phone, phone.lstrip("+"), str(chat), psid,
                    rendering.pseudonym("telegram", TELEGRAM_TOKEN, str(chat))):
        assert private not in logs, private
