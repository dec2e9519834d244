"""Text as the bot's matchers see it: lower case NFKC without invisible
characters, and the same without accents (people often type without
diacritics: 'mitä' -> 'mita').

One module for the language detector (bot/language.py), the danger layer
(bot/danger.py) and the action server's help words (actions/answer.py); it
needs only the standard library, so the action server's image copies it
(deploy/docker/actions.Dockerfile).
"""
from __future__ import annotations

import re
import unicodedata
from typing import Tuple

# Control, zero-width and direction characters: read as a space.
INVISIBLE = re.compile("[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]")


def normalise(text: str) -> str:
    """Lower case, NFKC, without control, zero-width or direction characters."""
    return INVISIBLE.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def strip_accents(word: str) -> str:
    """'mitä' -> 'mita': without combining marks."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def fold(text: str) -> Tuple[str, str]:
    """The text as the patterns see it: normalised, and also without accents."""
    lower = normalise(text)
    return lower, strip_accents(lower)


def folded(text: str) -> str:
    """The accent-free form alone."""
    return fold(text)[1]
