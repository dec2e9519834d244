"""Rasa input channels of our own (referenced from credentials.yml).

``rest``: the web gateway's channel. ``telegram``, ``whatsapp`` (Twilio) and
``messenger``: the messaging apps, configured from environment variables and
switched off without them (docs/channels.md); ``rendering`` fits answers to
each platform (limits, numbered options, the contact block in the last chunk).
"""
