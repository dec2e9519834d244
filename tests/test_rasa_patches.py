"""Our two changes to how Rasa runs a custom action (bot/rasa_patches.py)."""
import asyncio

import pytest
from rasa.core.actions.action import RemoteAction
from rasa.core.channels.channel import CollectingOutputChannel
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from bot import catalogue
from bot.rasa_patches import install_action_safety_net, install_prebuilt_response_validator
from tests.conftest import ROOT, contacts_in


@pytest.fixture(scope="module")
def rasa_domain():
    return Domain.load(str(ROOT / "domain.yml"))


def tracker_in(language, rasa_domain):
    tracker = DialogueStateTracker("someone", rasa_domain.slots)
    if language:
        tracker.update(SlotSet("language", language))
    tracker.update(UserUttered("hmm", {"name": "greet", "confidence": 1.0},
                               parse_data={"language": {"code": "sv", "confident": False}}))
    return tracker


@pytest.mark.parametrize("language", ["fi", "ar", "zh"])
async def test_unreachable_action_server_gives_contacts_in_the_conversation_language(language, rasa_domain, unused_tcp_port):
    install_action_safety_net()
    action = RemoteAction("action_answer", EndpointConfig(f"http://127.0.0.1:{unused_tcp_port}/webhook"))
    events = await action.run(CollectingOutputChannel(), None, tracker_in(language, rasa_domain), rasa_domain)
    assert len(events) == 1 and isinstance(events[0], BotUttered)
    assert events[0].text == catalogue.reply("nlu_fallback", language)
    assert contacts_in(events[0].text, language)


async def test_without_a_language_slot_the_message_guess_is_used(rasa_domain, unused_tcp_port):
    install_action_safety_net()
    action = RemoteAction("action_answer", EndpointConfig(f"http://127.0.0.1:{unused_tcp_port}/webhook"))
    events = await action.run(CollectingOutputChannel(), None, tracker_in(None, rasa_domain), rasa_domain)
    assert events[0].text == catalogue.reply("nlu_fallback", "sv")


async def test_a_slow_action_server_is_cut_off(rasa_domain, monkeypatch, aiohttp_server):
    from aiohttp import web

    async def slow(request):
        await asyncio.sleep(5)
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", slow)
    server = await aiohttp_server(app)
    monkeypatch.setenv("HELPLINE_ACTION_TIMEOUT", "0.3")
    install_action_safety_net()
    action = RemoteAction("action_answer", EndpointConfig(str(server.make_url("/webhook"))))
    events = await action.run(CollectingOutputChannel(), None, tracker_in("en", rasa_domain), rasa_domain)
    assert contacts_in(events[0].text, "en")


def test_installing_twice_wraps_once():
    install_action_safety_net()
    first = RemoteAction.run
    install_action_safety_net()
    assert RemoteAction.run is first


def test_a_bad_timeout_setting_names_the_setting(monkeypatch):
    from bot.rasa_patches import action_timeout

    monkeypatch.setenv("HELPLINE_ACTION_TIMEOUT", "soon")
    with pytest.raises(ValueError, match="HELPLINE_ACTION_TIMEOUT"):
        action_timeout()


def test_the_prebuilt_validator_accepts_and_rejects_like_rasa():
    import jsonschema

    install_prebuilt_response_validator()
    action = RemoteAction("action_answer", None)
    good = {"events": [{"event": "slot", "name": "language", "value": "fi"}], "responses": [{"text": "hi"}]}
    assert action._validate_action_result(good) is True
    bad = {"events": "not a list", "responses": []}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, RemoteAction.action_response_format_spec())
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result(bad)


def test_event_types_resolve_the_same_with_the_cache():
    from rasa.shared.core.events import ActionExecuted, Event, SlotSet, UserUttered

    from bot.rasa_patches import install_event_type_cache

    install_event_type_cache()
    install_event_type_cache()
    for _ in range(2):
        assert Event.resolve_by_type("user") is UserUttered
        assert Event.resolve_by_type("slot") is SlotSet
        assert Event.resolve_by_type("action") is ActionExecuted
    assert Event.resolve_by_type("no-such-event", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("no-such-event")


def test_the_entry_point_refuses_a_rasa_version_the_patches_were_not_written_for():
    from bot import rasa_main

    rasa_main.check_version(rasa_main.RASA_VERSION)
    with pytest.raises(SystemExit, match="written for Rasa"):
        rasa_main.check_version("3.7.0")


def test_the_entry_point_installs_the_patches_without_any_model_component():
    """Removing the LanguageDetector from config.yml must not drop the safety net."""
    import subprocess
    import sys

    probe = (
        "from rasa.core.actions.action import RemoteAction\n"
        "print(getattr(RemoteAction.run, '_helpline_safety_net', False))\n"
    )
    plain = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    prepared = subprocess.run(
        [sys.executable, "-c", "from bot.rasa_main import prepare; prepare()\n" + probe],
        capture_output=True, text=True, timeout=300,
    )
    assert plain.stdout.split()[-1] == "False"
    assert prepared.stdout.split()[-1] == "True"
