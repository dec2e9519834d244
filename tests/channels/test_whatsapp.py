"""WhatsApp through Twilio: signed form posts to the running connector; Twilio stood in."""
from __future__ import annotations

import base64
import itertools
import re

import pytest

from bot import catalogue
from bot.channels import rendering
from bot.channels.rendering import ChannelSettingError
from bot.channels.whatsapp import HelplineWhatsAppInput, TwilioSettings

from .conftest import (
    AR_QUESTION,
    FI_QUESTION,
    TWILIO_NUMBER,
    TWILIO_SID,
    TWILIO_TOKEN,
    contacts_present,
    in_language,
    plain,
)

_sids = itertools.count(1)

FULL_ENV = {
    "HELPLINE_TWILIO_ACCOUNT_SID": TWILIO_SID,
    "HELPLINE_TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
    "HELPLINE_TWILIO_WHATSAPP_NUMBER": TWILIO_NUMBER,
    "HELPLINE_PUBLIC_URL": "https://helpline.example.fi",
}


def incoming(phone: str, body: str, **extra: str) -> dict:
    """The fields Twilio posts for an incoming WhatsApp message."""
    sid = f"SM{next(_sids):032x}"
    fields = {
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "ProfileName": "Test",
        "SmsSid": sid,
        "WaId": phone.lstrip("+"),
        "SmsStatus": "received",
        "Body": body,
        "To": f"whatsapp:{TWILIO_NUMBER}",
        "NumSegments": "1",
        "ReferralNumMedia": "0",
        "MessageSid": sid,
        "AccountSid": TWILIO_SID,
        "From": f"whatsapp:{phone}",
        "ApiVersion": "2010-04-01",
    }
    fields.update(extra)
    return fields


def sent(calls, phone):
    """The bodies Twilio was asked to send to a phone (all checked: auth, To, From)."""
    assert calls and all(c.method == "Messages.json" for c in calls)
    auth = "Basic " + base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    for call in calls:
        assert call.path == f"/twilio/2010-04-01/Accounts/{TWILIO_SID}/Messages.json"
        assert call.headers["Authorization"] == auth
        assert call.data["To"] == f"whatsapp:{phone}"
        assert call.data["From"] == f"whatsapp:{TWILIO_NUMBER}"
        assert len(call.data["Body"]) <= rendering.TWILIO_BODY_LIMIT
    return [c.data["Body"] for c in calls]


# ---------------------------------------------------------------- unit


@pytest.mark.parametrize("missing", sorted(FULL_ENV))
def test_a_half_configured_channel_names_the_missing_variable(missing):
    env = {k: v for k, v in FULL_ENV.items() if k != missing}
    if missing == "HELPLINE_TWILIO_ACCOUNT_SID":
        env["HELPLINE_TWILIO_ACCOUNT_SID"] = ""
    with pytest.raises(ChannelSettingError, match=missing):
        TwilioSettings.from_env(env)


def test_off_without_twilio_variables_even_with_a_public_url():
    assert TwilioSettings.from_env({}) is None
    assert TwilioSettings.from_env({"HELPLINE_PUBLIC_URL": "https://helpline.example.fi"}) is None
    settings = TwilioSettings.from_env({**FULL_ENV, "HELPLINE_TWILIO_WHATSAPP_NUMBER": "whatsapp:+1 415 523 8886"})
    assert settings.number == TWILIO_NUMBER and settings.api_url == "https://api.twilio.com"
    with pytest.raises(ChannelSettingError, match="https"):
        TwilioSettings.from_env({**FULL_ENV, "HELPLINE_PUBLIC_URL": "http://helpline.example.fi"})
    with pytest.raises(ChannelSettingError, match="environment"):
        HelplineWhatsAppInput.from_credentials({"account_sid": "AC1"})


def test_sender_ids_are_stable_pseudonyms():
    channel = HelplineWhatsAppInput(TwilioSettings.from_env(FULL_ENV))
    one = channel.sender_id("whatsapp:+358401234567")
    assert one == channel.sender_id("whatsapp:+358401234567") != channel.sender_id("whatsapp:+358401234568")
    assert "358401234567" not in one and one.startswith("whatsapp-")


# ---------------------------------------------------------------- end to end


@pytest.mark.e2e
def test_each_user_is_answered_in_their_language(stack):
    fi_phone, ar_phone = "+358401110001", "+358401110002"

    assert stack.whatsapp(incoming(fi_phone, FI_QUESTION))[0] == 200
    bodies = sent(stack.standin.take(), fi_phone)
    assert catalogue.text("what_is_trafficking", "fi") in bodies[0]
    assert in_language(bodies[-1], "fi") and contacts_present(bodies[-1])

    assert stack.whatsapp(incoming(ar_phone, AR_QUESTION))[0] == 200
    bodies = sent(stack.standin.take(), ar_phone)
    assert catalogue.text("what_is_trafficking", "ar") in plain(bodies[0])
    assert in_language(bodies[-1], "ar") and contacts_present(bodies[-1])

    assert stack.whatsapp(incoming(fi_phone, "ok"))[0] == 200
    bodies = sent(stack.standin.take(), fi_phone)
    assert in_language(bodies[-1], "fi") and contacts_present(bodies[-1])


@pytest.mark.e2e
def test_options_are_numbered_and_a_digit_answers_the_chosen_question(stack):
    phone = "+358401110003"
    assert stack.whatsapp(incoming(phone, FI_QUESTION))[0] == 200  # Finnish from now on
    stack.standin.take()

    assert stack.whatsapp(incoming(phone, "moi"))[0] == 200
    text = "\n\n".join(sent(stack.standin.take(), phone))
    assert catalogue.text("ui_reply_with_number", "fi") in text
    titles = [b["title"] for b in catalogue.question_buttons("fi")]
    assert re.findall(r"^(\d+)\. (.+)$", text, re.M) == [(str(n), t) for n, t in enumerate(titles, 1)]
    assert in_language(text, "fi")  # the contact block still last

    assert stack.whatsapp(incoming(phone, "2"))[0] == 200  # 2 = who_to_contact
    bodies = sent(stack.standin.take(), phone)
    assert catalogue.text("who_to_contact", "fi") in bodies[0]
    assert in_language(bodies[-1], "fi") and contacts_present(bodies[-1])


@pytest.mark.e2e
def test_a_picture_gets_the_contacts_not_silence(stack):
    phone = "+358401110004"
    fields = incoming(phone, "", NumMedia="1", MediaUrl0="https://api.twilio.com/media/ME1",
                      MediaContentType0="image/jpeg")
    assert stack.whatsapp(fields)[0] == 200
    bodies = sent(stack.standin.take(), phone)
    assert contacts_present(bodies[-1])


@pytest.mark.e2e
@pytest.mark.parametrize("forgery", ["wrong token", "no signature", "tampered body"])
def test_a_forged_call_is_rejected_and_never_answered(stack, forgery):
    phone = "+358401110099"
    fields = incoming(phone, FI_QUESTION)
    if forgery == "wrong token":
        status, _ = stack.whatsapp(fields, auth_token="not-the-auth-token")
    elif forgery == "no signature":
        status, _ = stack.whatsapp(fields, signature="")
    else:
        from twilio.request_validator import RequestValidator

        signature = RequestValidator(TWILIO_TOKEN).compute_signature(
            stack.public_url + "/webhooks/whatsapp/webhook", fields
        )
        status, _ = stack.whatsapp({**fields, "Body": "something else"}, signature=signature)
    assert status == 403
    assert stack.standin.take() == []
    sender_id = rendering.pseudonym("whatsapp", TWILIO_TOKEN, f"whatsapp:{phone}")
    assert stack.user_events(sender_id) == []
