"""WhatsApp (and SMS) through Twilio: Rasa's connector, from the environment, signed.

On when ``HELPLINE_TWILIO_ACCOUNT_SID``, ``HELPLINE_TWILIO_AUTH_TOKEN``,
``HELPLINE_TWILIO_WHATSAPP_NUMBER`` and ``HELPLINE_PUBLIC_URL`` are set
(``HELPLINE_TWILIO_API_URL`` only for tests); otherwise every route answers
404. The webhook is ``/webhooks/whatsapp/webhook``.

Differences from ``rasa.core.channels.twilio``:

* every call must carry a valid ``X-Twilio-Signature`` for
  ``HELPLINE_PUBLIC_URL`` + the path and the form fields (Twilio's
  ``RequestValidator``); otherwise 403 and nothing else;
* WhatsApp through Twilio has no buttons here: options are written as a
  numbered list under "Reply with a number:" (localized), and a reply that is
  just that number chooses the option (the last options per conversation are
  kept in memory, bounded);
* answers are split within Twilio's 1600-character body limit, the contact
  block in the last message;
* the reply goes out from the number the person wrote to (WhatsApp or SMS),
  by Twilio's REST API without blocking Rasa (the twilio client would);
* the sender id is a keyed pseudonym of the phone number; no phone number,
  message text or location is logged or passed to Rasa.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any, Awaitable, Callable, Dict, Mapping, Optional, Text
from urllib.parse import parse_qsl

import aiohttp
from multidict import MultiDict
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.twilio import TwilioInput, TwilioOutput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels import rendering
from bot.channels.platform import PlatformInput, RenderedOutput
from bot.channels.rendering import ChannelSettingError

logger = logging.getLogger(__name__)

PLATFORM = "whatsapp"
ACCOUNT_SID = "HELPLINE_TWILIO_ACCOUNT_SID"
AUTH_TOKEN = "HELPLINE_TWILIO_AUTH_TOKEN"
WHATSAPP_NUMBER = "HELPLINE_TWILIO_WHATSAPP_NUMBER"
API_URL = "HELPLINE_TWILIO_API_URL"
PUBLIC_URL = "HELPLINE_PUBLIC_URL"
DEFAULT_API_URL = "https://api.twilio.com"
SIGNATURE_HEADER = "X-Twilio-Signature"
WEBHOOK_PATH = "/webhooks/whatsapp/webhook"
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'


def signed_fields(body: bytes) -> MultiDict:
    """The form fields as Twilio signed them: blank ones too (Sanic's form drops
    them, and a photo comes with an empty Body)."""
    text = body.decode("utf-8", errors="replace")
    return MultiDict(parse_qsl(text, keep_blank_values=True))


class TwilioSettings:
    def __init__(self, account_sid: str, auth_token: str, number: str, public_url: str, api_url: str) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.number = number  # "+358...", without the "whatsapp:" prefix
        self.public_url = public_url
        self.api_url = api_url

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["TwilioSettings"]:
        values = rendering.channel_variables(
            "WhatsApp (Twilio)",
            [ACCOUNT_SID, AUTH_TOKEN, WHATSAPP_NUMBER, PUBLIC_URL],
            [API_URL],
            env,
            switches=[ACCOUNT_SID, AUTH_TOKEN, WHATSAPP_NUMBER],
        )
        if values is None:
            return None
        if not values[ACCOUNT_SID].startswith("AC"):
            raise ChannelSettingError(f"{ACCOUNT_SID} must be the Account SID (starts with AC)")
        number = values[WHATSAPP_NUMBER].replace("whatsapp:", "").replace(" ", "")
        if not number.startswith("+") or not number[1:].isdigit():
            raise ChannelSettingError(
                f"{WHATSAPP_NUMBER} must be the sender number in international format (+...)"
            )
        return cls(
            values[ACCOUNT_SID],
            values[AUTH_TOKEN],
            number,
            rendering.checked_url(PUBLIC_URL, values[PUBLIC_URL]),
            rendering.checked_url(API_URL, values[API_URL] or DEFAULT_API_URL),
        )

    @property
    def messages_url(self) -> str:
        return f"{self.api_url}/2010-04-01/Accounts/{self.account_sid}/Messages.json"


class HelplineWhatsAppOutput(RenderedOutput, TwilioOutput):
    """Sends rendered answers with Twilio's Messages API (async, no retries storm)."""

    def __init__(self, settings: TwilioSettings, input_channel: "HelplineWhatsAppInput") -> None:
        super().__init__(settings.account_sid, settings.auth_token, settings.number)
        self.channel_settings = settings
        self.input_channel = input_channel
        self.platform_api = rendering.ApiClient("Twilio")

    async def _send_message(self, message_data: Dict[Text, Any]) -> Optional[Dict[str, Any]]:
        fields = {"To": message_data["to"], "From": message_data["from_"]}
        if message_data.get("body"):
            fields["Body"] = message_data["body"]
        if message_data.get("media_url"):
            fields["MediaUrl"] = message_data["media_url"][0]
        status, body = await self.platform_api.post(
            self.channel_settings.messages_url,
            data=fields,
            auth=aiohttp.BasicAuth(self.channel_settings.account_sid, self.channel_settings.auth_token),
        )
        return body if 200 <= status < 300 else None

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        prepared = self._address_and_rendering(recipient_id, message, rendering.TWILIO_BODY_LIMIT)
        if prepared is None:
            return
        (to, from_), _, rendered = prepared
        for chunk in rendered.chunks:  # in order: each waits for Twilio to accept the last
            if await self._send_message({"to": to, "from_": from_, "body": chunk}) is None:
                return




class HelplineWhatsAppInput(PlatformInput, TwilioInput):
    """Twilio input channel for WhatsApp and SMS; switched off (404) without its variables."""

    PLATFORM, LABEL = PLATFORM, "WhatsApp (Twilio)"
    VARIABLES = (ACCOUNT_SID, AUTH_TOKEN, WHATSAPP_NUMBER, PUBLIC_URL)
    SETTINGS, OUTPUT = TwilioSettings, HelplineWhatsAppOutput

    def __init__(self, settings: Optional[TwilioSettings]) -> None:
        super().__init__(
            settings.account_sid if settings else None,
            settings.auth_token if settings else None,
            settings.number if settings else None,
            debug_mode=False,
        )
        # addresses: pseudonym -> (the person's address, the number they wrote to)
        self._remember_platform(settings)
        self.validator = RequestValidator(settings.auth_token) if settings else None

    def sender_id(self, address: str) -> str:
        assert self.settings is not None
        return rendering.pseudonym(PLATFORM, self.settings.auth_token, address)

    def signed_url(self, request: Request) -> str:
        assert self.settings is not None
        url = self.settings.public_url + request.path
        return f"{url}?{request.query_string}" if request.query_string else url

    def reply_from(self, sender: str, to: Optional[str]) -> str:
        """The number the person wrote to; else ours, on their platform."""
        assert self.settings is not None
        if to:
            return to
        prefix = "whatsapp:" if sender.startswith("whatsapp:") else ""
        return prefix + self.settings.number

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self._webhook_blueprint()

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.settings is None or self.validator is None:
                return response.json({"error": "channel_off"}, status=404)
            if len(request.body or b"") > rendering.MAX_WEBHOOK_BYTES:
                return response.json({"error": "too_large"}, status=413)
            form = signed_fields(request.body or b"")
            signature = request.headers.get(SIGNATURE_HEADER) or ""
            if not signature or not self.validator.validate(self.signed_url(request), form, signature):
                logger.warning("WhatsApp: rejected a webhook call without a valid Twilio signature.")
                return response.json({"error": "forbidden"}, status=403)
            sender = form.get("From")
            if not sender:
                return response.json({"error": "invalid_message"}, status=400)
            message_sid = form.get("MessageSid") or form.get("SmsMessageSid")
            if message_sid and self.seen.seen(message_sid):
                return response.text(EMPTY_TWIML, content_type="text/xml")
            body = form.get("Body") or ""
            sender_id = self.sender_id(sender)
            self.addresses.put(sender_id, (sender, self.reply_from(sender, form.get("To"))))
            if body.strip():
                text = self.options.resolve(sender_id, body) or rendering.typed_text(body)
            else:  # a photo, voice message, location ...: not passed on
                text = rendering.NOT_TEXT_PAYLOAD
            try:
                await on_new_message(
                    UserMessage(text, self.get_output_channel(), sender_id, input_channel=self.name())
                )
                if message_sid:
                    self.seen.confirm(message_sid)  # handled: a retry is a duplicate
            except asyncio.CancelledError:
                # the server is stopping or the caller went away: not swallowed, so the
                # platform (or the gateway) sees no success and delivers it again
                logger.warning("WhatsApp: handling a message was cancelled.")
                raise
            except Exception as problem:  # logged without the message text
                logger.error("WhatsApp: handling a message failed: %s", type(problem).__name__)
                logger.debug("Handling failure detail", exc_info=True)
            return response.text(EMPTY_TWIML, content_type="text/xml")

        return webhook
