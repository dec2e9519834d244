"""Shared fixtures: the domain loaded once, fresh dispatchers, trackers built in code."""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, Dict, List, Optional

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bot import catalogue  # noqa: E402

LANGUAGES = list(catalogue.languages())
MODEL = ROOT / "models" / "helpline.tar.gz"


def contacts_in(text: str, language: str = "en") -> bool:
    """Does a text carry the phone number, the e-mail address and 112?"""
    facts = catalogue.fact_values(language)
    return all(facts[name] in text for name in ("phone", "email", "emergency"))


@pytest.fixture(scope="session")
def domain() -> Dict[str, Any]:
    return yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))


@pytest.fixture
def dispatcher():
    from rasa_sdk.executor import CollectingDispatcher

    return CollectingDispatcher()


def build_tracker(
    text: str = "",
    intent: Optional[str] = None,
    detection: Optional[Dict[str, Any]] = None,
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
):
    from rasa_sdk import Tracker

    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": 0.9} if intent else {},
        "entities": entities or [],
    }
    if detection is not None:
        latest["language"] = detection
    return Tracker(
        sender_id="test-sender",
        slots={"language": None, **(slots or {})},
        latest_message=latest,
        events=[],
        paused=False,
        followup_action=None,
        active_loop={},
        latest_action_name="action_listen",
    )


@pytest.fixture
def tracker_for():
    return build_tracker


@pytest.fixture(scope="session")
def trained_model() -> Path:
    if not MODEL.exists():
        pytest.fail(f"No trained model at {MODEL}: run `make train` (make test does it)")
    return MODEL
