"""Messenger: signed page webhooks to the running connector; the Graph API stood in."""
from __future__ import annotations

import hashlib
import hmac
import itertools
import re
import urllib.parse

import pytest

from bot import catalogue
from bot.channels import rendering
from bot.channels.messenger import (
    HelplineMessengerInput,
    MessengerSettings,
    fits_quick_replies,
    short_title,
)
from bot.channels.rendering import ChannelSettingError

from .conftest import (
    AR_QUESTION,
    FI_QUESTION,
    GRAPH_VERSION,
    MESSENGER_APP_SECRET,
    MESSENGER_PAGE_TOKEN,
    MESSENGER_VERIFY_TOKEN,
    contacts_present,
    http,
    in_language,
    plain,
)

PAGE_ID = "109876543210987"
_mids = itertools.count(1)


def event(psid: str, text: str = "", quick_reply: str = "", postback: str = "", echo: bool = False) -> dict:
    """One messaging event as the Messenger Platform sends it."""
    base = {"sender": {"id": psid}, "recipient": {"id": PAGE_ID}, "timestamp": 1_700_000_000_000}
    if postback:
        base["postback"] = {"title": "Get Started", "payload": postback, "mid": f"m_pb{next(_mids)}"}
        return base
    message = {"mid": f"m_{next(_mids)}", "text": text}
    if quick_reply:
        message["quick_reply"] = {"payload": quick_reply}
    if echo:
        message["is_echo"] = True
    base["message"] = message
    return base


def page(*events: dict) -> dict:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": 1_700_000_000_000, "messaging": list(events)}]}


def sent(calls, psid):
    """The messages the Send API was asked to deliver to a PSID (auth checked)."""
    proof = hmac.new(MESSENGER_APP_SECRET.encode(), MESSENGER_PAGE_TOKEN.encode(), hashlib.sha256).hexdigest()
    assert calls
    for call in calls:
        assert call.path == f"/messenger/{GRAPH_VERSION}/me/messages"
        assert call.query == {"access_token": MESSENGER_PAGE_TOKEN, "appsecret_proof": proof}
        assert call.data["recipient"] == {"id": psid} and call.data["messaging_type"] == "RESPONSE"
        assert len(call.data["message"]["text"]) <= rendering.MESSENGER_TEXT_LIMIT
    return [c.data["message"] for c in calls]


# ---------------------------------------------------------------- unit


def test_settings_need_all_three_variables():
    full = {"HELPLINE_MESSENGER_PAGE_TOKEN": "p", "HELPLINE_MESSENGER_APP_SECRET": "s",
            "HELPLINE_MESSENGER_VERIFY_TOKEN": "v"}
    assert MessengerSettings.from_env({}) is None
    assert MessengerSettings.from_env(full).api_url.startswith("https://graph.facebook.com/v")
    for name in full:
        with pytest.raises(ChannelSettingError, match=name):
            MessengerSettings.from_env({k: v for k, v in full.items() if k != name})
    with pytest.raises(ChannelSettingError, match="environment"):
        HelplineMessengerInput.from_credentials({"verify": "v", "secret": "s"})


def test_quick_reply_titles_fit_messenger():
    assert short_title("1. What is human trafficking?") == "1. What is human tr…"
    assert len(short_title("1. What is human trafficking?")) == 20
    assert short_title("5. Suomi") == "5. Suomi"
    assert fits_quick_replies(catalogue.question_buttons("zh"))
    assert not fits_quick_replies(catalogue.language_buttons())  # 20 > 13


# ---------------------------------------------------------------- end to end


@pytest.mark.e2e
def test_verification_needs_the_verify_token(stack):
    url = f"{stack.rasa_url}/webhooks/messenger/webhook?"
    good = {"hub.mode": "subscribe", "hub.verify_token": MESSENGER_VERIFY_TOKEN, "hub.challenge": "1158201444"}
    assert http(url + urllib.parse.urlencode(good)) == (200, b"1158201444")
    bad = {**good, "hub.verify_token": "guess"}
    assert http(url + urllib.parse.urlencode(bad))[0] == 403


@pytest.mark.e2e
def test_each_user_is_answered_in_their_language(stack):
    fi_psid, ar_psid = "7100000000000001", "7100000000000002"

    assert stack.messenger(page(event(fi_psid, FI_QUESTION)))[0] == 200
    messages = sent(stack.standin.take(), fi_psid)
    assert catalogue.text("what_is_trafficking", "fi") in messages[0]["text"]
    assert in_language(messages[-1]["text"], "fi") and contacts_present(messages[-1]["text"])

    assert stack.messenger(page(event(ar_psid, AR_QUESTION)))[0] == 200
    messages = sent(stack.standin.take(), ar_psid)
    assert catalogue.text("what_is_trafficking", "ar") in plain(messages[0]["text"])
    assert in_language(messages[-1]["text"], "ar") and contacts_present(messages[-1]["text"])

    assert stack.messenger(page(event(fi_psid, "ok")))[0] == 200
    messages = sent(stack.standin.take(), fi_psid)
    assert in_language(messages[-1]["text"], "fi") and contacts_present(messages[-1]["text"])


@pytest.mark.e2e
def test_get_started_offers_numbered_options_as_quick_replies(stack):
    psid = "7100000000000003"
    assert stack.messenger(page(event(psid, postback="/greet")))[0] == 200
    messages = sent(stack.standin.take(), psid)
    default = catalogue.default_language()
    last = messages[-1]
    assert in_language(last["text"], default) and contacts_present(last["text"])
    options = catalogue.question_buttons(default) + catalogue.language_buttons()
    text = "\n\n".join(m["text"] for m in messages)
    assert re.findall(r"^(\d+)\. (.+)$", text, re.M) == [(str(n), b["title"]) for n, b in enumerate(options, 1)]
    replies = last["quick_replies"]
    assert len(replies) == rendering.MESSENGER_MAX_QUICK_REPLIES
    assert all(r["content_type"] == "text" and len(r["title"]) <= 20 for r in replies)
    assert [r["payload"] for r in replies] == [b["payload"] for b in options[:13]]
    assert replies[0]["title"].startswith("1. ")

    # a tap on the quick reply "5. Suomi": Finnish from now on
    assert stack.messenger(page(event(psid, "5. Suomi", quick_reply=options[4]["payload"])))[0] == 200
    messages = sent(stack.standin.take(), psid)
    assert in_language(messages[-1]["text"], "fi")

    # a typed number chooses from the options of the latest answer (Finnish questions)
    assert stack.messenger(page(event(psid, "2")))[0] == 200
    messages = sent(stack.standin.take(), psid)
    assert catalogue.text("who_to_contact", "fi") in messages[0]["text"]
    assert in_language(messages[-1]["text"], "fi")


@pytest.mark.e2e
def test_every_event_of_a_batch_is_answered_and_echoes_are_not(stack):
    one, two = "7100000000000004", "7100000000000005"
    batch = page(event(one, FI_QUESTION), event(PAGE_ID, "echo", echo=True), event(two, FI_QUESTION))
    assert stack.messenger(batch)[0] == 200
    calls = stack.standin.take()
    recipients = [c.data["recipient"]["id"] for c in calls]
    assert set(recipients) == {one, two} and PAGE_ID not in recipients


@pytest.mark.e2e
@pytest.mark.parametrize("forgery", ["wrong secret", "no signature", "sha1 only", "tampered body"])
def test_a_forged_call_is_rejected_and_never_answered(stack, forgery):
    psid = "7100000000000099"
    payload = page(event(psid, FI_QUESTION))
    if forgery == "wrong secret":
        status, _ = stack.messenger(payload, app_secret="not-the-app-secret")
    elif forgery == "no signature":
        status, _ = stack.messenger(payload, app_secret=None)
    elif forgery == "sha1 only":
        import json

        body = json.dumps(payload).encode()
        sha1 = "sha1=" + hmac.new(MESSENGER_APP_SECRET.encode(), body, hashlib.sha1).hexdigest()
        status, _ = http(f"{stack.rasa_url}/webhooks/messenger/webhook", body,
                         {"Content-Type": "application/json", "X-Hub-Signature": sha1})
    else:
        import json

        original = json.dumps(page(event(psid, "hello"))).encode()
        signature = "sha256=" + hmac.new(MESSENGER_APP_SECRET.encode(), original, hashlib.sha256).hexdigest()
        status, _ = stack.messenger(payload, signature=signature)
    assert status == 403
    assert stack.standin.take() == []
    sender_id = rendering.pseudonym("messenger", MESSENGER_APP_SECRET, psid)
    assert stack.user_events(sender_id) == []
