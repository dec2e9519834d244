"""The REST channel, in place of Rasa's own at ``/webhooks/rest/webhook``.

Same request and response format, but: each bot message keeps its language
(the gateway needs it for the contact bar and the page direction); a body that
is not ``{sender, message}`` strings gets a 400 (Rasa's answers 500); and the
user's text is never logged (Rasa's logs it when handling fails).
"""
from __future__ import annotations

import asyncio
import functools
import logging
from typing import Any, Awaitable, Callable, Dict, Text

from rasa.core.channels.channel import CollectingOutputChannel, UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.settings import MESSAGE_ID

logger = logging.getLogger(__name__)

CARRIED = ("language", "rtl")


class LanguageCollectingOutputChannel(CollectingOutputChannel):
    """Collects messages like Rasa's REST channel, keeping language and rtl."""

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        carried = {key: message[key] for key in CARRIED if key in message}
        before = len(self.messages)
        await super().send_response(recipient_id, message)
        for collected in self.messages[before:]:
            collected.update(carried)


class HelplineRestInput(RestInput):
    @classmethod
    def name(cls) -> Text:
        return "rest"

    @functools.cached_property
    def max_message_chars(self) -> int:
        from bot.settings import Settings

        return Settings.from_env().max_message_chars

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[None]]
    ) -> Blueprint:
        webhook = Blueprint("helpline_rest_webhook", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            sender_id = body.get("sender")
            text = body.get("message")
            if not isinstance(sender_id, str) or not isinstance(text, str):
                return response.json(
                    {"error": "expected JSON {sender: string, message: string}"}, status=400
                )
            if len(text) > self.max_message_chars:  # the gateway's limit, here too
                return response.json({"error": "message_too_long"}, status=413)
            metadata = body.get("metadata") if isinstance(body.get("metadata"), dict) else None
            # the gateway's id of this message (the same on a retry): the user
            # event's message_id, so a retry is recognised (bot/rasa_patches.py)
            message_id = (metadata or {}).get(MESSAGE_ID)
            message_id = message_id if isinstance(message_id, str) and message_id.isalnum() else None
            collector = LanguageCollectingOutputChannel()
            try:
                await on_new_message(
                    UserMessage(
                        text, collector, sender_id, input_channel=self.name(), metadata=metadata,
                        message_id=message_id,
                    )
                )
            except asyncio.CancelledError:
                # the server is stopping or the caller went away: not swallowed, so the
                # platform (or the gateway) sees no success and delivers it again
                logger.warning("Handling a message was cancelled.")
                raise
            except Exception as error:  # logged without the message text
                logger.error("Handling a message failed: %s", type(error).__name__)
            return response.json(collector.messages)

        return webhook
