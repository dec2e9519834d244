"""The widget in Chromium against the real stack (gateway, Rasa, action server)."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from bot import catalogue
from bot.settings import Settings
from bot.stack import Stack
from tests.browser.test_widget import BOT, WIDGET, ask, assert_contact_bar
from tests.conftest import MODEL, contacts_in
from tests.e2e.conftest import free_port

pytestmark = [pytest.mark.browser, pytest.mark.e2e]


@pytest.fixture(scope="module")
def real_gateway(tmp_path_factory):
    settings = Settings(rasa_port=free_port(), action_port=free_port(), gateway_port=free_port(), model_path=MODEL)
    with Stack(settings, log_dir=Path(tmp_path_factory.mktemp("browser-stack-logs"))):
        yield f"http://127.0.0.1:{settings.gateway_port}"


def conversation_text(page):
    return "\n".join(page.locator(BOT).all_inner_texts())


@pytest.mark.parametrize(
    "question, language, key",
    [
        ("Mitä ihmiskauppa oikein tarkoittaa?", "fi", "what_is_trafficking"),
        ("بمن أتصل إذا كنت ضحية؟", "ar", "who_to_contact"),
    ],
)
def test_a_question_is_answered_by_the_real_bot_in_its_language(open_page, real_gateway, question, language, key):
    page, _ = open_page(base=real_gateway)
    ask(page, question)
    expect(page.locator(WIDGET)).to_have_attribute("lang", language)
    text = conversation_text(page)
    assert catalogue.text(key, language) in text
    assert contacts_in(text, language)
    assert_contact_bar(page, language)
    expect(page.locator(WIDGET)).to_have_attribute("dir", "rtl" if language == "ar" else "ltr")
