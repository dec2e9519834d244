"""Telegram: real Update payloads to the running connector; the Bot API stood in."""
from __future__ import annotations

import itertools
import json

import pytest

from bot import catalogue
from bot.channels import rendering
from bot.channels.rendering import ChannelSettingError
from bot.channels.telegram import (
    HelplineTelegramInput,
    TelegramSettings,
    keyboard,
    set_webhook_request,
)

from .conftest import (
    AR_QUESTION,
    FI_QUESTION,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    contacts_present,
    in_language,
    plain,
)

_update_ids = itertools.count(500_000)


def update(chat_id: int, text: str, language_code: str = "", chat_type: str = "private") -> dict:
    """A Telegram Update with a text message (Bot API's shape)."""
    user = {"id": chat_id, "is_bot": False, "first_name": "Test"}
    if language_code:
        user["language_code"] = language_code
    return {
        "update_id": next(_update_ids),
        "message": {
            "message_id": next(_update_ids),
            "from": user,
            "chat": {"id": chat_id, "first_name": "Test", "type": chat_type},
            "date": 1_700_000_000,
            "text": text,
        },
    }


def callback(chat_id: int, data: str) -> dict:
    """A Telegram Update for a tap on an inline keyboard button."""
    return {
        "update_id": next(_update_ids),
        "callback_query": {
            "id": f"cbq-{chat_id}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "Test"},
            "message": {
                "message_id": 7,
                "from": {"id": 123456789, "is_bot": True, "first_name": "Helpline"},
                "chat": {"id": chat_id, "type": "private"},
                "date": 1_700_000_000,
                "text": "...",
            },
            "chat_instance": "-1",
            "data": data,
        },
    }


def sent(calls, chat_id):
    """The texts of sendMessage calls to a chat, and the last reply_markup."""
    messages = [c for c in calls if c.method == "sendMessage"]
    assert messages and all(c.data["chat_id"] == str(chat_id) for c in messages)
    markup = messages[-1].data.get("reply_markup")
    return [c.data["text"] for c in messages], json.loads(markup) if markup else None


# ---------------------------------------------------------------- unit


def test_settings_need_both_variables():
    assert TelegramSettings.from_env({}) is None
    with pytest.raises(ChannelSettingError, match="HELPLINE_TELEGRAM_WEBHOOK_SECRET"):
        TelegramSettings.from_env({"HELPLINE_TELEGRAM_TOKEN": TELEGRAM_TOKEN})
    with pytest.raises(ChannelSettingError, match="HELPLINE_TELEGRAM_TOKEN"):
        TelegramSettings.from_env({"HELPLINE_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET})
    with pytest.raises(ChannelSettingError, match="secret_token"):
        TelegramSettings.from_env({"HELPLINE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
                                   "HELPLINE_TELEGRAM_WEBHOOK_SECRET": "has spaces!"})
    with pytest.raises(ChannelSettingError, match="https"):
        TelegramSettings.from_env({"HELPLINE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
                                   "HELPLINE_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                                   "HELPLINE_TELEGRAM_API_URL": "http://api.example.org"})
    with pytest.raises(ChannelSettingError, match="BotFather"):
        TelegramSettings.from_env({"HELPLINE_TELEGRAM_TOKEN": "12 3:has space",
                                   "HELPLINE_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET})
    on = TelegramSettings.from_env({"HELPLINE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
                                    "HELPLINE_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET})
    assert on.api_url == "https://api.telegram.org"


def test_no_secrets_in_credentials_yml():
    with pytest.raises(ChannelSettingError, match="environment"):
        HelplineTelegramInput.from_credentials({"access_token": "x"})


def test_set_webhook_registers_the_secret_token():
    call = set_webhook_request({"HELPLINE_TELEGRAM_TOKEN": TELEGRAM_TOKEN,
                                "HELPLINE_TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
                                "HELPLINE_PUBLIC_URL": "https://helpline.example.fi/"})
    assert call["url"] == f"https://api.telegram.org/bot{TELEGRAM_TOKEN}/setWebhook"
    assert call["body"]["url"] == "https://helpline.example.fi/webhooks/telegram/webhook"
    assert call["body"]["secret_token"] == TELEGRAM_SECRET


def test_keyboard_puts_short_titles_together_and_long_ones_alone():
    rows = keyboard(catalogue.question_buttons("en") + catalogue.language_buttons()).inline_keyboard
    flat = [b for row in rows for b in row]
    assert len(flat) == 24 and all(1 <= len(row) <= 3 for row in rows)
    assert [b.callback_data for b in flat[:4]] == [b["payload"] for b in catalogue.question_buttons("en")]
    assert len(rows[0]) == 1  # "What is human trafficking?"
    assert all(len(b.callback_data.encode()) <= 64 for b in flat)


def test_updates_we_do_not_answer_and_start():
    channel = HelplineTelegramInput(TelegramSettings(TELEGRAM_TOKEN, TELEGRAM_SECRET, "https://x"))
    assert channel.user_text(update(1, "hi", chat_type="group")) is None
    assert channel.user_text({"update_id": 1, "edited_message": update(1, "x")["message"]}) is None
    sticker = update(1, "x")
    del sticker["message"]["text"]
    assert channel.user_text(sticker)["text"] == rendering.NOT_TEXT_PAYLOAD
    assert channel.user_text(update(1, "/start", "fi"))["text"] == '/greet{"language": "fi"}'
    assert channel.user_text(update(1, "/start", "xx"))["text"] == "/greet"
    assert channel.user_text(update(1, "/restart"))["text"] == "restart"  # typed, not an intent
    assert channel.sender_id(42) == channel.sender_id(42) != channel.sender_id(43)
    assert "42" not in channel.sender_id(42)


# ---------------------------------------------------------------- end to end


@pytest.mark.e2e
def test_each_user_is_answered_in_their_language(stack):
    fi_chat, ar_chat = 710001, 710002

    assert stack.telegram(update(fi_chat, FI_QUESTION, "fi"))[0] == 200
    texts, _ = sent(stack.standin.take(), fi_chat)
    assert in_language(texts[-1], "fi") and contacts_present(texts[-1])
    assert catalogue.text("what_is_trafficking", "fi") in texts[0]

    assert stack.telegram(update(ar_chat, AR_QUESTION, "ar"))[0] == 200
    texts, _ = sent(stack.standin.take(), ar_chat)
    assert in_language(texts[-1], "ar") and contacts_present(texts[-1])
    assert catalogue.text("what_is_trafficking", "ar") in plain(texts[0])
    phone = catalogue.facts()["phone"]
    assert f"{rendering.LRI}{phone}{rendering.PDI}" in texts[-1]  # reads left to right

    assert stack.telegram(update(fi_chat, "ok", "fi"))[0] == 200
    texts, _ = sent(stack.standin.take(), fi_chat)
    assert in_language(texts[-1], "fi") and contacts_present(texts[-1])
    assert all(len(t) <= rendering.TELEGRAM_TEXT_LIMIT for t in texts)


@pytest.mark.e2e
def test_start_greets_with_an_inline_keyboard_and_a_tap_answers(stack):
    chat = 710003
    assert stack.telegram(update(chat, "/start", "fi"))[0] == 200
    texts, markup = sent(stack.standin.take(), chat)
    assert catalogue.text("greet", "fi") in texts[0] and in_language(texts[-1], "fi")
    buttons = [b for row in markup["inline_keyboard"] for b in row]
    assert [(b["text"], b["callback_data"]) for b in buttons] == [
        (b["title"], b["payload"]) for b in catalogue.question_buttons("fi")
    ]

    assert stack.telegram(callback(chat, "/who_to_contact"))[0] == 200
    calls = stack.standin.take()
    assert calls[0].method == "answerCallbackQuery" and calls[0].data["callback_query_id"] == f"cbq-{chat}"
    texts, _ = sent(calls[1:], chat)
    assert catalogue.text("who_to_contact", "fi") in texts[0] and in_language(texts[-1], "fi")


@pytest.mark.e2e
def test_start_without_a_known_app_language_offers_the_language_picker(stack):
    chat = 710004
    assert stack.telegram(update(chat, "/start"))[0] == 200
    texts, markup = sent(stack.standin.take(), chat)
    default = catalogue.default_language()
    assert in_language(texts[-1], default) and contacts_present(texts[-1])
    payloads = [b["callback_data"] for row in markup["inline_keyboard"] for b in row]
    assert payloads[-len(catalogue.languages()):] == [b["payload"] for b in catalogue.language_buttons()]


@pytest.mark.e2e
@pytest.mark.parametrize("secret", [None, "wrong-secret", TELEGRAM_SECRET + "x"])
def test_a_forged_call_is_rejected_and_never_answered(stack, secret):
    chat = 710099
    status, _ = stack.telegram(update(chat, FI_QUESTION, "fi"), secret=secret)
    assert status == 403
    assert stack.standin.take() == []
    sender_id = rendering.pseudonym("telegram", TELEGRAM_TOKEN, str(chat))
    assert stack.user_events(sender_id) == []


@pytest.mark.e2e
def test_group_chats_are_not_answered(stack):
    assert stack.telegram(update(-100123, FI_QUESTION, "fi", chat_type="group"))[0] == 200
    assert stack.standin.take() == []
