"""The embedded tracker store forgets idle conversations and keeps a bounded number."""
import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from bot.tracker_store import ExpiringInMemoryTrackerStore
from tests.conftest import ROOT


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain.yml"))


def tracker(domain, sender, language="fi"):
    t = DialogueStateTracker(sender, domain.slots)
    t.update(UserUttered("hei", {"name": "greet", "confidence": 1.0}))
    t.update(SlotSet("language", language))
    return t


async def test_a_conversation_is_kept_while_in_use(domain):
    store = ExpiringInMemoryTrackerStore(domain)
    await store.save(tracker(domain, "a"))
    assert (await store.retrieve("a")).get_slot("language") == "fi"


async def test_idle_conversations_are_forgotten_after_the_session_expiry(domain):
    store = ExpiringInMemoryTrackerStore(domain)
    assert store.idle_seconds == 60 * domain.session_config.session_expiration_time
    await store.save(tracker(domain, "old"))
    await store.save(tracker(domain, "new"))
    store.last_used["old"] -= store.idle_seconds + 1
    store.forget()
    assert await store.retrieve("old") is None
    assert await store.retrieve("new") is not None


async def test_at_most_max_conversations_the_least_recently_used_go_first(domain):
    store = ExpiringInMemoryTrackerStore(domain, max_conversations=3)
    for sender in ("a", "b", "c"):
        await store.save(tracker(domain, sender))
    await store.save(tracker(domain, "a"))  # a is used again
    await store.save(tracker(domain, "d"))
    assert sorted(await store.keys()) == ["a", "c", "d"]


def test_a_bad_limit_is_refused(domain):
    with pytest.raises(ValueError, match="max_conversations"):
        ExpiringInMemoryTrackerStore(domain, max_conversations=0)
