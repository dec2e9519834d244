"""The answer catalogue: complete in every language, facts inserted, never retyped."""
import re

import pytest

from bot import catalogue
from tests.conftest import LANGUAGES, contacts_in

ANSWER_KEYS = [
    k for k in catalogue.raw_texts("en") if not k.startswith(("ui_", "button_", "contact_block"))
]


def test_catalogue_has_no_problems():
    assert catalogue.problems() == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_language_has_exactly_the_reference_keys(language):
    assert set(catalogue.raw_texts(language)) == set(catalogue.raw_texts("en"))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("key", ANSWER_KEYS)
def test_every_reply_carries_the_contacts(language, key):
    reply = catalogue.reply(key, language)
    assert contacts_in(reply, language)
    assert "{" not in reply and "}" not in reply, "a placeholder was left unfilled"


@pytest.mark.parametrize("language", LANGUAGES)
def test_emergency_puts_112_first(language):
    reply = catalogue.reply("emergency", language)
    facts = catalogue.fact_values(language)
    first_digit_run = re.search(r"\d[\d ]*", reply).group().strip()
    assert first_digit_run == facts["emergency"]
    assert reply.index(facts["emergency"]) < reply.index(facts["phone"])


def test_a_retyped_fact_is_reported(monkeypatch):
    texts = dict(catalogue.raw_texts("en"))
    texts["thanks"] = "Call " + catalogue.facts()["phone"] + "."
    original = catalogue.raw_texts
    monkeypatch.setattr(catalogue, "raw_texts", lambda code: texts if code == "en" else original(code))
    assert any("en.thanks: retypes phone" in p for p in catalogue.problems())


def test_an_unknown_placeholder_and_a_missing_fact_are_reported(monkeypatch):
    texts = dict(catalogue.raw_texts("fi"))
    texts["more_information"] = "Katso {webiste}."
    original = catalogue.raw_texts
    monkeypatch.setattr(catalogue, "raw_texts", lambda code: texts if code == "fi" else original(code))
    found = catalogue.problems()
    assert "fi.more_information: unknown placeholder {webiste}" in found
    assert "fi.more_information: lacks {website}" in found


def test_the_phone_link_is_derived_from_the_one_fact():
    assert catalogue.phone_uri() == "tel:" + catalogue.facts()["phone"].replace(" ", "")


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_language_picker_names_each_language_in_itself(language):
    titles = [b["title"] for b in catalogue.language_buttons()]
    assert catalogue.languages()[language].name in titles
    assert len(titles) == len(LANGUAGES)


def test_only_the_websites_the_source_names():
    """The source names manniskohandel.fi (and, in Finnish, ihmiskauppa.fi); no
    other address, such as an English sub-page, may be stated."""
    assert "ihmiskauppa.fi" in catalogue.text("more_information", "fi")
    assert "manniskohandel.fi" in catalogue.text("more_information", "sv")
    for language in LANGUAGES:
        site = catalogue.fact_values(language)["website"]
        assert site in ("ihmiskauppa.fi", "manniskohandel.fi"), (language, site)
        assert "/" not in site


def test_close_neighbours_are_ours_mutual_and_told_apart_by_their_letters():
    """languages.yml ``close``: a conversation keeps its language against a
    close neighbour unless the message shows the neighbour's own letters, so
    each neighbour must have letters the other lacks, at least one way."""
    languages = catalogue.languages()
    for code, language in languages.items():
        for other in language.close:
            assert other in languages and code in languages[other].close, (code, other)
            assert other != code
            assert catalogue.alphabet(other) - catalogue.alphabet(code) or \
                catalogue.alphabet(code) - catalogue.alphabet(other), (code, other)
    assert catalogue.shows_letters_of("et", "fi", "kas ma võin ise helistada")
    assert not catalogue.shows_letters_of("et", "fi", "mut jos mä lähen sieltä nii menetänks mä oleskeluluvan")
    assert catalogue.shows_letters_of("uk", "ru", "що таке торгівля людьми")


def test_a_sentence_said_alone_stays_the_start_of_its_whole_answer(monkeypatch):
    texts = dict(catalogue.raw_texts("fi"))
    texts["may_be_trafficking"] = texts["may_be_trafficking"].rstrip(".") + " nyt."
    original = catalogue.raw_texts
    monkeypatch.setattr(catalogue, "raw_texts", lambda code: texts if code == "fi" else original(code))
    assert any("fi.may_be_trafficking: is not the start of situation_self" in p for p in catalogue.problems())
