"""Rasa NLU component: the language of each message.

Adds ``language`` to the parse result: ``{"code", "confident", "source",
"unsupported", "probability", "requested", "hint"}`` (``hint``: the page's
language, sent by the web widget as message metadata). The action server keeps the conversation's
language in the ``language`` slot and changes it only on a confident detection,
so short follow-ups ("ok", "👍", "112?") keep the language.

It learns the vocabulary of each language from the training examples, each of
which carries ``metadata: {language: <code>}`` (see data/nlu/*.yml), and from
the answer catalogue.
"""
from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from bot import catalogue
from bot.language import LanguageIdentifier, catalogue_texts, romanised_texts
from bot import rasa_patches

LANGUAGE = "language"
MODEL_FILE = "ngram_counts.json"


def example_language(message: Message) -> Optional[str]:
    """The language a training example is tagged with, from its metadata."""
    metadata = message.get("metadata") or {}
    for level in ("example", "intent"):
        tagged = (metadata.get(level) or {}).get(LANGUAGE)
        if tagged:
            return tagged
    return None


@DefaultV1Recipe.register(
    [DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER], is_trainable=True
)
class LanguageDetector(GraphComponent):
    """Detects the language of each message among the supported languages."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        return {
            # also learn from the catalogue texts of each language
            "use_catalogue": True,
            # and from the Latin-letter forms in data/romanised/ (scripts/romanise.py)
            "use_romanised": True,
        }

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        for key in ("use_catalogue", "use_romanised"):
            if not isinstance(config.get(key, True), bool):
                raise ValueError(f"LanguageDetector: '{key}' must be true or false")

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        identifier: Optional[LanguageIdentifier] = None,
    ) -> None:
        self.config = {**self.get_default_config(), **config}
        self.validate_config(self.config)
        self._model_storage = model_storage
        self._resource = resource
        self.identifier = identifier
        rasa_patches.install()

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "LanguageDetector":
        return cls(config, model_storage, resource)

    def train(self, training_data: TrainingData) -> Resource:
        texts: Dict[str, List[str]] = defaultdict(list)
        unknown = set()
        for message in training_data.intent_examples:
            code = example_language(message)
            if code in catalogue.languages():
                texts[code].append(message.get(TEXT))
            elif code:
                unknown.add(code)
        if unknown:
            raise ValueError(
                f"LanguageDetector: training examples tagged with unsupported "
                f"languages {sorted(unknown)}; add them to bot/languages.yml"
            )
        if self.config["use_catalogue"]:
            for code, catalogue_lines in catalogue_texts().items():
                texts[code].extend(catalogue_lines)
        if self.config["use_romanised"]:
            for code, forms in romanised_texts().items():
                texts[code].extend(forms)
        self.identifier = LanguageIdentifier.train(texts)
        with self._model_storage.write_to(self._resource) as directory:
            (directory / MODEL_FILE).write_text(
                json.dumps(self.identifier.as_dict(), ensure_ascii=False), encoding="utf-8"
            )
        return self._resource

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "LanguageDetector":
        with model_storage.read_from(resource) as directory:
            counts = json.loads((directory / MODEL_FILE).read_text(encoding="utf-8"))
        return cls(config, model_storage, resource, LanguageIdentifier.from_dict(counts))

    def process(self, messages: List[Message]) -> List[Message]:
        if self.identifier is None:
            raise ValueError("LanguageDetector: process() called before training")
        for message in messages:
            detection = self.identifier.identify(message.get(TEXT) or "").as_dict()
            # the language of the page the person writes from (the web widget
            # sends it): a hint for messages too short to tell, never a switch
            hint = (message.get("metadata") or {}).get(LANGUAGE)
            detection["hint"] = hint if hint in catalogue.languages() else None
            message.set(LANGUAGE, detection, add_to_output=True)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        return training_data
