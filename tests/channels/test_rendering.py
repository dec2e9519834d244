"""Rendering for messaging apps: limits, numbered options, digit replies, the contact block."""
from __future__ import annotations

import random

import pytest

from bot import catalogue
from bot.channels import rendering
from bot.channels.rendering import (
    BoundedStore,
    ChannelSettingError,
    OptionMemory,
    channel_variables,
    checked_url,
    digit_choice,
    render,
    split_text,
    typed_text,
    utf16_len,
)

from .conftest import contacts_present, in_language, plain

LANGUAGES = list(catalogue.languages())
PHONE = str(catalogue.facts()["phone"])
EMAIL = str(catalogue.facts()["email"])
LIMITS = (rendering.TWILIO_BODY_LIMIT, rendering.MESSENGER_TEXT_LIMIT, rendering.TELEGRAM_TEXT_LIMIT)


def words(text: str) -> list:
    return plain(text).split()


def long_answer(language: str, repeat: int) -> str:
    """A long answer made of the language's real texts, with the phone inside."""
    keys = ["what_is_trafficking", "who_to_contact", "how_to_get_admitted", "services_offered"]
    return "\n\n".join(catalogue.text(key, language) for key in keys * repeat)


# ---------------------------------------------------------------- split_text


def test_short_text_is_one_chunk():
    assert split_text("  Hello.  ", 10) == ["Hello."]
    assert split_text("", 10) == []


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("limit", [60, 200, 1600])
def test_chunks_keep_every_word_within_the_limit(language, limit):
    text = long_answer(language, 3)
    chunks = split_text(text, limit, (PHONE, EMAIL))
    assert all(0 < utf16_len(c) <= limit for c in chunks)
    if language not in ("zh", "th"):  # no spaces between words: cut elsewhere
        assert words(" ".join(chunks)) == words(text)
    assert "".join("".join(chunks).split()) == "".join(text.split())


def test_paragraphs_then_sentences_then_words():
    para = "First sentence here. Second sentence here."
    text = f"{para}\n\n{para}"
    assert split_text(text, len(para)) == [para, para]
    assert split_text(para, 25) == ["First sentence here.", "Second sentence here."]
    assert split_text("aaaa bbbb cccc", 9) == ["aaaa bbbb", "cccc"]
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]


def test_cjk_sentences_split_without_spaces():
    text = "这是第一句。这是第二句。这是第三句。"
    assert split_text(text, 12) == ["这是第一句。这是第二句。", "这是第三句。"]


def test_the_phone_number_and_email_are_never_cut():
    text = ("word " * 30) + f"call {PHONE} or write {EMAIL} now " + ("word " * 30)
    for limit in range(len(EMAIL), 90):
        chunks = split_text(text, limit, (PHONE, EMAIL))
        assert all(utf16_len(c) <= limit for c in chunks)
        assert any(PHONE in c for c in chunks), limit
        assert any(EMAIL in c for c in chunks), limit
    for limit in range(len(PHONE), len(EMAIL)):  # an address longer than the limit must be cut
        chunks = split_text(f"call {PHONE} now", limit, (PHONE, EMAIL))
        assert any(PHONE in c for c in chunks), limit


def test_limits_count_utf16_like_the_platforms():
    emoji = "🙂" * 10  # 2 UTF-16 units each
    assert utf16_len(emoji) == 20
    assert [utf16_len(c) for c in split_text(emoji, 8)] == [8, 8, 4]


# ---------------------------------------------------------------- render


def message(language: str, text: str, buttons=None) -> dict:
    return {
        "text": f"{text}\n\n{catalogue.text('contact_block', language)}",
        "buttons": buttons or [],
        "language": language,
        "rtl": catalogue.languages()[language].rtl,
    }


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("native", [True, False])
def test_the_contact_block_is_always_in_the_last_chunk(language, limit, native):
    buttons = catalogue.question_buttons(language) + catalogue.language_buttons()
    for repeat in (1, 4, 12):
        rendered = render(message(language, long_answer(language, repeat), buttons), limit, native)
        assert all(utf16_len(c) <= limit for c in rendered.chunks)
        assert in_language(rendered.chunks[-1], language)
        assert contacts_present(rendered.chunks[-1])
        assert sum(catalogue.text("contact_block", language) in plain(c) for c in rendered.chunks) == 1


def test_the_contact_block_becomes_its_own_chunk_when_it_does_not_fit():
    block = catalogue.text("contact_block", "en")
    limit = len(block) + 10
    rendered = render(message("en", "A" * 10 + " " + "B" * 10), limit, True)
    assert rendered.chunks == ["A" * 10 + " " + "B" * 10, block]


@pytest.mark.parametrize("seed", range(30))
def test_random_lengths_never_lose_the_contacts(seed):
    rng = random.Random(seed)
    language = rng.choice(LANGUAGES)
    limit = rng.randint(len(catalogue.text("contact_block", language)) + 5, 2500)
    text = " ".join(rng.choice(["word", "sentence.", "\n\n", "x" * rng.randint(1, 300)]) for _ in range(400))
    rendered = render(message(language, text), limit, False)
    assert all(0 < utf16_len(c) <= limit for c in rendered.chunks)
    assert in_language(rendered.chunks[-1], language)


def test_a_message_without_the_contact_block_gets_it():
    rendered = render({"text": "Vastaus.", "language": "fi"}, 1600, False)
    assert rendered.chunks == [f"Vastaus.\n\n{catalogue.text('contact_block', 'fi')}"]
    rendered = render({"text": "", "buttons": [], "language": "sv"}, 1600, False)
    assert rendered.chunks == [catalogue.text("contact_block", "sv")]


def test_a_message_without_a_language_keeps_its_contact_block_language():
    text = f"Svar.\n\n{catalogue.text('contact_block', 'sv')}"
    assert render({"text": text}, 1600, False).chunks == [text]


@pytest.mark.parametrize("language", ["fi", "ar", "zh"])
def test_buttons_become_numbered_options_before_the_contact_block(language):
    buttons = catalogue.question_buttons(language)
    rendered = render(message(language, catalogue.text("greet", language), buttons), 1600, False)
    text = plain("\n\n".join(rendered.chunks))
    expected = "\n".join(
        [catalogue.text("ui_reply_with_number", language)]
        + [f"{n}. {b['title']}" for n, b in enumerate(buttons, 1)]
    )
    assert expected in text
    assert text.index(expected) < text.index(catalogue.text("contact_block", language))
    assert rendered.numbered == [b["payload"] for b in buttons] and rendered.buttons == []


def test_native_buttons_stay_buttons():
    buttons = catalogue.question_buttons("fi")
    rendered = render(message("fi", "Hei.", buttons), 4096, True)
    assert rendered.buttons == buttons and rendered.numbered == []
    assert catalogue.text("ui_reply_with_number", "fi") not in rendered.chunks[-1]


def test_the_phone_number_reads_left_to_right_in_rtl_text_only():
    ar = render(message("ar", catalogue.text("who_to_contact", "ar")), 1600, False).chunks
    fi = render(message("fi", catalogue.text("who_to_contact", "fi")), 1600, False).chunks
    isolated = f"{rendering.LRI}{PHONE}{rendering.PDI}"
    assert all(c.count(PHONE) == c.count(isolated) for c in ar) and isolated in ar[-1]
    assert rendering.LRI not in "".join(fi) and PHONE in fi[-1]
    assert rendering.tappable_phone(rendering.tappable_phone(PHONE, True), True) == isolated


# ---------------------------------------------------------------- digit replies


@pytest.mark.parametrize(
    "text, number",
    [("2", 2), (" 2. ", 2), ("2)", 2), ("12", 12), ("٢", 2), ("۳", 3), ("２", 2),
     ("2a", None), ("", None), (None, None), ("1234", None), ("two", None), ("-1", None)],
)
def test_digit_choice(text, number):
    assert digit_choice(text) == number


def test_option_memory_maps_digits_to_the_latest_options_per_sender():
    memory = OptionMemory()
    memory.remember("a", ["/what_is_trafficking", "/who_to_contact"])
    memory.remember("b", ["/greet"])
    assert memory.resolve("a", "2") == "/who_to_contact"
    assert memory.resolve("b", "1") == "/greet" and memory.resolve("b", "2") is None
    assert memory.resolve("a", "0") is None and memory.resolve("a", "hello") is None
    assert memory.resolve("c", "1") is None
    memory.remember("a", [])  # a later answer without options
    assert memory.resolve("a", "1") is None


def test_memories_are_bounded_in_size_and_time(monkeypatch):
    store: BoundedStore[str, int] = BoundedStore(max_items=3, ttl=60)
    for n in range(5):
        store.put(str(n), n)
    assert len(store) == 3 and store.get("0") is None and store.get("4") == 4
    now = rendering.time.monotonic()
    monkeypatch.setattr(rendering.time, "monotonic", lambda: now + 61)
    assert store.get("4") is None
    assert store.seen("x") is False and store.seen("x") is True


# ---------------------------------------------------------------- input and settings


def test_typed_text_is_never_an_intent_and_is_bounded():
    assert typed_text("/restart") == "restart"
    assert typed_text('//greet{"language": "fi"}') == 'greet{"language": "fi"}'
    assert typed_text("a" * 5000, 1000) == "a" * 1000
    assert len(typed_text("a" * 5000)) == rendering.DEFAULT_MAX_USER_CHARS


def test_sender_pseudonyms_are_stable_keyed_and_opaque():
    one = rendering.pseudonym("whatsapp", "key", "whatsapp:+358401234567")
    assert one == rendering.pseudonym("whatsapp", "key", "whatsapp:+358401234567")
    assert one != rendering.pseudonym("whatsapp", "other key", "whatsapp:+358401234567")
    assert one != rendering.pseudonym("telegram", "key", "whatsapp:+358401234567")
    assert "358401234567" not in one and len(one) == len("whatsapp-") + 32


def test_channel_variables_all_or_none():
    names = ["HELPLINE_X_ONE", "HELPLINE_X_TWO"]
    assert channel_variables("X", names, env={}) is None
    assert channel_variables("X", names, env={"HELPLINE_X_ONE": " ", "HELPLINE_X_TWO": ""}) is None
    with pytest.raises(ChannelSettingError, match="^HELPLINE_X_TWO is not set"):
        channel_variables("X", names, env={"HELPLINE_X_ONE": "1"})
    assert channel_variables("X", names, env={"HELPLINE_X_ONE": "1", "HELPLINE_X_TWO": "2"})["HELPLINE_X_TWO"] == "2"


@pytest.mark.parametrize(
    "url, ok",
    [("https://api.example.org/", True), ("http://127.0.0.1:9/x", True), ("http://localhost:9", True),
     ("http://api.example.org", False), ("ftp://x", False), ("https://x/?a=1", False), ("nonsense", False)],
)
def test_api_and_public_urls_must_be_https_except_on_loopback(url, ok):
    if ok:
        assert not checked_url("HELPLINE_X_URL", url).endswith("/")
    else:
        with pytest.raises(ChannelSettingError, match="HELPLINE_X_URL"):
            checked_url("HELPLINE_X_URL", url)
