"""Facebook Messenger: Rasa's connector, configured from the environment, signed.

On when ``HELPLINE_MESSENGER_PAGE_TOKEN``, ``HELPLINE_MESSENGER_APP_SECRET`` and
``HELPLINE_MESSENGER_VERIFY_TOKEN`` are set (``HELPLINE_MESSENGER_API_URL``
only for tests, or to change the Graph API version); otherwise every route
answers 404. The webhook is ``/webhooks/messenger/webhook``.

Differences from ``rasa.core.channels.facebook``:

* every POST must carry ``X-Hub-Signature-256`` (HMAC-SHA256 of the raw body
  with the app secret), compared in constant time; otherwise 403 and nothing
  else; the verification GET compares the verify token in constant time too;
* every messaging event of a batch is handled (Rasa's stops at the first);
  echoes, reads and deliveries are ignored; attachments are not passed on;
* buttons become quick replies when they fit Messenger's limits (at most 13,
  titles of at most 20 characters); otherwise a numbered list in the text,
  quick replies "1. Title…" for the first 13, and a typed number works too;
* answers are split within 2000 characters, the contact block in the last
  message; sending is asynchronous (Rasa's client blocks) with
  ``appsecret_proof``;
* the sender id is a keyed pseudonym of the page-scoped id; no text or id in
  the logs.
"""
from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
from typing import Any, Awaitable, Callable, Dict, List, Mapping, Optional, Text, Tuple, Union

from fbmessenger import MessengerClient
from rasa.core.channels.channel import UserMessage
from rasa.core.channels.facebook import FacebookInput, MessengerBot
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels import rendering
from bot.channels.platform import PlatformInput, RenderedOutput

logger = logging.getLogger(__name__)

PLATFORM = "messenger"
PAGE_TOKEN = "HELPLINE_MESSENGER_PAGE_TOKEN"
APP_SECRET = "HELPLINE_MESSENGER_APP_SECRET"
VERIFY_TOKEN = "HELPLINE_MESSENGER_VERIFY_TOKEN"
API_URL = "HELPLINE_MESSENGER_API_URL"
DEFAULT_API_URL = "https://graph.facebook.com/v21.0"
SIGNATURE_HEADER = "X-Hub-Signature-256"
WEBHOOK_PATH = "/webhooks/messenger/webhook"


class MessengerSettings:
    def __init__(self, page_token: str, app_secret: str, verify_token: str, api_url: str) -> None:
        self.page_token = page_token
        self.app_secret = app_secret
        self.verify_token = verify_token
        self.api_url = api_url

    @classmethod
    def from_env(cls, env: Optional[Mapping[str, str]] = None) -> Optional["MessengerSettings"]:
        values = rendering.channel_variables(
            "Messenger", [PAGE_TOKEN, APP_SECRET, VERIFY_TOKEN], [API_URL], env
        )
        if values is None:
            return None
        return cls(
            values[PAGE_TOKEN],
            values[APP_SECRET],
            values[VERIFY_TOKEN],
            rendering.checked_url(API_URL, values[API_URL] or DEFAULT_API_URL),
        )

    @property
    def appsecret_proof(self) -> str:
        return hmac.new(
            self.app_secret.encode("utf-8"), self.page_token.encode("utf-8"), hashlib.sha256
        ).hexdigest()


def signature_of(app_secret: str, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends with ``body``."""
    return "sha256=" + hmac.new(app_secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def fits_quick_replies(buttons: List[Dict[str, str]]) -> bool:
    return len(buttons) <= rendering.MESSENGER_MAX_QUICK_REPLIES and all(
        len(b["title"]) <= rendering.MESSENGER_QUICK_REPLY_TITLE_LIMIT
        and len(b["payload"]) <= 1000
        for b in buttons
    )


def short_title(title: str, limit: int = rendering.MESSENGER_QUICK_REPLY_TITLE_LIMIT) -> str:
    """A quick reply title within Messenger's limit, cut with an ellipsis."""
    if rendering.utf16_len(title) <= limit:
        return title
    while rendering.utf16_len(title) > limit - 1:
        title = title[:-1]
    return title.rstrip() + "…"


def quick_replies(rendered: rendering.Rendered, titles: List[str]) -> List[Dict[str, str]]:
    """Titled quick replies when they fit; else "1. Title…" for the numbered options
    (the first 13; the list in the text has them all, and typing the number works)."""
    if rendered.buttons:
        choices = [(b["title"], b["payload"]) for b in rendered.buttons]
    else:
        choices = [
            (short_title(f"{number}. {title}"), payload)
            for number, (title, payload) in enumerate(zip(titles, rendered.numbered), 1)
        ]
    return [
        {"content_type": "text", "title": title, "payload": payload}
        for title, payload in choices[: rendering.MESSENGER_MAX_QUICK_REPLIES]
    ]


class HelplineMessengerOutput(RenderedOutput, MessengerBot):
    """Sends rendered answers with the Send API (async, appsecret_proof)."""

    def __init__(self, settings: MessengerSettings, input_channel: "HelplineMessengerInput") -> None:
        super().__init__(MessengerClient(settings.page_token, app_secret=settings.app_secret))
        self.settings = settings
        self.input_channel = input_channel
        self.platform_api = rendering.ApiClient("Messenger")

    async def post_message(self, psid: str, message: Dict[str, Any]) -> bool:
        status, _ = await self.platform_api.post(
            f"{self.settings.api_url}/me/messages",
            params={
                "access_token": self.settings.page_token,
                "appsecret_proof": self.settings.appsecret_proof,
            },
            json={"recipient": {"id": psid}, "messaging_type": "RESPONSE", "message": message},
        )
        return 200 <= status < 300

    async def send_response(self, recipient_id: Text, message: Dict[Text, Any]) -> None:
        prepared = self._address_and_rendering(
            recipient_id, message, rendering.MESSENGER_TEXT_LIMIT, fits_quick_replies
        )
        if prepared is None:
            return
        psid, buttons, rendered = prepared
        replies = quick_replies(rendered, [b["title"] for b in buttons])
        for number, chunk in enumerate(rendered.chunks, 1):
            outgoing: Dict[str, Any] = {"text": chunk}
            if replies and number == len(rendered.chunks):
                outgoing["quick_replies"] = replies
            if not await self.post_message(psid, outgoing):
                return




    async def send_action(self, recipient_id: Text, sender_action: Text) -> None:
        return None  # no typing indicators: fewer calls, nothing to leak

    async def send_custom_json(
        self, recipient_id: Text, json_message: Union[List, Dict[Text, Any]], **kwargs: Any
    ) -> None:
        psid = self.input_channel.addresses.get(recipient_id)
        if psid is not None and isinstance(json_message, dict):
            await self.post_message(psid, json_message)


class HelplineMessengerInput(PlatformInput, FacebookInput):
    """Messenger input channel; switched off (404) without its variables."""

    PLATFORM, LABEL, VARIABLES = PLATFORM, "Messenger", (PAGE_TOKEN, APP_SECRET, VERIFY_TOKEN)
    SETTINGS, OUTPUT = MessengerSettings, HelplineMessengerOutput

    def __init__(self, settings: Optional[MessengerSettings]) -> None:
        super().__init__(
            settings.verify_token if settings else None,  # type: ignore[arg-type]
            settings.app_secret if settings else None,  # type: ignore[arg-type]
            settings.page_token if settings else None,  # type: ignore[arg-type]
        )
        self._remember_platform(settings)  # addresses: pseudonym -> page-scoped id

    def sender_id(self, psid: str) -> str:
        assert self.settings is not None
        return rendering.pseudonym(PLATFORM, self.settings.app_secret, psid)

    def user_text(self, event: Dict[str, Any]) -> Optional[Tuple[str, bool]]:
        """(text for Rasa, is a payload) of one messaging event; None to ignore it."""
        message = event.get("message")
        if isinstance(message, dict):
            if message.get("is_echo"):
                return None  # our own message, echoed back
            mid = message.get("mid")
            if isinstance(mid, str) and self.seen.seen(mid):
                return None  # delivered again
            payload = (message.get("quick_reply") or {}).get("payload")
            if rendering.is_payload(payload):
                return payload, True
            text = message.get("text")
            if isinstance(text, str) and text.strip():
                return text, False
            return rendering.NOT_TEXT_PAYLOAD, True  # attachments, stickers: not passed on
        postback = event.get("postback")
        if isinstance(postback, dict):  # "Get Started" and similar
            payload = postback.get("payload")
            return (payload if rendering.is_payload(payload) else "/greet"), True
        return None  # reads, deliveries, reactions ...

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        webhook = self._webhook_blueprint()

        @webhook.route("/webhook", methods=["GET"])
        async def verify(request: Request) -> HTTPResponse:
            if self.settings is None:
                return response.json({"error": "channel_off"}, status=404)
            if request.args.get("hub.mode") == "subscribe" and rendering.same_secret(
                request.args.get("hub.verify_token"), self.settings.verify_token
            ):
                return response.text(request.args.get("hub.challenge") or "")
            logger.warning("Messenger: rejected a webhook verification with a wrong verify token.")
            return response.json({"error": "forbidden"}, status=403)

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            if self.settings is None:
                return response.json({"error": "channel_off"}, status=404)
            body = request.body or b""
            if len(body) > rendering.MAX_WEBHOOK_BYTES:
                return response.json({"error": "too_large"}, status=413)
            expected = signature_of(self.settings.app_secret, body)
            if not rendering.same_secret(request.headers.get(SIGNATURE_HEADER), expected):
                logger.warning("Messenger: rejected a webhook call without a valid signature.")
                return response.json({"error": "forbidden"}, status=403)
            try:
                update = json.loads(body)
            except (ValueError, RecursionError):
                return response.json({"error": "invalid_json"}, status=400)
            if not isinstance(update, dict) or update.get("object") != "page":
                return response.text("EVENT_RECEIVED")
            output = self.get_output_channel()
            entries = update.get("entry")
            for entry in entries if isinstance(entries, list) else []:
                events = entry.get("messaging") if isinstance(entry, dict) else None
                for event in events if isinstance(events, list) else []:
                    try:
                        psid = (event.get("sender") or {}).get("id")
                        found = self.user_text(event) if isinstance(psid, str) and psid else None
                    except (AttributeError, TypeError):  # not the Messenger Platform's shape
                        continue
                    if found is None:
                        continue
                    text, is_payload = found
                    sender_id = self.sender_id(psid)
                    self.addresses.put(sender_id, psid)
                    if not is_payload:
                        text = self.options.resolve(sender_id, text) or rendering.typed_text(text)
                    try:
                        await on_new_message(
                            UserMessage(text, output, sender_id, input_channel=self.name())
                        )
                        mid = (event.get("message") or {}).get("mid")
                        if isinstance(mid, str):
                            self.seen.confirm(mid)  # handled: a redelivery is a duplicate
                    except asyncio.CancelledError:
                        # the server is stopping or the caller went away: not swallowed, so the
                        # platform (or the gateway) sees no success and delivers it again
                        logger.warning("Messenger: handling a message was cancelled.")
                        raise
                    except Exception as problem:  # logged without the message text
                        logger.error("Messenger: handling a message failed: %s", type(problem).__name__)
                        logger.debug("Handling failure detail", exc_info=True)
            return response.text("EVENT_RECEIVED")

        return webhook
