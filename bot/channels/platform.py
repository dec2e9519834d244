"""What the three messaging connectors share, beside rendering.

``RenderedOutput``: Rasa calls ``send_text_message``, ``send_text_with_buttons``
or ``send_quick_replies``; all go to the platform's ``send_response``, which
renders the whole message (chunks, contact block, buttons) for that platform.

``PlatformInput``: settings from the environment only (never credentials.yml),
switched off without them, the per-conversation memory (the real address
behind each pseudonym, the last numbered options, messages already seen: in
Redis in the production profile, so any Rasa instance may get any message or
retry, in memory in the embedded one; ``rendering.channel_store``) and one
output channel.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Text, Tuple

from bot.channels import rendering
from bot.channels.rendering import ChannelSettingError

logger = logging.getLogger(__name__)

# How long the channels remember (seconds): the address behind a pseudonym and
# the last numbered options for a day after the person's last message, the
# platform's message ids for an hour (docs/channels.md).
ADDRESS_SECONDS = 24 * 3600
OPTIONS_SECONDS = 24 * 3600
SEEN_SECONDS = 3600


class RenderedOutput:
    """Mix in before a Rasa output channel whose ``send_response`` renders."""

    def _address_and_rendering(
        self,
        recipient_id: Text,
        message: Dict[Text, Any],
        limit: int,
        fits_native_buttons: Optional[Callable[[List[Dict[str, str]]], bool]] = None,
    ) -> Optional[Tuple[Any, List[Dict[str, str]], rendering.Rendered]]:
        """The platform address behind the pseudonym, the message's valid buttons
        and its rendering (numbered options remembered for digit replies); None
        when the address is no longer known, and the answer is dropped."""
        address = self.input_channel.addresses.get(recipient_id)
        if address is None:
            logger.warning(
                "%s: no address for this conversation (restarted?); answer dropped.",
                self.input_channel.LABEL,
            )
            return None
        buttons = rendering.valid_buttons(message)
        native = fits_native_buttons(buttons) if fits_native_buttons else False
        rendered = rendering.render(message, limit, native_buttons=native)
        self.input_channel.options.remember(recipient_id, rendered.numbered)
        return address, buttons, rendered

    async def close_client(self) -> None:
        """Close the HTTP client to the platform's API (when the server stops)."""
        api = getattr(self, "platform_api", None)
        if api is not None:
            await api.close()

    async def send_text_message(self, recipient_id: Text, text: Text, **kwargs: Any) -> None:
        await self.send_response(recipient_id, {"text": text, **kwargs})

    async def send_text_with_buttons(
        self, recipient_id: Text, text: Text, buttons: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        kwargs.pop("button_type", None)
        await self.send_response(recipient_id, {"text": text, "buttons": buttons, **kwargs})

    async def send_quick_replies(
        self, recipient_id: Text, text: Text, quick_replies: List[Dict[Text, Any]], **kwargs: Any
    ) -> None:
        await self.send_response(recipient_id, {"text": text, "buttons": quick_replies, **kwargs})


class PlatformInput:
    """Mix in before a Rasa input channel. Subclasses set the class attributes
    and call ``_remember_platform(settings)`` in ``__init__``."""

    PLATFORM: str = ""  # the channel's name and webhook path segment
    LABEL: str = ""  # how operators call it
    VARIABLES: tuple = ()  # the environment variables that switch it on
    SETTINGS: Any = None  # has from_env() -> settings or None
    OUTPUT: Any = None  # the output channel class: OUTPUT(settings, input_channel)

    @classmethod
    def name(cls) -> Text:
        return cls.PLATFORM

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]):
        if credentials:
            raise ChannelSettingError(
                f"Put no {cls.LABEL} credentials in credentials.yml: set "
                f"{', '.join(cls.VARIABLES)} in the environment (docs/channels.md)."
            )
        return cls(cls.SETTINGS.from_env())

    def _remember_platform(self, settings: Any) -> None:
        self.settings = settings
        # personal data (chat ids, phone numbers): kept for a day at most
        self.addresses = rendering.channel_store(self.PLATFORM, "addresses", ttl=ADDRESS_SECONDS)
        self.options = rendering.OptionMemory(
            store=rendering.channel_store(self.PLATFORM, "options", ttl=OPTIONS_SECONDS)
        )
        # the platform's own message ids (update_id, MessageSid, mid): retries come within the hour
        self.seen = rendering.channel_store(self.PLATFORM, "seen", ttl=SEEN_SECONDS)
        self._output = None
        logger.info("%s channel is %s.", self.LABEL, "on" if settings else "off (no variables set)")

    def _webhook_blueprint(self):
        """The platform's blueprint with its health route (404 while switched off)."""
        from sanic import Blueprint, response

        webhook = Blueprint(f"helpline_{self.PLATFORM}", self.__class__.__module__)

        @webhook.listener("after_server_stop")
        async def close_client(app, loop):
            # the outgoing HTTP client is closed with the server, not left to the GC
            if self._output is not None:
                await self._output.close_client()

        @webhook.route("/", methods=["GET"])
        async def health(request):
            if self.settings is None:
                return response.json({"error": "channel_off"}, status=404)
            return response.json({"status": "ok"})

        return webhook

    def get_output_channel(self):
        if self.settings is None:
            raise ChannelSettingError(f"The {self.LABEL} channel is switched off.")
        if self._output is None:
            self._output = self.OUTPUT(self.settings, self)
        return self._output
