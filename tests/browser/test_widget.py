"""The chat widget as a person uses it: in headless Chromium, against the real
gateway with a fake Rasa (tests/browser/conftest.py)."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from bot import catalogue
from tests.browser.conftest import (
    CUSTOM_EXIT_URL,
    DEFAULT_EXIT_URL,
    ROOT,
    host_page,
)
from tests.conftest import contacts_in

pytestmark = pytest.mark.browser

WIDGET = ".hl-widget"
INPUT = ".hl-widget .hl-input"
BOT = ".hl-widget .hl-from-bot"
USER = ".hl-widget .hl-from-user"
SELECT = ".hl-widget select"
KEEP_IN_SESSION = 'data-storage="session"'


def ui(language):
    return catalogue.ui_strings(language)


def ask(page, text):
    """Type into the chat and press Enter; wait for the answer to one more message."""
    before = page.locator(BOT).count()
    page.fill(INPUT, text)
    page.press(INPUT, "Enter")
    expect(page.locator(BOT)).not_to_have_count(before)
    expect(page.locator(".hl-widget .hl-typing")).to_have_text("")
    return page.locator(BOT).nth(before)


def contact_bar(page):
    return {
        link.get_attribute("href"): link.inner_text()
        for link in page.locator(".hl-widget .hl-contacts a").all()
    }


def assert_contact_bar(page, language):
    strings = ui(language)
    texts = strings["texts"]
    bar = contact_bar(page)
    assert list(bar) == [strings["phone_uri"], "mailto:" + strings["email"], "tel:" + strings["emergency"]]
    assert texts["ui_phone_label"] in bar[strings["phone_uri"]] and strings["phone"] in bar[strings["phone_uri"]]
    assert texts["ui_email_label"] in bar["mailto:" + strings["email"]]
    assert strings["email"] in bar["mailto:" + strings["email"]]
    assert texts["ui_emergency_label"] in bar["tel:112"] and "112" in bar["tel:112"]
    expect(page.locator(".hl-widget .hl-contacts")).to_be_visible()


def storage(page):
    return page.evaluate(
        "() => ({session: Object.assign({}, sessionStorage), local: localStorage.length, cookie: document.cookie})"
    )


NOTHING_STORED = {"session": {}, "local": 0, "cookie": ""}


def choose_language(page, language):
    """Pick a language in the picker and apply it with its button."""
    page.select_option(SELECT, language)
    page.click(".hl-widget .hl-language-apply")


def sender_of(page, fake_rasa, first_message):
    """The conversation id the widget sent first_message with (kept in memory only)."""
    return next(r["sender"] for r in fake_rasa.received if r["message"] == first_message)


def test_the_contact_bar_is_there_before_anything_is_asked(open_page):
    page, watch = open_page()
    assert_contact_bar(page, "en")
    expect(page.locator(WIDGET)).to_have_attribute("dir", "ltr")
    expect(page.locator(".hl-widget .hl-exit")).to_have_text(ui("en")["texts"]["ui_quick_exit"])
    expect(page.get_by_label(ui("en")["texts"]["ui_input_label"])).to_be_visible()
    # The main questions are offered as real buttons without a request.
    expect(page.locator(".hl-widget .hl-starter button")).to_have_count(4)
    assert watch.api_calls() == 0
    assert storage(page) == NOTHING_STORED


@pytest.mark.parametrize("locale, language", [("fi-FI", "fi"), ("ar-EG", "ar"), ("de-DE", "en")])
def test_the_first_language_is_the_browsers_when_supported(open_page, locale, language):
    page, _ = open_page(locale=locale)
    assert_contact_bar(page, language)
    expect(page.locator(WIDGET)).to_have_attribute("lang", language)
    expect(page.locator(WIDGET)).to_have_attribute("dir", "rtl" if ui(language)["rtl"] else "ltr")
    expect(page.locator(".hl-widget select")).to_have_value(language)


def test_a_finnish_question_gets_a_finnish_answer_with_the_contacts(open_page, fake_rasa):
    page, _ = open_page()
    answer = ask(page, "Mitä on ihmiskauppa?")
    text = answer.locator(".hl-bubble").inner_text()
    assert catalogue.text("what_is_trafficking", "fi") in text
    assert contacts_in(text, "fi")
    expect(page.locator(USER)).to_have_text(["Mitä on ihmiskauppa?"])
    # The whole widget followed the answer's language.
    assert_contact_bar(page, "fi")
    expect(page.locator(WIDGET)).to_have_attribute("lang", "fi")
    expect(page.locator(".hl-widget .hl-send")).to_have_text(ui("fi")["texts"]["ui_send"])
    sender = sender_of(page, fake_rasa, "Mitä on ihmiskauppa?")
    assert re.fullmatch(r"[A-Za-z0-9_-]{8,64}", sender)
    assert fake_rasa.messages_from(sender) == ["Mitä on ihmiskauppa?"]
    assert storage(page) == NOTHING_STORED


def test_an_arabic_question_turns_the_widget_right_to_left(open_page, fake_rasa):
    page, _ = open_page()
    answer = ask(page, "ما هو الاتجار بالبشر؟")
    sender = sender_of(page, fake_rasa, "ما هو الاتجار بالبشر؟")
    assert contacts_in(answer.inner_text(), "ar")
    widget = page.locator(WIDGET)
    expect(widget).to_have_attribute("dir", "rtl")
    expect(widget).to_have_attribute("lang", "ar")
    assert_contact_bar(page, "ar")
    expect(page.locator(".hl-widget .hl-exit")).to_have_text(ui("ar")["texts"]["ui_quick_exit"])
    expect(page.locator(".hl-widget select")).to_have_value("ar")
    # The phone number keeps its digits in order inside the Arabic text.
    phones = answer.locator(".hl-fact", has_text=ui("ar")["phone"])
    assert phones.count() >= 1
    for index in range(phones.count()):
        expect(phones.nth(index)).to_have_attribute("dir", "ltr")
    expect(answer.locator("a")).to_have_count(0)
    # Right to left for real: the user's bubble sits on the left, the bot's on the right.
    user_box = page.locator(USER).first.bounding_box()
    bot_box = answer.bounding_box()
    assert user_box["x"] < bot_box["x"]

    # Choosing a language in the picker and applying it switches the page and tells the bot.
    choose_language(page, "fi")
    expect(widget).to_have_attribute("dir", "ltr")
    assert_contact_bar(page, "fi")
    expect(page.locator(BOT)).to_have_count(2)
    assert catalogue.text("change_language", "fi") in page.locator(BOT).last.inner_text()
    expect(page.locator(USER).last).to_have_text(ui("fi")["name"])
    assert fake_rasa.messages_from(sender)[-1] == '/change_language{"language": "fi"}'


def test_arrow_keys_on_the_language_select_send_nothing(open_page, fake_rasa):
    """WCAG 3.2.2: moving through the picker changes nothing; only an explicit choice does."""
    page, watch = open_page()
    page.evaluate(
        """() => { window.__changes = 0;
            document.querySelector('.hl-widget select').addEventListener('change', () => window.__changes++); }"""
    )
    page.focus(SELECT)
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "ArrowUp", "End", "Home", "ArrowDown"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    moved = page.locator(SELECT).input_value()
    assert moved != "en" and page.evaluate("() => window.__changes") > 0, "the arrows should move the select"
    assert watch.api_calls() == 0
    expect(page.locator(USER)).to_have_count(0)
    expect(page.locator(WIDGET)).to_have_attribute("lang", "en")
    assert_contact_bar(page, "en")

    # Enter on the picker is an explicit choice: the widget switches and tells the bot.
    page.keyboard.press("Enter")
    expect(page.locator(WIDGET)).to_have_attribute("lang", moved)
    expect(page.locator(USER)).to_have_text([ui(moved)["name"]])
    expect(page.locator(BOT)).to_have_count(1)
    assert watch.api_calls() == 1
    assert fake_rasa.received[-1]["message"] == f'/change_language{{"language": "{moved}"}}'

    # The apply button is named for what it does, in the current language.
    texts = ui(moved)["texts"]
    apply = page.get_by_role("button", name=f"{texts['ui_send']} {texts['ui_choose_language']}")
    expect(apply).to_have_count(1)
    # Applying the language already shown sends nothing.
    apply.click()
    page.wait_for_timeout(300)
    assert watch.api_calls() == 1


def test_a_language_button_from_the_bot_switches_the_widget(open_page):
    page, _ = open_page()
    ask(page, "languages?")
    page.locator(BOT).last.get_by_role("button", name=ui("fa")["name"]).click()
    expect(page.locator(WIDGET)).to_have_attribute("dir", "rtl")
    expect(page.locator(WIDGET)).to_have_attribute("lang", "fa")
    assert_contact_bar(page, "fa")
    assert contacts_in(page.locator(BOT).last.inner_text(), "fa")


def focused(page):
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            return {tag: el.tagName, cls: el.className, text: el.textContent,
                    outline: style.outlineStyle, width: parseFloat(style.outlineWidth)};
        }"""
    )


def test_the_chat_works_with_the_keyboard_alone(open_page):
    page, _ = open_page()
    order = []
    for _ in range(30):
        page.keyboard.press("Tab")
        now = focused(page)
        order.append(now["cls"])
        if "hl-input" in now["cls"]:
            break
    else:
        pytest.fail(f"Tab never reached the message field: {order}")
    # Quick exit first, then the contacts, the language, the conversation, the field.
    assert order[0] == "hl-exit"
    assert order[1:4] == ["hl-contact-link"] * 3
    assert order[4:6] == ["hl-select", "hl-language-apply"]
    page.keyboard.type("hei, apua")  # the fake's answer offers the main questions
    page.keyboard.press("Enter")
    expect(page.locator(BOT)).to_have_count(1)
    expect(page.locator(INPUT)).to_be_focused()

    # Back (Shift+Tab) from the field reaches the answer's buttons; Enter presses one.
    page.keyboard.press("Shift+Tab")
    button = focused(page)
    assert button["tag"] == "BUTTON" and "hl-choice" in button["cls"]
    assert button["outline"] != "none" and button["width"] >= 2, "keyboard focus must be visible"
    page.keyboard.press("Enter")
    expect(page.locator(USER).last).to_have_text(button["text"])
    expect(page.locator(BOT)).to_have_count(2)

    # Space presses a button too.
    page.keyboard.press("Shift+Tab")
    other = focused(page)
    assert "hl-choice" in other["cls"]
    page.keyboard.press(" ")
    expect(page.locator(USER)).to_have_count(3)
    expect(page.locator(USER).last).to_have_text(other["text"])
    expect(page.locator(BOT)).to_have_count(3)


def test_a_suggested_question_can_be_asked_with_the_keyboard(open_page):
    page, _ = open_page()
    first = page.locator(".hl-widget .hl-starter button").first
    title = first.inner_text()
    first.focus()
    page.keyboard.press("Enter")
    expect(page.locator(USER)).to_have_text([title])
    expect(page.locator(BOT)).to_have_count(1)
    assert catalogue.text("what_is_trafficking", "en") in page.locator(BOT).inner_text()
    # The pressed button is gone with the suggestions; focus stays in the conversation.
    assert page.evaluate("() => document.activeElement.classList.contains('hl-log')")


def assert_chat_is_gone(page, base, path="/"):
    """Back does not return to the chat; the tab's storage holds no chat."""
    page.go_back()
    assert page.url == base + "/healthz", f"Back led to {page.url}"
    assert storage(page) == NOTHING_STORED
    page.goto(base + path)
    page.wait_for_selector(".hl-widget")
    expect(page.locator(USER)).to_have_count(0)
    expect(page.locator(BOT)).to_have_count(0)
    assert storage(page) == NOTHING_STORED


def test_quick_exit_button_leaves_for_a_neutral_site_and_forgets_the_chat(open_page, gateway):
    # A site that opted in to sessionStorage: quick exit wipes what was stored.
    pages = {"/host.html": (host_page(KEEP_IN_SESSION), True)}
    page, _ = open_page(path="/healthz", host_pages=pages)
    page.goto(gateway + "/host.html")
    ask(page, "mitä on ihmiskauppa")
    assert list(storage(page)["session"]) == ["helpline-chat"], "opted in: kept for the tab until quick exit"
    page.get_by_role("button", name=ui("fi")["texts"]["ui_quick_exit"]).click()
    page.wait_for_url(DEFAULT_EXIT_URL)
    expect(page.locator("body")).to_have_text("Weather today")
    assert_chat_is_gone(page, gateway, "/host.html")


def test_escape_in_the_widget_leaves_for_the_exit_url_the_site_owner_chose(open_page, gateway):
    pages = {"/host.html": (host_page(f'data-exit-url="{CUSTOM_EXIT_URL}"'), True)}
    page, _ = open_page(path="/healthz", host_pages=pages)
    page.goto(gateway + "/host.html")
    ask(page, "hello")
    page.focus(INPUT)
    page.keyboard.press("Escape")
    page.wait_for_url(CUSTOM_EXIT_URL)
    assert_chat_is_gone(page, gateway, "/host.html")


HOST_WITH_CONTROLS = host_page(KEEP_IN_SESSION).replace(
    "<p>Some neutral text.</p>",
    '<p>Some neutral text.</p><button type="button" id="host-button">Open the dialog</button>',
)


def test_shift_three_times_leaves_from_anywhere_on_the_page(open_page, gateway):
    pages = {"/host.html": (HOST_WITH_CONTROLS, True)}
    page, _ = open_page(path="/healthz", host_pages=pages)
    page.goto(gateway + "/host.html")
    ask(page, "hello")
    # Focus on the host page, outside the widget.
    page.focus("#host-button")
    page.keyboard.press("Shift")
    page.keyboard.press("Shift")
    # GOV.UK's lights: two of three lit on the exit button, hidden from screen readers.
    expect(page.locator(".hl-widget .hl-exit-light.hl-on")).to_have_count(2)
    expect(page.locator(".hl-widget .hl-exit-lights")).to_have_attribute("aria-hidden", "true")
    expect(page.get_by_role("button", name=ui("en")["texts"]["ui_quick_exit"], exact=True)).to_have_count(1)
    page.keyboard.press("Shift")
    page.wait_for_url(DEFAULT_EXIT_URL)
    assert_chat_is_gone(page, gateway, "/host.html")


def test_shift_three_times_leaves_while_typing_in_the_chat(open_page, gateway):
    page, _ = open_page(path="/healthz")
    page.goto(gateway + "/")
    page.focus(INPUT)
    page.keyboard.type("my boss")
    for _ in range(3):
        page.keyboard.press("Shift")
    page.wait_for_url(DEFAULT_EXIT_URL)
    assert_chat_is_gone(page, gateway)


def test_capital_letters_and_interrupted_shifts_do_not_leave(open_page, gateway):
    page, watch = open_page()
    page.focus(INPUT)
    # Capitals typed with Shift held, three in a row and among other letters.
    for key in ("Shift+A", "Shift+B", "Shift+C", "d", "Shift+E", "f", "Shift+G", "Shift+H"):
        page.keyboard.press(key)
    # Shift taps with another key in between: the count starts again.
    for key in ("Shift", "Shift", "x", "Shift", "Shift", "Space", "Shift"):
        page.keyboard.press(key)
    page.wait_for_timeout(300)
    assert page.url == gateway + "/"
    expect(page.locator(INPUT)).to_have_value("ABCdEfGHx ")
    expect(page.locator(".hl-widget .hl-exit-light.hl-on")).to_have_count(1)
    assert watch.api_calls() == 0


def test_escape_outside_the_widget_is_left_to_the_host_page(open_page, gateway):
    pages = {"/host.html": (HOST_WITH_CONTROLS, True)}
    page, _ = open_page(path="/host.html", host_pages=pages)
    ask(page, "hello")
    page.evaluate(
        """() => { window.__escapes = [];
            document.addEventListener('keydown', e => {
                if (e.key === 'Escape') window.__escapes.push(e.defaultPrevented); }); }"""
    )
    page.focus("#host-button")
    page.keyboard.press("Escape")
    page.locator("h1").click()  # focus on the page itself (body)
    page.keyboard.press("Escape")
    page.wait_for_timeout(300)
    assert page.url == gateway + "/host.html"
    assert page.evaluate("() => window.__escapes") == [False, False], "the host page gets Esc untouched"
    expect(page.locator(USER)).to_have_text(["hello"])
    expect(page.locator(BOT)).to_have_count(1)
    assert list(storage(page)["session"]) == ["helpline-chat"]


def test_a_site_owner_can_embed_it_with_the_script_tag_alone(open_page):
    html = host_page('data-container="#chat-here"').replace(
        "<p>Some neutral text.</p>", '<p>Some neutral text.</p><div id="chat-here"></div>'
    )
    page, _ = open_page(path="/host.html", host_pages={"/host.html": (html, True)})
    expect(page.locator("#chat-here > .hl-widget")).to_have_count(1)
    # No stylesheet link on the page: the widget added its own, and it applies.
    expect(page.locator('head link[rel="stylesheet"]')).to_have_count(1)
    expect(page.locator(WIDGET)).to_have_css("display", "flex")
    assert_contact_bar(page, "en")
    answer = ask(page, "hello")
    assert contacts_in(answer.inner_text())


def assert_fresh(page, language="en"):
    """The widget as on a first visit: no conversation, nothing stored."""
    expect(page.locator(USER)).to_have_count(0)
    expect(page.locator(BOT)).to_have_count(0)
    expect(page.locator(".hl-widget .hl-starter button")).to_have_count(4)
    expect(page.locator(WIDGET)).to_have_attribute("lang", language)
    expect(page.locator(INPUT)).to_have_value("")
    assert storage(page) == NOTHING_STORED


def test_the_chat_is_kept_in_memory_only_by_default(open_page, gateway):
    page, _ = open_page()
    ask(page, "mitä on ihmiskauppa")
    assert storage(page) == NOTHING_STORED
    assert page.context.cookies() == []
    page.reload()
    page.wait_for_selector(".hl-widget")
    assert_fresh(page)
    # Another tab, or the tab reopened, starts afresh: there is nothing to copy.
    ask(page, "mitä on ihmiskauppa")
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_selector(".hl-widget")
    assert_fresh(other)
    other.close()


def test_back_to_the_page_does_not_bring_the_chat_back(open_page, gateway):
    page, _ = open_page()
    ask(page, "mitä on ihmiskauppa")
    page.fill(INPUT, "not sent yet")
    page.goto(gateway + "/healthz")
    page.go_back()
    page.wait_for_selector(".hl-widget")
    # Whether or not the browser kept the page in its back/forward cache.
    assert_fresh(page)
    # The page emptied itself as it was left (what a back/forward-cached page shows again).
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))")
    assert_fresh(page)
    ask(page, "hello")
    page.evaluate("() => window.dispatchEvent(new PageTransitionEvent('pagehide', {persisted: true}))")
    assert_fresh(page)


def test_a_chat_stored_in_the_tab_is_not_shown_without_the_opt_in(open_page, gateway):
    # What a restored tab brings along: the sessionStorage of an opted-in page.
    pages = {"/host.html": (host_page(KEEP_IN_SESSION), True)}
    page, _ = open_page(path="/host.html", host_pages=pages)
    ask(page, "mitä on ihmiskauppa")
    assert list(storage(page)["session"]) == ["helpline-chat"]
    page.goto(gateway + "/")
    page.wait_for_selector(".hl-widget")
    assert_fresh(page)  # not shown, and removed


def test_a_site_owner_can_opt_in_to_keep_the_chat_for_the_tab(open_page, gateway):
    pages = {"/host.html": (host_page(KEEP_IN_SESSION), True)}
    page, _ = open_page(path="/host.html", host_pages=pages)
    ask(page, "mitä on ihmiskauppa")
    page.reload()
    page.wait_for_selector(".hl-widget")
    expect(page.locator(USER)).to_have_text(["mitä on ihmiskauppa"])
    expect(page.locator(BOT)).to_have_count(1)
    expect(page.locator(WIDGET)).to_have_attribute("lang", "fi")
    saved = storage(page)
    assert list(saved["session"]) == ["helpline-chat"] and saved["local"] == 0 and saved["cookie"] == ""
    assert page.context.cookies() == []
    # Back to the page keeps it too.
    page.goto(gateway + "/healthz")
    page.go_back()
    page.wait_for_selector(".hl-widget")
    expect(page.locator(USER)).to_have_text(["mitä on ihmiskauppa"])
    # Another tab starts afresh.
    other = page.context.new_page()
    other.goto(page.url)
    other.wait_for_selector(".hl-widget")
    expect(other.locator(USER)).to_have_count(0)
    assert storage(other)["session"] == {}


def test_backend_down_shows_the_contacts_in_the_widget_language(open_page, gateway_rasa_down):
    page, _ = open_page(base=gateway_rasa_down, locale="fi-FI")
    answer = ask(page, "apua")
    text = answer.inner_text()
    assert catalogue.text("ui_backend_down", "fi") in text and contacts_in(text, "fi")
    expect(page.locator(".hl-widget .hl-typing")).to_have_text("")
    expect(page.locator(".hl-widget.hl-busy")).to_have_count(0)
    assert_contact_bar(page, "fi")


def test_no_network_shows_the_contacts_from_the_page_itself(open_page, gateway):
    page, _ = open_page(locale="ar-EG")
    page.route(gateway + "/api/chat", lambda route: route.abort())
    answer = ask(page, "مساعدة")
    texts = ui("ar")["texts"]
    expect(answer.locator(".hl-bubble")).to_have_text(texts["ui_backend_down"] + "\n\n" + texts["contact_block"])
    expect(page.locator(".hl-widget .hl-typing")).to_have_text("")
    expect(page.locator(WIDGET)).to_have_attribute("dir", "rtl")


def test_a_slow_answer_is_given_up_on_with_the_contacts(open_page, gateway):
    pages = {"/host.html": (host_page('data-timeout="1"'), True)}
    page, _ = open_page(path="/host.html", host_pages=pages)
    page.fill(INPUT, "slow please")
    page.press(INPUT, "Enter")
    expect(page.locator(".hl-widget .hl-typing")).to_have_text(ui("en")["texts"]["ui_typing"])
    answer = page.locator(BOT).first
    expect(answer).to_contain_text(ui("en")["texts"]["ui_backend_down"], timeout=2500)
    assert contacts_in(answer.inner_text(), "en")
    expect(page.locator(".hl-widget .hl-typing")).to_have_text("")


PAYLOAD = '<img src=x onerror="window.__pwned=1"><script>window.__pwned=2</script>'


@pytest.mark.parametrize("with_csp", [True, False], ids=["demo-page-csp", "host-page-without-csp"])
def test_markup_in_messages_is_shown_as_text_and_never_runs(open_page, with_csp):
    # Without the gateway's CSP too: the widget itself must not let markup in.
    pages = {"/host.html": (host_page(""), with_csp)}
    page, _ = open_page(path="/host.html", host_pages=pages)
    answer = ask(page, PAYLOAD)
    expect(page.locator(USER).locator(".hl-bubble")).to_have_text(PAYLOAD)
    assert answer.locator(".hl-bubble").inner_text().startswith(PAYLOAD)  # the bot's echo
    expect(answer.get_by_role("button", name=PAYLOAD)).to_have_count(1)
    page.wait_for_timeout(300)
    assert page.evaluate("() => window.__pwned") is None
    assert page.locator(".hl-widget img, .hl-widget script").count() == 0
    # The only links are the facts.
    hrefs = [a.get_attribute("href") for a in page.locator(".hl-widget a").all()]
    assert all(h.startswith(("tel:", "mailto:")) for h in hrefs) and len(hrefs) == 3


def test_the_widget_source_has_no_html_sinks():
    source = (ROOT / "bot" / "web" / "widget.js").read_text(encoding="utf-8")
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in source, f"widget.js uses {sink}"


def axe_problems(page, axe_source):
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.add_script_tag(content=axe_source)
    result = page.evaluate(
        """async () => await axe.run(document, {runOnly: {type: 'tag', values:
            ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}})"""
    )
    checked = result["passes"] + result["violations"]
    assert any(rule["id"] == "color-contrast" for rule in checked), "axe did not check contrast"
    return [
        f"{v['impact']}: {v['id']} ({v['help']}) at {[n['target'] for n in v['nodes']]}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize("width", [1280, 360])
def test_axe_finds_no_serious_or_critical_problem(open_page, axe_source, width):
    page, _ = open_page(width=width, bypass_csp=True)  # bypass only to inject axe
    problems = axe_problems(page, axe_source)
    ask(page, "mitä on ihmiskauppa")
    ask(page, "languages")
    problems += axe_problems(page, axe_source)
    ask(page, "ما هو الاتجار بالبشر؟")
    page.fill(INPUT, "slow")
    page.press(INPUT, "Enter")  # with the typing indicator showing
    expect(page.locator(".hl-widget .hl-typing")).not_to_have_text("")
    problems += axe_problems(page, axe_source)
    expect(page.locator(".hl-widget .hl-typing")).to_have_text("", timeout=6000)
    assert not problems, "\n".join(problems)


def assert_start_in_view(page, answer):
    log_box = page.locator(".hl-widget .hl-log").bounding_box()
    top = answer.bounding_box()["y"]
    assert log_box["y"] - 1 <= top < log_box["y"] + log_box["height"] / 2, "the answer's start is not in view"


def snapshot(page, path):
    """What the person sees: the viewport, scrolled to show the whole widget."""
    page.evaluate("() => document.querySelector('.hl-widget').scrollIntoView({block: 'end'})")
    page.screenshot(path=str(path))


def test_layout_at_phone_and_desktop_width(open_page, artifacts):
    page, _ = open_page(width=360, height=740, locale="fi-FI")
    snapshot(page, artifacts / "widget-360-start.png")
    ask(page, "mitä on ihmiskauppa")
    answer = ask(page, "hei " + "ihmiskauppa" * 12 + " " + "x" * 90)
    assert_start_in_view(page, answer)
    width = page.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 360, f"horizontal scroll at 360 px: {width}"
    snapshot(page, artifacts / "widget-360.png")
    answer = ask(page, "ما هو الاتجار بالبشر؟")
    assert_start_in_view(page, answer)
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 360
    snapshot(page, artifacts / "widget-360-rtl.png")

    page.set_viewport_size({"width": 1280, "height": 800})
    choose_language(page, "en")
    expect(page.locator(WIDGET)).to_have_attribute("dir", "ltr")
    expect(page.locator(BOT)).to_have_count(4)
    snapshot(page, artifacts / "widget-1280.png")
    assert page.evaluate("() => document.scrollingElement.scrollWidth") <= 1280
