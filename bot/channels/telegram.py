"""Telegram: Rasa's connector, configured from the environment and authenticated.

On when ``HELPLINE_TELEGRAM_TOKEN`` and ``HELPLINE_TELEGRAM_WEBHOOK_SECRET`` are
set (``HELPLINE_TELEGRAM_API_URL`` only for tests); otherwise every route
answers 404. The webhook is ``/webhooks/telegram/webhook``.

Differences from ``rasa.core.channels.telegram``:

* every call must carry ``X-Telegram-Bot-Api-Secret-Token`` (the secret given
  to ``setWebhook``), compared in constant time; otherwise 403 and nothing else;
* no ``setWebhook`` call at start-up and no open ``/set_webhook`` route: the
  operator registers the webhook once (``python -m bot.channels.telegram
  set-webhook``, docs/channels.md);
* private chats only; edits, group messages and other updates are ignored;
* the sender id is a keyed pseudonym of the chat id; replies go to the chat;
* answers are rendered by ``bot.channels.rendering``: chunks within 4096
  characters, the contact block in the last one, the buttons as an inline
  keyboard under it; ``/start`` greets (in the app's language when we have it);
* no message text, chat id or phone number in the logs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import sys
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text

from aiogram.bot.api import TelegramAPIServer, check_token
from aiogram.types import InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.exceptions import ValidationError
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.telegram import TelegramInput, TelegramOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot import catalogue
from bot.channels import rendering
from bot.channels.platform import PlatformInput, RenderedOutput
from bot.channels.rendering import ChannelSettingError

logger = logging.getLogger(__name__)

PLATFORM = "telegram"
TOKEN = "HELPLINE_TELEGRAM_TOKEN"
WEBHOOK_SECRET = "HELPLINE_TELEGRAM_WEBHOOK_SECRET"
API_URL = "HELPLINE_TELEGRAM_API_URL"
PUBLIC_URL = "HELPLINE_PUBLIC_URL"
DEFAULT_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
SECRET_CHARACTERS = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
WEBHOOK_PATH = "/webhooks/telegram/webhook"
KEYBOARD_ROW_CHARS = 30
KEYBOARD_ROW_BUTTONS = 3
UPDATE_TYPES = ["message", "callback_query"]


class TelegramSettings:
    def __init__(self, token: str, secret: str, api_url: str) -> None:
        self.token = token
        self.secret = secret
        self.api_url = api_url

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["TelegramSettings"]:
        values = rendering.channel_variables("Telegram", [TOKEN, WEBHOOK_SECRET], [API_URL], env)
        if values is None:
            return None
        secret = values[WEBHOOK_SECRET]
        if not 1 <= len(secret) <= 256 or not set(secret) <= SECRET_CHARACTERS:
            raise ChannelSettingError(
                f"{WEBHOOK_SECRET} must be 1-256 characters of A-Z, a-z, 0-9, _ and - "
                "(Telegram's rule for secret_token)"
            )
        try:
            check_token(values[TOKEN])
        except ValidationError:
            raise ChannelSettingError(f"{TOKEN} does not look like a bot token from @BotFather") from None
        api_url = rendering.checked_url(API_URL, values[API_URL] or DEFAULT_API_URL)
        return cls(values[TOKEN], secret, api_url)


def keyboard(buttons: List[Dict[str, str]]) -> InlineKeyboardMarkup:
    """The buttons as an inline keyboard: short titles share a row."""
    markup = InlineKeyboardMarkup()
    row: List[InlineKeyboardButton] = []
    for button in buttons:
        width = sum(len(b.text) for b in row) + len(button["title"])
        if row and (width > KEYBOARD_ROW_CHARS or len(row) >= KEYBOARD_ROW_BUTTONS):
            markup.row(*row)
            row = []
        row.append(InlineKeyboardButton(button["title"], callback_data=button["payload"]))
    if row:
        markup.row(*row)
    return markup


def fits_inline_keyboard(buttons: List[Dict[str, str]]) -> bool:
    return all(
        1 <= len(b["payload"].encode("utf-8")) <= rendering.TELEGRAM_CALLBACK_DATA_BYTES
        for b in buttons
    )


class HelplineTelegramOutput(RenderedOutput, TelegramOutput):
    """Sends rendered answers through the Bot API (aiogram), to the chat behind a pseudonym."""

    def __init__(self, settings: TelegramSettings, input_channel: "HelplineTelegramInput") -> None:
        # TelegramOutput.__init__ is aiogram's Bot.__init__ without the server argument.
        super(TelegramOutput, self).__init__(
            settings.token,
            server=TelegramAPIServer.from_base(settings.api_url),
            timeout=10,
        )
        self.input_channel = input_channel

    async def close_client(self) -> None:
        session = self._session  # aiogram's Bot: its HTTP session, made on first use
        if session is not None and not session.closed:
            await session.close()

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        prepared = self._address_and_rendering(
            recipient_id, message, rendering.TELEGRAM_TEXT_LIMIT, fits_inline_keyboard
        )
        if prepared is None:
            return
        chat_id, _, rendered = prepared
        for number, chunk in enumerate(rendered.chunks, 1):
            markup = keyboard(rendered.buttons) if rendered.buttons and number == len(rendered.chunks) else None
            try:
                await self.send_message(
                    chat_id, chunk, reply_markup=markup, disable_web_page_preview=True
                )
            except Exception as problem:  # the API's message may quote the text
                logger.error("Telegram: sending failed: %s", type(problem).__name__)
                return




class HelplineTelegramInput(PlatformInput, TelegramInput):
    """Telegram input channel; switched off (404) without its variables."""

    PLATFORM, LABEL, VARIABLES = PLATFORM, "Telegram", (TOKEN, WEBHOOK_SECRET)
    SETTINGS, OUTPUT = TelegramSettings, HelplineTelegramOutput

    def __init__(self, settings: Optional[TelegramSettings]) -> None:
        super().__init__(
            settings.token if settings else None, None, None, debug_mode=False
        )
        self._remember_platform(settings)  # addresses: pseudonym -> chat id

    def sender_id(self, chat_id: int) -> str:
        assert self.settings is not None
        return rendering.pseudonym(PLATFORM, self.settings.token, str(chat_id))

    def user_text(self, update: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """(chat id, text for Rasa, callback id) of an update we answer, else None."""
        callback = update.get("callback_query")
        if isinstance(callback, dict):
            chat = (callback.get("message") or {}).get("chat") or {}
            data = callback.get("data")
            if chat.get("type") != "private" or not isinstance(chat.get("id"), int):
                return None
            text = data if rendering.is_payload(data) else rendering.typed_text(str(data or ""))
            return {"chat_id": chat["id"], "text": text, "callback_id": callback.get("id")}
        message = update.get("message")
        if not isinstance(message, dict):
            return None  # edited messages, channel posts, membership changes ...
        chat = message.get("chat") or {}
        if chat.get("type") != "private" or not isinstance(chat.get("id"), int):
            return None  # the helpline answers one person at a time, never a group
        raw = message.get("text")
        if not isinstance(raw, str):
            return {"chat_id": chat["id"], "text": rendering.NOT_TEXT_PAYLOAD}
        command = raw.strip().split(maxsplit=1)[0].split("@")[0] if raw.strip() else ""
        if command in ("/start", "/help"):
            app_language = ((message.get("from") or {}).get("language_code") or "")[:2]
            if app_language in catalogue.languages():
                return {"chat_id": chat["id"], "text": '/greet{"language": "%s"}' % app_language}
            return {"chat_id": chat["id"], "text": "/greet"}
        return {"chat_id": chat["id"], "text": rendering.typed_text(raw)}

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self._webhook_blueprint()

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.settings is None:
                return response.json({"error": "channel_off"}, status=404)
            if not rendering.same_secret(request.headers.get(SECRET_HEADER), self.settings.secret):
                logger.warning("Telegram: rejected a webhook call without the right secret token.")
                return response.json({"error": "forbidden"}, status=403)
            if len(request.body or b"") > rendering.MAX_WEBHOOK_BYTES:
                return response.json({"error": "too_large"}, status=413)
            try:
                update = json.loads(request.body or b"")
            except (ValueError, RecursionError):
                return response.json({"error": "invalid_json"}, status=400)
            if not isinstance(update, dict):
                return response.json({"error": "invalid_update"}, status=400)
            if isinstance(update.get("update_id"), int) and self.seen.seen(update["update_id"]):
                return response.json({"ok": True})  # Telegram retried a delivered update
            try:
                found = self.user_text(update)
            except (AttributeError, TypeError):  # not the Bot API's shape
                return response.json({"error": "invalid_update"}, status=400)
            if found is None:
                return response.json({"ok": True})
            output = self.get_output_channel()
            if found.get("callback_id"):
                try:
                    await output.answer_callback_query(found["callback_id"])
                except Exception as problem:
                    logger.error("Telegram: answerCallbackQuery failed: %s", type(problem).__name__)
            sender_id = self.sender_id(found["chat_id"])
            self.addresses.put(sender_id, found["chat_id"])
            text = found["text"]
            text = self.options.resolve(sender_id, text) or text
            try:
                await on_new_message(
                    UserMessage(text, output, sender_id, input_channel=self.name())
                )
                if isinstance(update.get("update_id"), int):
                    self.seen.confirm(update["update_id"])  # handled: a retry is a duplicate
            except asyncio.CancelledError:
                # the server is stopping or the caller went away: not swallowed, so the
                # platform (or the gateway) sees no success and delivers it again
                logger.warning("Telegram: handling a message was cancelled.")
                raise
            except Exception as problem:  # logged without the message text
                logger.error("Telegram: handling a message failed: %s", type(problem).__name__)
                logger.debug("Handling failure detail", exc_info=True)
            return response.json({"ok": True})

        return webhook


# ---------------------------------------------------------------------------
# Registering the webhook with Telegram (once, by the operator)


def set_webhook_request(env: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
    """The ``setWebhook`` call for our webhook: URL, body (with the secret)."""
    env = os.environ if env is None else env
    settings = TelegramSettings.from_env(env)
    if settings is None:
        raise ChannelSettingError(f"Set {TOKEN} and {WEBHOOK_SECRET} first.")
    public = env.get(PUBLIC_URL, "").strip()
    if not public:
        raise ChannelSettingError(f"{PUBLIC_URL} is not set (the https:// address the platforms call).")
    public = rendering.checked_url(PUBLIC_URL, public)
    return {
        "url": f"{settings.api_url}/bot{settings.token}/setWebhook",
        "body": {
            "url": public + WEBHOOK_PATH,
            "secret_token": settings.secret,
            "allowed_updates": UPDATE_TYPES,
            "drop_pending_updates": False,
        },
    }


def main(argv: Optional[List[str]] = None) -> int:
    import urllib.request

    parser = argparse.ArgumentParser(
        prog="python -m bot.channels.telegram",
        description="Register the helpline's webhook (HELPLINE_PUBLIC_URL"
        f"{WEBHOOK_PATH}) with Telegram, with the secret token.",
    )
    parser.add_argument("command", choices=["set-webhook"])
    parser.parse_args(argv)
    try:
        call = set_webhook_request()
    except ChannelSettingError as problem:
        print(f"Setting error: {problem}", file=sys.stderr)
        return 2
    request = urllib.request.Request(
        call["url"],
        data=json.dumps(call["body"]).encode("utf-8"),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=20) as reply:
            answer = json.loads(reply.read() or b"{}")
    except Exception as problem:  # the URL holds the token: never print it
        print(f"setWebhook failed: {type(problem).__name__}", file=sys.stderr)
        return 1
    print(f"setWebhook: ok={answer.get('ok')} {answer.get('description', '')}")
    return 0 if answer.get("ok") else 1


if __name__ == "__main__":
    raise SystemExit(main())
